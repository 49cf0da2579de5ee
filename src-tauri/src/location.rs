//! Where the device is (R7-R9): several fixes over the capture window through
//! the capture pipeline's collector, from the configured source — a recorded
//! track (tests, rehearsals), a serial NMEA receiver (desktop), or the phone's
//! location service (mobile plugin) — and where the best one lies against the
//! unit project's site.

use crate::config::LocationSource;
use capture::gps::{CollectPolicy, Collected};
use custody_core::place::{Containment, Fix};
use custody_core::protocol::DeviceProfile;
use serde::Serialize;

/// Where fixes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum LocationSourceKind {
    None,
    Track,
    Nmea,
    Platform,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LocationInfo {
    pub source: LocationSourceKind,
    pub detail: String,
}

/// Where the best fix lies against the unit project's site, its accuracy considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SiteVerdict {
    Inside,
    Outside,
    Uncertain,
}

/// The fixes collected over the capture window (the screens call it `Collected`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CollectedView {
    pub fixes: Vec<Fix>,
    pub best: Option<Fix>,
    pub accuracy_m: Option<f64>,
    pub mock_seen: bool,
    /// Where the best fix lies against the unit project's site, if one was given.
    pub site: Option<SiteVerdict>,
    pub message_zh: String,
    pub message_en: String,
}

