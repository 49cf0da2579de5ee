//! The face check (R1, R7, R8): on the device, offline, and again on the
//! server, which re-checks face evidence rather than trusting the phone.
//!
//! detect (BlazeFace) → pick the face → 68 landmarks (face-api's net) →
//! align (dlib's own fit onto its mean face, 150x150 chip) → quality (size,
//! light, focus, pose) → embed (dlib ResNet, 128-d) → 1:1 compare with the
//! enrolled [`Template`] → [`FaceCheck`] for the record; plus an active
//! liveness challenge ([`liveness`]: head turn or blink).
//!
//! Models are loaded at run time from a directory (installed by
//! `scripts/lib/models.sh`), so the crate compiles without them. The model
//! id recorded as evidence names each model and the first 16 hex digits of
//! its SHA-256, so a verifier knows exactly which weights produced a score.
//!
//! **Score and threshold.** The score is `1 - d/2`, where `d` is the
//! Euclidean distance between the two 128-d descriptors (dlib's metric).
//! dlib's published operating point, d < 0.6 for the same person (99.38 %
//! on LFW), is a score of 0.70: the default threshold, raised to
//! custody-core's `Policy::face_match_threshold` if the policy asks for
//! more. Measured with this pipeline (tests/face.rs, `examples/face_probe`):
//! five photos of one person (three portraits, two partial-face crops)
//! against each other, d = 0.18–0.44 (score 0.78–0.91); against another
//! person, d = 0.77–0.85 (score 0.58–0.62); 221 pairs of different people
//! (group photos included), 6 below 0.6. Aligning on BlazeFace's four
//! keypoints instead gave same-person d = 0.19–0.48 and the other person
//! 0.80–0.86: no clear difference on so small a set; dlib's fit is kept
//! because it is how the descriptor was trained, and its landmarks give
//! the blink challenge.

pub mod align;
pub mod detect;
pub mod embed;
pub mod landmarks;
pub mod liveness;
pub mod onnx;
pub mod quality;
pub mod step;
pub mod tfjs;

use crate::frame::Frame;
use custody_core::crypto::Hash;
use custody_core::record::FaceCheck;
use detect::{Detection, Detector};
use embed::{Descriptor, Embedder};
use liveness::{Challenge, LivenessOutcome, LivenessPolicy, Observation};
use quality::{Quality, QualityIssue, QualityPolicy};
use std::path::{Path, PathBuf};
use std::sync::Arc;

type Runnable = std::sync::Arc<tract_onnx::prelude::TypedRunnableModel>;

/// Files under the models directory.
pub const DETECTOR_FILE: &str = "blazeface/face_detection_front_128x128.onnx";
pub const DESCRIPTOR_MANIFEST: &str = "face-api/face_recognition_model-weights_manifest.json";
pub const DESCRIPTOR_WEIGHTS: &str = "face-api/face_recognition_model.bin";
pub const LANDMARK_MANIFEST: &str = "face-api/face_landmark_68_model-weights_manifest.json";
pub const LANDMARK_WEIGHTS: &str = "face-api/face_landmark_68_model.bin";

/// dlib's same-person distance (0.6) as a score: 1 - 0.6 / 2.
pub const DEFAULT_THRESHOLD: f32 = 0.70;

#[derive(Debug, Clone, thiserror::Error)]
pub enum FaceError {
    #[error("face model: {0}")]
    Model(String),
    #[error("face model inference failed: {0}")]
    Inference(String),
    #[error("no face found")]
    NoFace,
    #[error("several faces of similar size: only the person being checked may be in the picture")]
    SeveralFaces,
    #[error("face photo not usable: {}", .0.iter().map(|i| i.message_en()).collect::<Vec<_>>().join("; "))]
    Quality(Vec<QualityIssue>),
    #[error(
        "the reference was made with other models ({reference}); this checker runs {running}: enrol again"
    )]
    ModelMismatch { reference: String, running: String },
    #[error("cannot decode the face photo: {0}")]
    Photo(String),
    #[error("every frame of a liveness burst needs its capture time")]
    Untimed,
}

