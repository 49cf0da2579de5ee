//! NMEA 0183 from GNSS receivers (serial/USB on lab and site desktops, and
//! recorded logs for tests).
//!
//! Sentences read: GGA (position, fix quality, satellites, HDOP), RMC
//! (position, date, mode), GSA (fix type, HDOP), GST (error ellipse → the
//! accuracy), ZDA (date and time). Any talker (GP, GL, GA, GB/BD for BeiDou,
//! GN for combined). A sentence with a missing or wrong checksum is refused:
//! a serial line can garble bytes, and a garbled digit in a position is
//! worse than no position.
//!
//! **Accuracy.** From GST when the receiver sends it: the root of the sum of
//! the latitude and longitude error variances (1 DRMS, a 63–68 % radius,
//! matching what Android reports). Otherwise estimated as HDOP × UERE, with
//! UERE (user equivalent range error) [`DEFAULT_UERE_M`] for a single-
//! frequency autonomous receiver; the fix then says the accuracy is an
//! estimate. **Mock signals.** GGA quality 7 (manual input) or 8
//! (simulation), and RMC mode `M`/`S`, mark the fix as not from satellites:
//! it is flagged `mock`, never silently dropped.

use custody_core::place::{Fix, FixProvider, LatLon};

/// UERE of a consumer single-frequency receiver, metres (typical published
/// figure 4–6 m; the middle is taken).
pub const DEFAULT_UERE_M: f64 = 5.0;

/// Why a line is not a sentence we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NmeaError {
    #[error("not an NMEA sentence")]
    NotNmea,
    #[error("checksum missing")]
    NoChecksum,
    #[error("checksum wrong: sentence says {stated:02X}, content gives {computed:02X}")]
    Checksum { stated: u8, computed: u8 },
    #[error("malformed {sentence} field {field}: {value:?}")]
    Field { sentence: String, field: &'static str, value: String },
}

/// One parsed sentence (only the fields the pipeline uses).
#[derive(Debug, Clone, PartialEq)]
pub enum Sentence {
    Gga {
        time_ms: Option<u32>,
        pos: Option<LatLon>,
        quality: u8,
        satellites: Option<u8>,
        hdop: Option<f64>,
    },
    Rmc {
        time_ms: Option<u32>,
        valid: bool,
        pos: Option<LatLon>,
        date: Option<(i32, u32, u32)>,
        mode: Option<char>,
    },
    Gsa {
        fix_type: u8,
        hdop: Option<f64>,
    },
    Gst {
        time_ms: Option<u32>,
        lat_sigma_m: Option<f64>,
        lon_sigma_m: Option<f64>,
    },
    Zda {
        time_ms: Option<u32>,
        date: Option<(i32, u32, u32)>,
    },
    /// A valid sentence of a type we do not use (GSV, VTG, TXT …).
    Other,
}

