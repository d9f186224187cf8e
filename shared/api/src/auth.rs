//! API_AUTH_TOKEN, when set: every guarded route needs `Authorization: Bearer <token>`; the
//! receipts route also takes the token as the HTTP Basic password, since many providers can
//! only put credentials in the callback URL (`https://user:TOKEN@host/api/v1/receipts`).
//! Compared in constant time; never logged.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::problem::ApiError;
use crate::state::AppState;

pub async fn require_bearer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(expected) = &state.config.api.auth_token {
        let presented = authorization(&request).and_then(bearer_token);
        if !presented.is_some_and(|token| matches(token.as_bytes(), expected)) {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok(next.run(request).await)
}

/// The bearer token, or the token as the password of HTTP Basic auth (any user name).
pub async fn require_bearer_or_basic(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(expected) = &state.config.api.auth_token {
        let header = authorization(&request);
        let bearer = header.and_then(bearer_token).is_some_and(|token| matches(token.as_bytes(), expected));
        let basic = header.and_then(basic_password).is_some_and(|password| matches(&password, expected));
        if !(bearer || basic) {
            return Err(ApiError::UnauthorizedBasic);
        }
    }
    Ok(next.run(request).await)
}

fn authorization(request: &Request) -> Option<&str> {
    request.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok())
}

fn matches(presented: &[u8], expected: &SecretString) -> bool {
    bool::from(presented.ct_eq(expected.expose_secret().as_bytes()))
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 7235: some clients send
/// `bearer`), the token is not.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

/// The password of `Basic base64(user:password)` (RFC 7617).
fn basic_password(header: &str) -> Option<Vec<u8>> {
    let (scheme, encoded) = header.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some(decoded[colon + 1..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::{basic_password, bearer_token};

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

    #[test]
    fn the_basic_password_is_everything_after_the_first_colon() {
        // twilio:s3c:ret
        assert_eq!(basic_password("Basic dHdpbGlvOnMzYzpyZXQ="), Some(b"s3c:ret".to_vec()));
        // :s3cret (no user name)
        assert_eq!(basic_password("basic OnMzY3JldA=="), Some(b"s3cret".to_vec()));
        for header in ["Basic !!!", "Basic czNjcmV0", "Bearer dHdpbGlvOnMzY3JldA==", ""] {
            assert_eq!(basic_password(header), None, "{header}");
        }
    }
}
