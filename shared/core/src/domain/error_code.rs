//! Why a message was not delivered: the `error_code` stored with a retry or a failure, shown by
//! the API and matched by bulk retry. One enum, so every code the dispatcher can write is listed
//! here and spelled in one place.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The receiver answered with this HTTP status (`http_503`).
    Http(u16),
    /// A 2xx without a usable `messageId`.
    InvalidResponse,
    /// No answer within WEBHOOK_TIMEOUT_SECONDS.
    Timeout,
    /// The receiver could not be reached (refused, DNS, TLS).
    ConnectionError,
    /// The request failed in flight for another reason.
    TransportError,
    /// The request body could not be built.
    InvalidPayload,
    /// Claimed `max_attempts` times without an outcome recorded (runs that died mid-send).
    AttemptsExhausted,
    /// A row written by another tool with a phone number that is not E.164.
    InvalidPhoneNumber,
    /// A row written by another tool with content over the limit, empty, or with a NUL.
    InvalidContent,
    /// Not sent by its `expires_at`.
    Expired,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = match self {
            Self::Http(status) => return write!(f, "http_{status}"),
            Self::InvalidResponse => "invalid_response",
            Self::Timeout => "timeout",
            Self::ConnectionError => "connection_error",
            Self::TransportError => "transport_error",
            Self::InvalidPayload => "invalid_payload",
            Self::AttemptsExhausted => "attempts_exhausted",
            Self::InvalidPhoneNumber => "invalid_phone_number",
            Self::InvalidContent => "invalid_content",
            Self::Expired => "expired",
        };
        f.write_str(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_as_stored() {
        assert_eq!(ErrorCode::Http(503).to_string(), "http_503");
        assert_eq!(ErrorCode::ConnectionError.to_string(), "connection_error");
        assert_eq!(ErrorCode::AttemptsExhausted.to_string(), "attempts_exhausted");
    }
}
