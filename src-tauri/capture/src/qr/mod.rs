//! Reading QR tags from frames (R6, R11, R16).
//!
//! No single decoder is good enough. Measured on the ZXing blackbox photos
//! (qrcode-1…4, 145 images), the pure-Rust decoders read: rxing 131, rqrr 92;
//! on steep tilt and rotation rqrr reads codes rxing misses, and rqrr panics
//! or runs for minutes on some inputs; on curved, crumpled and glared labels
//! both sample a bent grid wrongly, and our own [`mesh`] sampler (rxing
//! decodes what it samples) reads them. So the [`Scanner`] runs a *cascade* of
//! [`Strategy`]s — a decoder plus a pre-processing of the picture — cheapest
//! and most productive first, and stops at the first that reads a code. The
//! order and membership of [`Strategy::STILL`] come from measurements (see
//! the crate README and `benches/scan.rs`), not from taste.
//!
//! Every attempt runs under a [`guard::Guard`]: a panic becomes an incident
//! in the outcome, and the whole scan respects a time budget.
//!
//! For live frames, [`ScanMode::Live`] first runs the finder-pattern
//! [`precheck`], so a frame without a code costs a fraction of a decode.

pub mod blackbox;
pub mod guard;
pub mod image_ops;
pub mod mesh;
pub mod precheck;
pub mod synth;
pub mod tag;

use crate::frame::Frame;
use guard::{AttemptError, Guard};
use image_ops::Grey;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The decoders the scanner can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoder {
    /// rxing (Rust port of ZXing, with its port of zxing-cpp's QR detector)
    /// over ZXing's hybrid (local block) binariser.
    RxingHybrid,
    /// rxing over ZXing's global histogram binariser: better on small or
    /// low-contrast codes where the local blocks are too coarse.
    RxingGlobal,
    /// rxing's finder patterns, then our own sampling on a module grid
    /// fitted to the picture, thresholded against glare ([`mesh`]); rxing
    /// decodes the modules. For curved, crumpled and glared labels
    /// (versions 1-6).
    MeshGrid,
    /// rqrr (Rust port of quirc): strongest on steep tilt.
    Rqrr,
}

/// What is done to the grey picture before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prep {
    None,
    /// Box-filter downscale by 2.
    Half,
    /// Box-filter downscale by 4 (large, noisy photos).
    Quarter,
    /// Bilinear upscale by 2 (small codes).
    Double,
    /// Percentile contrast stretch (faded print, glare).
    Stretch,
    /// Unsharp mask (soft focus).
    Sharpen,
    /// Local-mean threshold (uneven light on curved or shadowed tags).
    LocalThreshold,
    /// A quarter turn.
    Rotate90,
}

/// One attempt: a decoder on a pre-processed picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Strategy {
    pub decoder: Decoder,
    pub prep: Prep,
}

const fn s(decoder: Decoder, prep: Prep) -> Strategy {
    Strategy { decoder, prep }
}

impl Strategy {
    /// The cascade for still photos and for live frames that pass the
    /// pre-check. Order = measured decodes gained per millisecond on the
    /// ZXing sets (see README "Decoder strategy").
    pub const STILL: &'static [Strategy] = &[
        // 131 of 145 ZXing photos alone.
        s(Decoder::RxingHybrid, Prep::None),
        // +3 there (faded, low-contrast codes in qrcode-4).
        s(Decoder::RxingGlobal, Prep::Sharpen),
        // +1 there (a large noisy photo), the outer of two nested codes, and
        // the only strategy family that reads a tag at dusk with sensor
        // noise (averaging 2x2 pixels halves the noise).
        s(Decoder::RxingHybrid, Prep::Half),
        // +8 there (the curved and crumpled labels of qrcode-4), and the
        // only step that reads our tag wrapped round a bar of radius
        // 0.39-0.41 tag widths or under a highlight of radius 0.25-0.31 tag
        // widths. Before rqrr: the labels it reads then skip rqrr, which
        // made the cascade's p95 on the ZXing photos lower, not higher.
        s(Decoder::MeshGrid, Prep::None),
        // The only decoder that reads a tag tilted steeply away (far edge at
        // 30-40 % of the near one); nothing else in the ZXing sets.
        s(Decoder::Rqrr, Prep::None),
    ];

    /// Every decoder x every pre-processing, for measuring (bench, tests).
    pub fn all() -> Vec<Strategy> {
        let decoders = [Decoder::RxingHybrid, Decoder::RxingGlobal, Decoder::MeshGrid, Decoder::Rqrr];
        let preps = [
            Prep::None,
            Prep::Half,
            Prep::Quarter,
            Prep::Double,
            Prep::Stretch,
            Prep::Sharpen,
            Prep::LocalThreshold,
            Prep::Rotate90,
        ];
        decoders.iter().flat_map(|&d| preps.iter().map(move |&p| s(d, p))).collect()
    }

    /// A stable name, recorded as the `decoder` of a [`custody_core::record::TagRead`]
    /// (with the crate versions, so a record says exactly what read it).
    pub fn name(&self) -> String {
        let d = match self.decoder {
            Decoder::RxingHybrid => "rxing-0.9/hybrid",
            Decoder::RxingGlobal => "rxing-0.9/global",
            // Our own sampler, versioned with this crate; rxing decodes.
            Decoder::MeshGrid => concat!("mesh-grid-", env!("CARGO_PKG_VERSION"), "/rxing-0.9"),
            Decoder::Rqrr => "rqrr-0.11",
        };
        let p = match self.prep {
            Prep::None => "",
            Prep::Half => "+half",
            Prep::Quarter => "+quarter",
            Prep::Double => "+double",
            Prep::Stretch => "+stretch",
            Prep::Sharpen => "+sharpen",
            Prep::LocalThreshold => "+localthr",
            Prep::Rotate90 => "+rot90",
        };
        format!("{d}{p}")
    }
}

