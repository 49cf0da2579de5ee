//! Where a record was made (R7–R9): location sources and the fix collector.
//!
//! Sources, one trait ([`LocationSource`]):
//! * phones: positions from Tauri's geolocation plugin, pushed in by the app
//!   ([`PlatformPosition`] through [`push_channel`]). The plugin's desktop
//!   build returns zeros; [`PlatformPosition::to_fix`] refuses 0°/0°, so a
//!   desktop build that wires it by mistake yields no fix instead of a fix
//!   in the Gulf of Guinea.
//! * desktops: an NMEA 0183 receiver on serial/USB ([`NmeaSource`] over the
//!   device file; USB receivers are CDC-ACM and need no baud setting, a real
//!   RS-232 port is set up with `stty` first).
//! * tests: recorded tracks: NMEA logs, or JSON lines of
//!   [`custody_core::place::Fix`] ([`open_track`]).
//!
//! A single fix proves little (the first fix after a cold start is often
//! hundreds of metres off; a cached "last known" position may be from
//! yesterday). The [`FixCollector`] takes several fixes over a capture
//! window, counts only those accurate enough ([`CollectPolicy`]), refuses
//! stale ones, and keeps every mock signal in the evidence (the verifier
//! flags them; hiding them would destroy evidence).

pub mod nmea;

use custody_core::place::{Fix, FixProvider, LatLon, implausible_jump};
use custody_core::policy::Policy;
use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc;

/// Why a location source failed.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error("cannot read location source {what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("track line {line}: {reason}")]
    Track { line: usize, reason: String },
    #[error("position 0°/0° is what a location stub returns, not a real fix")]
    NullIsland,
    #[error("position out of range: {0}")]
    Range(String),
}

impl LocationError {
    pub fn message_zh(&self) -> String {
        match self {
            LocationError::Io { what, source } => format!("无法读取定位来源 {what}：{source}"),
            LocationError::Track { line, reason } => format!("轨迹文件第{line}行有误：{reason}"),
            LocationError::NullIsland => "定位结果为 0°/0°：这是占位数据，不是真实定位".into(),
            LocationError::Range(s) => format!("坐标超出范围：{s}"),
        }
    }
}

/// A source of position fixes. `Ok(None)`: the source ended.
pub trait LocationSource {
    fn next_fix(&mut self) -> Result<Option<Fix>, LocationError>;
}

impl<T: LocationSource + ?Sized> LocationSource for Box<T> {
    fn next_fix(&mut self) -> Result<Option<Fix>, LocationError> {
        (**self).next_fix()
    }
}

/// A monotonic clock in milliseconds (device uptime). The app passes the
/// platform's; tests pass a recorded one.
pub type MonoClock = Box<dyn FnMut() -> u64 + Send>;

/// Fixes from NMEA lines (a receiver's device file, or a recorded log).
pub struct NmeaSource<R> {
    lines: std::io::Lines<R>,
    assembler: nmea::Assembler,
    clock: Option<MonoClock>,
    /// For logs without a clock: GNSS time of the first fix, so later fixes
    /// get monotonic readings that advance like the satellites' clock.
    first_time: Option<(i64, u64)>,
    done: bool,
}

impl<R: BufRead> NmeaSource<R> {
    /// A live receiver: each fix is stamped with `clock` when it completes.
    pub fn live(input: R, clock: MonoClock) -> NmeaSource<R> {
        NmeaSource {
            lines: input.lines(),
            assembler: nmea::Assembler::new(),
            clock: Some(clock),
            first_time: None,
            done: false,
        }
    }

    /// A recorded log: monotonic readings are derived from the GNSS time of
    /// day, starting at `start_mono_ms`.
    pub fn replay(input: R, start_mono_ms: u64) -> NmeaSource<R> {
        NmeaSource {
            lines: input.lines(),
            assembler: nmea::Assembler::new(),
            clock: None,
            first_time: Some((i64::MIN, start_mono_ms)),
            done: false,
        }
    }

    pub fn with_uere(mut self, uere_m: f64) -> NmeaSource<R> {
        self.assembler = self.assembler.with_uere(uere_m);
        self
    }

    /// Lines refused so far (bad checksum, malformed).
    pub fn refused_lines(&self) -> u32 {
        self.assembler.refused
    }

