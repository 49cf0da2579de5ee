//! # field-engine
//!
//! The heart of the field app, built and tested without WebKit or a window:
//! the signed local store, the device's keys, record creation validated by
//! the shared rules before signing, the offline witness handshake, and
//! offline-first sync with the server. The Tauri commands are a thin layer
//! over [`Engine`]; so is the `field-sim` command-line driver.
//!
//! `Engine`'s API is split by concern: [`enrollment`], the custody steps in
//! [`steps`], media in `evidence`, the screens' [`views`], [`sync`] and the
//! on-demand requests in `lookup`, the console sign-in in `console`, the lab
//! station's watched folder of machine files in [`station`] (R12), the
//! approved sampling plans the sampler picks from in `plans` (R4). All SQL
//! is in the `store` module; the verification context a draft is checked
//! on is gathered in `context`, and every step signs through `signing`.

pub mod client;
pub mod clock;
mod console;
mod context;
pub mod db;
pub mod engine;
pub mod enrollment;
mod error;
mod evidence;
pub mod handshake;
mod lookup;
pub mod media;
mod plans;
mod signing;
pub mod station;
pub mod station_stream;
pub mod steps;
mod store;
pub mod sync;
pub mod vault;
pub mod views;

pub use engine::Engine;
pub use enrollment::Enrollment;
pub use error::{EngineError, Result};
pub use plans::{PlanItemView, PlanRecordInput};
pub use station::{StationOptions, StationPass};
pub use steps::{
    CommissionInput, Created, FieldEvidence, ReceiptInput, ReportInput, SamplingInput, TestDataInput,
    WitnessInput,
};
pub use sync::{MEDIA_CHUNK, SyncReport, UPLOAD_BATCH, backoff};
pub use views::{Alarm, OpenSampling, RecordView, SyncStatus};