/// One decoded QR code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decoded {
    /// The text the code carries.
    pub text: String,
    /// Which attempt read it.
    pub strategy: Strategy,
}

/// Something that went wrong in an attempt without stopping the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub strategy: Strategy,
    pub error: AttemptError,
}

/// Everything one scan of one frame found out.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    /// Distinct codes read (usually zero or one).
    pub codes: Vec<Decoded>,
    /// Live mode only: the pre-check saw no finder patterns, so no decoder ran.
    pub skipped_by_precheck: bool,
    pub attempts: u32,
    /// Panics, time-outs: kept for diagnosis, never fatal.
    pub incidents: Vec<Incident>,
    /// The time budget ran out before every strategy was tried.
    pub budget_exhausted: bool,
    pub elapsed: Duration,
}

/// How a frame is scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// Live camera frames: pre-check first, short budget. A miss costs
    /// little: the next frame comes 33 ms later.
    Live,
    /// A photo or an imported image: every strategy, longer budget.
    Still,
}

/// Scanner settings.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub mode: ScanMode,
    /// Wall time one frame may take, all attempts included.
    pub budget: Duration,
    pub strategies: Vec<Strategy>,
}

impl ScanConfig {
    /// For a smooth preview on a phone: 150 ms a frame at most.
    pub fn live() -> ScanConfig {
        ScanConfig {
            mode: ScanMode::Live,
            budget: Duration::from_millis(150),
            strategies: Strategy::STILL.to_vec(),
        }
    }
    /// For photos and batch checks (`tagscan`): 3 s a picture at most.
    pub fn still() -> ScanConfig {
        ScanConfig {
            mode: ScanMode::Still,
            budget: Duration::from_secs(3),
            strategies: Strategy::STILL.to_vec(),
        }
    }
    /// A single strategy with no pre-check (for measuring one decoder).
    pub fn only(strategy: Strategy, budget: Duration) -> ScanConfig {
        ScanConfig { mode: ScanMode::Still, budget, strategies: vec![strategy] }
    }
}

/// The QR scanner. Cheap to clone; clones share the guard that limits
/// abandoned decoder threads.
#[derive(Clone)]
pub struct Scanner {
    config: ScanConfig,
    guard: Guard,
}

impl Scanner {
    pub fn new(config: ScanConfig) -> Scanner {
        Scanner { config, guard: Guard::new() }
    }

    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// Scan one frame. Never panics, whatever the decoders do.
    pub fn scan(&self, frame: &Frame) -> ScanOutcome {
        self.scan_grey(frame.shared_luma(), frame.width() as usize, frame.height() as usize)
    }

    /// Scan a grey picture given as shared bytes.
    pub fn scan_grey(&self, luma: Arc<[u8]>, width: usize, height: usize) -> ScanOutcome {
        let start = Instant::now();
        let deadline = start + self.config.budget;
        let mut out = ScanOutcome {
            codes: Vec::new(),
            skipped_by_precheck: false,
            attempts: 0,
            incidents: Vec::new(),
            budget_exhausted: false,
            elapsed: Duration::ZERO,
        };
        if self.config.mode == ScanMode::Live && !precheck::precheck(&luma, width, height).maybe_code() {
            out.skipped_by_precheck = true;
            out.elapsed = start.elapsed();
            return out;
        }
        for &strategy in &self.config.strategies {
            if Instant::now() >= deadline {
                out.budget_exhausted = true;
                break;
            }
            out.attempts += 1;
            let luma = Arc::clone(&luma);
            match self.guard.run(deadline, move || attempt(strategy, &luma, width, height)) {
                Ok(texts) => {
                    for text in texts {
                        if !out.codes.iter().any(|c| c.text == text) {
                            out.codes.push(Decoded { text, strategy });
                        }
                    }
                }
                Err(error) => {
                    if error == AttemptError::TimedOut {
                        out.budget_exhausted = true;
                    }
                    out.incidents.push(Incident { strategy, error });
                }
            }
            if !out.codes.is_empty() {
                break;
            }
        }
        out.elapsed = start.elapsed();
        out
    }
}

