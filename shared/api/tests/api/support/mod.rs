//! What only the API's tests need: the router served in-process. Messages one at a time, the
//! dispatcher with test-sized settings and the messages table held locked come from `testkit`.

pub mod api;

pub use testkit::dispatch;
pub use testkit::messages::{count, insert, new_message, status_of, update_one};
pub use testkit::table_lock;
