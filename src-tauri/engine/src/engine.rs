//! The engine's API: the same calls the UI and the tests make.
//!
//! Local operations (capture, validate, sign, list) are synchronous and work
//! with no network; network operations (enroll, sync, lab verification) are
//! async. Every record is validated with the shared rules (`check_draft`)
//! *before* it is signed, and committed with its media and outbox entry in
//! one SQLite transaction.

use crate::client::{Client, ClientError};
use crate::clock::DeviceClock;
use crate::db;
use crate::handshake::HandshakeOffer;
use crate::media::{MediaError, MediaStore};
use crate::vault::{Vault, VaultError};
use custody_core::custody::{self, SpecimenState, Step};
use custody_core::log::{Receipt, SignedCheckpoint, verify_consistency};
use custody_core::model::{Id, PersonRole};
use custody_core::place::{self, CoPresence, Fix};
use custody_core::protocol::*;
use custody_core::record::*;
use custody_core::time::{self, HeldAnchor, TimeAnchor, TimeContext, TimeEvidence};
use custody_core::verify::{self, Disposition, Lang, Rule, TagFacts, Verdict, VerifyContext, Violation};
use custody_core::{Hash, SigningKey, TagCode};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Everything that can go wrong, each with a message for the person holding
/// the phone, in Chinese and English.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("this device is not enrolled yet: scan the enrollment QR")]
    NotEnrolled,
    #[error("this device is already enrolled")]
    AlreadyEnrolled,
    #[error(
        "not authorised as {role:?} on this project (letter of authorisation / real-name check missing, expired or revoked, R1)"
    )]
    NotAuthorised { role: PersonRole, project: Option<String> },
    #[error("tag {0} is not registered for any project you work on (R16)")]
    UnknownTag(String),
    #[error("tag {tag} is already bound to a specimen (R6)")]
    TagAlreadyUsed { tag: String },
    #[error("the rules refuse this record: {}", .0.iter().map(|f| f.message_en.clone()).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Finding>),
    #[error("please confirm: {}", .0.iter().map(|f| f.message_en.clone()).collect::<Vec<_>>().join("; "))]
    NeedsConfirmation(Vec<Finding>),
    #[error("{en}")]
    Invalid { zh: String, en: String },
    #[error(transparent)]
    Network(#[from] ClientError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> EngineError {
        EngineError::Db(db::DbError::Sqlite(e))
    }
}

impl EngineError {
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> EngineError {
        EngineError::Invalid { zh: zh.into(), en: en.into() }
    }

    /// A stable code for the UI to match on.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotEnrolled => "not_enrolled",
            EngineError::AlreadyEnrolled => "already_enrolled",
            EngineError::NotAuthorised { .. } => "not_authorised",
            EngineError::UnknownTag(_) => "unknown_tag",
            EngineError::TagAlreadyUsed { .. } => "tag_already_used",
            EngineError::Refused(_) => "refused",
            EngineError::NeedsConfirmation(_) => "needs_confirmation",
            EngineError::Invalid { .. } => "invalid",
            EngineError::Network(ClientError::Network(_)) => "offline",
            EngineError::Network(_) => "server",
            EngineError::Db(_) => "storage",
            EngineError::Media(_) => "media",
            EngineError::Vault(_) => "keys",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            EngineError::NotEnrolled => "本机尚未注册：请扫描注册二维码".into(),
            EngineError::AlreadyEnrolled => "本机已注册".into(),
            EngineError::NotAuthorised { role, .. } => {
                let r = match role {
                    PersonRole::Sampler => "取样员",
                    PersonRole::Witness => "见证员",
                    PersonRole::LabReceiver => "收样员",
                    _ => "该角色",
                };
                format!("您在本项目没有有效的{r}授权（授权书或实名认证缺失、过期或已撤销，R1）")
            }
            EngineError::UnknownTag(t) => format!("标识 {t} 未在您参与的项目中登记（R16）"),
            EngineError::TagAlreadyUsed { tag } => format!("标识 {tag} 已绑定过样品，不能重复使用（R6）"),
            EngineError::Refused(f) => format!(
                "不符合规定：{}",
                f.iter().map(|x| x.message_zh.clone()).collect::<Vec<_>>().join("；")
            ),
            EngineError::NeedsConfirmation(f) => {
                format!("请确认：{}", f.iter().map(|x| x.message_zh.clone()).collect::<Vec<_>>().join("；"))
            }
            EngineError::Invalid { zh, .. } => zh.clone(),
            EngineError::Network(e) => e.message_zh(),
            EngineError::Db(e) => format!("本机数据库错误：{e}"),
            EngineError::Media(e) => format!("照片/视频文件错误：{e}"),
            EngineError::Vault(e) => format!("密钥错误：{e}"),
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// What is on the phone about the enrolled person and server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    pub server_url: String,
    pub server_key: custody_core::PublicKey,
    pub tls_pin: Option<Hash>,
    pub profile: DeviceProfile,
}

/// Sensor results a custody step carries (from the capture pipeline).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FieldEvidence {
    pub media: Vec<MediaRef>,
    pub fixes: Vec<Fix>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamplingInput {
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub seal: Option<String>,
    pub project: Id,
    pub unit_project: Id,
    pub specimen: Specimen,
    pub face: FaceCheck,
    pub evidence: FieldEvidence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WitnessInput {
    pub sampling: Hash,
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub face: FaceCheck,
    pub hand_signature: Option<Hash>,
    pub remarks: String,
    pub evidence: FieldEvidence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommissionInput {
    pub form_no: String,
    pub lab: Id,
    pub witness: Id,
    /// Pairs of (sampling record, witnessing record) to send to the lab.
    pub items: Vec<(Hash, Hash)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptInput {
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub commission: Hash,
    pub decision: ReceiptDecision,
}

/// A record made: its id and what the rules said besides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: Hash,
    pub seq: u64,
    pub kind: String,
    pub warnings: Vec<Finding>,
    pub notices: Vec<Finding>,
}

/// A sampling waiting for its witness, with its countdown (R8).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenSampling {
    pub record: Hash,
    pub tag: String,
    pub tag_printed: String,
    pub kind: String,
    pub author: String,
    pub sampled_ms: i64,
    pub deadline_ms: i64,
    pub remaining_ms: i64,
    pub mine: bool,
    /// Where it came from: "own", "feed" (through the server) or "qr".
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alarm {
    pub kind: String,
    pub message_zh: String,
    pub message_en: String,
    pub created_ms: i64,
}

/// What the UI shows about syncing, always.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub person_name: Option<String>,
    pub org_name: Option<String>,
    pub pending_records: u64,
    pub pending_media: u64,
    pub pending_media_bytes: u64,
    pub refused_records: u64,
    pub rejected_records: u64,
    pub last_sync_ms: Option<i64>,
    pub last_error_zh: Option<String>,
    pub last_error_en: Option<String>,
    pub alarms: Vec<Alarm>,
    /// Whether the device holds a server time anchor for this boot.
    pub time_anchored: bool,
}

/// One record as the history and detail screens show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordView {
    pub id: Hash,
    pub kind: String,
    pub kind_zh: String,
    pub mine: bool,
    pub seq: u64,
    pub author: String,
    pub tags: Vec<String>,
    /// pending, accepted, refused, deferred, rejected (own); the server's status (peers).
    pub state: String,
    pub findings: Vec<Finding>,
    pub created_ms: i64,
    pub receipt_verified: bool,
    pub log_index: Option<u64>,
    pub media: Vec<MediaView>,
    pub body: RecordBody,
    pub cosigners: Vec<String>,
}

/// What this phone knows about a record besides its bytes.
struct Known {
    mine: bool,
    state: String,
    findings: Vec<Finding>,
    receipt: Option<Receipt>,
    log_index: Option<u64>,
}

/// What a sync pass did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncReport {
    pub uploaded: usize,
    pub accepted: usize,
    pub refused: usize,
    pub deferred: usize,
    pub rejected: usize,
    pub media_bytes: u64,
    pub media_completed: usize,
    pub received: usize,
    pub cosignatures: usize,
}

/// Chunk size for media uploads: small enough to resume cheaply on a bad
/// mobile link, large enough to keep request overhead low.
pub const MEDIA_CHUNK: usize = 512 * 1024;
/// Records per upload request (the server accepts up to 500).
pub const UPLOAD_BATCH: usize = 100;

pub struct Engine {
    conn: Mutex<Connection>,
    media: MediaStore,
    key: SigningKey,
    clock: Arc<dyn DeviceClock>,
    /// Correction learned from a `clock_skew` answer (ms to add to our estimate).
    server_offset: Mutex<i64>,
    sync_lock: tokio::sync::Mutex<()>,
    pub(crate) wake: tokio::sync::Notify,
    data_dir: PathBuf,
}

fn now_wall() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn kind_order(k: RecordKind) -> u8 {
    match k {
        RecordKind::Sampling => 0,
        RecordKind::Witnessing => 1,
        RecordKind::Commission => 2,
        RecordKind::LabReceipt => 3,
        RecordKind::TestData => 4,
        RecordKind::Report => 5,
        _ => 9,
    }
}