    fn stamp(&mut self, f: &nmea::NmeaFix) -> u64 {
        if let Some(clock) = self.clock.as_mut() {
            return clock();
        }
        let (t0, m0) = self.first_time.expect("replay has a start");
        let t = f.time_of_day_ms.map(i64::from).unwrap_or(0);
        if t0 == i64::MIN {
            self.first_time = Some((t, m0));
            return m0;
        }
        // Across midnight the time of day wraps.
        let dt = (t - t0).rem_euclid(86_400_000);
        m0 + dt as u64
    }
}

impl<R: BufRead> LocationSource for NmeaSource<R> {
    fn next_fix(&mut self) -> Result<Option<Fix>, LocationError> {
        while !self.done {
            let fix = match self.lines.next() {
                Some(Ok(line)) => self.assembler.push_line(&line),
                Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                    // Binary junk on the line (receiver's UBX messages): skip.
                    self.assembler.refused += 1;
                    None
                }
                Some(Err(source)) => return Err(LocationError::Io { what: "NMEA".into(), source }),
                None => {
                    self.done = true;
                    self.assembler.flush()
                }
            };
            if let Some(f) = fix {
                let mono = self.stamp(&f);
                return Ok(Some(f.to_fix(mono)));
            }
        }
        Ok(None)
    }
}

/// A recorded track of [`Fix`]es, one JSON object per line (blank lines and
/// lines starting with `#` are comments).
pub struct JsonTrack<R> {
    lines: std::io::Lines<R>,
    line_no: usize,
    /// Replay: shift every fix so the first lands at this monotonic time.
    replay_from: Option<u64>,
    shift: Option<i128>,
}

impl<R: BufRead> JsonTrack<R> {
    /// Fixes exactly as recorded (their monotonic stamps already belong to this boot).
    pub fn new(input: R) -> JsonTrack<R> {
        JsonTrack { lines: input.lines(), line_no: 0, replay_from: None, shift: None }
    }

    /// A track recorded earlier, replayed as if its first fix arrived at
    /// `start_mono_ms`: the stamps keep their spacing (so speeds and the
    /// collection window stay true) but move to this boot's clock, as the
    /// NMEA replay does with GNSS time.
    pub fn replay(input: R, start_mono_ms: u64) -> JsonTrack<R> {
        JsonTrack { lines: input.lines(), line_no: 0, replay_from: Some(start_mono_ms), shift: None }
    }
}

impl<R: BufRead> LocationSource for JsonTrack<R> {
    fn next_fix(&mut self) -> Result<Option<Fix>, LocationError> {
        for line in self.lines.by_ref() {
            self.line_no += 1;
            let line = line.map_err(|source| LocationError::Io { what: "track".into(), source })?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let mut fix: Fix = serde_json::from_str(t)
                .map_err(|e| LocationError::Track { line: self.line_no, reason: e.to_string() })?;
            if let Some(start) = self.replay_from {
                let shift = *self.shift.get_or_insert(i128::from(start) - i128::from(fix.mono_ms));
                fix.mono_ms = (i128::from(fix.mono_ms) + shift).clamp(0, i128::from(u64::MAX)) as u64;
            }
            return Ok(Some(fix));
        }
        Ok(None)
    }
}

/// Open a recorded track by extension: `.nmea`/`.log` (NMEA, monotonic
/// time from the GNSS clock starting at `start_mono_ms`) or `.jsonl`
/// (fixes replayed from `start_mono_ms`, spacing kept).
pub fn open_track(path: &Path, start_mono_ms: u64) -> Result<Box<dyn LocationSource>, LocationError> {
    let file = std::fs::File::open(path)
        .map_err(|source| LocationError::Io { what: path.display().to_string(), source })?;
    let input = std::io::BufReader::new(file);
    match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => Ok(Box::new(JsonTrack::replay(input, start_mono_ms))),
        _ => Ok(Box::new(NmeaSource::replay(input, start_mono_ms))),
    }
}

