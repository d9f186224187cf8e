use super::stored_text::stored_enum;

stored_enum! {
    /// The receiver circuit breaker's state, limited by a CHECK constraint in the schema.
    pub enum BreakerState, unknown UnknownBreakerState "receiver breaker state" {
        /// The receiver answers: send as usual.
        Closed => "closed",
        /// The receiver looks down: nothing is sent until the next probe.
        Open => "open",
        /// One run is sending one probe; its answer closes or reopens the breaker.
        HalfOpen => "half_open",
    }
}
