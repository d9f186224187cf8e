use super::stored_text::stored_enum;

stored_enum! {
    /// What a webhook request led to, as the attempt log stores it (a CHECK constraint in the
    /// schema holds the stored form to these).
    pub enum AttemptOutcome, unknown UnknownAttemptOutcome "attempt outcome" {
        Sent => "sent",
        /// The message went back to the queue to be tried again.
        Retry => "retry",
        /// The message ended `failed`.
        Failed => "failed",
    }
}