/// A position as a phone platform reports it (the fields of Tauri's
/// geolocation plugin `Position`, plus what Android/iOS add natively).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformPosition {
    pub latitude: f64,
    pub longitude: f64,
    /// Metres, the platform's 68 % radius.
    pub accuracy: f64,
    /// `gps`, `fused`, `network` (Android provider names).
    #[serde(default)]
    pub provider: Option<String>,
    /// Android `Location.isMock()` / iOS `sourceInformation.isSimulatedBySoftware`,
    /// when the app can get it; `None` when the platform did not say.
    #[serde(default)]
    pub mock: Option<bool>,
    /// GNSS UTC time of the fix (Android `Location.getTime()` for the gps
    /// provider), ms since the epoch.
    #[serde(default)]
    pub gnss_time_ms: Option<i64>,
    #[serde(default)]
    pub satellites: Option<u8>,
}

impl PlatformPosition {
    /// The evidence form, stamped with the app's monotonic clock.
    pub fn to_fix(&self, mono_ms: u64) -> Result<Fix, LocationError> {
        if self.latitude == 0.0 && self.longitude == 0.0 {
            return Err(LocationError::NullIsland);
        }
        if !self.accuracy.is_finite() || self.accuracy <= 0.0 {
            return Err(LocationError::Range(format!("accuracy {}", self.accuracy)));
        }
        let pos = LatLon::from_degrees(self.latitude, self.longitude)
            .map_err(|e| LocationError::Range(e.to_string()))?;
        let provider = match self.provider.as_deref() {
            Some("gps") => FixProvider::Gnss,
            Some("network") => FixProvider::Network,
            _ => FixProvider::Fused,
        };
        Ok(Fix {
            pos,
            accuracy_cm: (self.accuracy * 100.0).round().min(f64::from(u32::MAX)) as u32,
            provider,
            mono_ms,
            gnss_time_ms: self.gnss_time_ms,
            satellites: self.satellites,
            mock: self.mock.unwrap_or(false),
        })
    }
}

/// Fixes pushed by the app (phones: geolocation plugin callbacks).
pub struct PushedFixes {
    rx: mpsc::Receiver<Fix>,
}

/// The app's side of a pushed-location channel.
#[derive(Clone)]
pub struct FixSender {
    tx: mpsc::Sender<Fix>,
}

impl FixSender {
    /// Convert and queue one platform position. Refused positions (0°/0°,
    /// nonsense accuracy) return the error and are not queued.
    pub fn push(&self, p: &PlatformPosition, mono_ms: u64) -> Result<(), LocationError> {
        let fix = p.to_fix(mono_ms)?;
        // A closed receiver means the capture ended; late fixes are moot.
        let _ = self.tx.send(fix);
        Ok(())
    }
}

pub fn push_channel() -> (FixSender, PushedFixes) {
    let (tx, rx) = mpsc::channel();
    (FixSender { tx }, PushedFixes { rx })
}

impl LocationSource for PushedFixes {
    fn next_fix(&mut self) -> Result<Option<Fix>, LocationError> {
        Ok(self.rx.recv().ok())
    }
}

/// What the collector requires of the fixes of one capture.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectPolicy {
    /// How long to collect, from the start of the capture (monotonic ms).
    pub window_ms: u64,
    /// Fixes at least this accurate are needed …
    pub max_accuracy_m: f64,
    /// … this many of them.
    pub min_fixes: usize,
    /// Speed between consecutive counted fixes above which the track is
    /// implausible (a mocked location jumping).
    pub max_speed_mps: f64,
}

impl CollectPolicy {
    /// From the custody policy: same accuracy and speed limits the verifier
    /// applies (so the app never records a fix the server would discount),
    /// 3 fixes within 15 s (phones deliver about one a second once locked;
    /// three agreeing fixes rule out the first-fix outlier).
    pub fn from_policy(policy: &Policy) -> CollectPolicy {
        CollectPolicy {
            window_ms: 15_000,
            max_accuracy_m: policy.max_fix_accuracy_m,
            min_fixes: 3,
            max_speed_mps: policy.max_plausible_speed_mps,
        }
    }
}

/// Why a fix was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCounted {
    /// Less accurate than the policy requires.
    Inaccurate,
    /// Taken before the capture started (a cached "last known" position).
    Stale,
    /// After the window closed.
    Late,
}

/// The collector's view of one offered fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Counted,
    NotCounted(NotCounted),
}

/// Collects the fixes of one capture.
#[derive(Debug, Clone)]
pub struct FixCollector {
    policy: CollectPolicy,
    start_mono_ms: u64,
    counted: Vec<Fix>,
    /// Mock-flagged fixes that were not counted: kept as evidence.
    mock_kept: Vec<Fix>,
    not_counted: Vec<NotCounted>,
}

