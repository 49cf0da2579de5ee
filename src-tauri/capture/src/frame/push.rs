//! Frames pushed in from the webview (phones).
//!
//! On Android and iOS the camera is opened by the webview (`getUserMedia`);
//! nokhwa has no mobile back end. The page draws video frames and sends
//! their bytes to Rust over Tauri's binary IPC (an `ArrayBuffer` request
//! body, no base64). This module is the Rust side: the app's IPC command
//! hands the body to a [`PushSender`]; the scanner or face check reads from
//! the paired [`PushSource`] like from any other camera.
//!
//! ## Wire format of one pushed frame
//!
//! ```text
//! offset size
//!  0     4   magic "JZF1"
//!  4     1   format: 1 = RGBA8 (canvas getImageData), 2 = encoded image
//!            (JPEG/PNG from canvas.toBlob), 3 = Luma8 (a Y plane)
//!  5     3   zero
//!  8     4   width,  u32 little-endian (0 for encoded images)
//! 12     4   height, u32 little-endian (0 for encoded images)
//! 16     …   pixel bytes
//! ```
//!
//! Decoding is done by the consumer in [`PushSource::next_frame`], not in the
//! IPC handler, so a slow decoder never blocks the webview. The channel is
//! bounded: when the consumer is busy, new frames are dropped (for a live
//! scanner the freshest frame is the useful one, and memory stays bounded).

use super::{ControlError, Frame, FrameError, FrameSource, PixelFormat, SourceKind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

pub const MAGIC: &[u8; 4] = b"JZF1";
pub const HEADER_LEN: usize = 16;

/// The pixel layout of a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushFormat {
    Rgba8 {
        width: u32,
        height: u32,
    },
    Luma8 {
        width: u32,
        height: u32,
    },
    /// JPEG or PNG bytes; the size is in the picture.
    Encoded,
}

/// One frame as it arrived over IPC, not decoded yet.
#[derive(Debug, Clone)]
pub struct PushedFrame {
    pub format: PushFormat,
    pub bytes: Vec<u8>,
    /// The app's monotonic clock when the frame arrived (the webview's own
    /// clock is not the device's monotonic clock, so the app stamps it).
    pub mono_ms: Option<u64>,
}

impl PushedFrame {
    /// Parse the wire format above. Sizes are checked here, before the frame
    /// is queued, so a malformed message costs no memory downstream.
    pub fn from_wire(body: &[u8], mono_ms: Option<u64>) -> Result<PushedFrame, FrameError> {
        let bad = |reason: String| FrameError::Stream { format: "pushed frame", reason };
        if body.len() < HEADER_LEN || &body[..4] != MAGIC {
            return Err(bad("missing JZF1 header".into()));
        }
        let width = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        let height = u32::from_le_bytes(body[12..16].try_into().expect("4 bytes"));
        let pixels = &body[HEADER_LEN..];
        let format = match body[4] {
            1 => PushFormat::Rgba8 { width, height },
            2 => PushFormat::Encoded,
            3 => PushFormat::Luma8 { width, height },
            other => return Err(bad(format!("unknown format byte {other}"))),
        };
        let expected = match format {
            PushFormat::Rgba8 { width, height } => Some((width, height, 4)),
            PushFormat::Luma8 { width, height } => Some((width, height, 1)),
            PushFormat::Encoded => None,
        };
        if let Some((w, h, bpp)) = expected {
            super::check_dimensions(w, h)?;
            let want = w as usize * h as usize * bpp;
            if pixels.len() != want {
                return Err(FrameError::Size {
                    width: w,
                    height: h,
                    format: if bpp == 1 { PixelFormat::Luma8 } else { PixelFormat::Rgb8 },
                    expected: want,
                    actual: pixels.len(),
                });
            }
        } else if pixels.is_empty() {
            return Err(bad("encoded frame without bytes".into()));
        }
        Ok(PushedFrame { format, bytes: pixels.to_vec(), mono_ms })
    }

    /// Build the wire bytes (what the page sends); used by tests and tools.
    pub fn to_wire(&self) -> Vec<u8> {
        let (code, w, h) = match self.format {
            PushFormat::Rgba8 { width, height } => (1u8, width, height),
            PushFormat::Encoded => (2, 0, 0),
            PushFormat::Luma8 { width, height } => (3, width, height),
        };
        let mut out = Vec::with_capacity(HEADER_LEN + self.bytes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[code, 0, 0, 0]);
        out.extend_from_slice(&w.to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&self.bytes);
        out
    }

    pub fn decode(self) -> Result<Frame, FrameError> {
        let frame = match self.format {
            PushFormat::Rgba8 { width, height } => Frame::from_rgba(width, height, &self.bytes)?,
            PushFormat::Luma8 { width, height } => Frame::new(width, height, PixelFormat::Luma8, self.bytes)?,
            PushFormat::Encoded => Frame::decode(&self.bytes)?,
        };
        Ok(frame.with_mono_ms(self.mono_ms))
    }
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// The consumer is behind; this frame was dropped.
    Dropped,
}

