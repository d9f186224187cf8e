//! Enums stored as text (a status, a breaker state, an attempt's outcome): each variant's stored
//! form is spelled once, beside it; `as_str`, parsing and display follow from that.

/// An enum stored as text: the enum (each variant with its stored spelling), `ALL`, `as_str`,
/// the error for text that is none of them, `FromStr` (the stored form back) and `Display` (the
/// stored form).
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $type:ident, unknown $unknown:ident $what:literal {
            $( $(#[$variant_meta:meta])* $variant:ident => $stored:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $type {
            $( $(#[$variant_meta])* $variant, )+
        }

        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $unknown(pub String);

        impl std::fmt::Display for $unknown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "unknown {} {:?}", $what, self.0)
            }
        }

        impl std::error::Error for $unknown {}

        impl $type {
            pub const ALL: &'static [$type] = &[$(Self::$variant),+];
            /// The stored spelling of each of `ALL`, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($stored),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $stored,)+
                }
            }
        }

        impl std::str::FromStr for $type {
            type Err = $unknown;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|value| value.as_str() == s).ok_or_else(|| $unknown(s.to_owned()))
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_enum;

#[cfg(test)]
mod tests {
    use crate::domain::{AttemptOutcome, BreakerState, DeliveryStatus, MessageStatus};

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
        assert_round_trips(MessageStatus::ALL, MessageStatus::as_str, "PENDING");
    }

    #[test]
    fn delivery_status_round_trips() {
        assert_round_trips(DeliveryStatus::ALL, DeliveryStatus::as_str, "Delivered");
    }

    #[test]
    fn attempt_outcome_round_trips() {
        assert_round_trips(AttemptOutcome::ALL, AttemptOutcome::as_str, "released");
    }

    #[test]
    fn breaker_state_round_trips() {
        assert_round_trips(BreakerState::ALL, BreakerState::as_str, "half-open");
    }
}
