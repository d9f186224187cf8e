use super::stored_text::stored_enum;

stored_enum! {
    /// Where a message is in its life. The stored form is the lowercase name, limited by a CHECK
    /// constraint in the schema.
    pub enum MessageStatus, unknown UnknownStatus "message status" {
        Pending => "pending",
        Processing => "processing",
        Sent => "sent",
        Failed => "failed",
        /// Withdrawn before it was sent; terminal, never claimed.
        Cancelled => "cancelled",
        /// Not sent by its `expires_at`; terminal, never sent after it.
        Expired => "expired",
    }
}
