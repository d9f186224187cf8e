//! What only the local crate's tests need: the harness binary as a process, and the SAM
//! template read as the deployment reads it.

pub mod harness;
pub mod template;