/// Run one strategy (on the calling thread, unguarded: callers go through
/// [`Scanner`], which guards it).
pub fn attempt(strategy: Strategy, luma: &[u8], width: usize, height: usize) -> Vec<String> {
    let base = || Grey::new(width, height, luma.to_vec());
    let prepared: Grey = match strategy.prep {
        Prep::None => {
            return decode(strategy.decoder, luma, width, height);
        }
        Prep::Half => base().downscale(2),
        Prep::Quarter => base().downscale(4),
        Prep::Double => {
            // Upscaling a large picture costs a lot and helps only small codes.
            if width * height > 1_000_000 {
                return Vec::new();
            }
            base().upscale2()
        }
        Prep::Stretch => base().stretch_contrast(),
        Prep::Sharpen => base().sharpen(),
        Prep::LocalThreshold => {
            let radius = (width.min(height) / 24).max(8);
            base().local_threshold(radius, 4)
        }
        Prep::Rotate90 => base().rotate90(),
    };
    decode(strategy.decoder, &prepared.data, prepared.width, prepared.height)
}

fn decode(decoder: Decoder, luma: &[u8], width: usize, height: usize) -> Vec<String> {
    if width < 21 || height < 21 {
        return Vec::new(); // smaller than one module per pixel of a version-1 code
    }
    match decoder {
        Decoder::RxingHybrid | Decoder::RxingGlobal => {
            rxing_decode(decoder, luma, width, height).into_iter().collect()
        }
        Decoder::MeshGrid => mesh::read(luma, width, height),
        Decoder::Rqrr => rqrr_decode(luma, width, height),
    }
}

fn rxing_decode(decoder: Decoder, luma: &[u8], width: usize, height: usize) -> Option<String> {
    use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
    use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader, Reader};
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(std::collections::HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    };
    let source = Luma8LuminanceSource::new(luma.to_vec(), width as u32, height as u32).ok()?;
    let mut reader = MultiFormatReader::default();
    let result = match decoder {
        Decoder::RxingGlobal => {
            reader.decode_with_hints(&mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)), &hints)
        }
        _ => reader.decode_with_hints(&mut BinaryBitmap::new(HybridBinarizer::new(source)), &hints),
    };
    result.ok().map(|r| r.getText().to_owned())
}

fn rqrr_decode(luma: &[u8], width: usize, height: usize) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
    let mut out = Vec::new();
    for grid in img.detect_grids() {
        let mut bytes = Vec::new();
        if grid.decode_to(&mut bytes).is_ok() {
            out.push(bytes_to_text(&bytes));
        }
    }
    out
}

/// rqrr hands back raw bytes: byte segments in whatever encoding the writer
/// used (no ECI: ISO/IEC 18004 says ISO-8859-1, but most writers today put
/// UTF-8), and Kanji-mode segments as Shift_JIS. Measured on the ZXing
/// sets: without the Shift_JIS step, 16 of rqrr's reads of qrcode-2 (a
/// Japanese set) came out as mojibake. So, as ZXing guesses: UTF-8 when
/// the bytes are valid UTF-8; else Shift_JIS when they decode without error
/// and hold a double-byte character or a run of half-width katakana; else
/// Latin-1. (Our own tags are ASCII.)
fn bytes_to_text(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    let double_byte = bytes.iter().any(|&b| matches!(b, 0x81..=0x9F | 0xE0..=0xEF));
    let katakana_run = bytes.windows(2).any(|w| w.iter().all(|b| (0xA1..=0xDF).contains(b)));
    if !had_errors && (double_byte || katakana_run) {
        return text.into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_fallback_for_non_utf8_bytes() {
        assert_eq!(bytes_to_text(b"JZ1:1"), "JZ1:1");
        assert_eq!(bytes_to_text(&[0x63, 0x61, 0x66, 0xE9]), "café");
        assert_eq!(bytes_to_text("标识".as_bytes()), "标识");
        // "QRコード" in Shift_JIS.
        assert_eq!(bytes_to_text(&[0x51, 0x52, 0x83, 0x52, 0x81, 0x5B, 0x83, 0x68]), "QRコード");
        // Half-width katakana "ﾃﾞｻﾞｲﾝ" (single bytes in Shift_JIS).
        assert_eq!(bytes_to_text(&[0xC3, 0xDE, 0xBB, 0xDE, 0xB2, 0xDD]), "ﾃﾞｻﾞｲﾝ");
    }

    #[test]
    fn strategy_names_are_distinct() {
        let names: std::collections::HashSet<String> = Strategy::all().iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), Strategy::all().len());
    }

    #[test]
    fn blank_and_tiny_frames_read_nothing_without_error() {
        let scanner = Scanner::new(ScanConfig::still());
        let out = scanner.scan_grey(vec![255u8; 64 * 64].into(), 64, 64);
        assert!(out.codes.is_empty());
        assert!(out.incidents.is_empty(), "{:?}", out.incidents);
        let out = scanner.scan_grey(vec![0u8; 10 * 10].into(), 10, 10);
        assert!(out.codes.is_empty());
        let live = Scanner::new(ScanConfig::live());
        let out = live.scan_grey(vec![128u8; 640 * 480].into(), 640, 480);
        assert!(out.skipped_by_precheck && out.attempts == 0);
    }
}
