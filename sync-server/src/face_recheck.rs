//! The server's own face re-check (issue 19, R1, R7). A record's face
//! result is the phone's claim; a hostile phone can claim "matched, 0.95,
//! liveness passed" over any bytes. Once a record's face photo and its
//! author's reference photo are both on the server — whichever arrives
//! last: the record, the photo's upload, the reference (a grant), or, for
//! anything missed, the periodic sweep — the server runs the field app's
//! own pipeline (`capture::face`, same models, same code) on the photo
//! against the reference, on a blocking thread and outside any store
//! transaction, keeps its result per record (`face_rechecks`), and records
//! the core's findings (`custody_core::verify::face_recheck`) for
//! regulators. The lab's trail reads the result and the core judges it.
//!
//! Without models the server re-checks nothing and says so: at start, in
//! `admin status`, and in every trail ("not re-checked by the server").
//! Photos are read through the face vault ([`Media::read`]), which opens
//! sealed face photos; the face-read log records people and exports, and
//! the server's own re-check is neither.

use crate::config::Config;
use crate::faces::Media;
use crate::ingest::decode_stored;
use crate::store::face_rechecks::Pending;
use crate::store::{Result, Store, StoreError, Tx};
use capture::face::embed::Descriptor;
use capture::face::{FaceChecker, FaceConfig, FaceError, FaceModels};
use capture::frame::Frame;
use custody_core::Hash;
use custody_core::protocol::Finding;
use custody_core::verify::face_recheck::{self, FaceAbsence, ServerFaceCheck, ServerFaceOutcome, claim_of};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Records re-checked per pass of the sweep.
pub const SWEEP_BATCH: u32 = 50;

/// The files the models directory must hold.
const MODEL_FILES: [&str; 5] = [
    capture::face::DETECTOR_FILE,
    capture::face::DESCRIPTOR_MANIFEST,
    capture::face::DESCRIPTOR_WEIGHTS,
    capture::face::LANDMARK_MANIFEST,
    capture::face::LANDMARK_WEIGHTS,
];

/// References kept as descriptors (a person's reference serves every one
/// of their records); cleared when full.
const REFERENCES_KEPT: usize = 1_000;

/// The face checker of this server, loaded on first use (loading builds the
/// networks: a second or so, paid once per process, not at every start).
pub struct FaceRechecker {
    dir: PathBuf,
    missing: Option<PathBuf>,
    config: FaceConfig,
    checker: OnceLock<std::result::Result<FaceChecker, String>>,
    references: Mutex<HashMap<Hash, std::result::Result<Descriptor, FaceAbsence>>>,
}

/// Models loaded in this process, by directory: test binaries start many
/// servers over one directory and load the networks once.
fn loaded_models(dir: &Path) -> std::result::Result<Arc<FaceModels>, String> {
    static LOADED: Mutex<Vec<(PathBuf, Arc<FaceModels>)>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, m)) = loaded.iter().find(|(d, _)| d == dir) {
        return Ok(m.clone());
    }
    let m = Arc::new(FaceModels::load(dir).map_err(|e| e.to_string())?);
    loaded.push((dir.to_owned(), m.clone()));
    Ok(m)
}

impl FaceRechecker {
    /// The re-checker the configuration describes (`[faces]`); whether its
    /// models are there is known at once, loading waits for the first use.
    pub fn new(config: &Config) -> FaceRechecker {
        let dir = config.faces.dir();
        let missing = MODEL_FILES.iter().map(|f| dir.join(f)).find(|p| !p.is_file());
        FaceRechecker {
            dir,
            missing,
            config: FaceConfig::from_policy(&config.policy),
            checker: OnceLock::new(),
            references: Mutex::default(),
        }
    }

