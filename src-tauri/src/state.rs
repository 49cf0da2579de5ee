//! What the app holds while it runs: the engine, the camera session, the
//! face models (loaded on first use) and the little context the screens
//! share (the tag being worked on, the last fix) for the photo watermark.

use crate::camera::{ReferenceCache, Session};
use crate::config::AppConfig;
use capture::face::{FaceChecker, FaceConfig, FaceModels};
use capture::photo::Watermarker;
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
    pub reference: Mutex<Option<ReferenceCache>>,
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
            reference: Mutex::new(None),
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

    pub fn font_bytes(&self) -> Option<Vec<u8>> {
        self.font_path.as_ref().and_then(|p| std::fs::read(p).ok())
    }
}
