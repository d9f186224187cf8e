//! Standard Webhooks signatures (WEBHOOK_SIGNING_SECRET): the receiver can tell a request came
//! from us, unchanged and recently, with any stock Standard Webhooks library. Each secret's
//! HMAC key state is computed once at start-up; a request clones it, so signing costs one
//! SHA-256 pass over the body per secret (plus one block for the outer hash).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";
/// Shorter keys are weak; longer ones are what the specification forbids.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// How far a timestamp may be from the receiver's clock: the specification's five minutes.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// One or more keyed HMAC states, in the order the secrets were given. Never printed.
#[derive(Clone)]
pub struct WebhookSigner {
    keys: Vec<HmacSha256>,
}

impl std::fmt::Debug for WebhookSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSigner({} secret(s), ***)", self.keys.len())
    }
}

/// Why a secret cannot be used; says which one (1-based) and never quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningSecretError {
    #[error("at least one secret")]
    Empty,
    #[error("secret {0} to start with whsec_")]
    MissingPrefix(usize),
    #[error("secret {0} to be base64 after whsec_")]
    NotBase64(usize),
    #[error("secret {index} to decode to 24 to 64 bytes, not {len}")]
    Length { index: usize, len: usize },
}

/// Why a request did not verify (the harness's mock receiver logs it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is {0} s away from now, more than the tolerance")]
    OutsideTolerance(i64),
    #[error("no v1 signature matches")]
    NoMatch,
}

impl WebhookSigner {
    /// Space-separated `whsec_<base64>` secrets, as WEBHOOK_SIGNING_SECRET holds them.
    pub fn parse(secrets: &str) -> Result<Self, SigningSecretError> {
        let keys = secrets
            .split_whitespace()
            .enumerate()
            .map(|(i, secret)| key(i + 1, secret))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SigningSecretError::Empty);
        }
        Ok(Self { keys })
    }

    /// How many secrets sign each request (two during a rotation).
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// The `webhook-signature` header: `v1,<base64>` per secret, space-separated, over
    /// `{id}.{timestamp}.{body}`; `body` must be the exact bytes sent.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        let mut header = String::with_capacity(self.keys.len() * 48);
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                header.push(' ');
            }
            header.push_str("v1,");
            STANDARD.encode_string(mac(key, id, &timestamp, body), &mut header);
        }
        header
    }

    /// Checks a received request the way a Standard Webhooks receiver does: the timestamp
    /// within [`TOLERANCE_SECONDS`] of `now`, and any `v1` signature made with any of our secrets.
    pub fn verify(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let seconds: i64 = timestamp.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
        let skew = now.saturating_sub(seconds);
        if skew.unsigned_abs() > TOLERANCE_SECONDS.unsigned_abs() {
            return Err(VerifyError::OutsideTolerance(skew));
        }
        let offered: Vec<Vec<u8>> = signatures
            .split_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .collect();
        let matches = self.keys.iter().any(|key| {
            let expected = mac(key, id, timestamp.trim(), body);
            offered.iter().any(|sig| bool::from(sig.as_slice().ct_eq(expected.as_slice())))
        });
        if matches {
            Ok(())
        } else {
            Err(VerifyError::NoMatch)
        }
    }
}

fn key(index: usize, secret: &str) -> Result<HmacSha256, SigningSecretError> {
    let encoded = secret.strip_prefix(PREFIX).ok_or(SigningSecretError::MissingPrefix(index))?;
    let bytes = STANDARD.decode(encoded).map_err(|_| SigningSecretError::NotBase64(index))?;
    if !KEY_BYTES.contains(&bytes.len()) {
        return Err(SigningSecretError::Length { index, len: bytes.len() });
    }
    // HMAC takes a key of any length; the range check above is the only way this can fail.
    HmacSha256::new_from_slice(&bytes).map_err(|_| SigningSecretError::Length { index, len: bytes.len() })
}

fn mac(key: &HmacSha256, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    let mut mac = key.clone();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests;
