//! Everything the functions and the local harness share: domain types, configuration,
//! the repository, and (in later modules) the cache, webhook client and dispatcher.

pub mod config;
pub mod db;
pub mod domain;
pub mod repository;
pub mod telemetry;

pub use config::{Config, ConfigError};