pub fn info(source: &LocationSource) -> LocationInfo {
    match source {
        LocationSource::None => {
            LocationInfo { source: LocationSourceKind::None, detail: "no location source configured".into() }
        }
        LocationSource::Track(p) => LocationInfo {
            source: LocationSourceKind::Track,
            detail: format!("recorded track {}", p.display()),
        },
        LocationSource::Nmea(p) => LocationInfo {
            source: LocationSourceKind::Nmea,
            detail: format!("NMEA receiver on {}", p.display()),
        },
        LocationSource::Platform => LocationInfo {
            source: LocationSourceKind::Platform,
            detail: "the phone's location service".into(),
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocationFailure {
    #[error("{en}")]
    Failed { zh: String, en: String },
}

impl LocationFailure {
    pub fn zh(&self) -> &str {
        match self {
            LocationFailure::Failed { zh, .. } => zh,
        }
    }
}

fn failed(zh: impl Into<String>, en: impl Into<String>) -> LocationFailure {
    LocationFailure::Failed { zh: zh.into(), en: en.into() }
}

/// Collect fixes from a file-like source (track or NMEA device), blocking.
pub fn collect_blocking(
    source: &LocationSource,
    profile: &DeviceProfile,
    start_mono: u64,
    mono_now: impl FnMut() -> u64 + Send + 'static,
) -> Result<Collected, LocationFailure> {
    let policy = CollectPolicy::from_policy(&profile.policy);
    let mut src: Box<dyn capture::gps::LocationSource> = match source {
        LocationSource::Track(p) => {
            capture::gps::open_track(p, start_mono).map_err(|e| failed(e.message_zh(), e.to_string()))?
        }
        LocationSource::Nmea(p) => {
            let f = std::fs::File::open(p)
                .map_err(|e| failed(format!("无法打开卫星定位接收机 {}", p.display()), e.to_string()))?;
            Box::new(capture::gps::NmeaSource::live(std::io::BufReader::new(f), Box::new(mono_now)))
        }
        LocationSource::None => {
            return Err(failed(
                "没有定位来源：请在手机上使用，或连接卫星定位接收机（NMEA）",
                "no location source: use a phone, or connect a GNSS receiver (NMEA)",
            ));
        }
        // Phones go through `collect_platform`; reaching here means a desktop
        // build was configured for a phone's location service.
        LocationSource::Platform => {
            return Err(failed("本设备没有定位服务", "this device has no location service"));
        }
    };
    match capture::gps::collect(src.as_mut(), policy, start_mono, true) {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(failed(e.message_zh(), e.to_string())),
        Err(e) => Err(failed(e.message_zh(), e.to_string())),
    }
}

/// What the person sees about the fixes, and where they are against the site.
pub fn view(c: Collected, profile: &DeviceProfile, unit_project: Option<&str>) -> CollectedView {
    let best = Some(c.best.clone());
    let site = match (unit_project, &best) {
        (Some(u), Some(b)) => {
            profile.projects.iter().flat_map(|p| p.unit_projects.iter()).find(|x| x.id.as_str() == u).map(
                |x| match x.boundary.locate(b, profile.policy.accuracy_sigma) {
                    Containment::Inside { .. } => SiteVerdict::Inside,
                    Containment::Outside { .. } => SiteVerdict::Outside,
                    Containment::Uncertain { .. } => SiteVerdict::Uncertain,
                },
            )
        }
        _ => None,
    };
    let acc = best.as_ref().map(Fix::accuracy_m);
    let (zh, en) = match (site, acc) {
        (Some(SiteVerdict::Outside), Some(a)) => {
            (format!("定位在现场范围外（精度 ±{a:.0} 米）"), format!("outside the site (±{a:.0} m)"))
        }
        (Some(SiteVerdict::Uncertain), Some(a)) => {
            (format!("定位在现场边界附近（精度 ±{a:.0} 米）"), format!("near the site edge (±{a:.0} m)"))
        }
        (_, Some(a)) => (format!("已定位，精度 ±{a:.0} 米"), format!("located, ±{a:.0} m")),
        _ => ("未定位".into(), "no fix".into()),
    };
    CollectedView {
        fixes: c.fixes,
        best,
        accuracy_m: acc,
        mock_seen: c.mock_seen,
        site,
        message_zh: zh,
        message_en: en,
    }
}

/// Phones: the OS location service (Tauri's geolocation plugin) watched for
/// the collection window, each position pushed into the capture pipeline's
/// collector, the same one a recorded track or an NMEA receiver feeds.
#[cfg(mobile)]
pub fn collect_platform<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    profile: &DeviceProfile,
    start_mono: u64,
    mono_now: impl Fn() -> u64 + Send + Sync + 'static,
) -> Result<Collected, LocationFailure> {
    use std::sync::{Arc, Mutex};
    use tauri_plugin_geolocation::{GeolocationExt, PositionOptions, WatchEvent};
    let policy = CollectPolicy::from_policy(&profile.policy);
    let (sender, mut pushed) = capture::gps::push_channel();
    // Dropping the sender ends the source: the collector then decides with what it has.
    let sender = Arc::new(Mutex::new(Some(sender)));
    let in_callback = sender.clone();
    let options = PositionOptions { enable_high_accuracy: true, timeout: 10_000, maximum_age: 0 };
    let watch = app
        .geolocation()
        .watch_position(options, move |event| {
            if let WatchEvent::Position(p) = event {
                let position = capture::gps::PlatformPosition {
                    latitude: p.coords.latitude,
                    longitude: p.coords.longitude,
                    accuracy: p.coords.accuracy,
                    provider: None,
                    mock: None,
                    gnss_time_ms: None,
                    satellites: None,
                };
                if let Some(s) = in_callback.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    // A refused position (0°/0°, a stub) is simply not counted.
                    let _ = s.push(&position, mono_now());
                }
            }
        })
        .map_err(|e| failed("无法启动定位，请允许本应用使用位置信息", e.to_string()))?;
    let window = std::time::Duration::from_millis(policy.window_ms + 1_000);
    let closer = sender.clone();
    std::thread::spawn(move || {
        std::thread::sleep(window);
        closer.lock().unwrap_or_else(|e| e.into_inner()).take();
    });
    let result = capture::gps::collect(&mut pushed, policy, start_mono, true);
    sender.lock().unwrap_or_else(|e| e.into_inner()).take();
    let _ = app.geolocation().clear_watch(watch);
    match result {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(failed(e.message_zh(), e.to_string())),
        Err(e) => Err(failed(e.message_zh(), e.to_string())),
    }
}