/// Parse one line (`$GNGGA,…*hh`, optional CR/LF).
pub fn parse_sentence(line: &str) -> Result<Sentence, NmeaError> {
    let line = line.trim_end_matches(['\r', '\n']).trim_start();
    let body = line.strip_prefix('$').or_else(|| line.strip_prefix('!')).ok_or(NmeaError::NotNmea)?;
    let (content, checksum) = body.rsplit_once('*').ok_or(NmeaError::NoChecksum)?;
    let stated = u8::from_str_radix(checksum.trim(), 16).map_err(|_| NmeaError::NoChecksum)?;
    let computed = content.bytes().fold(0u8, |a, b| a ^ b);
    if stated != computed {
        return Err(NmeaError::Checksum { stated, computed });
    }
    let fields: Vec<&str> = content.split(',').collect();
    let kind = fields[0];
    if kind.len() < 5 || !kind.is_ascii() {
        return Err(NmeaError::NotNmea);
    }
    let name = &kind[kind.len() - 3..];
    let f = |i: usize| fields.get(i).copied().unwrap_or("");
    let err = |field: &'static str, value: &str| NmeaError::Field {
        sentence: kind.to_owned(),
        field,
        value: value.to_owned(),
    };
    Ok(match name {
        "GGA" => Sentence::Gga {
            time_ms: parse_time(f(1)).map_err(|_| err("time", f(1)))?,
            pos: parse_position(f(2), f(3), f(4), f(5)).map_err(|_| err("position", f(2)))?,
            quality: opt_num::<u8>(f(6)).map_err(|_| err("quality", f(6)))?.unwrap_or(0),
            satellites: opt_num::<u8>(f(7)).map_err(|_| err("satellites", f(7)))?,
            hdop: opt_num::<f64>(f(8)).map_err(|_| err("hdop", f(8)))?,
        },
        "RMC" => Sentence::Rmc {
            time_ms: parse_time(f(1)).map_err(|_| err("time", f(1)))?,
            valid: f(2) == "A",
            pos: parse_position(f(3), f(4), f(5), f(6)).map_err(|_| err("position", f(3)))?,
            date: parse_ddmmyy(f(9)).map_err(|_| err("date", f(9)))?,
            mode: f(12).chars().next(),
        },
        "GSA" => Sentence::Gsa {
            fix_type: opt_num::<u8>(f(2)).map_err(|_| err("fix type", f(2)))?.unwrap_or(1),
            hdop: opt_num::<f64>(f(16)).map_err(|_| err("hdop", f(16)))?,
        },
        "GST" => Sentence::Gst {
            time_ms: parse_time(f(1)).map_err(|_| err("time", f(1)))?,
            lat_sigma_m: opt_num::<f64>(f(6)).map_err(|_| err("lat sigma", f(6)))?,
            lon_sigma_m: opt_num::<f64>(f(7)).map_err(|_| err("lon sigma", f(7)))?,
        },
        "ZDA" => {
            let date = match (opt_num::<u32>(f(2)), opt_num::<u32>(f(3)), opt_num::<i32>(f(4))) {
                (Ok(Some(d)), Ok(Some(m)), Ok(Some(y))) if valid_date(y, m, d) => Some((y, m, d)),
                (Ok(None), Ok(None), Ok(None)) => None,
                _ => return Err(err("date", f(2))),
            };
            Sentence::Zda { time_ms: parse_time(f(1)).map_err(|_| err("time", f(1)))?, date }
        }
        _ => Sentence::Other,
    })
}

fn opt_num<T: std::str::FromStr>(s: &str) -> Result<Option<T>, ()> {
    if s.is_empty() { Ok(None) } else { s.parse().map(Some).map_err(|_| ()) }
}

/// `hhmmss.sss` → milliseconds since midnight UTC.
fn parse_time(s: &str) -> Result<Option<u32>, ()> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() < 6 || !s[..6].bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let h: u32 = s[0..2].parse().map_err(|_| ())?;
    let m: u32 = s[2..4].parse().map_err(|_| ())?;
    let sec: f64 = s[4..].parse().map_err(|_| ())?;
    if h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
        return Err(());
    }
    Ok(Some(h * 3_600_000 + m * 60_000 + (sec * 1000.0).round() as u32))
}

/// `ddmmyy` → (year, month, day); two-digit years are 2000–2099 (the
/// receivers this app meets were all made after 2000).
fn parse_ddmmyy(s: &str) -> Result<Option<(i32, u32, u32)>, ()> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let d: u32 = s[0..2].parse().map_err(|_| ())?;
    let m: u32 = s[2..4].parse().map_err(|_| ())?;
    let y: i32 = 2000 + s[4..6].parse::<i32>().map_err(|_| ())?;
    if !valid_date(y, m, d) {
        return Err(());
    }
    Ok(Some((y, m, d)))
}

