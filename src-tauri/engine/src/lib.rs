//! # field-engine
//!
//! The heart of the field app, built and tested without WebKit or a window:
//! the signed local store, the device's keys, record creation validated by
//! the shared rules before signing, the offline witness handshake, and
//! offline-first sync with the server. The Tauri commands are a thin layer
//! over [`Engine`]; so is the `field-sim` command-line driver.

pub mod client;
pub mod clock;
pub mod db;
pub mod engine;
pub mod handshake;
pub mod media;
pub mod vault;

pub use engine::*;
