//! The webhook protocol: one POST per message, and what each answer means.

mod client;
mod outcome;
mod retry_after;
mod signing;

pub use client::WebhookClient;
pub use outcome::{classify, truncate_body, Outcome, RESPONSE_BODY_LIMIT};
pub use retry_after::parse_retry_after;
pub use signing::{SigningSecretError, VerifyError, WebhookSigner, TOLERANCE_SECONDS};
