//! # capture
//!
//! The sensing half of the field app (见证取样): camera frames, QR tags, the
//! face check, GPS fixes and process photos. It builds and tests without a
//! window and without Tauri: the app engine calls it, and the sync server
//! uses the face check to re-check face evidence rather than trusting the
//! phone's word.
//!
//! * [`frame`]: [`frame::Frame`] and [`frame::FrameSource`]: files (images,
//!   Y4M, MJPEG), frames pushed from the webview, nokhwa cameras (feature).
//! * [`qr`]: the tag scanner: a measured cascade of decoders and
//!   pre-processing, panic-isolated and time-bounded (R6, R11, R16).
//!
//! Requirement IDs (R1…R21) refer to `REQUIREMENTS.md` in the project's seed.

pub mod face;
pub mod frame;
pub mod gps;
pub mod photo;
pub mod qr;
