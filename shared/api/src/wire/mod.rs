//! The API's answers that more than one endpoint gives, built `From` the core's types. An
//! endpoint's own request and answer types sit beside it; these are shared.

mod message;
mod sent_page;
mod stats;
mod stored_enum;

pub use message::{DeliveryOut, DeliveryStatusOut, MessageOut, MessageStatusOut, PriorityOut};
pub use sent_page::SentPageOut;
pub use stats::StatsOut;
pub(crate) use stored_enum::wire_enum;