impl FaceError {
    pub fn message_zh(&self) -> String {
        match self {
            FaceError::Model(e) => format!("人脸模型加载失败：{e}"),
            FaceError::Inference(e) => format!("人脸识别计算失败：{e}"),
            FaceError::NoFace => "未检测到人脸".into(),
            FaceError::SeveralFaces => "画面中有多张人脸，请只让本人入镜".into(),
            FaceError::Quality(issues) => {
                issues.iter().map(|i| i.message_zh()).collect::<Vec<_>>().join("；")
            }
            FaceError::ModelMismatch { .. } => "人脸底库由其他版本模型生成，请重新采集".into(),
            FaceError::Photo(e) => format!("无法解码人脸照片：{e}"),
            FaceError::Untimed => "活体检测的画面缺少拍摄时间".into(),
        }
    }
}

/// The loaded models and their identity.
pub struct FaceModels {
    detector: Detector,
    landmarks: landmarks::LandmarkNet,
    embedder: Embedder,
    id: String,
}

impl FaceModels {
    /// Load from the models directory (`.models/` after the install step).
    pub fn load(dir: &Path) -> Result<FaceModels, FaceError> {
        let det_path = dir.join(DETECTOR_FILE);
        let manifest = dir.join(DESCRIPTOR_MANIFEST);
        let lm_manifest = dir.join(LANDMARK_MANIFEST);
        for p in
            [&det_path, &manifest, &dir.join(DESCRIPTOR_WEIGHTS), &lm_manifest, &dir.join(LANDMARK_WEIGHTS)]
        {
            if !p.is_file() {
                return Err(FaceError::Model(format!(
                    "{} is missing: run scripts/test or `source scripts/lib/models.sh && setup_models`",
                    p.display()
                )));
            }
        }
        let detector = Detector::load(&det_path)?;
        let embedder = Embedder::load(&manifest)?;
        let landmarks = landmarks::LandmarkNet::load(&lm_manifest)?;
        let id = format!(
            "blazeface-front-128@{};landmark68(face-api-1.7.15)@{};dlib-resnet-v1(face-api-1.7.15)@{};align=dlib68-v1",
            short_hash(&det_path)?,
            short_hash(&dir.join(LANDMARK_WEIGHTS))?,
            short_hash(&dir.join(DESCRIPTOR_WEIGHTS))?
        );
        Ok(FaceModels { detector, landmarks, embedder, id })
    }

    /// Model identifiers and checksums, recorded in [`FaceCheck::model`].
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }
    pub fn landmark_net(&self) -> &landmarks::LandmarkNet {
        &self.landmarks
    }
}

fn short_hash(p: &Path) -> Result<String, FaceError> {
    let bytes = std::fs::read(p).map_err(|e| FaceError::Model(format!("{}: {e}", p.display())))?;
    Ok(Hash::of(&bytes).to_hex()[..16].to_owned())
}

/// The default models directory: `$CAPTURE_MODELS`, else `.models` in the
/// workspace root (where the install step puts it).
pub fn default_models_dir() -> PathBuf {
    std::env::var_os("CAPTURE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.models"))
}

/// An enrolled person's reference: serialisable (the app encrypts it at
/// rest; the server keeps its own copy from enrolment).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    /// The models that made the descriptor; a different model's descriptor
    /// lives in another space and cannot be compared.
    pub model: String,
    pub descriptor: Descriptor,
    pub quality: Quality,
}

/// One face measured in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceAnalysis {
    pub detection: Detection,
    pub landmarks: landmarks::Landmarks,
    pub quality: Quality,
    pub issues: Vec<QualityIssue>,
    pub descriptor: Descriptor,
}

/// How the face is aligned to the descriptor's chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// dlib's own: 51 landmarks onto dlib's mean face (the default: see the
    /// measurements in the crate README).
    Dlib68,
    /// BlazeFace's four keypoints (eyes, nose tip, mouth) onto the same
    /// template; kept for comparison.
    BlazeFace4,
}

