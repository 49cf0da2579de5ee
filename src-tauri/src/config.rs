//! Where the app keeps its data and where its sensors come from. Defaults
//! suit a phone or a desktop; tests, rehearsals and lab workstations set
//! them by argument or environment:
//!
//! | argument | environment | meaning |
//! |---|---|---|
//! | `--data-dir DIR` | `JZQY_DATA_DIR` | the engine's data (default: the OS app-data folder) |
//! | `--secrets-dir DIR` | `JZQY_SECRETS_DIR` | device keys, outside the data folder |
//! | `--camera files:DIR` | `JZQY_CAMERA` | frames from image files (tests, rehearsals); `webview` (default) or `device[:N]` (a USB camera, with the `camera-nokhwa` build) |
//! | `--location track:FILE` | `JZQY_LOCATION` | a recorded track (NMEA log or JSON lines), `nmea:/dev/ttyUSB0` for a serial GNSS receiver |
//! | `--enroll-file FILE` | `JZQY_ENROLL_FILE` | enroll at first start with the QR text in FILE (demo, rehearsals) |
//! | `--models DIR` | `CAPTURE_MODELS` | face models (default: bundled, or `.models`) |
//! | `--mock-camera` | `JZQY_MOCK_CAMERA=1` | WebKitGTK's fake camera for the webview (tests) |

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSource {
    /// Frames pushed from the webview's getUserMedia (phones, default).
    Webview,
    /// Image files in a directory, in name order, repeating (tests, rehearsals).
    Files(PathBuf),
    /// A camera the shell opens itself (desktop, with the `camera-nokhwa` build).
    Device(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationSource {
    None,
    Track(PathBuf),
    Nmea(PathBuf),
    /// The phone's OS location service (mobile plugin).
    Platform,
}

#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: Option<PathBuf>,
    pub secrets_dir: Option<PathBuf>,
    pub camera: CameraSource,
    pub location: LocationSource,
    pub enroll_file: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    pub mock_camera: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn parse_camera(s: &str) -> Result<CameraSource, ConfigError> {
    match s.split_once(':') {
        None if s == "webview" => Ok(CameraSource::Webview),
        None if s == "device" => Ok(CameraSource::Device(0)),
        Some(("files", dir)) => Ok(CameraSource::Files(PathBuf::from(dir))),
        Some(("device", n)) => {
            n.parse().map(CameraSource::Device).map_err(|_| ConfigError(format!("camera device index {n:?}")))
        }
        _ => Err(ConfigError(format!("camera source {s:?}: use webview, device[:N] or files:DIR"))),
    }
}

fn parse_location(s: &str) -> Result<LocationSource, ConfigError> {
    match s.split_once(':') {
        None if s == "none" => Ok(LocationSource::None),
        None if s == "platform" => Ok(LocationSource::Platform),
        Some(("track", f)) => Ok(LocationSource::Track(PathBuf::from(f))),
        Some(("nmea", f)) => Ok(LocationSource::Nmea(PathBuf::from(f))),
        _ => {
            Err(ConfigError(format!("location source {s:?}: use track:FILE, nmea:DEVICE, platform or none")))
        }
    }
}

impl AppConfig {
    /// From command-line arguments, then the environment.
    pub fn from_args(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AppConfig, ConfigError> {
        let mut c = AppConfig {
            data_dir: env("JZQY_DATA_DIR").map(PathBuf::from),
            secrets_dir: env("JZQY_SECRETS_DIR").map(PathBuf::from),
            camera: match env("JZQY_CAMERA") {
                Some(s) => parse_camera(&s)?,
                None => CameraSource::Webview,
            },
            location: match env("JZQY_LOCATION") {
                Some(s) => parse_location(&s)?,
                None if cfg!(mobile) => LocationSource::Platform,
                None => LocationSource::None,
            },
            enroll_file: env("JZQY_ENROLL_FILE").map(PathBuf::from),
            models_dir: env("CAPTURE_MODELS").map(PathBuf::from),
            mock_camera: env("JZQY_MOCK_CAMERA").is_some_and(|v| v == "1"),
        };
        let mut it = args.iter().skip(1);
        while let Some(a) = it.next() {
            let mut value = || it.next().cloned().ok_or_else(|| ConfigError(format!("{a} needs a value")));
            match a.as_str() {
                "--data-dir" => c.data_dir = Some(PathBuf::from(value()?)),
                "--secrets-dir" => c.secrets_dir = Some(PathBuf::from(value()?)),
                "--camera" => c.camera = parse_camera(&value()?)?,
                "--location" => c.location = parse_location(&value()?)?,
                "--enroll-file" => c.enroll_file = Some(PathBuf::from(value()?)),
                "--models" => c.models_dir = Some(PathBuf::from(value()?)),
                "--mock-camera" => c.mock_camera = true,
                // Arguments WebKitGTK/GTK or the test driver add are not ours.
                _ => {}
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_override_the_environment() {
        let env = |k: &str| match k {
            "JZQY_CAMERA" => Some("files:/env".to_owned()),
            "JZQY_LOCATION" => Some("track:/t.jsonl".to_owned()),
            _ => None,
        };
        let args: Vec<String> =
            ["app", "--camera", "files:/arg", "--data-dir", "/d"].iter().map(|s| s.to_string()).collect();
        let c = AppConfig::from_args(&args, env).unwrap();
        assert_eq!(c.camera, CameraSource::Files("/arg".into()));
        assert_eq!(c.location, LocationSource::Track("/t.jsonl".into()));
        assert_eq!(c.data_dir, Some("/d".into()));
        assert!(AppConfig::from_args(&["app".into(), "--camera".into(), "bogus".into()], |_| None).is_err());
    }
}