fn valid_date(y: i32, m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m) && (1980..=2200).contains(&y)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `ddmm.mmmm,N,dddmm.mmmm,E` → WGS-84 position.
fn parse_position(lat: &str, ns: &str, lon: &str, ew: &str) -> Result<Option<LatLon>, ()> {
    if lat.is_empty() && lon.is_empty() {
        return Ok(None);
    }
    let deg_min = |s: &str, deg_digits: usize| -> Result<f64, ()> {
        let dot = s.find('.').unwrap_or(s.len());
        if dot != deg_digits + 2 || !s[..dot].bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let deg: f64 = s[..deg_digits].parse().map_err(|_| ())?;
        let min: f64 = s[deg_digits..].parse().map_err(|_| ())?;
        if min >= 60.0 {
            return Err(());
        }
        Ok(deg + min / 60.0)
    };
    let mut la = deg_min(lat, 2)?;
    let mut lo = deg_min(lon, 3)?;
    match ns {
        "N" => {}
        "S" => la = -la,
        _ => return Err(()),
    }
    match ew {
        "E" => {}
        "W" => lo = -lo,
        _ => return Err(()),
    }
    LatLon::from_degrees(la, lo).map(Some).map_err(|_| ())
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    custody_core::calendar::days_from_civil(i64::from(y), i64::from(m), i64::from(d))
}

/// How the accuracy of an NMEA fix was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccuracyBasis {
    /// From the receiver's GST error estimate.
    Gst,
    /// Estimated from HDOP x UERE.
    Hdop,
}

/// A position assembled from the sentences of one epoch (one UTC second or
/// fraction), with everything the evidence needs.
#[derive(Debug, Clone, PartialEq)]
pub struct NmeaFix {
    pub pos: LatLon,
    pub accuracy_cm: u32,
    pub accuracy_basis: AccuracyBasis,
    /// UTC from the satellites, ms since the epoch (needs a date from RMC or
    /// ZDA; until one is seen only the time of day is known).
    pub gnss_time_ms: Option<i64>,
    pub time_of_day_ms: Option<u32>,
    pub satellites: Option<u8>,
    /// GGA quality 7/8 or RMC mode M/S: not a satellite fix.
    pub simulated: bool,
}

impl NmeaFix {
    /// The evidence form, stamped with the monotonic clock of the device when
    /// the fix arrived.
    pub fn to_fix(&self, mono_ms: u64) -> Fix {
        Fix {
            pos: self.pos,
            accuracy_cm: self.accuracy_cm,
            provider: FixProvider::Nmea,
            mono_ms,
            gnss_time_ms: self.gnss_time_ms,
            satellites: self.satellites,
            mock: self.simulated,
        }
    }
}

/// Assembles fixes from a stream of sentences. Feed lines in order; a fix is
/// emitted when an epoch is complete (the next epoch's time is seen, or
/// [`Assembler::flush`] at the end of the stream).
#[derive(Debug, Default)]
pub struct Assembler {
    uere_m: Option<f64>,
    date: Option<(i32, u32, u32)>,
    epoch: Epoch,
    /// Lines refused (bad checksum, malformed), for diagnosis.
    pub refused: u32,
}

#[derive(Debug, Default, Clone)]
struct Epoch {
    time_ms: Option<u32>,
    pos: Option<LatLon>,
    quality: Option<u8>,
    rmc_valid: Option<bool>,
    rmc_mode: Option<char>,
    satellites: Option<u8>,
    hdop: Option<f64>,
    fix_type: Option<u8>,
    sigma_m: Option<f64>,
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// Use a different UERE for HDOP-derived accuracy (a dual-frequency or
    /// SBAS-corrected receiver is better than the default assumes).
    pub fn with_uere(mut self, uere_m: f64) -> Assembler {
        self.uere_m = Some(uere_m);
        self
    }

    /// Feed one line; returns a fix when the previous epoch just completed.
    pub fn push_line(&mut self, line: &str) -> Option<NmeaFix> {
        if line.trim().is_empty() {
            return None;
        }
        match parse_sentence(line) {
            Ok(s) => self.push(s),
            Err(_) => {
                self.refused += 1;
                None
            }
        }
    }

