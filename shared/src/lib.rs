//! # custody-core
//!
//! The rules of witnessed sampling (见证取样) as pure functions, shared
//! unchanged by the field app and the sync server. No I/O lives here: no
//! files, no network, no clock (time is always passed in).
//!
//! * [`access`]: who may see what (R1, R2, R18, PIPL), every visibility decision.
//! * [`canonical`]: RFC 8785 canonical JSON, integers only.
//! * [`crypto`]: SHA-256, Ed25519 (ring) with domain separation.
//! * [`record`]: the signed, versioned, hash-chained record format.
//! * [`report_seal`]: the report QR, signed by the system, checkable offline (R13).
//! * [`time`]: trusted time intervals and the 20-minute rule (R8).
//! * [`place`]: WGS-84/GCJ-02/BD-09, site boundaries, co-presence (R7-R9).
//! * [`calendar`]: civil dates and China Standard Time, for what people read and type.
//! * [`geojson`]: site boundaries imported from GeoJSON in any of those datums.
//! * [`curve`]: testing machines' force curves as parsed from their files (R12).
//! * [`results`]: mechanical results recomputed from the raw curve, by the standards (R12).
//! * [`custody`]: the custody state machine (R6-R13).
//! * [`tag`]: tag codes with check digits, tag batches (R6, R15, R16).
//! * [`log`]: the transparency log's proofs and receipts (R14).
//! * [`archive`]: the lifetime archive (a BagIt export) checked from the bytes up (R14).
//! * [`verify`]: every rule over one record, all findings at once.
//! * [`trail`]: the lab's verdict on a tag's whole trail (R11).
//! * [`lab_registry`]: labs' scope, equipment and staff, checked at test time (R3).
//! * [`plans`]: contracts, sampling and testing plans, approvals, the pre-start check, progress (R2, R4, R5, R15, R19).
//! * [`protocol`]: the sync protocol's wire types (server and app share them).
//! * [`routes`]: every HTTP route, named once for the server and its clients.
//! * [`server_keys`]: the server's keys over time: rotation by a handover the old key signs (R14).
//!
//! Requirement IDs (R1…R21): `docs/requirements.md` in the repository.

// The rules run on a server that must not fall over on input it did not
// expect: no unwrap in the core (tests excepted, clippy.toml).
#![deny(clippy::unwrap_used)]

pub mod access;
pub mod archive;
pub mod calendar;
pub mod canonical;
pub mod crypto;
pub mod curve;
pub mod custody;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod geojson;
pub mod lab_desk;
pub mod lab_registry;
pub mod log;
pub mod model;
pub mod oversight;
pub mod place;
pub mod plans;
pub mod policy;
pub mod protocol;
pub mod record;
pub mod report_seal;
pub mod results;
pub mod routes;
pub mod server_keys;
pub mod tag;
pub mod time;
pub mod trail;
pub mod verify;

pub use crypto::{Hash, PublicKey, Signature, SigningKey};
pub use model::Id;
pub use record::{RecordBody, SignedRecord};
pub use tag::TagCode;
