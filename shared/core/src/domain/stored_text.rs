//! Enums stored as text (a status, a breaker state): the stored form is spelled once, in the
//! enum's `as_str`; parsing and display follow from it and its `ALL`.

/// `FromStr` (the stored form back, else `$unknown` with the text) and `Display` (the stored
/// form) for an enum with `ALL` and `as_str`.
macro_rules! stored_as_text {
    ($type:ty, $unknown:ident) => {
        impl std::str::FromStr for $type {
            type Err = $unknown;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.into_iter().find(|value| value.as_str() == s).ok_or_else(|| $unknown(s.to_owned()))
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_as_text;

#[cfg(test)]
mod tests {
    use crate::domain::{BreakerState, MessageStatus};

    /// Every value parses back from its stored form and `bad` is refused.
    fn assert_round_trips<T>(all: &[T], as_str: fn(T) -> &'static str, bad: &str)
    where
        T: Copy + std::fmt::Debug + PartialEq + std::str::FromStr,
        T::Err: std::fmt::Debug,
    {
        for &value in all {
            assert_eq!(as_str(value).parse::<T>().unwrap(), value);
        }
        assert!(bad.parse::<T>().is_err(), "{bad:?} must not parse");
    }

    #[test]
    fn message_status_round_trips() {
        assert_round_trips(&MessageStatus::ALL, MessageStatus::as_str, "PENDING");
    }

    #[test]
    fn breaker_state_round_trips() {
        assert_round_trips(&BreakerState::ALL, BreakerState::as_str, "half-open");
    }
}