    pub fn push(&mut self, s: Sentence) -> Option<NmeaFix> {
        let time = match &s {
            Sentence::Gga { time_ms, .. }
            | Sentence::Rmc { time_ms, .. }
            | Sentence::Gst { time_ms, .. }
            | Sentence::Zda { time_ms, .. } => *time_ms,
            _ => None,
        };
        let mut emitted = None;
        if let Some(t) = time
            && self.epoch.time_ms.is_some_and(|cur| cur != t)
        {
            emitted = self.flush();
        }
        if time.is_some() {
            self.epoch.time_ms = time;
        }
        let e = &mut self.epoch;
        match s {
            Sentence::Gga { pos, quality, satellites, hdop, .. } => {
                e.pos = pos.or(e.pos);
                e.quality = Some(quality);
                e.satellites = satellites.or(e.satellites);
                e.hdop = hdop.or(e.hdop);
            }
            Sentence::Rmc { valid, pos, date, mode, .. } => {
                e.rmc_valid = Some(valid);
                e.pos = e.pos.or(pos);
                e.rmc_mode = mode;
                if date.is_some() {
                    self.date = date;
                }
            }
            Sentence::Gsa { fix_type, hdop } => {
                e.fix_type = Some(fix_type);
                e.hdop = e.hdop.or(hdop);
            }
            Sentence::Gst { lat_sigma_m, lon_sigma_m, .. } => {
                if let (Some(a), Some(b)) = (lat_sigma_m, lon_sigma_m) {
                    e.sigma_m = Some((a * a + b * b).sqrt());
                }
            }
            Sentence::Zda { date, .. } => {
                if date.is_some() {
                    self.date = date;
                }
            }
            Sentence::Other => {}
        }
        emitted
    }