/// Face-check settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceConfig {
    /// Score at or above which two faces are the same person.
    pub threshold: f32,
    pub alignment: Alignment,
    pub quality: QualityPolicy,
    pub liveness: LivenessPolicy,
}

impl FaceConfig {
    /// Defaults, with the threshold raised to the custody policy's if higher
    /// (the verifier applies the policy's figure as a floor anyway).
    pub fn from_policy(policy: &custody_core::policy::Policy) -> FaceConfig {
        FaceConfig {
            threshold: DEFAULT_THRESHOLD.max(policy.face_match_threshold as f32),
            alignment: Alignment::Dlib68,
            quality: QualityPolicy::default(),
            liveness: LivenessPolicy::default(),
        }
    }
}

/// A comparison of a probe with a reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub distance: f32,
    pub score: f32,
    pub threshold: f32,
    pub matched: bool,
}

impl Comparison {
    pub fn score_milli(&self) -> i32 {
        (self.score * 1000.0).round() as i32
    }
    pub fn threshold_milli(&self) -> i32 {
        (self.threshold * 1000.0).round() as i32
    }
}

/// The face checker: cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct FaceChecker {
    models: Arc<FaceModels>,
    config: FaceConfig,
}

impl FaceChecker {
    pub fn new(models: Arc<FaceModels>, config: FaceConfig) -> FaceChecker {
        FaceChecker { models, config }
    }

    pub fn models(&self) -> &FaceModels {
        &self.models
    }
    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    /// Detect, choose, align, measure and embed the face of a frame.
    /// Fails when there is no face or several of similar size; quality
    /// issues are reported, not fatal (the caller decides).
    pub fn analyse(&self, frame: &Frame) -> Result<FaceAnalysis, FaceError> {
        let faces = self.models.detector.detect(frame)?;
        let detection = choose_face(&faces)?.clone();
        let rgb = frame.rgb();
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let marks = self.models.landmarks.landmarks(&rgb, w, h, &detection)?;
        let to_chip = match self.config.alignment {
            Alignment::Dlib68 => align::chip_transform_68(&marks.0),
            Alignment::BlazeFace4 => align::chip_transform(&detection),
        };
        let chip = align::extract_chip(&rgb, w, h, &to_chip);
        let quality = quality::measure(&detection, &chip);
        let issues = quality::issues(&quality, &self.config.quality);
        let descriptor = self.models.embedder.embed(&chip)?;
        Ok(FaceAnalysis { detection, landmarks: marks, quality, issues, descriptor })
    }

    /// Enrol a reference from a frame; refuses a poor-quality photo.
    pub fn enroll(&self, frame: &Frame) -> Result<Template, FaceError> {
        let a = self.analyse(frame)?;
        if !a.issues.is_empty() {
            return Err(FaceError::Quality(a.issues));
        }
        Ok(Template { model: self.models.id.clone(), descriptor: a.descriptor, quality: a.quality })
    }

    /// Compare two descriptors.
    pub fn compare(&self, reference: &Descriptor, probe: &Descriptor) -> Comparison {
        let distance = reference.distance(probe);
        let score = 1.0 - distance / 2.0;
        Comparison {
            distance,
            score,
            threshold: self.config.threshold,
            matched: score >= self.config.threshold,
        }
    }

    /// The full 1:1 check of a face photo against a reference, in the form
    /// the record takes. `photo` is the original's hash (the photo listed in
    /// the evidence); poor quality is refused before any score is recorded.
    pub fn check(
        &self,
        reference: &Template,
        frame: &Frame,
        photo: Hash,
        liveness: Option<&LivenessOutcome>,
    ) -> Result<(FaceCheck, FaceAnalysis), FaceError> {
        if reference.model != self.models.id {
            return Err(FaceError::ModelMismatch {
                reference: reference.model.clone(),
                running: self.models.id.clone(),
            });
        }
        let a = self.analyse(frame)?;
        if !a.issues.is_empty() {
            return Err(FaceError::Quality(a.issues));
        }
        let c = self.compare(&reference.descriptor, &a.descriptor);
        let check = FaceCheck {
            photo,
            model: self.models.id.clone(),
            score_milli: c.score_milli(),
            threshold_milli: c.threshold_milli(),
            matched: c.matched,
            liveness: liveness.map(|l| l.to_record()),
        };
        Ok((check, a))
    }

