//! Classifying a receiver's answer: delivered, retry later, or failed for good.

use std::time::Duration;

use reqwest::StatusCode;

use crate::domain::ErrorCode;

/// Stored response bodies are cut to this many bytes (on a character boundary).
pub const RESPONSE_BODY_LIMIT: usize = 4096;

/// What the answer to one webhook request (or its failure) means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx with a non-empty `messageId`.
    Delivered { message_id: String, body: String },
    /// Timeout, connection error, 408, 429 or 5xx: try again later.
    Retry {
        error_code: ErrorCode,
        reason: String,
        retry_after: Option<Duration>,
        body: Option<String>,
        /// The endpoint itself failed (no answer, a timeout, 408, 5xx, or 429 without a usable
        /// Retry-After), not this message: it counts toward the receiver breaker.
        receiver_down: bool,
    },
    /// Any other answer: the message can never be delivered as it is.
    Permanent { error_code: ErrorCode, reason: String, body: Option<String> },
}

/// Classifies an HTTP answer. `body` is what was read of it (already bounded).
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &str) -> Verdict {
    let kept = || Some(truncate_body(body));
    if status.is_success() {
        return match usable_message_id(body) {
            Some(message_id) => Verdict::Delivered { message_id, body: truncate_body(body) },
            None => Verdict::Permanent {
                error_code: ErrorCode::InvalidResponse,
                reason: format!("HTTP {status} without a usable messageId in the body"),
                body: kept(),
            },
        };
    }
    let error_code = ErrorCode::Http(status.as_u16());
    let reason = format!("HTTP {status}");
    let temporary = status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    if temporary {
        // A 429 that says when to come back is the receiver pacing us, alive and well.
        let receiver_down = status != StatusCode::TOO_MANY_REQUESTS || retry_after.is_none();
        Verdict::Retry { error_code, reason, retry_after, body: kept(), receiver_down }
    } else {
        Verdict::Permanent { error_code, reason, body: kept() }
    }
}

impl Verdict {
    /// Whether this answer says the endpoint is down, rather than anything about the message.
    pub fn receiver_down(&self) -> bool {
        matches!(self, Self::Retry { receiver_down: true, .. })
    }

    /// Why it was not delivered.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Delivered { .. } => None,
            Self::Retry { reason, .. } | Self::Permanent { reason, .. } => Some(reason),
        }
    }
}

/// A JSON object's `messageId` as a non-blank string (a number is accepted and kept as text).
fn usable_message_id(body: &str) -> Option<String> {
    let accepted: serde_json::Value = serde_json::from_str(body).ok()?;
    let id = match accepted.as_object()?.get("messageId")?.clone() {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let id = id.trim();
    (!id.is_empty() && id.len() <= 512).then(|| id.to_owned())
}

/// Cuts a body to [`RESPONSE_BODY_LIMIT`] bytes without splitting a character.
pub fn truncate_body(body: &str) -> String {
    if body.len() <= RESPONSE_BODY_LIMIT {
        return body.to_owned();
    }
    let mut end = RESPONSE_BODY_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(verdict: &Verdict) -> String {
        match verdict {
            Verdict::Delivered { .. } => "delivered".into(),
            Verdict::Retry { error_code, .. } | Verdict::Permanent { error_code, .. } => {
                error_code.to_string()
            }
        }
    }

    #[test]
    fn accepted_with_a_message_id_is_delivered() {
        let body = r#"{"message":"Accepted","messageId":"67f2f8a8-ea58-4ed0-a6f9-ff217df4d849"}"#;
        let verdict = classify(StatusCode::ACCEPTED, None, body);
        assert_eq!(
            verdict,
            Verdict::Delivered {
                message_id: "67f2f8a8-ea58-4ed0-a6f9-ff217df4d849".into(),
                body: body.into()
            }
        );
        assert!(
            matches!(classify(StatusCode::OK, None, r#"{"messageId":42}"#), Verdict::Delivered { message_id, .. } if message_id == "42")
        );
    }

    #[test]
    fn success_without_a_usable_message_id_is_an_invalid_response() {
        for body in [
            "",
            "OK",
            "{}",
            r#"{"messageId":""}"#,
            r#"{"messageId":"  "}"#,
            r#"{"messageId":null}"#,
            r#"{"messageId":{}}"#,
            "[1]",
        ] {
            let verdict = classify(StatusCode::ACCEPTED, None, body);
            assert!(
                matches!(&verdict, Verdict::Permanent { error_code, body: Some(kept), .. } if *error_code == ErrorCode::InvalidResponse && kept == body),
                "{body:?}: {verdict:?}"
            );
        }
    }

    #[test]
    fn temporary_statuses_retry_and_others_are_permanent() {
        let table = [
            (408, "http_408", true),
            (429, "http_429", true),
            (500, "http_500", true),
            (502, "http_502", true),
            (503, "http_503", true),
            (400, "http_400", false),
            (401, "http_401", false),
            (404, "http_404", false),
            (422, "http_422", false),
            (301, "http_301", false),
        ];
        for (status, expected, retry) in table {
            let verdict = classify(StatusCode::from_u16(status).unwrap(), None, "x");
            assert_eq!(code(&verdict), expected);
            assert_eq!(matches!(verdict, Verdict::Retry { .. }), retry, "{status}");
        }
    }

    #[test]
    fn endpoint_failures_are_told_apart_from_message_failures() {
        let wait = Some(Duration::from_secs(7));
        let down = |status: u16, retry_after| {
            classify(StatusCode::from_u16(status).unwrap(), retry_after, "x").receiver_down()
        };
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(down(status, None), "{status}");
        }
        assert!(down(503, wait), "a 5xx counts even with Retry-After");
        assert!(!down(429, wait), "a 429 with a usable Retry-After is the receiver pacing us");
        for status in [200, 202, 400, 401, 404, 409, 422, 301] {
            assert!(!down(status, None), "{status}");
        }
        assert!(!classify(StatusCode::ACCEPTED, None, "{}").receiver_down(), "a 2xx without messageId");
    }

    #[test]
    fn retry_after_is_carried_on_retries() {
        let wait = Some(Duration::from_secs(7));
        assert!(
            matches!(classify(StatusCode::TOO_MANY_REQUESTS, wait, ""), Verdict::Retry { retry_after, .. } if retry_after == wait)
        );
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = "ş".repeat(RESPONSE_BODY_LIMIT);
        let cut = truncate_body(&body);
        assert!(cut.len() <= RESPONSE_BODY_LIMIT && cut.len() >= RESPONSE_BODY_LIMIT - 1);
        assert!(body.starts_with(&cut));
    }
}
