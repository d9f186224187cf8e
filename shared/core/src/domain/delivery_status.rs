use super::stored_text::stored_enum;

stored_enum! {
    /// What a delivery receipt says of a sent message (a CHECK constraint in the schema holds
    /// the stored form to these).
    pub enum DeliveryStatus, unknown UnknownDeliveryStatus "delivery status" {
        /// On the phone.
        Delivered => "delivered",
        /// The carrier gave up on it.
        Undelivered => "undelivered",
    }
}