    /// Complete the current epoch (call at the end of a stream).
    pub fn flush(&mut self) -> Option<NmeaFix> {
        let e = std::mem::take(&mut self.epoch);
        let pos = e.pos?;
        let simulated = matches!(e.quality, Some(7 | 8)) || matches!(e.rmc_mode, Some('M' | 'S'));
        // No fix: quality 0 / RMC void / GSA "no fix" / RMC mode N.
        // Quality 6 and mode E are dead reckoning, not a position measured now.
        let no_fix = matches!(e.quality, Some(0 | 6))
            || e.rmc_valid == Some(false) && !simulated
            || e.fix_type == Some(1)
            || matches!(e.rmc_mode, Some('N' | 'E'));
        if no_fix {
            return None;
        }
        let (accuracy_m, basis) = match (e.sigma_m, e.hdop) {
            (Some(s), _) => (s, AccuracyBasis::Gst),
            (None, Some(h)) => (h * self.uere_m.unwrap_or(DEFAULT_UERE_M), AccuracyBasis::Hdop),
            // Neither: unknown accuracy. Refuse rather than invent one.
            (None, None) => return None,
        };
        let gnss_time_ms = match (self.date, e.time_ms) {
            (Some((y, m, d)), Some(t)) => Some(days_from_civil(y, m, d) * 86_400_000 + i64::from(t)),
            _ => None,
        };
        Some(NmeaFix {
            pos,
            accuracy_cm: (accuracy_m * 100.0).round().clamp(1.0, f64::from(u32::MAX)) as u32,
            accuracy_basis: basis,
            gnss_time_ms,
            time_of_day_ms: e.time_ms,
            satellites: e.satellites,
            simulated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a sentence with its correct checksum.
    pub fn sentence(content: &str) -> String {
        let cs = content.bytes().fold(0u8, |a, b| a ^ b);
        format!("${content}*{cs:02X}")
    }

    #[test]
    fn known_sentence_parses_with_its_checksum() {
        // The classic example from the NMEA literature (checksum 47).
        let gga = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47";
        match parse_sentence(gga).unwrap() {
            Sentence::Gga { time_ms, pos, quality, satellites, hdop } => {
                assert_eq!(time_ms, Some(12 * 3_600_000 + 35 * 60_000 + 19_000));
                let p = pos.unwrap();
                assert!((p.lat() - 48.1173).abs() < 1e-6 && (p.lon() - 11.516_666_7).abs() < 1e-6);
                assert_eq!((quality, satellites, hdop), (1, Some(8), Some(0.9)));
            }
            other => panic!("{other:?}"),
        }
        let broken = gga.replace("4807.038", "4807.039");
        assert!(matches!(parse_sentence(&broken), Err(NmeaError::Checksum { .. })));
        assert_eq!(parse_sentence("$GPGGA,123519,4807.038,N"), Err(NmeaError::NoChecksum));
        assert_eq!(parse_sentence("hello"), Err(NmeaError::NotNmea));
    }

    #[test]
    fn epoch_with_gst_gives_gst_accuracy_and_utc() {
        let mut a = Assembler::new();
        let lines = [
            sentence("GNRMC,020304.00,A,4040.1234,N,12214.5678,E,0.1,,241125,,,A,V"),
            sentence("GNGGA,020304.00,4040.1234,N,12214.5678,E,1,12,0.8,10.0,M,5.0,M,,"),
            sentence("GNGSA,A,3,01,02,03,04,,,,,,,,,1.5,0.8,1.2,1"),
            sentence("GNGST,020304.00,2.0,1.5,1.0,30.0,1.2,1.6,2.5"),
            sentence("GNGGA,020305.00,4040.1240,N,12214.5680,E,1,12,0.8,10.0,M,5.0,M,,"),
        ];
        let mut out = Vec::new();
        for l in &lines {
            out.extend(a.push_line(l));
        }
        assert_eq!(out.len(), 1);
        let f = &out[0];
        assert_eq!(f.accuracy_basis, AccuracyBasis::Gst);
        assert_eq!(f.accuracy_cm, 200); // sqrt(1.2^2 + 1.6^2) = 2.0 m
        let expect = days_from_civil(2025, 11, 24) * 86_400_000 + (2 * 3600 + 3 * 60 + 4) * 1000;
        assert_eq!(f.gnss_time_ms, Some(expect));
        assert_eq!(f.satellites, Some(12));
        assert!(!f.simulated);
        // The second epoch has no GST: HDOP x UERE.
        let g = a.flush().unwrap();
        assert_eq!((g.accuracy_basis, g.accuracy_cm), (AccuracyBasis::Hdop, 400));
    }

    #[test]
    fn simulator_and_manual_modes_are_flagged_not_dropped() {
        let mut a = Assembler::new();
        a.push_line(&sentence("GPGGA,010101,4040.0000,N,12214.0000,E,8,05,1.0,0,M,0,M,,"));
        let f = a.flush().unwrap();
        assert!(f.simulated);
        a.push_line(&sentence("GPRMC,010102,A,4040.0000,N,12214.0000,E,0,0,010126,,,S"));
        a.push_line(&sentence("GPGSA,A,3,01,02,03,,,,,,,,,,2.0,1.0,1.5"));
        assert!(a.flush().unwrap().simulated);
    }

    #[test]
    fn no_fix_and_dead_reckoning_yield_nothing() {
        let mut a = Assembler::new();
        a.push_line(&sentence("GPGGA,010101,4040.0000,N,12214.0000,E,0,00,99.9,0,M,0,M,,"));
        assert!(a.flush().is_none());
        a.push_line(&sentence("GPGGA,010101,4040.0000,N,12214.0000,E,6,00,1.0,0,M,0,M,,"));
        assert!(a.flush().is_none());
        a.push_line(&sentence("GPGGA,010101,,,,,0,00,,,M,,M,,"));
        assert!(a.flush().is_none());
        a.push_line("$GPGGA,garbled*00");
        assert_eq!(a.refused, 1);
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }
}
