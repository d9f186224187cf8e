//! Bearer-token auth for `/api/v1` when API_AUTH_TOKEN is set, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::problem::ApiError;
use super::AppState;

pub async fn require_bearer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(expected) = &state.config.api_auth_token else {
        return Ok(next.run(request).await);
    };
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let accepted = presented
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(expected.expose_secret().as_bytes())));
    if !accepted {
        return Err(ApiError::Unauthorized);
    }
    Ok(next.run(request).await)
}
