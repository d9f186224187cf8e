//! How long a run may take, and how much of that one send needs: the one place the dispatch
//! function, the migrate function, the harness and the configuration check agree on it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Kept after the last send may start, to record its outcome before the budget or lease ends.
pub const RECORD_MARGIN: Duration = Duration::from_millis(500);

/// Kept back from a Lambda deadline for the runtime to report the result.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// Deadlines before this (2001-09-09) are not epoch times: `cargo lambda watch` sends its
/// timeout (e.g. 600000) in the deadline header.
const EARLIEST_EPOCH_DEADLINE_MS: u64 = 1_000_000_000_000;

/// The least time in which one webhook request can be sent and its outcome recorded.
pub fn room_for_one_send(webhook_timeout: Duration) -> Duration {
    webhook_timeout + RECORD_MARGIN
}

/// Time left before an invocation's deadline (milliseconds since the epoch), less
/// [`DEADLINE_MARGIN`]. Without a usable deadline (0, or an emulator's duration) `fallback`
/// bounds the work instead.
pub fn budget_until(deadline_ms: u64, fallback: Duration) -> Duration {
    if deadline_ms < EARLIEST_EPOCH_DEADLINE_MS {
        return fallback;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now).saturating_sub(DEADLINE_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_ends_before_the_deadline() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let deadline = (now + Duration::from_secs(30)).as_millis() as u64;
        let budget = budget_until(deadline, Duration::from_secs(60));
        assert!(budget <= Duration::from_secs(29) && budget > Duration::from_secs(28), "{budget:?}");
        assert_eq!(budget_until(0, Duration::from_secs(60)), Duration::from_secs(60));
        assert_eq!(
            budget_until(600_000, Duration::from_secs(60)),
            Duration::from_secs(60),
            "cargo lambda watch"
        );
        let past = (now - Duration::from_secs(5)).as_millis() as u64;
        assert_eq!(budget_until(past, Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn one_send_needs_its_timeout_and_the_record_margin() {
        assert_eq!(room_for_one_send(Duration::from_secs(10)), Duration::from_millis(10_500));
    }
}
