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
//! * [`face`]: detection, landmarks, alignment, quality, descriptor, 1:1
//!   check and the server's re-check; head-turn and blink liveness (R1, R7,
//!   R8). Models are loaded at run time from a directory.
//! * [`gps`]: location sources (NMEA receivers, recorded tracks, phone
//!   positions) and the collector of several fixes per capture (R7–R9).
//! * [`photo`]: byte-exact originals and watermarked copies (R7–R9).
//!
//! The crate README has the measurements behind every choice.
//!
//! Requirement IDs (R1…R21) refer to `REQUIREMENTS.md` in the project's seed.

pub mod face;
pub mod frame;
pub mod gps;
pub mod photo;
pub mod qr;
