//! What the app holds while it runs: the engine, the camera session, the
//! face models (loaded on first use) and the little context the screens
//! share (the tag being worked on, the last fix) for the photo watermark.

use crate::camera::Session;
use crate::config::AppConfig;
use capture::face::step::ReferenceCache;
use capture::face::{FaceChecker, FaceConfig, FaceModels};
use capture::photo::{Original, WatermarkText, Watermarker};
use custody_core::place::Fix;
use field_engine::Engine;
use field_engine::clock::DeviceClock;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

pub struct AppState {
    pub engine: Arc<Engine>,
    pub clock: Arc<dyn DeviceClock>,
    pub config: AppConfig,
    pub camera: Mutex<Option<Session>>,
    /// Face models and checker, loaded once (tens of MB).
    face: OnceLock<Result<Arc<FaceChecker>, String>>,
    /// The person's face reference template, computed once per reference photo.
    pub reference: Arc<ReferenceCache>,
    watermark: OnceLock<Option<Watermarker>>,
    pub font_path: Option<PathBuf>,
    pub models_dir: PathBuf,
    pub current_tag: Mutex<Option<String>>,
    pub last_fix: Mutex<Option<Fix>>,
    pub exports_dir: PathBuf,
    /// Frames being judged on a worker thread: the session is out of its
    /// slot meanwhile, and a capture or torch tap waits for it to come back.
    pub judging: std::sync::atomic::AtomicUsize,
}

impl AppState {
    pub fn new(
        engine: Arc<Engine>,
        clock: Arc<dyn DeviceClock>,
        config: AppConfig,
        models_dir: PathBuf,
        font_path: Option<PathBuf>,
        exports_dir: PathBuf,
    ) -> AppState {
        AppState {
            engine,
            clock,
            config,
            camera: Mutex::new(None),
            face: OnceLock::new(),
            reference: Arc::new(ReferenceCache::default()),
            watermark: OnceLock::new(),
            font_path,
            models_dir,
            current_tag: Mutex::new(None),
            last_fix: Mutex::new(None),
            exports_dir,
            judging: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The face checker, or why it cannot run (models missing).
    pub fn face(&self) -> Result<Arc<FaceChecker>, String> {
        self.face
            .get_or_init(|| {
                let models = FaceModels::load(&self.models_dir).map_err(|e| e.to_string())?;
                let policy =
                    self.engine.enrollment().ok().flatten().map(|e| e.profile.policy).unwrap_or_default();
                Ok(Arc::new(FaceChecker::new(Arc::new(models), FaceConfig::from_policy(&policy))))
            })
            .clone()
    }

    pub fn watermarker(&self) -> Option<&Watermarker> {
        self.watermark
            .get_or_init(|| self.font_path.as_ref().and_then(|p| Watermarker::from_font_file(p).ok()))
            .as_ref()
    }

    /// What the visible watermark on a photo's display copy says: when
    /// (China Standard Time, by the device's best estimate), where, which
    /// project and tag, who.
    pub fn watermark_text(&self) -> WatermarkText {
        let profile = self.engine.enrollment().ok().flatten().map(|e| e.profile);
        let place = self
            .last_fix
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|f| format!("{:.6}, {:.6} ±{:.0}m", f.pos.lat(), f.pos.lon(), f.accuracy_m()))
            .unwrap_or_default();
        WatermarkText {
            time: crate::pdf::local_time(self.engine.now_estimate()),
            place,
            project: profile
                .as_ref()
                .and_then(|p| p.projects.first().map(|v| v.project.name.clone()))
                .unwrap_or_default(),
            tag: self.current_tag.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default(),
            person: profile
                .as_ref()
                .map(|p| format!("{}（{}）", p.person.name, p.org.name))
                .unwrap_or_default(),
        }
    }

    /// The JPEG people are shown of a photo: the original with the
    /// watermark; none when no font is installed or rendering fails (the
    /// original is shown then). Faces are never watermarked or shown beyond
    /// their capture screen.
    pub fn watermarked(&self, original: &Original) -> Option<Vec<u8>> {
        self.watermarker()?.render(original, &self.watermark_text()).ok().map(|c| c.jpeg)
    }

    /// `path` as a file this app exported (commission PDFs), if it is one:
    /// the webview never gets to open arbitrary paths on the device.
    pub fn exported_file(&self, path: &str) -> Option<PathBuf> {
        let exports = std::fs::canonicalize(&self.exports_dir).ok()?;
        std::fs::canonicalize(path).ok().filter(|f| f.is_file() && f.starts_with(&exports))
    }

    pub fn font_bytes(&self) -> Option<Vec<u8>> {
        self.font_path.as_ref().and_then(|p| std::fs::read(p).ok())
    }
}
