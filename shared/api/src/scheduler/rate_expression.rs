use std::time::Duration;

/// The period of an EventBridge `rate(N unit)` expression; `None` for cron/at or anything else.
pub fn rate_interval(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: u64 = count.parse().ok()?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(count * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_expressions_give_their_period() {
        assert_eq!(rate_interval("rate(2 minutes)"), Some(Duration::from_secs(120)));
        assert_eq!(rate_interval("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(rate_interval("rate(3 hours)"), Some(Duration::from_secs(10_800)));
        assert_eq!(rate_interval("rate(1 day)"), Some(Duration::from_secs(86_400)));
        assert_eq!(rate_interval("cron(0/2 * * * ? *)"), None);
        assert_eq!(rate_interval("rate(x minutes)"), None);
    }
}
