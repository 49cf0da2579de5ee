//! One camera session at a time, whatever the frames' source: the webview
//! pushes them (phones), or the shell pulls them itself (image files for tests
//! and rehearsals; a USB camera on a desktop with the `camera-nokhwa` build).
//! Each frame is judged for the session's purpose — a tag, a QR text, a face,
//! a photo — by the capture pipeline, the same code whatever the source.

use crate::config::CameraSource;
use capture::face::FaceChecker;
use capture::face::liveness::Challenge;
use capture::frame::{Frame, FrameError, FrameSource};
use capture::qr::{ScanConfig, Scanner};
use custody_core::record::MediaPurpose;
use custody_core::tag::TagBatch;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a camera session is for (the screens call it `CameraPurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Purpose {
    Tag,
    Qr,
    Face,
    Photo,
}

impl Purpose {
    /// What a frame kept in this session is evidence of: a tag photo, a face
    /// photo, or a process photo (a QR session's frame is the scene around it).
    pub fn media_purpose(self) -> MediaPurpose {
        match self {
            Purpose::Tag => MediaPurpose::Tag,
            Purpose::Face => MediaPurpose::Face,
            Purpose::Photo | Purpose::Qr => MediaPurpose::Process,
        }
    }

    fn dir_name(self) -> &'static str {
        match self {
            Purpose::Tag => "tag",
            Purpose::Qr => "qr",
            Purpose::Face => "face",
            Purpose::Photo => "photo",
        }
    }
}

/// Where frames come from: the webview's getUserMedia (the screen pushes
/// them), or the shell itself, from a camera device or image files (the
/// screen pulls them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum FrameSourceKind {
    Webview,
    Device,
    Files,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CameraInfo {
    pub source: FrameSourceKind,
    pub torch: bool,
    pub detail: String,
}

/// A tag read from a camera, a scanner or typed digits (the screens call it `ScannedTag`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ScannedTagView {
    pub code: String,
    pub printed: String,
    pub read: custody_core::record::TagRead,
}

#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FaceStatus {
    pub found: bool,
    /// Good enough to capture.
    pub ready: bool,
    /// Stable codes: no_face, too_small, too_dark, too_bright, blurred, turned, several_faces …
    pub issues: Vec<String>,
    pub message_zh: String,
    pub message_en: String,
}

/// What one frame showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum EventKind {
    #[default]
    None,
    Tag,
    Qr,
    Face,
    Error,
}

/// The result of one frame. `preview` is a data: URL (pulled frames only).
#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CameraEvent {
    pub kind: EventKind,
    pub preview: Option<String>,
    pub tag: Option<ScannedTagView>,
    /// Purpose "qr": the decoded text (enrollment, handshake).
    pub text: Option<String>,
    pub face: Option<FaceStatus>,
    pub message_zh: Option<String>,
    pub message_en: Option<String>,
}

/// Image files from a directory, in name order, over and over. A
/// sub-directory named after the purpose (`tag/`, `face/` …) is used when
/// present, so a rehearsal can hold a tag photo and a face photo apart.
pub struct RepeatingFiles {
    paths: Vec<PathBuf>,
    next: usize,
}

impl RepeatingFiles {
    pub fn open(dir: &Path, purpose: Purpose) -> Result<RepeatingFiles, FrameError> {
        let sub = dir.join(purpose.dir_name());
        let dir = if sub.is_dir() { sub } else { dir.to_owned() };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| FrameError::Io { path: dir.display().to_string(), source: e })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
            })
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(FrameError::Io {
                path: dir.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no JPEG or PNG images"),
            });
        }
        Ok(RepeatingFiles { paths, next: 0 })
    }
}

impl FrameSource for RepeatingFiles {
    fn kind(&self) -> capture::frame::SourceKind {
        capture::frame::SourceKind::File
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let p = &self.paths[self.next % self.paths.len()];
        self.next += 1;
        capture::frame::file::read_image(p).map(Some)
    }
}

/// A liveness challenge under way: every frame is evidence, judged at capture.
pub struct LivenessRun {
    pub challenge: Challenge,
    pub frames: Vec<Frame>,
}

/// The open session.
pub struct Session {
    pub purpose: Purpose,
    pub unit_project: Option<String>,
    pub puller: Option<Box<dyn FrameSource + Send>>,
    pub scanner: Scanner,
    pub last: Option<Frame>,
    pub liveness: Option<LivenessRun>,
    pub torch: bool,
}

impl Session {
    pub fn open(
        purpose: Purpose,
        unit_project: Option<String>,
        source: &CameraSource,
    ) -> Result<Session, FrameError> {
        let puller: Option<Box<dyn FrameSource + Send>> = match source {
            CameraSource::Webview => None,
            CameraSource::Files(dir) => Some(Box::new(RepeatingFiles::open(dir, purpose)?)),
            CameraSource::Device(_index) => {
                #[cfg(feature = "camera-nokhwa")]
                {
                    Some(Box::new(capture::frame::nokhwa::NokhwaCamera::open(*_index)?))
                }
                #[cfg(not(feature = "camera-nokhwa"))]
                {
                    return Err(FrameError::Camera(
                        "this build has no USB camera support (build with the camera-nokhwa feature)".into(),
                    ));
                }
            }
        };
        let config = if purpose == Purpose::Photo { ScanConfig::still() } else { ScanConfig::live() };
        Ok(Session {
            purpose,
            unit_project,
            puller,
            scanner: Scanner::new(config),
            last: None,
            liveness: None,
            torch: false,
        })
    }

    pub fn info(source: &CameraSource) -> CameraInfo {
        match source {
            CameraSource::Webview => CameraInfo {
                source: FrameSourceKind::Webview,
                torch: false,
                detail: "getUserMedia in the webview".into(),
            },
            CameraSource::Files(d) => CameraInfo {
                source: FrameSourceKind::Files,
                torch: false,
                detail: format!("image files in {}", d.display()),
            },
            CameraSource::Device(i) => {
                CameraInfo { source: FrameSourceKind::Device, torch: true, detail: format!("camera {i}") }
            }
        }
    }

    /// The frame to keep when the person taps capture, and the liveness
    /// challenge's burst if one ran (its first frame is the one kept). A tap
    /// before the first frame reached the screen: the shell's own source
    /// (files, USB camera) can give one now; the webview's cannot.
    pub fn take_capture(&mut self, mono_ms: u64) -> (Option<Frame>, Option<LivenessRun>) {
        let run = self.liveness.take();
        let mut frame = run.as_ref().and_then(|r| r.frames.first().cloned()).or_else(|| self.last.clone());
        if frame.is_none()
            && let Some(p) = self.puller.as_mut()
        {
            frame = p.next_frame().ok().flatten().map(|f| f.with_mono_ms(Some(mono_ms)));
            self.last = frame.clone();
        }
        (frame, run)
    }

    /// Judge one frame for this session's purpose.
    pub fn judge(
        &mut self,
        frame: Frame,
        batches: &[TagBatch],
        checker: Option<&FaceChecker>,
    ) -> CameraEvent {
        let mut ev = CameraEvent::default();
        if let Some(run) = self.liveness.as_mut() {
            // During the challenge every frame is evidence; judged at capture.
            run.frames.push(frame.clone());
            self.last = Some(frame);
            return ev;
        }
        match self.purpose {
            Purpose::Tag => {
                let outcome = self.scanner.scan(&frame);
                match capture::qr::tag::tag_from_scan(&outcome, Some(batches)) {
                    Ok(t) => {
                        ev.kind = EventKind::Tag;
                        ev.tag = Some(ScannedTagView::from(t));
                    }
                    Err(capture::qr::tag::TagScanError::NoCode) => {}
                    Err(e) => {
                        ev.kind = EventKind::Error;
                        ev.message_zh = Some(e.message_zh());
                        ev.message_en = Some(e.to_string());
                    }
                }
            }
            Purpose::Qr => {
                let outcome = self.scanner.scan(&frame);
                if let Some(c) = outcome.codes.first() {
                    ev.kind = EventKind::Qr;
                    ev.text = Some(c.text.clone());
                }
            }
            Purpose::Face => {
                ev.kind = EventKind::Face;
                ev.face = Some(match checker {
                    None => FaceStatus {
                        message_zh: "人脸模型未安装".into(),
                        message_en: "face models are not installed".into(),
                        ..FaceStatus::default()
                    },
                    Some(c) => match c.analyse(&frame) {
                        Ok(a) => FaceStatus {
                            found: true,
                            ready: a.issues.is_empty(),
                            issues: a.issues.iter().map(|i| format!("{i:?}")).collect(),
                            message_zh: if a.issues.is_empty() {
                                "可以拍摄".into()
                            } else {
                                a.issues.iter().map(|i| i.message_zh()).collect::<Vec<_>>().join("；")
                            },
                            message_en: if a.issues.is_empty() {
                                "ready".into()
                            } else {
                                a.issues.iter().map(|i| i.message_en()).collect::<Vec<_>>().join("; ")
                            },
                        },
                        Err(e) => FaceStatus {
                            message_zh: e.message_zh(),
                            message_en: e.to_string(),
                            ..FaceStatus::default()
                        },
                    },
                });
            }
            Purpose::Photo => {}
        }
        self.last = Some(frame);
        ev
    }
}

impl From<capture::qr::tag::ScannedTag> for ScannedTagView {
    fn from(t: capture::qr::tag::ScannedTag) -> ScannedTagView {
        ScannedTagView { code: t.code.to_string(), printed: t.code.printed(), read: t.read }
    }
}
