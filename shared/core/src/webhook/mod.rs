//! The webhook protocol: one POST per message, and what each answer means.

mod client;
mod retry_after;
mod signing;
mod verdict;

pub use client::{Exchange, WebhookClient};
pub use retry_after::parse_retry_after;
pub use signing::{SigningSecretError, VerifyError, WebhookSigner, TOLERANCE_SECONDS};
pub use verdict::{classify, truncate_body, Verdict, RESPONSE_BODY_LIMIT};
