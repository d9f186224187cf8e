//! Bearer-token auth for `/api/v1` when API_AUTH_TOKEN is set, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::problem::ApiError;
use crate::AppState;

pub async fn require_bearer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(expected) = &state.config.api.auth_token else {
        return Ok(next.run(request).await);
    };
    let presented =
        request.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer_token);
    let accepted = presented
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(expected.expose_secret().as_bytes())));
    if !accepted {
        return Err(ApiError::Unauthorized);
    }
    Ok(next.run(request).await)
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 7235: some clients send
/// `bearer`), the token is not.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_is_kept_as_sent() {
        for header in ["Bearer s3cret", "bearer s3cret", "BEARER s3cret", "Bearer   s3cret  "] {
            assert_eq!(bearer_token(header), Some("s3cret"), "{header}");
        }
        assert_eq!(bearer_token("Bearer S3cret"), Some("S3cret"));
        for header in ["Basic s3cret", "Bearers3cret", "Bearer ", "s3cret", ""] {
            assert_eq!(bearer_token(header), None, "{header}");
        }
    }
}
