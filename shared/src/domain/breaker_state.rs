use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The receiver circuit breaker's state. The stored form is the snake_case name, limited by a
/// CHECK constraint in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
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

impl FromStr for BreakerState {
    type Err = UnknownBreakerState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownBreakerState(s.to_owned()))
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        for state in BreakerState::ALL {
            assert_eq!(state.as_str().parse::<BreakerState>().unwrap(), state);
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert!("half-open".parse::<BreakerState>().is_err());
    }
}
