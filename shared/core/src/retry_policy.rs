//! When to try a message again: exponential backoff with jitter, or the receiver's `Retry-After`.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// Delay after failed attempt number `attempt` (1-based): about `base * 2^(attempt-1)`,
    /// ±20% jitter so failed batches do not retry in lockstep, capped at `max`.
    /// A `Retry-After` from the receiver wins, clamped to `max`.
    pub fn delay(&self, attempt: i32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max);
        }
        let exponent = attempt.saturating_sub(1).clamp(0, 30) as u32;
        let backoff = self.base.saturating_mul(2u32.saturating_pow(exponent));
        let jittered = backoff.mul_f64(rng.random_range(0.8..=1.2));
        jittered.min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(1800) };

    #[test]
    fn delays_double_per_attempt_within_the_jitter() {
        let mut rng = rand::rng();
        for (attempt, nominal) in [(1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0)] {
            for _ in 0..200 {
                let delay = POLICY.delay(attempt, None, &mut rng).as_secs_f64();
                assert!(delay >= nominal * 0.8 - 1e-9 && delay <= nominal * 1.2 + 1e-9, "{attempt}: {delay}");
            }
        }
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let mut rng = rand::rng();
        let delays: std::collections::HashSet<_> = (0..50).map(|_| POLICY.delay(2, None, &mut rng)).collect();
        assert!(delays.len() > 10);
    }

    #[test]
    fn delays_are_capped() {
        let mut rng = rand::rng();
        assert_eq!(POLICY.delay(12, None, &mut rng), Duration::from_secs(1800));
        assert_eq!(POLICY.delay(i32::MAX, None, &mut rng), Duration::from_secs(1800));
    }

    #[test]
    fn retry_after_wins_and_is_clamped() {
        let mut rng = rand::rng();
        assert_eq!(POLICY.delay(1, Some(Duration::from_secs(5)), &mut rng), Duration::from_secs(5));
        assert_eq!(POLICY.delay(1, Some(Duration::from_secs(86_400)), &mut rng), Duration::from_secs(1800));
    }
}
