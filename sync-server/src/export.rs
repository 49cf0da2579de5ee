//! `admin export` (R14, R21; issue 18): a project, a report or a period of
//! the log as a BagIt bag that `custody-verify` checks without the server.
//!
//! What goes in (`custody_core::archive` says what each part proves):
//! the records of the scope in their canonical bytes; the directory facts
//! they rest on (each device's server-signed enrollment and revocation,
//! its person's and organisation's registration); with `whole_chains`,
//! every earlier record of those devices; the media the scope's records
//! list; the PDFs the system issued for its reports; a checkpoint signed
//! now (the head) with an inclusion proof per record; every checkpoint
//! signed before it with a consistency proof to it; the server keys that
//! signed them. The bag is written beside its destination and renamed
//! into place when whole, so a failed export leaves nothing that looks
//! like a bag.

use crate::blobs::Blobs;
use crate::faces::{Media, Reader, log_read, subject_of};
use crate::logtree;
use crate::store::faces::Via;
use crate::store::{RecordRow, Store, StoreError};
use custody_core::archive::{
    ArchiveIndex, FORMAT, HistoryEntry, INDEX_FILE, Inclusion, MediaEntry, RecordEntry, ReportEntry, Scope,
    ServerKey, media_file, record_file,
};
use custody_core::crypto::{Hash, PublicKey, SigningKey};
use custody_core::model::Id;
use custody_core::record::{MediaPurpose, Payload, RecordKind, SignedRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{en}")]
    Invalid { zh: String, en: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the bag: {0}")]
    Io(#[from] std::io::Error),
}

impl ExportError {
    fn invalid(zh: impl Into<String>, en: impl Into<String>) -> ExportError {
        ExportError::Invalid { zh: zh.into(), en: en.into() }
    }
    pub fn message_zh(&self) -> String {
        match self {
            ExportError::Invalid { zh, .. } => zh.clone(),
            ExportError::Store(e) => format!("存储错误：{e}"),
            ExportError::Io(e) => format!("写入包失败：{e}"),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub dir: PathBuf,
    pub in_scope: usize,
    pub records: usize,
    pub media: usize,
    pub media_missing: usize,
    pub reports: usize,
    pub checkpoints: usize,
    pub head_size: u64,
    pub payload_bytes: u64,
}

/// What the scan keeps of each record: no envelope (a log of millions
/// would not fit), the payload only for the directory facts.
struct Meta {
    id: Hash,
    log_index: u64,
    device: PublicKey,
    seq: u64,
    kind: String,
    author: String,
    project: Option<String>,
    first_seen_ms: i64,
    directory: Option<Payload>,
}

const DIRECTORY_KINDS: [RecordKind; 4] = [
    RecordKind::DeviceEnrolled,
    RecordKind::DeviceRevoked,
    RecordKind::PersonRegistered,
    RecordKind::OrganisationRegistered,
];

fn decode(row: &RecordRow) -> Result<SignedRecord, ExportError> {
    crate::ingest::decode_stored(row).map_err(|e| {
        ExportError::invalid(format!("记录 {} 无法解码：{e}", row.id), format!("record {}: {e}", row.id))
    })
}

/// Which log positions the report scope covers: the report, and every
/// record naming one of its tags (samplings to amendments and revocations).
fn report_records(store: &Store, report: &Hash) -> Result<BTreeSet<Hash>, ExportError> {
    let row = store.read(|tx| tx.record(report))?.ok_or_else(|| {
        ExportError::invalid(format!("没有编号为 {report} 的记录"), format!("no record {report} is stored"))
    })?;
    let Payload::Report(r) = decode(&row)?.body().payload.clone() else {
        return Err(ExportError::invalid(
            format!("记录 {report} 不是检测报告"),
            format!("record {report} is not a report"),
        ));
    };
    let mut ids = BTreeSet::from([*report]);
    for tag in &r.tags {
        let rows = store.read(|tx| tx.records_for_tag(&tag.to_string()))?;
        ids.extend(rows.iter().map(|r| r.id));
    }
    Ok(ids)
}

/// Export `scope` to `out` (which must not exist), with a head checkpoint
/// signed at `now`.
pub fn export(
    store: &Store,
    media: &Media,
    key: &SigningKey,
    scope: Scope,
    out: &Path,
    now: i64,
) -> Result<ExportSummary, ExportError> {
    if out.exists() {
        return Err(ExportError::invalid(
            format!("{} 已存在：导出不会覆盖任何东西", out.display()),
            format!("{} exists: an export never overwrites anything", out.display()),
        ));
    }
    if scope.project.is_none()
        && scope.report.is_none()
        && scope.from_ms.is_none()
        && scope.until_ms.is_none()
    {
        return Err(ExportError::invalid(
            "请指定导出范围：--project、--report 或 --from/--to",
            "name what to export: --project, --report or --from/--to",
        ));
    }
    let report_set = scope.report.as_ref().map(|r| report_records(store, r)).transpose()?;
    let head = store.write(|tx| logtree::checkpoint(tx, key, now))?;
    let size = head.checkpoint.size;

    let metas = scan(store, size)?;
    let handovers = store.read(crate::keys::handovers)?;
    let known = crate::keys::known_keys(&key.public(), &handovers);
    let chosen = select(&metas, &scope, report_set.as_ref(), &known)?;
    let kinds: BTreeMap<u64, (Hash, &str)> =
        metas.iter().map(|m| (m.log_index, (m.id, m.kind.as_str()))).collect();

    let partial = out.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(partial.join("data/records"))?;
    std::fs::create_dir_all(partial.join("data/media"))?;
    let written = write_payload(store, media, &chosen, &kinds, &partial, &head, &scope, now);
    let summary = match written {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out)?;
    Ok(ExportSummary { dir: out.to_path_buf(), ..summary })
}

#[allow(clippy::too_many_arguments)]
fn write_payload(
    store: &Store,
    store_media: &Media,
    chosen: &BTreeMap<u64, Inclusion>,
    kinds: &BTreeMap<u64, (Hash, &str)>,
    dir: &Path,
    head: &custody_core::log::SignedCheckpoint,
    scope: &Scope,
    now: i64,
) -> Result<ExportSummary, ExportError> {
    let size = head.checkpoint.size;
    let mut records = Vec::with_capacity(chosen.len());
    let mut media: BTreeMap<Hash, MediaEntry> = BTreeMap::new();
    let mut reports = Vec::new();
    // Face photos (PIPL): read through the vault, each read logged.
    let mut faces = BTreeSet::new();
    for (&log_index, &why) in chosen {
        let Some(&(id, kind)) = kinds.get(&log_index) else { continue };
        let (row, proof, refs, pdf) = store.read(|tx| {
            let row = tx.record(&id)?.ok_or_else(|| StoreError::Corrupt(format!("record {id} vanished")))?;
            let proof = logtree::inclusion(tx, log_index, size)?;
            let refs = if why == Inclusion::Scope { tx.media_of_record(&id)? } else { vec![] };
            let pdf = if kind == RecordKind::Report.as_str() { tx.issued_pdf(&id)? } else { None };
            Ok((row, proof, refs, pdf))
        })?;
        let file = record_file(log_index, &id);
        std::fs::write(dir.join(&file), &row.envelope)?;
        let status = serde_json::to_value(row.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        records.push(RecordEntry { id, log_index, file, why, status, proof });
        for (m, complete) in refs {
            if m.purpose == MediaPurpose::Face {
                faces.insert(m.sha256);
            }
            media.entry(m.sha256).or_insert(MediaEntry {
                sha256: m.sha256,
                size: m.size,
                media_type: m.media_type,
                file: complete.then(|| media_file(&m.sha256)),
            });
        }
        if let Some(pdf) = pdf {
            media.entry(pdf.sha256).or_insert(MediaEntry {
                sha256: pdf.sha256,
                size: pdf.size,
                media_type: "application/pdf".into(),
                file: Some(media_file(&pdf.sha256)),
            });
            reports.push(ReportEntry { report: id, pdf: pdf.sha256 });
        }
    }
    copy_media(store, store_media, media.values(), &faces, dir, now)?;
    let (history, server_keys) = history(store, head)?;
    let index = ArchiveIndex {
        format: FORMAT.into(),
        scope: scope.clone(),
        exported_ms: now,
        head: head.clone(),
        history,
        server_keys,
        handovers: store.read(crate::keys::handovers)?,
        records,
        media: media.values().cloned().collect(),
        reports,
    };
    let json = serde_json::to_vec_pretty(&index).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(INDEX_FILE), json)?;
    let date = custody_core::calendar::date_cst(now);
    let what = describe(scope);
    custody_verify::seal_bag(
        dir,
        &[
            (
                "Source-Organization",
                "营口市建设工程检测监管系统 / Yingkou construction testing monitoring system".into(),
            ),
            ("Bagging-Date", date),
            ("External-Description", what),
            ("External-Identifier", format!("log {} root {}", head.checkpoint.size, head.checkpoint.root)),
            ("Bag-Software-Agent", format!("sync-server {}", env!("CARGO_PKG_VERSION"))),
            ("Internal-Sender-Description", "用 custody-verify 验证 / verify with custody-verify".into()),
        ],
    )?;
    let payload_bytes = index
        .records
        .iter()
        .filter_map(|r| std::fs::metadata(dir.join(&r.file)).ok())
        .map(|m| m.len())
        .sum::<u64>()
        + index.media.iter().filter(|m| m.file.is_some()).map(|m| m.size).sum::<u64>();
    Ok(ExportSummary {
        dir: dir.to_path_buf(),
        in_scope: chosen.values().filter(|w| **w == Inclusion::Scope).count(),
        records: index.records.len(),
        media: index.media.iter().filter(|m| m.file.is_some()).count(),
        media_missing: index.media.iter().filter(|m| m.file.is_none()).count(),
        reports: index.reports.len(),
        checkpoints: index.history.len(),
        head_size: size,
        payload_bytes,
    })
}

/// One pass over the log up to `size`, keeping what selection needs.
fn scan(store: &Store, size: u64) -> Result<Vec<Meta>, ExportError> {
    let mut metas = Vec::new();
    let mut from = 0u64;
    while from < size {
        let rows = store.read(|tx| tx.records_from(from, 1000))?;
        if rows.is_empty() {
            break;
        }
        for row in rows.iter().filter(|r| r.log_index < size) {
            let directory = if DIRECTORY_KINDS.iter().any(|k| k.as_str() == row.kind) {
                Some(decode(row)?.body().payload.clone())
            } else {
                None
            };
            metas.push(Meta {
                id: row.id,
                log_index: row.log_index,
                device: row.device,
                seq: row.seq,
                kind: row.kind.clone(),
                author: row.author.clone(),
                project: row.project.clone(),
                first_seen_ms: row.first_seen_ms,
                directory,
            });
        }
        from = rows.last().map_or(size, |r| r.log_index + 1);
    }
    Ok(metas)
}

/// The log positions to export and why: the scope's records, the
/// directory facts they rest on, and with `whole_chains` the rest of their
/// devices' chains.
fn select(
    metas: &[Meta],
    scope: &Scope,
    report_set: Option<&BTreeSet<Hash>>,
    server: &[PublicKey],
) -> Result<BTreeMap<u64, Inclusion>, ExportError> {
    let in_scope = |m: &Meta| {
        scope.project.as_ref().is_none_or(|p| m.project.as_ref() == Some(p))
            && scope.from_ms.is_none_or(|t| m.first_seen_ms >= t)
            && scope.until_ms.is_none_or(|t| m.first_seen_ms <= t)
            && report_set.is_none_or(|s| s.contains(&m.id))
    };
    let mut chosen: BTreeMap<u64, Inclusion> = BTreeMap::new();
    let mut devices = BTreeMap::<PublicKey, u64>::new();
    let mut people = BTreeSet::<String>::new();
    for m in metas.iter().filter(|m| in_scope(m)) {
        chosen.insert(m.log_index, Inclusion::Scope);
        let top = devices.entry(m.device).or_insert(m.seq);
        *top = (*top).max(m.seq);
        people.insert(m.author.clone());
    }
    if chosen.is_empty() {
        return Err(ExportError::invalid(
            "范围内没有任何记录：未写入任何文件",
            "nothing is in that scope: nothing written",
        ));
    }
    // Directory facts: the devices' enrollments and revocations, their
    // people's registrations, those people's organisations'.
    let mut orgs = BTreeSet::<Id>::new();
    for m in metas.iter().filter(|m| server.contains(&m.device)) {
        let wanted = match &m.directory {
            Some(Payload::DeviceEnrolled(d)) => devices.contains_key(&d.device),
            Some(Payload::DeviceRevoked(d)) => devices.contains_key(&d.device),
            Some(Payload::PersonRegistered(p)) if people.contains(p.id.as_str()) => {
                orgs.insert(p.org.clone());
                true
            }
            _ => false,
        };
        if wanted {
            chosen.entry(m.log_index).or_insert(Inclusion::Directory);
        }
    }
    for m in metas.iter().filter(|m| server.contains(&m.device)) {
        if let Some(Payload::OrganisationRegistered(o)) = &m.directory
            && orgs.contains(&o.id)
        {
            chosen.entry(m.log_index).or_insert(Inclusion::Directory);
        }
    }
    if scope.whole_chains {
        for m in metas {
            if devices.get(&m.device).is_some_and(|top| m.seq < *top) {
                chosen.entry(m.log_index).or_insert(Inclusion::ChainContext);
            }
        }
    }
    Ok(chosen)
}

/// Every checkpoint up to the head, each proven a prefix of it, and the
/// keys that signed them with the period each signed over.
fn history(
    store: &Store,
    head: &custody_core::log::SignedCheckpoint,
) -> Result<(Vec<HistoryEntry>, Vec<ServerKey>), ExportError> {
    let size = head.checkpoint.size;
    let history = store.read(|tx| {
        let mut out = Vec::new();
        for c in tx.checkpoints_upto(size)? {
            let consistency = logtree::consistency(tx, c.checkpoint.size, size)?;
            out.push(HistoryEntry { checkpoint: c, consistency });
        }
        Ok(out)
    })?;
    let mut server_keys: Vec<ServerKey> = Vec::new();
    for e in &history {
        let (k, t) = (e.checkpoint.server_key, e.checkpoint.checkpoint.server_ms);
        match server_keys.iter_mut().find(|s| s.key == k) {
            Some(s) => {
                s.from_ms = s.from_ms.min(t);
                s.until_ms = s.until_ms.map(|u| u.max(t));
            }
            None => server_keys.push(ServerKey { key: k, from_ms: t, until_ms: Some(t) }),
        }
    }
    // The key that signed the head is in force: no end.
    if let Some(s) = server_keys.iter_mut().find(|s| s.key == head.server_key) {
        s.until_ms = None;
    }
    Ok((history, server_keys))
}

/// Every media file the bag holds, out of the store: face photos through
/// the vault (each read logged), the rest in pieces.
fn copy_media<'a>(
    store: &Store,
    store_media: &Media,
    media: impl Iterator<Item = &'a MediaEntry>,
    faces: &BTreeSet<Hash>,
    dir: &Path,
    now: i64,
) -> Result<(), ExportError> {
    for m in media {
        if let Some(file) = &m.file {
            let face = faces.contains(&m.sha256) || store.read(|tx| tx.face_key(&m.sha256))?.is_some();
            if face {
                copy_face(store, store_media, &m.sha256, &dir.join(file), now)?;
            } else {
                copy_blob(&store_media.blobs, &m.sha256, m.size, &dir.join(file))?;
            }
        }
    }
    Ok(())
}

/// A face photo out of the vault (opened if sealed), checked against its
/// name, and its read appended to the face-read log (an export discloses
/// it, PIPL): who read it is the operator's export.
fn copy_face(store: &Store, media: &Media, sha: &Hash, to: &Path, now: i64) -> Result<(), ExportError> {
    let bytes = media.read(store, sha).map_err(|e| ExportError::invalid(e.message_zh(), e.to_string()))?;
    if Hash::of(&bytes) != *sha {
        return Err(ExportError::invalid(
            format!("人脸照片 {sha} 在存储中已损坏（请运行 admin verify）"),
            format!("face photo {sha} is damaged in the store (run admin verify)"),
        ));
    }
    std::fs::write(to, &bytes)?;
    std::fs::File::open(to)?.sync_all()?;
    let reader = Reader { name: "admin export".into(), person: None, ip: "-".into() };
    store.write(|tx| {
        let subject = subject_of(tx, sha)?;
        log_read(tx, sha, subject, &reader, Via::Export, now)
    })?;
    Ok(())
}

/// Copy one media object out in 8 MiB pieces (videos run large), checking
/// it against its name on the way: a bag never carries bytes the store
/// cannot vouch for.
fn copy_blob(blobs: &Blobs, sha: &Hash, size: u64, to: &Path) -> Result<(), ExportError> {
    use std::io::Write;
    let mut f = std::fs::File::create(to)?;
    let mut h = custody_core::crypto::Hasher::default();
    let mut at = 0u64;
    while at < size {
        let len = (size - at).min(8 << 20) as usize;
        let bytes = blobs.read_range(sha, at, len).map_err(|e| StoreError::Media(e.to_string()))?;
        if bytes.is_empty() {
            break;
        }
        h.update(&bytes);
        f.write_all(&bytes)?;
        at += bytes.len() as u64;
    }
    if at != size || h.finish() != *sha {
        return Err(ExportError::invalid(
            format!("媒体 {sha} 在存储中已损坏或不完整（请运行 admin verify）"),
            format!("media {sha} is damaged or incomplete in the store (run admin verify)"),
        ));
    }
    f.sync_all()?;
    Ok(())
}

/// The scope in words, for `bag-info.txt`.
fn describe(s: &Scope) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &s.project {
        parts.push(format!("工程 project {p}"));
    }
    if let Some(r) = &s.report {
        parts.push(format!("报告 report {r}"));
    }
    if let Some(t) = s.from_ms {
        parts.push(format!("自 from {}", custody_core::calendar::cst_seconds(t)));
    }
    if let Some(t) = s.until_ms {
        parts.push(format!("至 until {}", custody_core::calendar::cst_seconds(t)));
    }
    if s.whole_chains {
        parts.push("含设备完整链 whole device chains".into());
    }
    format!("见证取样记录存档 / witnessed-sampling records archive: {}", parts.join("; "))
}