fn finding(code: &str, rule: Rule, disposition: Disposition, zh: String, en: String) -> Finding {
    Finding {
        code: code.into(),
        rule,
        disposition,
        message_zh: zh,
        message_en: en,
        detail: serde_json::Value::Null,
    }
}

fn state_str(s: RecordStatus) -> &'static str {
    match s {
        RecordStatus::Accepted => "accepted",
        RecordStatus::Refused => "refused",
        RecordStatus::Deferred => "deferred",
        RecordStatus::Rejected => "rejected",
    }
}

impl Engine {
    /// Open (or create) the engine's data in `dir`, with the device's keys
    /// from `vault`.
    pub fn open(dir: &Path, vault: &Vault, clock: Arc<dyn DeviceClock>) -> Result<Engine> {
        std::fs::create_dir_all(dir).map_err(MediaError::Io)?;
        let conn = db::open(&dir.join("field.sqlite"))?;
        let media = MediaStore::open(&dir.join("media"), vault.face_key()?).map_err(MediaError::Io)?;
        Ok(Engine {
            conn: Mutex::new(conn),
            media,
            key: vault.signing_key()?,
            clock,
            server_offset: Mutex::new(0),
            sync_lock: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            data_dir: dir.to_owned(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn device_key(&self) -> custody_core::PublicKey {
        self.key.public()
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ------------------------------------------------------------ enrollment

    pub fn enrollment(&self) -> Result<Option<Enrollment>> {
        let c = self.db();
        let row: Option<(String, String, Option<String>, String)> = c
            .query_row(
                "SELECT server_url, server_key, tls_pin, profile FROM enrollment WHERE id = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(url, key, pin, profile)| {
            Ok(Enrollment {
                server_url: url,
                server_key: key
                    .parse()
                    .map_err(|_| EngineError::invalid("登记的服务器公钥损坏", "stored server key damaged"))?,
                tls_pin: pin.and_then(|p| p.parse().ok()),
                profile: serde_json::from_str(&profile)
                    .map_err(|e| EngineError::invalid("登记信息损坏", e.to_string()))?,
            })
        })
        .transpose()
    }

    fn enrolled(&self) -> Result<Enrollment> {
        self.enrollment()?.ok_or(EngineError::NotEnrolled)
    }

    fn client(&self, e: &Enrollment) -> Client {
        Client::new(&e.server_url, e.tls_pin)
    }

    /// Scan the server's one-time enrollment QR (R1): binds this device's key
    /// to the person, pins the server's key and certificate.
    pub async fn enroll(&self, offer_qr: &str, label: &str, platform: &str) -> Result<DeviceProfile> {
        let offer = EnrollmentOffer::from_qr(offer_qr).map_err(|_| {
            EngineError::invalid("这不是本系统的注册二维码", "not an enrollment QR of this system")
        })?;
        if self.enrollment()?.is_some() {
            return Err(EngineError::AlreadyEnrolled);
        }
        if offer.server_url.starts_with("https://") && offer.tls_cert_sha256.is_none() {
            return Err(EngineError::invalid(
                "注册二维码缺少服务器证书指纹，无法安全连接",
                "the QR lacks the server certificate's fingerprint",
            ));
        }
        let client = Client::new(&offer.server_url, offer.tls_cert_sha256);
        let sent = self.clock.mono_ms();
        let req = EnrollRequest {
            code: offer.code.clone(),
            device: self.key.public(),
            label: label.into(),
            platform: platform.into(),
            boot_id: self.clock.boot_id(),
            mono_ms: sent,
            proof: self.key.sign(custody_core::crypto::Domain::DeviceRequest, offer.code.as_bytes()),
        };
        let resp: EnrollResponse = client.post_open("/v1/enroll", &req).await?;
        let trusted = [offer.server_key];
        if !resp.anchor.verify(&trusted)
            || resp.checkpoint.verify(&trusted).is_err()
            || !resp.profile.server_keys.contains(&offer.server_key)
        {
            return Err(EngineError::invalid(
                "服务器的签名与二维码中的公钥不符：可能连接到了冒充的服务器",
                "the server's signatures do not match the key in the QR: possibly an impostor",
            ));
        }
        let received = self.clock.mono_ms().max(sent);
        let now = now_wall();
        let c = self.db();
        c.execute(
            "INSERT INTO enrollment (id, server_url, server_key, tls_pin, person, profile, enrolled_ms, updated_ms) VALUES (0,?1,?2,?3,?4,?5,?6,?6)",
            params![
                offer.server_url,
                offer.server_key.to_b64(),
                offer.tls_cert_sha256.map(|h| h.to_hex()),
                resp.profile.person.id.as_str(),
                serde_json::to_string(&resp.profile).expect("profile serialises"),
                now
            ],
        )?;
        store_anchor(&c, &resp.anchor, &self.clock.boot_id(), received)?;
        c.execute(
            "INSERT OR IGNORE INTO checkpoints (size, checkpoint, received_ms) VALUES (?1,?2,?3)",
            params![
                resp.checkpoint.checkpoint.size as i64,
                serde_json::to_string(&resp.checkpoint).expect("serialises"),
                now
            ],
        )?;
        Ok(resp.profile)
    }

    // ------------------------------------------------------------ time

    fn latest_anchor(&self, c: &Connection) -> Result<Option<(String, u64, TimeAnchor)>> {
        let r: Option<(String, i64, String)> = c
            .query_row(
                "SELECT boot_id, received_mono_ms, anchor FROM anchors ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(r.and_then(|(b, m, a)| serde_json::from_str(&a).ok().map(|a| (b, m as u64, a))))
    }

    /// The device's best estimate of the real (server) time: from the last
    /// anchor received on this boot and the uptime since, else the wall clock.
    pub fn now_estimate(&self) -> i64 {
        let c = self.db();
        self.now_estimate_with(&c)
    }

    /// As [`Self::now_estimate`], with the database connection already held.
    fn now_estimate_with(&self, c: &Connection) -> i64 {
        self.base_estimate_with(c) + *self.server_offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The estimate before any correction learned from the server.
    fn base_estimate_with(&self, c: &Connection) -> i64 {
        let boot = self.clock.boot_id();
        let anchored = c
            .query_row(
                "SELECT received_mono_ms, anchor FROM anchors WHERE boot_id = ?1 ORDER BY id DESC LIMIT 1",
                params![boot],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .ok()
            .flatten()
            .and_then(|(m, a)| serde_json::from_str::<TimeAnchor>(&a).ok().map(|a| (m as u64, a)));
        match anchored {
            Some((recv, a)) => a.body.server_ms + self.clock.mono_ms().saturating_sub(recv) as i64,
            None => self.clock.wall_ms(),
        }
    }

    fn time_evidence(&self, c: &Connection) -> Result<TimeEvidence> {
        let anchor = self
            .latest_anchor(c)?
            .map(|(_, received, anchor)| HeldAnchor { anchor, received_mono_ms: received });
        Ok(TimeEvidence {
            wall_ms: self.clock.wall_ms(),
            boot_id: self.clock.boot_id(),
            mono_ms: self.clock.mono_ms(),
            anchor,
        })
    }

    // ------------------------------------------------------------ media

    /// Store a captured photo, video frame or drawing; returns the reference
    /// a record names. Face photos are sealed at rest (PIPL).
    pub fn store_media(&self, bytes: &[u8], purpose: MediaPurpose, media_type: &str) -> Result<MediaRef> {
        if bytes.is_empty() {
            return Err(EngineError::invalid("文件为空", "empty file"));
        }
        let sha = self.media.put(bytes, purpose == MediaPurpose::Face)?;
        Ok(MediaRef {
            sha256: sha,
            size: bytes.len() as u64,
            media_type: media_type.into(),
            purpose,
            captured_mono_ms: Some(self.clock.mono_ms()),
        })
    }

    /// Store a large file (a process video) by streaming it.
    pub fn store_media_file(&self, path: &Path, purpose: MediaPurpose, media_type: &str) -> Result<MediaRef> {
        if purpose == MediaPurpose::Face {
            let bytes = std::fs::read(path).map_err(MediaError::Io)?;
            return self.store_media(&bytes, purpose, media_type);
        }
        let (sha, size) = self.media.put_file(path)?;
        Ok(MediaRef {
            sha256: sha,
            size,
            media_type: media_type.into(),
            purpose,
            captured_mono_ms: Some(self.clock.mono_ms()),
        })
    }

    /// The plain bytes of a stored media file (for display, the PDF form …).
    pub fn media_bytes(&self, sha: &Hash) -> Result<Vec<u8>> {
        let sealed: Option<bool> = self
            .db()
            .query_row(
                "SELECT sealed FROM media WHERE sha256 = ?1",
                params![sha.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        let sealed = match sealed {
            Some(s) => s,
            None => self.media.exists(sha, true),
        };
        Ok(self.media.read(sha, sealed)?)
    }

    /// Free space by removing a local copy — only once the server holds it.
    pub fn delete_media(&self, sha: &Hash) -> Result<()> {
        let row: Option<(bool, bool)> = self
            .db()
            .query_row(
                "SELECT complete, sealed FROM media WHERE sha256 = ?1",
                params![sha.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((true, sealed)) => Ok(self.media.remove(sha, sealed).map_err(MediaError::Io)?),
            Some((false, _)) => Err(EngineError::invalid(
                "该文件尚未上传到服务器，不能删除",
                "this file has not reached the server yet and cannot be deleted",
            )),
            None => Err(EngineError::invalid("没有这个文件", "no such file")),
        }
    }

    // ------------------------------------------------------------ local knowledge

    fn profile(&self) -> Result<DeviceProfile> {
        Ok(self.enrolled()?.profile)
    }

    /// Every record this phone holds that names a tag, own and received.
    fn records_for_tag(&self, c: &Connection, tag: &str) -> Result<Vec<(SignedRecord, bool, String)>> {
        let mut out = Vec::new();
        let mut st = c.prepare_cached(
            "SELECT o.envelope, 1, o.state FROM record_tags t JOIN own_records o ON o.id = t.record WHERE t.tag = ?1 \
             UNION ALL SELECT p.envelope, 0, coalesce(p.status, 'accepted') FROM record_tags t JOIN peer_records p ON p.id = t.record WHERE t.tag = ?1",
        )?;
        let rows = st.query_map(params![tag], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?, r.get::<_, String>(2)?))
        })?;
        for row in rows {
            let (env, mine, state) = row?;
            if let Ok(rec) = SignedRecord::from_bytes(&env) {
                out.push((rec, mine, state));
            }
        }
        Ok(out)
    }

    /// A tag's custody state as far as this phone knows (its own records,
    /// even unsynced, and what the server sent it).
    fn local_state(&self, c: &Connection, tag: &TagCode) -> Result<SpecimenState> {
        let mut steps: Vec<(u8, u64, Step)> = Vec::new();
        for (rec, _mine, state) in self.records_for_tag(c, tag.as_str())? {
            if matches!(state.as_str(), "refused" | "rejected" | "deferred") {
                continue;
            }
            for (t, step) in Step::from_payload(rec.id(), &rec.body().payload) {
                if &t == tag {
                    steps.push((kind_order(rec.body().kind()), rec.body().seq, step));
                }
            }
        }
        steps.sort_by_key(|(k, seq, _)| (*k, *seq));
        let mut s = SpecimenState::UNBOUND;
        for (_, _, step) in &steps {
            if let Ok(next) = custody::apply(&s, step) {
                s = next;
            }
        }
        Ok(s)
    }

    fn record_by_id(&self, c: &Connection, id: &Hash) -> Result<Option<(SignedRecord, bool)>> {
        let own: Option<Vec<u8>> = c
            .query_row(
                "SELECT envelope FROM own_records WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(e) = own {
            return Ok(SignedRecord::from_bytes(&e).ok().map(|r| (r, true)));
        }
        let peer: Option<Vec<u8>> = c
            .query_row(
                "SELECT envelope FROM peer_records WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(peer.and_then(|e| SignedRecord::from_bytes(&e).ok()).map(|r| (r, false)))
    }

    fn time_context(&self, profile: &DeviceProfile) -> TimeContext {
        TimeContext { server_keys: profile.server_keys.clone(), ..TimeContext::default() }
    }

    /// The verification context from what the phone holds offline.
    fn draft_context(
        &self,
        c: &Connection,
        body: &RecordBody,
        profile: &DeviceProfile,
    ) -> Result<VerifyContext> {
        let mut tags = BTreeMap::new();
        for t in body.payload.tags() {
            let batch =
                profile.projects.iter().flat_map(|p| p.tag_batches.iter()).find(|b| b.contains(t)).cloned();
            tags.insert(t.clone(), TagFacts { batch, state: self.local_state(c, t)? });
        }
        let mut referenced = BTreeMap::new();
        for r in body.payload.references() {
            if let Some((rec, _)) = self.record_by_id(c, &r)? {
                let b = rec.body();
                let t = time::assess(
                    &b.evidence.time,
                    &b.device,
                    &b.evidence.fixes,
                    &self.time_context(profile),
                    &profile.policy,
                );
                let cosigners = rec.cosigs().iter().map(|x| x.author.clone()).collect();
                referenced.insert(r, verify::Referenced { record: rec, time: t, cosigners });
            }
        }
        Ok(VerifyContext {
            policy: profile.policy.clone(),
            server_keys: profile.server_keys.clone(),
            device: Some(verify::DeviceFacts {
                person: profile.person.id.clone(),
                org: profile.org.id.clone(),
                org_role: profile.org_role,
                revoked_at_ms: profile.device_revoked_ms,
            }),
            chain_tail: None,
            time: self.time_context(profile),
            grants: profile
                .grants
                .iter()
                .map(|g| verify::Grant {
                    grant: g.grant.clone(),
                    role: g.role,
                    project: g.project.clone(),
                    valid_from_ms: g.valid_from_ms,
                    valid_until_ms: g.valid_until_ms,
                    revoked_at_ms: g.revoked_at_ms,
                    face_reference: g.face_reference,
                })
                .collect(),
            tags,
            referenced,
            unit_projects: profile
                .projects
                .iter()
                .flat_map(|p| p.unit_projects.iter())
                .map(|u| (u.id.clone(), u.clone()))
                .collect(),
            lab_assignments: profile.projects.iter().flat_map(|p| p.labs.iter().cloned()).collect(),
            cosigners: BTreeMap::new(),
            directory: Default::default(),
            trail_findings: Vec::new(),
            judged_at_ms: None,
            draft: true,
            signatures_verified: false,
        })
    }

    /// Validate a draft; typed errors for what must not be signed, the
    /// findings that need the person's confirmation, and notices.
    fn judge(
        &self,
        verdict: &Verdict,
        extra_warnings: Vec<Finding>,
        ignore_missing: &[Hash],
        confirm: bool,
    ) -> Result<(Vec<Finding>, Vec<Finding>)> {
        let mut errors = Vec::new();
        let mut warnings = extra_warnings;
        let mut notices = Vec::new();
        for v in &verdict.violations {
            if let Violation::MissingReference { record } = v
                && ignore_missing.contains(record)
            {
                continue;
            }
            match v {
                Violation::NotAuthorised { role, project } => {
                    return Err(EngineError::NotAuthorised {
                        role: *role,
                        project: project.as_ref().map(|p| p.to_string()),
                    });
                }
                Violation::OrgCannotHoldRole { role, .. } => {
                    return Err(EngineError::NotAuthorised { role: *role, project: None });
                }
                Violation::AuthorisationInvalidAtTime { .. } => {
                    return Err(EngineError::Refused(vec![Finding::from(v)]));
                }
                Violation::TagUnknown { tag } => return Err(EngineError::UnknownTag(tag.printed())),
                Violation::Custody { tag, error: custody::CustodyError::TagAlreadyBound { .. } } => {
                    return Err(EngineError::TagAlreadyUsed { tag: tag.printed() });
                }
                _ => {}
            }
            // The phone's own clock findings: the record's time comes from
            // anchors, so these never block signing. The person is told (so
            // the clock gets fixed) and the server records them.
            let about_this_clock = matches!(
                v,
                Violation::ClockSkew { .. }
                    | Violation::GnssMismatch { .. }
                    | Violation::ClaimOutsideProven { .. }
                    | Violation::AnchorInvalid
                    | Violation::MonotonicInconsistent
            );
            match v.disposition() {
                _ if about_this_clock => notices.push(Finding::from(v)),
                Disposition::Reject | Disposition::Refuse | Disposition::Defer => {
                    errors.push(Finding::from(v))
                }
                Disposition::Flag => warnings.push(Finding::from(v)),
                Disposition::Notice => notices.push(Finding::from(v)),
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Refused(errors));
        }
        if !warnings.is_empty() && !confirm {
            return Err(EngineError::NeedsConfirmation(warnings));
        }
        Ok((warnings, notices))
    }

    /// Sign the next record in this device's chain and commit it with its
    /// media and outbox entry, in one transaction.
    fn commit(&self, payload: Payload, media: Vec<MediaRef>, fixes: Vec<Fix>) -> Result<(SignedRecord, u64)> {
        let mut c = self.db();
        let time = self.time_evidence(&c)?;
        let profile: DeviceProfile = {
            let p: String = c
                .query_row("SELECT profile FROM enrollment WHERE id = 0", [], |r| r.get(0))
                .optional()?
                .ok_or(EngineError::NotEnrolled)?;
            serde_json::from_str(&p).map_err(|e| EngineError::invalid("登记信息损坏", e.to_string()))?
        };
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let head: Option<(i64, Vec<u8>)> = tx
            .query_row("SELECT seq, id FROM own_records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (seq, prev) = match head {
            Some((s, id)) => (
                s as u64 + 1,
                Some(Hash(
                    id.try_into()
                        .map_err(|_| EngineError::invalid("本机记录链损坏", "local chain damaged"))?,
                )),
            ),
            None => (0, None),
        };
        let body = RecordBody {
            v: FORMAT_VERSION,
            device: self.key.public(),
            author: profile.person.id.clone(),
            seq,
            prev,
            payload,
            evidence: Evidence { media, fixes, time },
        };
        let rec = SignedRecord::sign(body, &self.key).expect("the device key signs its own records");
        let id = rec.id();
        tx.execute(
            "INSERT INTO own_records (seq, id, kind, envelope, created_wall_ms, state) VALUES (?1,?2,?3,?4,?5,'pending')",
            params![seq as i64, id.as_bytes().as_slice(), rec.body().kind().as_str(), rec.to_bytes(), rec.body().evidence.time.wall_ms],
        )?;
        for t in rec.body().payload.tags() {
            tx.execute(
                "INSERT OR IGNORE INTO record_tags (tag, record) VALUES (?1,?2)",
                params![t.as_str(), id.as_bytes().as_slice()],
            )?;
        }
        for m in &rec.body().evidence.media {
            tx.execute(
                "INSERT OR IGNORE INTO media (sha256, size, media_type, purpose, sealed, created_ms) VALUES (?1,?2,?3,?4,?5,?6)",
                params![
                    m.sha256.as_bytes().as_slice(),
                    m.size as i64,
                    m.media_type,
                    serde_json::to_value(m.purpose).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                    m.purpose == MediaPurpose::Face,
                    now_wall()
                ],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO record_media (record, sha256) VALUES (?1,?2)",
                params![id.as_bytes().as_slice(), m.sha256.as_bytes().as_slice()],
            )?;
        }
        tx.commit()?;
        drop(c);
        self.wake.notify_one();
        Ok((rec, seq))
    }

    fn check_media_present(&self, media: &[MediaRef]) -> Result<()> {
        for m in media {
            if !self.media.exists(&m.sha256, m.purpose == MediaPurpose::Face) {
                return Err(EngineError::invalid(
                    "照片或视频未保存到本机，请重新拍摄",
                    format!(
                        "media {} is not stored on this device: capture it again",
                        &m.sha256.to_hex()[..12]
                    ),
                ));
            }
        }
        Ok(())
    }

    fn created(
        &self,
        rec: &SignedRecord,
        seq: u64,
        warnings: Vec<Finding>,
        notices: Vec<Finding>,
    ) -> Created {
        Created { id: rec.id(), seq, kind: rec.body().kind().as_str().into(), warnings, notices }
    }

    /// R6-R7: bind a tag to a specimen, with face check, fixes and photos.
    pub fn create_sampling(&self, input: SamplingInput, confirm: bool) -> Result<Created> {
        let profile = self.profile()?;
        self.check_media_present(&input.evidence.media)?;
        let payload = Payload::Sampling(Sampling {
            tag: input.tag,
            tag_read: input.tag_read,
            seal: input.seal,
            project: input.project,
            unit_project: input.unit_project,
            specimen: input.specimen,
            face: input.face,
        });
        let (warnings, notices) = {
            let c = self.db();
            let draft = self.draft_body(&c, payload.clone(), &input.evidence, &profile)?;
            let ctx = self.draft_context(&c, &draft, &profile)?;
            let verdict = verify::check_draft(&draft, &ctx);
            self.judge(&verdict, vec![], &[], confirm)?
        };
        let (rec, seq) = self.commit(payload, input.evidence.media, input.evidence.fixes)?;
        Ok(self.created(&rec, seq, warnings, notices))
    }

    fn draft_body(
        &self,
        c: &Connection,
        payload: Payload,
        ev: &FieldEvidence,
        profile: &DeviceProfile,
    ) -> Result<RecordBody> {
        Ok(RecordBody {
            v: FORMAT_VERSION,
            device: self.key.public(),
            author: profile.person.id.clone(),
            seq: 0,
            prev: None,
            payload,
            evidence: Evidence {
                media: ev.media.clone(),
                fixes: ev.fixes.clone(),
                time: self.time_evidence(c)?,
            },
        })
    }

    /// The handshake QR the sampler shows the witness (R8-R9).
    pub fn handshake_qr(&self, sampling: &Hash) -> Result<String> {
        let profile = self.profile()?;
        let c = self.db();
        let Some((rec, true)) = self.record_by_id(&c, sampling)? else {
            return Err(EngineError::invalid(
                "没有这条本机取样记录",
                "no such sampling record of this device",
            ));
        };
        let Payload::Sampling(s) = &rec.body().payload else {
            return Err(EngineError::invalid("这不是取样记录", "not a sampling record"));
        };
        let sampled = self.sampled_estimate(&rec, &profile);
        let best = place::best_fix(&rec.body().evidence.fixes);
        Ok(HandshakeOffer {
            record: rec.id(),
            sig: *rec.sig(),
            device: rec.body().device,
            author: rec.body().author.clone(),
            author_name: profile.person.name.clone(),
            tag: s.tag.clone(),
            project: s.project.clone(),
            unit_project: s.unit_project.clone(),
            kind: s.specimen.kind,
            pos: best.map(|f| f.pos),
            accuracy_cm: best.map(|f| f.accuracy_cm),
            sampled_ms: sampled,
            deadline_ms: sampled + profile.policy.witness_window_ms,
        }
        .to_qr())
    }

    /// The witness scans the sampler's handshake QR: keep it for the witness record.
    pub fn receive_handshake(&self, qr: &str) -> Result<HandshakeOffer> {
        let offer = HandshakeOffer::from_qr(qr)
            .map_err(|_| EngineError::invalid("这不是取样交接二维码", "not a sampling handshake QR"))?;
        let profile = self.profile()?;
        if !profile.projects.iter().any(|p| p.project.id == offer.project) {
            return Err(EngineError::invalid(
                "该取样不属于您参与的项目",
                "this sampling is not on a project you work on",
            ));
        }
        self.db().execute(
            "INSERT OR REPLACE INTO handshakes (record, offer, received_ms) VALUES (?1,?2,?3)",
            params![
                offer.record.as_bytes().as_slice(),
                serde_json::to_string(&offer).expect("serialises"),
                now_wall()
            ],
        )?;
        Ok(offer)
    }

    fn handshake(&self, c: &Connection, record: &Hash) -> Result<Option<HandshakeOffer>> {
        let s: Option<String> = c
            .query_row(
                "SELECT offer FROM handshakes WHERE record = ?1",
                params![record.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// When a sampling was made, by the best evidence this phone has.
    fn sampled_estimate(&self, rec: &SignedRecord, profile: &DeviceProfile) -> i64 {
        let b = rec.body();
        let t = time::assess(
            &b.evidence.time,
            &b.device,
            &b.evidence.fixes,
            &self.time_context(profile),
            &profile.policy,
        );
        t.claimed.earliest_ms
    }

    /// R8: attest a sampling — one held in full (synced) or only through its
    /// handshake QR (offline).
    pub fn create_witnessing(&self, input: WitnessInput, confirm: bool) -> Result<Created> {
        let profile = self.profile()?;
        self.check_media_present(&input.evidence.media)?;
        let (payload, warnings, notices) = {
            let c = self.db();
            let full = self.record_by_id(&c, &input.sampling)?.map(|x| x.0);
            let shake = self.handshake(&c, &input.sampling)?;
            let (sig, handshake) = match (&full, &shake) {
                (_, Some(h)) => (h.sig, HandshakeMethod::Qr),
                (Some(r), None) => (*r.sig(), HandshakeMethod::Synced),
                (None, None) => {
                    return Err(EngineError::invalid(
                        "本机没有这条取样记录：请扫描取样人手机上的交接二维码，或联网同步",
                        "this phone does not hold that sampling: scan the sampler's handshake QR or sync",
                    ));
                }
            };
            let payload = Payload::Witnessing(Witnessing {
                sampling: input.sampling,
                tag: input.tag.clone(),
                tag_read: input.tag_read,
                handshake,
                sampling_sig: sig,
                face: input.face,
                hand_signature: input.hand_signature,
                remarks: input.remarks,
            });
            if let Some(h) = input.hand_signature
                && !input
                    .evidence
                    .media
                    .iter()
                    .any(|m| m.sha256 == h && m.purpose == MediaPurpose::HandSignature)
            {
                return Err(EngineError::invalid(
                    "手写签名未保存",
                    "the handwritten signature was not stored",
                ));
            }
            let mut extra = Vec::new();
            let now = self.now_estimate_with(&c);
            let (deadline, sampler_pos) = match (&full, &shake) {
                (Some(r), _) => (
                    self.sampled_estimate(r, &profile) + profile.policy.witness_window_ms,
                    place::best_fix(&r.body().evidence.fixes).cloned(),
                ),
                (None, Some(h)) => {
                    if h.tag != input.tag {
                        return Err(EngineError::Refused(vec![Finding::from(
                            &Violation::TagDiffersFromSampling { sampling_tag: h.tag.clone() },
                        )]));
                    }
                    let fix = h.pos.map(|pos| Fix {
                        pos,
                        accuracy_cm: h.accuracy_cm.unwrap_or(5000),
                        provider: place::FixProvider::Gnss,
                        mono_ms: 0,
                        gnss_time_ms: None,
                        satellites: None,
                        mock: false,
                    });
                    (h.deadline_ms, fix)
                }
                (None, None) => unreachable!("handled above"),
            };
            if now > deadline {
                let late = now - deadline + profile.policy.witness_window_ms;
                extra.push(finding(
                    "late_by_device_clock",
                    Rule::R8,
                    Disposition::Flag,
                    format!(
                        "已超过 {} 见证时限（取样后约 {}）：仍可见证，但将被标记为超时",
                        span_zh(profile.policy.witness_window_ms),
                        span_zh(late)
                    ),
                    format!(
                        "past the {} witness window (about {} after sampling): you may still witness, marked late",
                        span_en(profile.policy.witness_window_ms),
                        span_en(late)
                    ),
                ));
            }
            if full.is_none()
                && let (Some(a), Some(b)) = (sampler_pos.as_ref(), place::best_fix(&input.evidence.fixes))
                && let CoPresence::Apart { distance_m } =
                    place::co_presence(a, b, profile.policy.co_presence_max_m, profile.policy.accuracy_sigma)
            {
                extra.push(Finding::from(&Violation::NotTogether { distance_m: distance_m.round() as i64 }));
            }
            let draft = self.draft_body(&c, payload.clone(), &input.evidence, &profile)?;
            let mut ctx = self.draft_context(&c, &draft, &profile)?;
            if full.is_none()
                && let Some(h) = &shake
            {
                // Held only as a handshake: the tag's state comes from it.
                let state = SpecimenState {
                    stage: custody::Stage::Sampled,
                    sampling: Some(h.record),
                    ..SpecimenState::UNBOUND
                };
                if let Some(f) = ctx.tags.get_mut(&h.tag)
                    && f.state.stage == custody::Stage::Unbound
                {
                    f.state = state;
                }
            }
            let verdict = verify::check_draft(&draft, &ctx);
            let (w, n) = self.judge(&verdict, extra, &[input.sampling], confirm)?;
            (payload, w, n)
        };
        let (rec, seq) = self.commit(payload, input.evidence.media, input.evidence.fixes)?;
        Ok(self.created(&rec, seq, warnings, notices))
    }

    /// R10: the commission form for the lab (sampler), to be co-signed by the witness.
    pub fn create_commission(&self, input: CommissionInput, confirm: bool) -> Result<Created> {
        let profile = self.profile()?;
        if input.items.is_empty() {
            return Err(EngineError::invalid(
                "委托单至少要有一个样品",
                "a commission form needs at least one specimen",
            ));
        }
        let payload = {
            let c = self.db();
            let mut items = Vec::new();
            let mut project_unit = None;
            for (s, w) in &input.items {
                let Some((rec, _)) = self.record_by_id(&c, s)? else {
                    return Err(EngineError::invalid(
                        "本机没有该取样记录",
                        "this phone does not hold that sampling record",
                    ));
                };
                let Payload::Sampling(sp) = &rec.body().payload else {
                    return Err(EngineError::invalid("不是取样记录", "not a sampling record"));
                };
                if self.record_by_id(&c, w)?.is_none() {
                    return Err(EngineError::invalid(
                        "本机还没有该样品的见证记录：请联网同步后再出委托单",
                        "this phone does not hold the witnessing record yet: sync first",
                    ));
                }
                let pu = (sp.project.clone(), sp.unit_project.clone());
                if project_unit.as_ref().is_some_and(|x| *x != pu) {
                    return Err(EngineError::invalid(
                        "一张委托单只能包含同一单位工程的样品",
                        "one commission form covers one unit project",
                    ));
                }
                project_unit = Some(pu);
                items.push(CommissionItem {
                    tag: sp.tag.clone(),
                    sampling: *s,
                    witnessing: *w,
                    tests: sp.specimen.tests.clone(),
                });
            }
            let (project, unit_project) = project_unit.expect("at least one item");
            Payload::Commission(Commission {
                form_no: input.form_no,
                project,
                unit_project,
                lab: input.lab,
                witness: input.witness,
                items,
            })
        };
        let ev = FieldEvidence::default();
        let (warnings, notices) = {
            let c = self.db();
            let draft = self.draft_body(&c, payload.clone(), &ev, &profile)?;
            let ctx = self.draft_context(&c, &draft, &profile)?;
            let verdict = verify::check_draft(&draft, &ctx);
            self.judge(&verdict, vec![], &[], confirm)?
        };
        let (rec, seq) = self.commit(payload, vec![], vec![])?;
        Ok(self.created(&rec, seq, warnings, notices))
    }

    /// The witness co-signs a commission form it holds (R10); sent at next sync.
    pub fn cosign(&self, record: &Hash) -> Result<()> {
        let profile = self.profile()?;
        let c = self.db();
        let Some((rec, _)) = self.record_by_id(&c, record)? else {
            return Err(EngineError::invalid(
                "本机没有该委托单，请先同步",
                "this phone does not hold that commission form: sync first",
            ));
        };
        let Payload::Commission(cm) = &rec.body().payload else {
            return Err(EngineError::invalid("只能会签委托单", "only commission forms are co-signed"));
        };
        if cm.witness != profile.person.id {
            return Err(EngineError::invalid(
                "该委托单指定的见证人不是您",
                "this form names another witness",
            ));
        }
        let mut signed = rec.clone();
        signed.cosign(&self.key, profile.person.id.clone());
        let cosig =
            signed.cosigs().iter().find(|x| x.device == self.key.public()).cloned().expect("just added");
        c.execute(
            "INSERT OR REPLACE INTO cosignatures (record, cosig, state) VALUES (?1,?2,'pending')",
            params![record.as_bytes().as_slice(), serde_json::to_string(&cosig).expect("serialises")],
        )?;
        drop(c);
        self.wake.notify_one();
        Ok(())
    }

    /// R11: the lab's receipt or rejection of one scanned tag.
    pub fn create_receipt(&self, input: ReceiptInput, confirm: bool) -> Result<Created> {
        let profile = self.profile()?;
        if let ReceiptDecision::Rejected { note, reason } = &input.decision
            && *reason == RejectReason::Other
            && note.trim().is_empty()
        {
            return Err(EngineError::invalid(
                "选择“其他”时请填写拒收原因",
                "describe the reason when rejecting for 'other'",
            ));
        }
        let payload = Payload::LabReceipt(LabReceipt {
            tag: input.tag,
            tag_read: input.tag_read,
            commission: input.commission,
            decision: input.decision,
            acknowledged: vec![],
        });
        let ev = FieldEvidence::default();
        let (warnings, notices) = {
            let c = self.db();
            let draft = self.draft_body(&c, payload.clone(), &ev, &profile)?;
            let ctx = self.draft_context(&c, &draft, &profile)?;
            let verdict = verify::check_draft(&draft, &ctx);
            // The lab may not hold the commission offline: the server checks it.
            self.judge(&verdict, vec![], &[input.commission], confirm)?
        };
        let (rec, seq) = self.commit(payload, vec![], vec![])?;
        Ok(self.created(&rec, seq, warnings, notices))
    }

    // ------------------------------------------------------------ views

    /// Samplings awaiting a witness, with countdowns (R8).
    pub fn open_samplings(&self) -> Result<Vec<OpenSampling>> {
        let profile = self.profile()?;
        let c = self.db();
        let now = self.now_estimate_with(&c);
        let mut out: Vec<OpenSampling> = Vec::new();
        let mut candidates: Vec<(SignedRecord, bool, String)> = Vec::new();
        {
            let mut st = c.prepare(
                "SELECT envelope, 1, 'own' FROM own_records WHERE kind = 'sampling' AND state IN ('pending','accepted') \
                 UNION ALL SELECT envelope, 0, source FROM peer_records WHERE kind = 'sampling' AND coalesce(status,'accepted') = 'accepted'",
            )?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?, r.get::<_, String>(2)?))
            })?;
            for row in rows {
                let (env, mine, src) = row?;
                if let Ok(rec) = SignedRecord::from_bytes(&env) {
                    candidates.push((rec, mine, src));
                }
            }
        }
        for (rec, mine, source) in candidates {
            let Payload::Sampling(s) = &rec.body().payload else { continue };
            if self.local_state(&c, &s.tag)?.stage != custody::Stage::Sampled {
                continue;
            }
            let sampled = self.sampled_estimate(&rec, &profile);
            let deadline = sampled + profile.policy.witness_window_ms;
            out.push(OpenSampling {
                record: rec.id(),
                tag: s.tag.to_string(),
                tag_printed: s.tag.printed(),
                kind: s.specimen.kind.name_zh().into(),
                author: rec.body().author.to_string(),
                sampled_ms: sampled,
                deadline_ms: deadline,
                remaining_ms: deadline - now,
                mine,
                source,
            });
        }
        // Held only as handshakes (scanned, not yet synced).
        let mut st = c.prepare("SELECT offer FROM handshakes")?;
        let offers: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for o in offers {
            let Ok(h) = serde_json::from_str::<HandshakeOffer>(&o) else { continue };
            if out.iter().any(|x| x.record == h.record)
                || self.local_state(&c, &h.tag)?.stage != custody::Stage::Unbound
            {
                continue;
            }
            out.push(OpenSampling {
                record: h.record,
                tag: h.tag.to_string(),
                tag_printed: h.tag.printed(),
                kind: h.kind.name_zh().into(),
                author: h.author_name.clone(),
                sampled_ms: h.sampled_ms,
                deadline_ms: h.deadline_ms,
                remaining_ms: h.deadline_ms - now,
                mine: false,
                source: "qr".into(),
            });
        }
        out.sort_by_key(|o| o.deadline_ms);
        Ok(out)
    }

    fn view(
        &self,
        c: &Connection,
        rec: &SignedRecord,
        known: Known,
        profile: &DeviceProfile,
    ) -> Result<RecordView> {
        let Known { mine, state, findings, receipt, log_index } = known;
        let id = rec.id();
        let mut media = Vec::new();
        for m in &rec.body().evidence.media {
            let complete: Option<bool> = c
                .query_row(
                    "SELECT complete FROM media WHERE sha256 = ?1",
                    params![m.sha256.as_bytes().as_slice()],
                    |r| r.get(0),
                )
                .optional()?;
            media.push(MediaView {
                sha256: m.sha256,
                purpose: serde_json::to_value(m.purpose)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                media_type: m.media_type.clone(),
                size: m.size,
                complete: complete.unwrap_or(false),
                url: None,
            });
        }
        let receipt_verified =
            receipt.as_ref().is_some_and(|r| r.record == id && r.verify(&profile.server_keys).is_ok());
        Ok(RecordView {
            id,
            kind: rec.body().kind().as_str().into(),
            kind_zh: rec.body().kind().name_zh().into(),
            mine,
            seq: rec.body().seq,
            author: rec.body().author.to_string(),
            tags: rec.body().payload.tags().iter().map(|t| t.printed()).collect(),
            state,
            findings,
            created_ms: rec.body().evidence.time.wall_ms,
            receipt_verified,
            log_index: log_index.or(receipt.map(|r| r.leaf_index)),
            media,
            body: rec.body().clone(),
            cosigners: rec.cosigs().iter().map(|x| x.author.to_string()).collect(),
        })
    }

    /// Every record on this phone, newest first (own and received).
    pub fn history(&self, limit: usize) -> Result<Vec<RecordView>> {
        let profile = self.profile()?;
        let c = self.db();
        let mut out = Vec::new();
        let mut st = c.prepare(
            "SELECT envelope, state, findings, receipt FROM own_records ORDER BY seq DESC LIMIT ?1",
        )?;
        type OwnRow = (Vec<u8>, String, Option<String>, Option<String>);
        let rows: Vec<OwnRow> = st
            .query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (env, state, findings, receipt) in rows {
            let Ok(rec) = SignedRecord::from_bytes(&env) else { continue };
            let findings = findings.and_then(|f| serde_json::from_str(&f).ok()).unwrap_or_default();
            let receipt = receipt.and_then(|r| serde_json::from_str(&r).ok());
            out.push(self.view(
                &c,
                &rec,
                Known { mine: true, state, findings, receipt, log_index: None },
                &profile,
            )?);
        }
        let mut st = c.prepare("SELECT envelope, coalesce(status,'accepted'), log_index FROM peer_records ORDER BY received_ms DESC LIMIT ?1")?;
        let rows: Vec<(Vec<u8>, String, Option<i64>)> = st
            .query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (env, state, idx) in rows {
            let Ok(rec) = SignedRecord::from_bytes(&env) else { continue };
            out.push(self.view(
                &c,
                &rec,
                Known {
                    mine: false,
                    state,
                    findings: vec![],
                    receipt: None,
                    log_index: idx.map(|x| x as u64),
                },
                &profile,
            )?);
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.created_ms));
        out.truncate(limit);
        Ok(out)
    }

    /// The signed record itself, own or received.
    pub fn signed_record(&self, id: &Hash) -> Result<Option<SignedRecord>> {
        let c = self.db();
        Ok(self.record_by_id(&c, id)?.map(|(r, _)| r))
    }

    pub fn record(&self, id: &Hash) -> Result<Option<RecordView>> {
        let profile = self.profile()?;
        let c = self.db();
        type OwnRow = (Vec<u8>, String, Option<String>, Option<String>);
        let own: Option<OwnRow> = c
            .query_row(
                "SELECT envelope, state, findings, receipt FROM own_records WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((env, state, f, r)) = own {
            let rec = SignedRecord::from_bytes(&env)
                .map_err(|e| EngineError::invalid("本机记录损坏", e.to_string()))?;
            let f = f.and_then(|f| serde_json::from_str(&f).ok()).unwrap_or_default();
            let receipt = r.and_then(|r| serde_json::from_str(&r).ok());
            let known = Known { mine: true, state, findings: f, receipt, log_index: None };
            return Ok(Some(self.view(&c, &rec, known, &profile)?));
        }
        match self.record_by_id(&c, id)? {
            Some((rec, _)) => {
                let known = Known {
                    mine: false,
                    state: "accepted".into(),
                    findings: vec![],
                    receipt: None,
                    log_index: None,
                };
                Ok(Some(self.view(&c, &rec, known, &profile)?))
            }
            None => Ok(None),
        }
    }

    pub fn status(&self) -> Result<SyncStatus> {
        let e = self.enrollment()?;
        let boot = self.clock.boot_id();
        let c = self.db();
        let count = |sql: &str| -> rusqlite::Result<u64> {
            c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64)
        };
        let pending_records = count("SELECT count(*) FROM own_records WHERE state = 'pending'")?;
        let refused_records = count("SELECT count(*) FROM own_records WHERE state = 'refused'")?;
        let rejected_records = count("SELECT count(*) FROM own_records WHERE state = 'rejected'")?;
        let (pending_media, pending_media_bytes): (i64, i64) = c.query_row(
            "SELECT count(*), coalesce(sum(m.size - m.uploaded), 0) FROM media m WHERE m.complete = 0 AND EXISTS (SELECT 1 FROM record_media x JOIN own_records o ON o.id = x.record WHERE x.sha256 = m.sha256)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let last_sync_ms = db::meta(&c, "last_sync_ms")?.and_then(|v| v.parse().ok());
        let last_error_zh = db::meta(&c, "last_error_zh")?.filter(|s| !s.is_empty());
        let last_error_en = db::meta(&c, "last_error_en")?.filter(|s| !s.is_empty());
        let mut st = c.prepare("SELECT kind, message_zh, message_en, created_ms FROM alarms WHERE cleared_ms IS NULL ORDER BY id")?;
        let alarms = st
            .query_map([], |r| {
                Ok(Alarm {
                    kind: r.get(0)?,
                    message_zh: r.get(1)?,
                    message_en: r.get(2)?,
                    created_ms: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let time_anchored =
            c.query_row("SELECT count(*) FROM anchors WHERE boot_id = ?1", params![boot], |r| {
                r.get::<_, i64>(0)
            })? > 0;
        Ok(SyncStatus {
            enrolled: e.is_some(),
            person_name: e.as_ref().map(|e| e.profile.person.name.clone()),
            org_name: e.as_ref().map(|e| e.profile.org.name.clone()),
            pending_records,
            pending_media: pending_media as u64,
            pending_media_bytes: pending_media_bytes.max(0) as u64,
            refused_records,
            rejected_records,
            last_sync_ms,
            last_error_zh,
            last_error_en,
            alarms,
            time_anchored,
        })
    }

    fn alarm(&self, kind: &str, zh: &str, en: &str, detail: &str) -> Result<()> {
        self.db().execute(
            "INSERT INTO alarms (kind, message_zh, message_en, detail, created_ms) VALUES (?1,?2,?3,?4,?5)",
            params![kind, zh, en, detail, now_wall()],
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ sync

    fn request_ts(&self) -> i64 {
        self.now_estimate()
    }

    async fn signed<T: serde::de::DeserializeOwned>(
        &self,
        client: &Client,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> std::result::Result<T, ClientError> {
        let first =
            client.signed(&self.key, self.request_ts(), method.clone(), path, body.clone(), headers).await;
        match first {
            Err(ClientError::Api(_, e)) if e.code == "clock_skew" => {
                // Learn the server's time from the answer and retry once.
                if let Some(server_ms) = e.detail.as_ref().and_then(|d| d["server_ms"].as_i64()) {
                    let base = self.base_estimate_with(&self.db());
                    *self.server_offset.lock().unwrap_or_else(|p| p.into_inner()) = server_ms - base;
                }
                client.signed(&self.key, self.request_ts(), method, path, body, headers).await
            }
            other => other,
        }
    }

    fn device_state(&self) -> Result<DeviceState> {
        let c = self.db();
        let tail: Option<(i64, Vec<u8>)> = c
            .query_row("SELECT seq, id FROM own_records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(DeviceState {
            boot_id: self.clock.boot_id(),
            mono_ms: self.clock.mono_ms(),
            tail: tail
                .and_then(|(s, id)| id.try_into().ok().map(|a| ChainTail { seq: s as u64, id: Hash(a) })),
        })
    }

    /// Ask the server for a fresh time anchor (cheap; the app does it before
    /// a sampling when a network is there, to tighten the trusted interval).
    pub async fn refresh_time(&self) -> Result<()> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let sent = self.clock.mono_ms();
        let state = self.device_state()?;
        let r: TimeResponse = self
            .signed(
                &client,
                reqwest::Method::POST,
                "/v1/time",
                serde_json::to_vec(&state).expect("serialises"),
                &[],
            )
            .await?;
        if !r.anchor.verify(&e.profile.server_keys) {
            return Err(EngineError::invalid("服务器时间签名无效", "server time signature invalid"));
        }
        let received = self.clock.mono_ms().max(sent);
        store_anchor(&self.db(), &r.anchor, &self.clock.boot_id(), received)?;
        Ok(())
    }

    /// One sync pass: profile, records, media, co-signatures, feed. Safe to
    /// call any time; never blocks capture (the store lock is held only
    /// between network calls).
    pub async fn sync_once(&self) -> Result<SyncReport> {
        let _one = self.sync_lock.lock().await;
        let result = self.sync_inner().await;
        let c = self.db();
        match &result {
            Ok(_) => {
                db::set_meta(&c, "last_sync_ms", &now_wall().to_string())?;
                db::set_meta(&c, "last_error_zh", "")?;
                db::set_meta(&c, "last_error_en", "")?;
            }
            // Not enrolled yet is the first-run screen's business, not a sync problem.
            Err(EngineError::NotEnrolled) => {}
            Err(e) => {
                db::set_meta(&c, "last_error_zh", &e.message(Lang::ZhCn))?;
                db::set_meta(&c, "last_error_en", &e.message(Lang::En))?;
            }
        }
        result
    }

    async fn sync_inner(&self) -> Result<SyncReport> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let mut report = SyncReport::default();

        // 1. The profile (authorisations may have changed, R1).
        match self.signed::<DeviceProfile>(&client, reqwest::Method::GET, "/v1/profile", vec![], &[]).await {
            Ok(p) => {
                self.db().execute(
                    "UPDATE enrollment SET profile = ?1, updated_ms = ?2 WHERE id = 0",
                    params![serde_json::to_string(&p).expect("serialises"), now_wall()],
                )?;
            }
            Err(ClientError::Api(_, err)) if err.code == "device_revoked" => {
                self.alarm("device_revoked", &err.message_zh, &err.message_en, "")?;
                return Err(ClientError::Api(403, err).into());
            }
            Err(err) => return Err(err.into()),
        }
        let profile = self.profile()?;

        // A fresh time anchor: the records made from now on, and the
        // countdowns, rest on it (R8).
        self.refresh_time().await?;

        // 2. Records, in chain order, in batches.
        loop {
            let batch: Vec<(i64, Vec<u8>)> = {
                let c = self.db();
                let mut st = c.prepare(
                    "SELECT seq, envelope FROM own_records WHERE state = 'pending' ORDER BY seq LIMIT ?1",
                )?;
                st.query_map(params![UPLOAD_BATCH as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            if batch.is_empty() {
                break;
            }
            let records = batch
                .iter()
                .map(|(_, env)| {
                    serde_json::value::RawValue::from_string(String::from_utf8_lossy(env).into_owned())
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| EngineError::invalid("本机记录损坏", e.to_string()))?;
            let state = self.device_state()?;
            let sent = self.clock.mono_ms();
            let req = UploadRequest { state, records };
            let resp: UploadResponse = self
                .signed(
                    &client,
                    reqwest::Method::POST,
                    "/v1/records",
                    serde_json::to_vec(&req).expect("serialises"),
                    &[],
                )
                .await?;
            let received = self.clock.mono_ms().max(sent);
            self.check_checkpoint(&client, &resp.checkpoint, &profile).await?;
            let c = self.db();
            if resp.anchor.verify(&profile.server_keys) {
                store_anchor(&c, &resp.anchor, &self.clock.boot_id(), received)?;
            }
            for ((seq, _), r) in batch.iter().zip(&resp.results) {
                report.uploaded += 1;
                match r.status {
                    RecordStatus::Accepted => report.accepted += 1,
                    RecordStatus::Refused => report.refused += 1,
                    RecordStatus::Deferred => report.deferred += 1,
                    RecordStatus::Rejected => report.rejected += 1,
                }
                let receipt_ok = r
                    .receipt
                    .as_ref()
                    .is_some_and(|x| x.record == r.id && x.verify(&profile.server_keys).is_ok());
                if r.receipt.is_some() && !receipt_ok {
                    drop(c);
                    self.alarm(
                        "bad_receipt",
                        "服务器回执无效：记录可能未被真实登记",
                        "a server receipt does not verify",
                        &r.id.to_hex(),
                    )?;
                    return Err(EngineError::invalid("服务器回执无效", "server receipt invalid"));
                }
                c.execute(
                    "UPDATE own_records SET state = ?2, findings = ?3, receipt = ?4, attempts = attempts + 1, acked_ms = ?5 WHERE seq = ?1",
                    params![
                        seq,
                        state_str(r.status),
                        serde_json::to_string(&r.findings).expect("serialises"),
                        r.receipt.as_ref().map(|x| serde_json::to_string(x).expect("serialises")),
                        now_wall()
                    ],
                )?;
            }
            if resp.results.len() < batch.len() {
                return Err(EngineError::invalid("服务器应答不完整", "incomplete answer from the server"));
            }
            // A rejected record means this device's chain is broken at the
            // server: stop uploading (later ones would all be gaps), keep
            // everything, and tell the person.
            if resp.results.iter().any(|r| r.status == RecordStatus::Rejected) {
                let f = resp
                    .results
                    .iter()
                    .find(|r| r.status == RecordStatus::Rejected)
                    .and_then(|r| r.findings.first().cloned());
                drop(c);
                if let Some(f) = f {
                    self.alarm("record_rejected", &f.message_zh, &f.message_en, "")?;
                }
                break;
            }
        }

        // 3. Media of records the server holds, resumably.
        let pending: Vec<(Vec<u8>, i64, bool)> = {
            let c = self.db();
            let mut st = c.prepare(
                "SELECT m.sha256, m.size, m.sealed FROM media m WHERE m.complete = 0 AND EXISTS (SELECT 1 FROM record_media x JOIN own_records o ON o.id = x.record WHERE x.sha256 = m.sha256 AND o.state IN ('accepted','refused','deferred'))",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?
        };
        for (sha, size, sealed) in pending {
            let sha = Hash(
                sha.try_into()
                    .map_err(|_| EngineError::invalid("本机文件索引损坏", "media index damaged"))?,
            );
            let (sent, done) = self.upload_media(&client, &sha, size as u64, sealed).await?;
            report.media_bytes += sent;
            if done {
                report.media_completed += 1;
            }
        }

        // 4. Co-signatures (R10).
        let cosigs: Vec<(Vec<u8>, String)> = {
            let c = self.db();
            let mut st = c.prepare("SELECT record, cosig FROM cosignatures WHERE state = 'pending'")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
        };
        for (rec, cosig) in cosigs {
            let record = Hash(
                rec.clone()
                    .try_into()
                    .map_err(|_| EngineError::invalid("本机会签索引损坏", "co-signature index damaged"))?,
            );
            let cosig: Cosignature = serde_json::from_str(&cosig)
                .map_err(|e| EngineError::invalid("本机会签损坏", e.to_string()))?;
            let body = serde_json::to_vec(&CosignRequest { record, cosig }).expect("serialises");
            match self
                .signed::<RecordResult>(&client, reqwest::Method::POST, "/v1/cosignatures", body, &[])
                .await
            {
                Ok(r) => {
                    self.db().execute(
                        "UPDATE cosignatures SET state = 'done', findings = ?2 WHERE record = ?1",
                        params![rec, serde_json::to_string(&r.findings).expect("serialises")],
                    )?;
                    report.cosignatures += 1;
                }
                Err(ClientError::Api(404, err)) => {
                    // The form has not reached the server yet: try again next time.
                    tracing::info!("co-signature waits: {}", err.message_en);
                }
                Err(ClientError::Api(_, err)) => {
                    self.db().execute(
                        "UPDATE cosignatures SET state = 'failed', findings = ?2 WHERE record = ?1",
                        params![rec, serde_json::to_string(&err).expect("serialises")],
                    )?;
                }
                Err(err) => return Err(err.into()),
            }
        }

        // 5. What the person needs to see (feed).
        loop {
            let after: u64 = db::meta(&self.db(), "feed_cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0);
            let feed: FeedResponse = self
                .signed(
                    &client,
                    reqwest::Method::GET,
                    &format!("/v1/feed?after={after}&limit=200"),
                    vec![],
                    &[],
                )
                .await?;
            // One transaction per page: a page of 200 records costs one
            // durable commit, not 200, and the cursor moves with the data.
            let db = self.db();
            let c = db.unchecked_transaction()?;
            for item in &feed.items {
                let Ok(rec) = SignedRecord::decode_verified(item.envelope.get().as_bytes()) else {
                    tracing::warn!("feed item {} does not verify: skipped", item.log_index);
                    continue;
                };
                let id = rec.id();
                if rec.body().device == self.key.public() {
                    // Our own record: its current status and any co-signatures.
                    c.execute(
                        "UPDATE own_records SET state = ?2, envelope = ?3 WHERE id = ?1 AND state != 'pending'",
                        params![id.as_bytes().as_slice(), state_str(item.status), rec.to_bytes()],
                    )?;
                    continue;
                }
                c.execute(
                    "INSERT INTO peer_records (id, device, seq, kind, envelope, status, log_index, source, received_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,'feed',?8) \
                     ON CONFLICT(id) DO UPDATE SET envelope = excluded.envelope, status = excluded.status, log_index = excluded.log_index",
                    params![
                        id.as_bytes().as_slice(),
                        rec.body().device.0.as_slice(),
                        rec.body().seq as i64,
                        rec.body().kind().as_str(),
                        rec.to_bytes(),
                        state_str(item.status),
                        item.log_index as i64,
                        now_wall()
                    ],
                )?;
                for t in rec.body().payload.tags() {
                    c.execute(
                        "INSERT OR IGNORE INTO record_tags (tag, record) VALUES (?1,?2)",
                        params![t.as_str(), id.as_bytes().as_slice()],
                    )?;
                }
                report.received += 1;
            }
            db::set_meta(&c, "feed_cursor", &feed.next.to_string())?;
            c.commit()?;
            drop(db);
            if !feed.more {
                break;
            }
        }
        Ok(report)
    }

    /// Upload one media file from where the server's copy stops.
    async fn upload_media(
        &self,
        client: &Client,
        sha: &Hash,
        size: u64,
        sealed: bool,
    ) -> Result<(u64, bool)> {
        let status: MediaStatus =
            match self.signed(client, reqwest::Method::GET, &format!("/v1/media/{sha}"), vec![], &[]).await {
                Ok(s) => s,
                Err(ClientError::Api(404, _)) => return Ok((0, false)),
                Err(e) => return Err(e.into()),
            };
        if status.complete {
            self.mark_media(sha, size, true)?;
            return Ok((0, true));
        }
        let mut offset = status.received;
        let mut sent = 0u64;
        while offset < size {
            let chunk = self.media.read_range(sha, sealed, offset, MEDIA_CHUNK)?;
            if chunk.is_empty() {
                return Err(EngineError::invalid("本机文件不完整", "local media file is truncated"));
            }
            let headers = [(H_UPLOAD_OFFSET, offset.to_string()), (H_UPLOAD_LENGTH, size.to_string())];
            let len = chunk.len() as u64;
            match self
                .signed::<MediaStatus>(
                    client,
                    reqwest::Method::PATCH,
                    &format!("/v1/media/{sha}"),
                    chunk,
                    &headers,
                )
                .await
            {
                Ok(s) => {
                    sent += len;
                    offset = s.received;
                    self.mark_media(sha, offset, s.complete)?;
                    if s.complete {
                        return Ok((sent, true));
                    }
                }
                Err(ClientError::Api(409, e)) => {
                    // The server has a different amount: resume from there.
                    offset = e.detail.as_ref().and_then(|d| d["received"].as_u64()).unwrap_or(0);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok((sent, false))
    }

    fn mark_media(&self, sha: &Hash, uploaded: u64, complete: bool) -> Result<()> {
        self.db().execute(
            "UPDATE media SET uploaded = ?2, complete = ?3 WHERE sha256 = ?1",
            params![sha.as_bytes().as_slice(), uploaded as i64, complete],
        )?;
        Ok(())
    }

    /// Each new checkpoint must extend the last one this device saw; a log
    /// that does not is a loud, persistent alarm (R14).
    async fn check_checkpoint(
        &self,
        client: &Client,
        new: &SignedCheckpoint,
        profile: &DeviceProfile,
    ) -> Result<()> {
        if new.verify(&profile.server_keys).is_err() {
            self.alarm(
                "bad_checkpoint",
                "服务器日志签名无效",
                "the server's log checkpoint signature is invalid",
                "",
            )?;
            return Err(EngineError::invalid("服务器日志签名无效", "log checkpoint signature invalid"));
        }
        let old: Option<SignedCheckpoint> = {
            let c = self.db();
            c.query_row("SELECT checkpoint FROM checkpoints ORDER BY size DESC LIMIT 1", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .and_then(|s| serde_json::from_str(&s).ok())
        };
        // Extends what we saw before, and the checkpoint just received is in
        // that same history.
        let consistent = match &old {
            None => true,
            Some(o) if o.checkpoint == new.checkpoint || o.checkpoint.size == 0 => true,
            Some(o) => {
                self.consistency_to_latest(client, &o.checkpoint, profile).await?
                    && self.consistency_to_latest(client, &new.checkpoint, profile).await?
            }
        };
        if !consistent {
            self.alarm(
                "log_inconsistent",
                "服务器的防篡改日志与本机上次所见不一致：记录可能被删改，请立即报告监督机构",
                "the server's transparency log is inconsistent with what this device saw: records may have been altered; report it",
                &serde_json::to_string(&(old, new)).unwrap_or_default(),
            )?;
            return Err(EngineError::invalid("服务器日志不一致", "server log inconsistent"));
        }
        self.db().execute(
            "INSERT OR IGNORE INTO checkpoints (size, checkpoint, received_ms) VALUES (?1,?2,?3)",
            params![new.checkpoint.size as i64, serde_json::to_string(new).expect("serialises"), now_wall()],
        )?;
        Ok(())
    }

    /// Whether the server's latest checkpoint provably extends `from`.
    async fn consistency_to_latest(
        &self,
        client: &Client,
        from: &custody_core::log::Checkpoint,
        profile: &DeviceProfile,
    ) -> Result<bool> {
        if from.size == 0 {
            return Ok(true);
        }
        let r: ConsistencyResponse = self
            .signed(
                client,
                reqwest::Method::GET,
                &format!("/v1/log/consistency?from={}", from.size),
                vec![],
                &[],
            )
            .await?;
        Ok(r.checkpoint.verify(&profile.server_keys).is_ok()
            && verify_consistency(from, &r.checkpoint.checkpoint, &r.proof).is_ok())
    }

    /// Download a media file from the server (a trail's photos for the lab).
    pub async fn fetch_media(&self, sha: &Hash) -> Result<Vec<u8>> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let path = format!("/v1/media/{sha}/content");
        let auth_ts = self.request_ts();
        let bytes = client.get_bytes(&self.key, auth_ts, &path).await?;
        if Hash::of(&bytes) != *sha {
            return Err(EngineError::invalid(
                "下载的文件与其哈希不符",
                "downloaded media does not match its hash",
            ));
        }
        Ok(bytes)
    }

    /// The person's enrolled face reference (R1), for the on-device 1:1
    /// check: from the local sealed store, else fetched once and sealed.
    pub async fn face_reference(&self) -> Result<Option<Vec<u8>>> {
        let profile = self.profile()?;
        let now = self.now_estimate();
        let Some(sha) = profile
            .grants
            .iter()
            .filter(|g| g.revoked_at_ms.is_none() && g.valid_until_ms.is_none_or(|u| u > now))
            .find_map(|g| g.face_reference)
        else {
            return Ok(None);
        };
        if self.media.exists(&sha, true) {
            return Ok(Some(self.media.read(&sha, true)?));
        }
        let bytes = self.fetch_media(&sha).await?;
        self.media.put(&bytes, true)?;
        Ok(Some(bytes))
    }

    /// R11: the server's verdict on a scanned tag (lab receivers, online).
    pub async fn verify_tag(&self, code: &str) -> Result<TrailResponse> {
        let e = self.enrolled()?;
        let tag = TagCode::parse_qr(code)
            .or_else(|_| TagCode::parse_digits(code))
            .map_err(|err| EngineError::invalid(err.message_zh(), err.to_string()))?;
        let client = self.client(&e);
        let trail: TrailResponse =
            self.signed(&client, reqwest::Method::GET, &format!("/v1/lab/tags/{tag}"), vec![], &[]).await?;
        // Check the server's evidence ourselves: every receipt against the pinned key.
        for r in &trail.records {
            if r.receipt.verify(&e.profile.server_keys).is_err() || r.receipt.record != r.id {
                return Err(EngineError::invalid(
                    "服务器返回的记录回执无效",
                    "a receipt in the server's answer does not verify",
                ));
            }
        }
        Ok(trail)
    }

    /// Run sync in the background for as long as the engine lives: right
    /// after any new record, and every `interval` otherwise; on failure back
    /// off exponentially (2 s … 5 min) with jitter so a site's phones do not
    /// all retry at once.
    pub async fn run_background(
        self: Arc<Self>,
        interval: std::time::Duration,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut failures = 0u32;
        let mut stop = stop;
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match self.sync_once().await {
                Ok(_) => {
                    failures = 0;
                    interval
                }
                Err(EngineError::NotEnrolled) => interval,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::info!("sync failed ({}): {}", failures, e);
                    backoff(failures)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Exponential backoff with jitter: 2 s × 2^(n−1), capped at 5 min, ×[0.5, 1.5).
pub fn backoff(failures: u32) -> std::time::Duration {
    let base = 2_000u64.saturating_mul(1u64 << failures.saturating_sub(1).min(16)).min(300_000);
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let jitter = 0.5 + f64::from(u16::from_le_bytes(b)) / 65536.0;
    std::time::Duration::from_millis((base as f64 * jitter) as u64)
}

fn store_anchor(c: &Connection, anchor: &TimeAnchor, boot: &str, received_mono: u64) -> Result<()> {
    c.execute(
        "INSERT INTO anchors (boot_id, received_mono_ms, anchor) VALUES (?1,?2,?3)",
        params![boot, received_mono as i64, serde_json::to_string(anchor).expect("serialises")],
    )?;
    Ok(())
}

/// A duration as a person reads it: "20 分钟", "1 分 30 秒", "45 秒".
fn span_zh(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec} 秒"),
        (m, 0) => format!("{m} 分钟"),
        (m, sec) => format!("{m} 分 {sec} 秒"),
    }
}

fn span_en(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec} s"),
        (m, 0) => format!("{m} min"),
        (m, sec) => format!("{m} min {sec} s"),
    }
}