/// The IPC side: clone it into the app's command handler.
#[derive(Clone)]
pub struct PushSender {
    tx: SyncSender<PushedFrame>,
}

impl PushSender {
    /// Queue a frame without blocking the IPC thread.
    pub fn push(&self, frame: PushedFrame) -> Result<Pushed, FrameError> {
        match self.tx.try_send(frame) {
            Ok(()) => Ok(Pushed::Queued),
            Err(TrySendError::Full(_)) => Ok(Pushed::Dropped),
            Err(TrySendError::Disconnected(_)) => Err(FrameError::Closed),
        }
    }

    /// Parse a wire body and queue it.
    pub fn push_wire(&self, body: &[u8], mono_ms: Option<u64>) -> Result<Pushed, FrameError> {
        self.push(PushedFrame::from_wire(body, mono_ms)?)
    }
}

/// The consumer side: a [`FrameSource`] fed by the webview.
pub struct PushSource {
    rx: Receiver<PushedFrame>,
}

/// A bounded channel of pushed frames. `capacity` of 2 is right for a live
/// scanner: one frame being worked on, one waiting.
pub fn channel(capacity: usize) -> (PushSender, PushSource) {
    let (tx, rx) = sync_channel(capacity.max(1));
    (PushSender { tx }, PushSource { rx })
}

impl PushSource {
    /// Like [`FrameSource::next_frame`], but gives up after `timeout`
    /// (`Ok(None)` then means "nothing yet", not "closed": check
    /// [`PushSource::is_closed`]).
    pub fn next_frame_timeout(&mut self, timeout: Duration) -> Result<Option<Frame>, FrameError> {
        match self.rx.recv_timeout(timeout) {
            Ok(f) => f.decode().map(Some),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    /// Whether every sender is gone and nothing is queued.
    pub fn is_closed(&self) -> bool {
        matches!(self.rx.try_recv(), Err(std::sync::mpsc::TryRecvError::Disconnected))
    }
}

impl FrameSource for PushSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        match self.rx.recv() {
            Ok(f) => f.decode().map(Some),
            Err(_) => Ok(None),
        }
    }
    fn kind(&self) -> SourceKind {
        SourceKind::Webview
    }
    fn set_torch(&mut self, _on: bool) -> Result<(), ControlError> {
        Err(ControlError::Unsupported {
            control: "torch",
            reason: "the webview owns this camera: switch the torch from the page \
                     (MediaStreamTrack.applyConstraints({advanced: [{torch: true}]}))",
            reason_zh: "摄像头由网页控制，请在页面上打开补光灯",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip_and_decode() {
        let rgba = vec![255, 0, 0, 255, 0, 255, 0, 255];
        let f = PushedFrame { format: PushFormat::Rgba8 { width: 2, height: 1 }, bytes: rgba, mono_ms: None };
        let wire = f.to_wire();
        let back = PushedFrame::from_wire(&wire, Some(7)).unwrap();
        assert_eq!(back.format, PushFormat::Rgba8 { width: 2, height: 1 });
        let frame = back.decode().unwrap();
        assert_eq!(frame.data(), &[255, 0, 0, 0, 255, 0]);
        assert_eq!(frame.captured_mono_ms, Some(7));
    }

    #[test]
    fn malformed_wire_is_refused_before_queueing() {
        assert!(PushedFrame::from_wire(b"JZF1", None).is_err());
        let mut w = PushedFrame {
            format: PushFormat::Luma8 { width: 4, height: 4 },
            bytes: vec![0; 16],
            mono_ms: None,
        }
        .to_wire();
        w.pop();
        assert!(matches!(PushedFrame::from_wire(&w, None), Err(FrameError::Size { .. })));
        w[0] = b'X';
        assert!(PushedFrame::from_wire(&w, None).is_err());
        let huge = PushedFrame {
            format: PushFormat::Luma8 { width: 100_000, height: 100_000 },
            bytes: vec![],
            mono_ms: None,
        };
        assert!(matches!(PushedFrame::from_wire(&huge.to_wire(), None), Err(FrameError::TooLarge { .. })));
    }

    #[test]
    fn full_channel_drops_and_closed_channel_ends() {
        let (tx, mut rx) = channel(1);
        let f = || PushedFrame {
            format: PushFormat::Luma8 { width: 1, height: 1 },
            bytes: vec![9],
            mono_ms: None,
        };
        assert_eq!(tx.push(f()).unwrap(), Pushed::Queued);
        assert_eq!(tx.push(f()).unwrap(), Pushed::Dropped);
        assert_eq!(rx.next_frame().unwrap().unwrap().data(), &[9]);
        assert!(rx.set_torch(true).unwrap_err().message_zh().contains("网页"));
        drop(tx);
        assert!(rx.next_frame().unwrap().is_none());
        assert!(rx.is_closed());
    }
}