    /// Why the server does not re-check faces, if it does not: a model file
    /// missing (known at start) or models that failed to load.
    pub fn unavailable(&self) -> Option<String> {
        if let Some(p) = &self.missing {
            return Some(format!("{} is missing", p.display()));
        }
        match self.checker.get() {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// One line for the start log and `admin status`, in both languages.
    pub fn describe(&self) -> String {
        match self.unavailable() {
            None => format!("on, models in {} / 已开启，模型目录 {}", self.dir.display(), self.dir.display()),
            Some(why) => format!(
                "OFF: the server does not re-check face photos ({why}; set [faces] models_dir or run scripts/lib/models.sh setup_models) / 未开启：服务器不复核人脸照片（缺少人脸模型）"
            ),
        }
    }

    fn checker(&self) -> Option<&FaceChecker> {
        if self.missing.is_some() {
            return None;
        }
        let c = self.checker.get_or_init(|| match loaded_models(&self.dir) {
            Ok(models) => Ok(FaceChecker::new(models, self.config.clone())),
            Err(e) => {
                // Files there but unusable: said once, loudly, and by
                // `unavailable` from now on (`admin status`, another
                // process, sees only whether the files are there).
                tracing::error!(error = %e, "face models failed to load: the server does not re-check faces");
                Err(e)
            }
        });
        c.as_ref().ok()
    }

    /// The descriptor of a reference photo, or why it has no usable face.
    fn reference(
        &self,
        checker: &FaceChecker,
        sha: Hash,
        bytes: &[u8],
    ) -> std::result::Result<std::result::Result<Descriptor, FaceAbsence>, FaceError> {
        let kept = self.references.lock().unwrap_or_else(|p| p.into_inner()).get(&sha).cloned();
        if let Some(d) = kept {
            return Ok(d);
        }
        let d = measure(checker, bytes)?;
        let mut refs = self.references.lock().unwrap_or_else(|p| p.into_inner());
        if refs.len() >= REFERENCES_KEPT {
            refs.clear();
        }
        refs.insert(sha, d.clone());
        Ok(d)
    }

    /// The server's measurement of `photo` against `reference`: what the
    /// record's re-check stores (the decision is the core's).
    pub fn measure(
        &self,
        photo: &[u8],
        reference: (Hash, &[u8]),
    ) -> std::result::Result<Option<(String, ServerFaceOutcome)>, FaceError> {
        let Some(checker) = self.checker() else { return Ok(None) };
        let reference = match self.reference(checker, reference.0, reference.1)? {
            Ok(d) => d,
            Err(_) => {
                return Ok(Some((checker.models().id().to_owned(), ServerFaceOutcome::ReferenceUnusable)));
            }
        };
        let outcome = match measure(checker, photo)? {
            Err(reason) => ServerFaceOutcome::NoFace { reason },
            Ok(probe) => {
                let c = checker.compare(&reference, &probe);
                ServerFaceOutcome::Scored {
                    score_milli: c.score_milli(),
                    threshold_milli: c.threshold_milli(),
                }
            }
        };
        Ok(Some((checker.models().id().to_owned(), outcome)))
    }
}

/// Decode and describe the one face of a photo. Quality issues do not stop
/// the server's measurement (the phone refuses poor photos before scoring;
/// a forged claim may come with any photo, and its score is what counts).
fn measure(
    checker: &FaceChecker,
    bytes: &[u8],
) -> std::result::Result<std::result::Result<Descriptor, FaceAbsence>, FaceError> {
    let Ok(frame) = Frame::decode(bytes) else { return Ok(Err(FaceAbsence::NotAnImage)) };
    match checker.analyse(&frame) {
        Ok(a) => Ok(Ok(a.descriptor)),
        Err(FaceError::NoFace) => Ok(Err(FaceAbsence::NoFace)),
        Err(FaceError::SeveralFaces) => Ok(Err(FaceAbsence::SeveralFaces)),
        Err(e) => Err(e),
    }
}

/// What one record's re-check needs, gathered in a read transaction.
struct Ready {
    record: Hash,
    photo: Hash,
    reference: Hash,
}

/// The record's face photo and its author's reference, when both are here.
/// The reference is the newest grant's of the author with a reference
/// photo (the person's face as last enrolled with the real-name check).
fn ready(tx: &mut dyn Tx, record: &Hash) -> Result<Option<Ready>> {
    let Some(row) = tx.record(record)? else { return Ok(None) };
    let rec = decode_stored(&row)?;
    let Some(claim) = claim_of(rec.body()) else { return Ok(None) };
    let mut grants = tx.grants_of(&rec.body().author)?;
    grants.sort_by_key(|g| g.valid_from_ms);
    let Some(reference) = grants.iter().rev().find_map(|g| g.face_reference) else { return Ok(None) };
    if !tx.media(&reference)?.is_some_and(|m| m.complete)
        || !tx.media(&claim.photo)?.is_some_and(|m| m.complete)
    {
        return Ok(None);
    }
    Ok(Some(Ready { record: *record, photo: claim.photo, reference }))
}

/// Re-check the records `which` names that are ready, on this thread (call
/// it from a blocking one): reads in one transaction, measures with no
/// transaction open, writes each result and its findings in one short
/// transaction. The records re-checked now.
pub fn recheck(
    store: &Store,
    media: &Media,
    faces: &FaceRechecker,
    which: &Pending,
    now_ms: i64,
) -> Result<Vec<(Hash, ServerFaceCheck)>> {
    if faces.unavailable().is_some() {
        return Ok(Vec::new());
    }
    let todo = store.read(|tx| {
        let mut out = Vec::new();
        for id in tx.face_recheck_pending(which, SWEEP_BATCH)? {
            out.extend(ready(tx, &id)?);
        }
        Ok(out)
    })?;
    let mut done = Vec::new();
    for r in todo {
        let (photo, reference) = match (media.read(store, &r.photo), media.read(store, &r.reference)) {
            (Ok(p), Ok(r)) => (p, r),
            (Err(e), _) | (_, Err(e)) => {
                // A photo the vault cannot open is the server's trouble
                // (its key, its store), not a finding: tried again next sweep.
                tracing::warn!(record = %r.record.to_hex(), error = %e, "face re-check: photo unreadable");
                continue;
            }
        };
        let measured = match faces.measure(&photo, (r.reference, &reference)) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(done),
            Err(e) => {
                // The models failing on a photo is the server's trouble,
                // not a finding about the record: tried again next sweep.
                tracing::warn!(record = %r.record.to_hex(), error = %e, "face re-check failed");
                continue;
            }
        };
        let check = ServerFaceCheck {
            photo: r.photo,
            reference: r.reference,
            model: measured.0,
            outcome: measured.1,
            checked_ms: now_ms,
        };
        let kept = store.write(|tx| keep(tx, &r.record, &check, now_ms))?;
        if kept {
            metrics::counter!("sync_face_rechecks_total").increment(1);
            done.push((r.record, check));
        }
    }
    Ok(done)
}

/// Store a re-check and, the first time, its findings for regulators.
fn keep(tx: &mut dyn Tx, record: &Hash, check: &ServerFaceCheck, now_ms: i64) -> Result<bool> {
    if !tx.insert_face_recheck(record, check)? {
        return Ok(false);
    }
    let row = tx.record(record)?.ok_or_else(|| StoreError::Corrupt("a re-checked record vanished".into()))?;
    let rec = decode_stored(&row)?;
    for v in face_recheck::record_findings(rec.body(), Some(check)) {
        metrics::counter!("sync_face_recheck_findings_total", "code" => v.code()).increment(1);
        let f = serde_json::to_string(&Finding::from(&v)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.insert_violation(record, row.project.as_deref(), &f, now_ms)?;
    }
    Ok(true)
}

/// [`recheck`] from async code, on a blocking thread; failures are logged
/// (a re-check missed now is picked up by the sweep).
pub async fn recheck_async(state: &crate::AppState, which: Pending) {
    let s = state.clone();
    let r =
        tokio::task::spawn_blocking(move || recheck(&s.store, &s.media(), &s.face_recheck, &which, s.now()))
            .await;
    match r {
        Ok(Ok(done)) if !done.is_empty() => tracing::info!(records = done.len(), "faces re-checked"),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "face re-check failed; the sweep retries"),
        Err(e) => tracing::warn!(error = %e, "face re-check panicked; the sweep retries"),
    }
}
