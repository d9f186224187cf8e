//! The local harness as a library: the whole system in one process (`serve`), its tools
//! (`migrate`, `seed`, `dispatch`, `purge`), the private PostgreSQL and the mock receiver.
//! The `local` binary is its command line; the benchmark (`local/bench`) builds on the same
//! pieces.

pub mod dispatch_once;
pub mod embedded_postgres;
pub mod harness_options;
pub mod migrate;
pub mod mock_receiver;
pub mod purge;
pub mod seed;
pub mod serve;

pub use harness_options::HarnessOptions;