    /// The server's re-check: decode the photo original, run the same check,
    /// and say whether the device's recorded result holds. Scores may differ
    /// in the last digits between CPUs (float order); `tolerance_milli`
    /// absorbs that.
    pub fn recheck(
        &self,
        recorded: &FaceCheck,
        photo_bytes: &[u8],
        reference: &Template,
        tolerance_milli: i32,
    ) -> Result<Recheck, FaceError> {
        let photo = Hash::of(photo_bytes);
        if photo != recorded.photo {
            return Ok(Recheck {
                agrees: false,
                score_milli: None,
                reason: Some("photo hash differs from the record"),
            });
        }
        if recorded.model != self.models.id {
            return Ok(Recheck {
                agrees: false,
                score_milli: None,
                reason: Some("recorded model differs from the server's"),
            });
        }
        let frame = Frame::decode(photo_bytes).map_err(|e| FaceError::Photo(e.to_string()))?;
        let (mine, _) = self.check(reference, &frame, photo, None)?;
        let close = (mine.score_milli - recorded.score_milli).abs() <= tolerance_milli;
        let agrees = close && mine.matched == recorded.matched;
        Ok(Recheck {
            agrees,
            score_milli: Some(mine.score_milli),
            reason: (!agrees).then_some("score or verdict differs from the device's"),
        })
    }

    /// Run the liveness challenge over a burst. When `face_photo` is given
    /// (the descriptor of the check's photo), the burst's most frontal frame
    /// must be the same person.
    pub fn liveness(
        &self,
        challenge: Challenge,
        burst: &[Frame],
        face_photo: Option<&Descriptor>,
    ) -> Result<LivenessOutcome, FaceError> {
        let mut obs = Vec::with_capacity(burst.len());
        for f in burst {
            // The burst's timing is part of the evidence: frames without a
            // capture time cannot show a turn made within 1-2 s.
            let Some(mono_ms) = f.captured_mono_ms else {
                return Err(FaceError::Untimed);
            };
            let faces = self.models.detector.detect(f)?;
            let eye_aspect_ratio = match (challenge, faces.as_slice()) {
                (Challenge::Blink, [one]) => {
                    let rgb = f.rgb();
                    let marks = self.models.landmarks.landmarks(
                        &rgb,
                        f.width() as usize,
                        f.height() as usize,
                        one,
                    )?;
                    Some(marks.eye_aspect_ratio())
                }
                _ => None,
            };
            obs.push(Observation {
                mono_ms,
                faces: faces.len(),
                face: faces.into_iter().next(),
                eye_aspect_ratio,
            });
        }
        let mut outcome = liveness::judge(challenge, &obs, &self.config.liveness);
        if let (true, Some(reference), Some(i)) = (outcome.passed(), face_photo, outcome.frontal_frame) {
            let a = self.analyse(&burst[i])?;
            if !self.compare(reference, &a.descriptor).matched {
                outcome.failure = Some(liveness::LivenessFailure::DifferentPerson);
            }
        }
        Ok(outcome)
    }
}

/// The server's answer to "does the device's face result hold?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recheck {
    pub agrees: bool,
    pub score_milli: Option<i32>,
    pub reason: Option<&'static str>,
}

/// The largest face, unless another is nearly as large (then whose check
/// this is would be a guess).
fn choose_face(faces: &[Detection]) -> Result<&Detection, FaceError> {
    let mut sorted: Vec<&Detection> = faces.iter().collect();
    sorted.sort_by(|a, b| b.eye_distance().total_cmp(&a.eye_distance()));
    match sorted.as_slice() {
        [] => Err(FaceError::NoFace),
        [one] => Ok(one),
        [first, second, ..] => {
            if second.eye_distance() >= 0.8 * first.eye_distance() {
                Err(FaceError::SeveralFaces)
            } else {
                Ok(first)
            }
        }
    }
}
