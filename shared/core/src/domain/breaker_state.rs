use super::stored_text::stored_as_text;

/// The receiver circuit breaker's state. The stored form is the snake_case name, limited by a
/// CHECK constraint in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// The receiver answers: send as usual.
    Closed,
    /// The receiver looks down: nothing is sent until the next probe.
    Open,
    /// One run is sending one probe; its answer closes or reopens the breaker.
    HalfOpen,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown receiver breaker state {0:?}")]
pub struct UnknownBreakerState(pub String);

impl BreakerState {
    pub const ALL: [BreakerState; 3] = [Self::Closed, Self::Open, Self::HalfOpen];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

stored_as_text!(BreakerState, UnknownBreakerState);