/// The fixes of one capture, ready for the record's evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    /// Every counted fix, plus every mock-flagged fix (counted or not), in
    /// time order: the evidence list.
    pub fixes: Vec<Fix>,
    /// The best fix (custody-core's rule: most accurate non-mock one).
    pub best: Fix,
    pub mock_seen: bool,
    /// Speed of the largest implausible jump between fixes, if any.
    pub jump_mps: Option<f64>,
}

/// Why a capture has no usable location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CollectError {
    #[error("only {got} of {need} fixes were accurate to {max_accuracy_m} m within the capture window")]
    TooFew { got: usize, need: usize, max_accuracy_m: f64, not_counted: usize },
}

impl CollectError {
    pub fn message_zh(&self) -> String {
        match self {
            CollectError::TooFew { got, need, max_accuracy_m, .. } => format!(
                "定位不足：采集时间内精度优于{max_accuracy_m}米的定位只有{got}次，需要{need}次。请到室外开阔处重试"
            ),
        }
    }
}

impl FixCollector {
    pub fn new(policy: CollectPolicy, start_mono_ms: u64) -> FixCollector {
        FixCollector {
            policy,
            start_mono_ms,
            counted: Vec::new(),
            mock_kept: Vec::new(),
            not_counted: Vec::new(),
        }
    }

    pub fn offer(&mut self, fix: Fix) -> Offer {
        let reason = if fix.mono_ms < self.start_mono_ms {
            Some(NotCounted::Stale)
        } else if fix.mono_ms > self.start_mono_ms + self.policy.window_ms {
            Some(NotCounted::Late)
        } else if fix.accuracy_m() > self.policy.max_accuracy_m {
            Some(NotCounted::Inaccurate)
        } else {
            None
        };
        match reason {
            None => {
                self.counted.push(fix);
                Offer::Counted
            }
            Some(r) => {
                if fix.mock {
                    self.mock_kept.push(fix);
                }
                self.not_counted.push(r);
                Offer::NotCounted(r)
            }
        }
    }

    /// Enough fixes counted (the app may stop early).
    pub fn is_satisfied(&self) -> bool {
        self.counted.len() >= self.policy.min_fixes
    }

    /// Whether a fix at `mono_ms` would be past the window.
    pub fn window_closed(&self, mono_ms: u64) -> bool {
        mono_ms > self.start_mono_ms + self.policy.window_ms
    }

    pub fn counted(&self) -> &[Fix] {
        &self.counted
    }

    pub fn finish(self) -> Result<Collected, CollectError> {
        if self.counted.len() < self.policy.min_fixes.max(1) {
            return Err(CollectError::TooFew {
                got: self.counted.len(),
                need: self.policy.min_fixes.max(1),
                max_accuracy_m: self.policy.max_accuracy_m,
                not_counted: self.not_counted.len(),
            });
        }
        let mut fixes = self.counted.clone();
        fixes.extend(self.mock_kept);
        fixes.sort_by_key(|f| f.mono_ms);
        let best = custody_core::place::best_fix(&self.counted).expect("at least min_fixes >= 1").clone();
        let mut track = self.counted;
        track.sort_by_key(|f| f.mono_ms);
        Ok(Collected {
            mock_seen: fixes.iter().any(|f| f.mock),
            jump_mps: implausible_jump(&track, self.policy.max_speed_mps),
            best,
            fixes,
        })
    }
}

/// Read from `source` until the window is over (judged by the fixes' own
/// monotonic stamps), the source ends, or enough fixes are counted and
/// `stop_when_satisfied` is set.
pub fn collect(
    source: &mut dyn LocationSource,
    policy: CollectPolicy,
    start_mono_ms: u64,
    stop_when_satisfied: bool,
) -> Result<Result<Collected, CollectError>, LocationError> {
    let mut c = FixCollector::new(policy, start_mono_ms);
    while let Some(fix) = source.next_fix()? {
        let closed = c.window_closed(fix.mono_ms);
        c.offer(fix);
        if closed || (stop_when_satisfied && c.is_satisfied()) {
            break;
        }
    }
    Ok(c.finish())
}
