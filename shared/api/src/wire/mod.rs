//! The API's answers that more than one endpoint gives, built `From` the core's types. An
//! endpoint's own request and answer types sit beside it; these are shared.

mod message;
mod stats;

pub use message::{DeliveryOut, DeliveryStatusOut, MessageOut, MessageStatusOut};
pub use stats::StatsOut;
