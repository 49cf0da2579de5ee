//! Checking an archive from the bytes up (R14, R21), without the server:
//! index → records (canonical bytes, ids, signatures) → devices (each
//! enrolled by a server-signed record in the bag) → chains → inclusion at
//! the signed head → the head's signature → every earlier checkpoint
//! consistent with the head → media by content → checkpoints seen
//! elsewhere (split view). Pure: the caller reads the files.

use super::{Answer, Level};
use super::{ArchiveIndex, FORMAT, Inclusion, Line, media_file};
use crate::crypto::{Hash, PublicKey};
use crate::log::{SignedCheckpoint, verify_consistency, verify_inclusion};
use crate::protocol::ConsistencyResponse;
use crate::record::{Payload, SignedRecord, check_next};
use std::collections::{BTreeMap, BTreeSet};

/// A checkpoint the reader holds from somewhere else, to compare.
#[derive(Debug, Clone)]
pub enum Seen {
    /// A signed checkpoint (a phone's, a report check's, a receipt's).
    Checkpoint(SignedCheckpoint),
    /// A later checkpoint with the consistency proof from this archive's
    /// head (`GET /v1/log/consistency?from=<head size>`).
    Extension(ConsistencyResponse),
    /// Another export's index (its head and its history).
    Archive(Box<ArchiveIndex>),
}

/// Read `data/index.json`: the format this code knows, or a flaw naming why not.
pub fn parse_index(bytes: &[u8]) -> Result<ArchiveIndex, Line> {
    let index: ArchiveIndex = serde_json::from_slice(bytes).map_err(|e| {
        Line::flaw(
            "index_unreadable",
            format!("data/index.json 无法读取：{e}"),
            format!("data/index.json cannot be read: {e}"),
        )
    })?;
    if index.format != FORMAT {
        return Err(Line::flaw(
            "index_format",
            format!("data/index.json 的格式是 {:?}，本验证程序只认 {FORMAT}", index.format),
            format!("data/index.json is format {:?}; this verifier knows {FORMAT}", index.format),
        ));
    }
    Ok(index)
}

fn fp(k: &PublicKey) -> String {
    k.fingerprint()
}

/// Check everything the index claims against the payload files found
/// (`files`: path → SHA-256 and size, as hashed by the caller) and the
/// record files' bytes (`read`). `trusted`: the server keys the reader got
/// elsewhere (the published key); empty, the bag's own are used and named.
pub fn check(
    index: &ArchiveIndex,
    files: &BTreeMap<String, (Hash, u64)>,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    trusted: &[PublicKey],
    seen: &[(String, Seen)],
) -> Answer {
    let mut a = Answer::default();
    let keys = server_keys(index, trusted, &mut a);
    let head_ok = head(index, &keys, &mut a);
    history(index, &keys, &mut a);
    let records = records(index, files, read, head_ok, &mut a);
    devices(index, &keys, &records, &mut a);
    chains(&records, &mut a);
    media(index, files, &records, &mut a);
    reports(index, &records, &mut a);
    for (label, s) in seen {
        seen_checkpoint(index, &keys, label, s, &mut a);
    }
    a
}

fn server_keys(index: &ArchiveIndex, trusted: &[PublicKey], a: &mut Answer) -> Vec<PublicKey> {
    let named: Vec<PublicKey> = index.server_keys.iter().map(|k| k.key).collect();
    let list = |ks: &[PublicKey]| ks.iter().map(fp).collect::<Vec<_>>().join(", ");
    if trusted.is_empty() {
        a.push(Line::note(
            "server_keys_from_bag",
            format!("服务器公钥取自包本身（指纹 {}）：请与公布的系统公钥核对，或用 --trust 指定", list(&named)),
            format!(
                "the server keys are the bag's own (fingerprints {}): compare them with the published system key, or name it with --trust",
                list(&named)
            ),
        ));
        return named;
    }
    // A key the reader trusts hands over to its successor by signing it:
    // the bag's handovers extend trust, nothing else in the bag can.
    let keys = crate::server_keys::trusted(trusted, &index.handovers);
    for h in
        index.handovers.iter().filter(|h| keys.contains(&h.handover.new) && keys.contains(&h.handover.old))
    {
        if !trusted.contains(&h.handover.new) {
            a.push(Line::proved(
                "server_key_handover",
                format!(
                    "服务器公钥 {} 于 {} 交接给 {}（由旧钥签名；原因：{}）",
                    fp(&h.handover.old),
                    crate::calendar::cst_seconds(h.handover.effective_ms),
                    fp(&h.handover.new),
                    h.handover.reason
                ),
                format!(
                    "server key {} handed over to {} at {} (signed by the old key; reason: {})",
                    fp(&h.handover.old),
                    fp(&h.handover.new),
                    crate::calendar::cst_seconds(h.handover.effective_ms),
                    h.handover.reason
                ),
            ));
        }
    }
    for k in named.iter().filter(|k| !keys.contains(k)) {
        a.push(Line::flaw(
            "server_key_untrusted",
            format!("包列出的服务器公钥 {} 不是您信任的公钥，也没有由其交接而来", fp(k)),
            format!(
                "the bag names server key {}, which is not a key you trust nor handed over to from one",
                fp(k)
            ),
        ));
    }
    keys
}

fn head(index: &ArchiveIndex, keys: &[PublicKey], a: &mut Answer) -> bool {
    let h = &index.head;
    match h.verify(keys) {
        Ok(()) => {
            a.push(Line::proved(
                "head_signed",
                format!(
                    "检查点（日志 {} 条，根 {}）由服务器公钥 {} 签名",
                    h.checkpoint.size,
                    h.checkpoint.root,
                    fp(&h.server_key)
                ),
                format!(
                    "the checkpoint (log of {} records, root {}) is signed by server key {}",
                    h.checkpoint.size,
                    h.checkpoint.root,
                    fp(&h.server_key)
                ),
            ));
            true
        }
        Err(e) => {
            a.push(Line::flaw(
                "head_signature",
                format!("包的检查点签名无效（{e}）：以下包含证明都不成立"),
                format!("the bag's checkpoint does not verify ({e}): no inclusion below stands"),
            ));
            false
        }
    }
}

fn history(index: &ArchiveIndex, keys: &[PublicKey], a: &mut Answer) {
    let head = &index.head.checkpoint;
    let mut last: Option<u64> = None;
    let mut good = 0usize;
    for e in &index.history {
        let c = &e.checkpoint.checkpoint;
        if last.is_some_and(|l| c.size <= l) {
            a.push(Line::flaw(
                "history_order",
                format!("历史检查点未按日志大小递增排列（{} 之后是 {}）", last.unwrap_or(0), c.size),
                format!(
                    "the history's checkpoints are not in increasing size ({} after {})",
                    c.size,
                    last.unwrap_or(0)
                ),
            ));
        }
        last = Some(c.size);
        if let Err(err) = e.checkpoint.verify(keys) {
            a.push(Line::flaw(
                "history_signature",
                format!("日志 {} 条时的检查点签名无效（{err}）", c.size),
                format!("the checkpoint at log size {} does not verify ({err})", c.size),
            ));
            continue;
        }
        match verify_consistency(c, head, &e.consistency) {
            Ok(()) => good += 1,
            Err(err) => a.push(Line::flaw(
                "history_inconsistent",
                format!("服务器在日志 {} 条时签名的检查点与包的检查点不一致（{err}）：历史被改写", c.size),
                format!(
                    "the checkpoint the server signed at log size {} is not consistent with the bag's ({err}): history was rewritten",
                    c.size
                ),
            )),
        }
    }
    if !index.history.iter().any(|e| e.checkpoint.checkpoint == *head) {
        a.push(Line::flaw(
            "history_lacks_head",
            "历史检查点中没有包的检查点本身",
            "the bag's own checkpoint is missing from its history",
        ));
    }
    if good > 0 {
        a.push(Line::proved(
            "history_consistent",
            format!("服务器签名的 {good} 个检查点都与包的检查点一致：这段日志只有一个历史"),
            format!("{good} checkpoints the server signed are all consistent with the bag's: the log has one history over this period"),
        ));
    }
}

/// A record of the bag, decoded and checked.
struct Held {
    log_index: u64,
    why: Inclusion,
    rec: SignedRecord,
}

fn records(
    index: &ArchiveIndex,
    files: &BTreeMap<String, (Hash, u64)>,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    head_ok: bool,
    a: &mut Answer,
) -> Vec<Held> {
    let head = &index.head.checkpoint;
    let mut held = Vec::new();
    let mut indexes = BTreeSet::new();
    let mut included = 0usize;
    let named: BTreeSet<&str> = index.records.iter().map(|r| r.file.as_str()).collect();
    for path in files.keys().filter(|p| p.starts_with("data/records/") && !named.contains(p.as_str())) {
        a.push(Line::flaw(
            "record_file_unindexed",
            format!("记录文件 {path} 不在索引中"),
            format!("record file {path} is not in the index"),
        ));
    }
    for e in &index.records {
        if !indexes.insert(e.log_index) {
            a.push(Line::flaw(
                "record_index_twice",
                format!("两条记录占同一日志位置 {}", e.log_index),
                format!("two records claim log position {}", e.log_index),
            ));
        }
        let Some(bytes) = files.contains_key(&e.file).then(|| read(&e.file)).flatten() else {
            a.push(Line::flaw(
                "record_missing",
                format!("记录 {} 的文件 {} 不在包中", e.id, e.file),
                format!("record {}'s file {} is not in the bag", e.id, e.file),
            ));
            continue;
        };
        let rec = match SignedRecord::from_bytes(&bytes) {
            Ok(r) => r,
            Err(err) => {
                a.push(Line::flaw(
                    "record_undecodable",
                    format!("{} 不是规范的签名记录：{err}", e.file),
                    format!("{} is not a canonical signed record: {err}", e.file),
                ));
                continue;
            }
        };
        if rec.id() != e.id {
            a.push(Line::flaw(
                "record_id_mismatch",
                format!("{} 的内容哈希为 {}，索引称其为 {}", e.file, rec.id(), e.id),
                format!("{} hashes to {}, the index calls it {}", e.file, rec.id(), e.id),
            ));
            continue;
        }
        if let Err(err) = rec.verify_signatures() {
            a.push(Line::flaw(
                "record_signature",
                format!("记录 {} 的签名无效：{err}", e.id),
                format!("record {}'s signature does not verify: {err}", e.id),
            ));
            continue;
        }
        if head_ok {
            if e.log_index >= head.size {
                a.push(Line::flaw(
                    "record_beyond_head",
                    format!("记录 {} 的日志位置 {} 超出检查点（{} 条）", e.id, e.log_index, head.size),
                    format!(
                        "record {} at log position {} is beyond the checkpoint ({} records)",
                        e.id, e.log_index, head.size
                    ),
                ));
            } else if let Err(err) = verify_inclusion(&e.id, e.log_index, head, &e.proof) {
                a.push(Line::flaw(
                    "record_not_in_log",
                    format!("记录 {} 在日志位置 {} 的包含证明不成立（{err}）", e.id, e.log_index),
                    format!(
                        "record {}'s inclusion proof at log position {} fails ({err})",
                        e.id, e.log_index
                    ),
                ));
            } else {
                included += 1;
            }
        }
        held.push(Held { log_index: e.log_index, why: e.why, rec });
    }
    let in_scope = held.iter().filter(|h| h.why == Inclusion::Scope).count();
    a.push(Line::proved(
        "records_signed",
        format!("{} 条记录（其中范围内 {in_scope} 条）字节规范、编号与内容相符、签名有效", held.len()),
        format!(
            "{} records ({in_scope} in scope) are canonical, hash to their ids and carry valid signatures",
            held.len()
        ),
    ));
    if head_ok {
        a.push(Line::proved(
            "records_in_log",
            format!("{included} 条记录在已签名的日志中（包含证明，日志 {} 条）", head.size),
            format!("{included} records are in the signed log (inclusion proofs at size {})", head.size),
        ));
    }
    held
}

fn devices(index: &ArchiveIndex, keys: &[PublicKey], held: &[Held], a: &mut Answer) {
    let server: BTreeSet<PublicKey> =
        index.server_keys.iter().map(|k| k.key).chain(keys.iter().copied()).collect();
    let mut enrolled: BTreeMap<PublicKey, u64> = BTreeMap::new();
    let mut revoked: BTreeMap<PublicKey, i64> = BTreeMap::new();
    for h in held.iter().filter(|h| server.contains(&h.rec.body().device)) {
        match &h.rec.body().payload {
            Payload::DeviceEnrolled(d) => {
                enrolled.entry(d.device).or_insert(h.log_index);
            }
            Payload::DeviceRevoked(d) => {
                revoked.insert(d.device, d.effective_ms);
            }
            _ => {}
        }
    }
    let mut proven = BTreeSet::new();
    let mut flawed = BTreeSet::new();
    for h in held {
        let d = h.rec.body().device;
        if server.contains(&d) {
            continue;
        }
        match enrolled.get(&d) {
            Some(at) if *at < h.log_index => {
                proven.insert(d);
            }
            Some(at) => {
                if flawed.insert(d) {
                    a.push(Line::flaw(
                        "device_used_before_enrollment",
                        format!("设备 {} 的记录（日志位置 {}）早于其登记（{}）", fp(&d), h.log_index, at),
                        format!(
                            "device {}'s record at log position {} precedes its enrollment ({})",
                            fp(&d),
                            h.log_index,
                            at
                        ),
                    ));
                }
            }
            None => {
                if flawed.insert(d) {
                    a.push(Line::flaw(
                        "device_not_enrolled",
                        format!("设备 {} 签了记录，但包中没有服务器签名的登记记录", fp(&d)),
                        format!(
                            "device {} signed records but the bag holds no server-signed enrollment of it",
                            fp(&d)
                        ),
                    ));
                }
            }
        }
    }
    a.push(Line::proved(
        "devices_enrolled",
        format!("{} 台设备的公钥均由服务器签名的登记记录证明", proven.len()),
        format!("{} devices' keys are each proven by a server-signed enrollment record", proven.len()),
    ));
    for (d, at) in revoked.iter().filter(|(d, _)| proven.contains(*d)) {
        a.push(Line::note(
            "device_revoked",
            format!("设备 {} 已被吊销，自 {} 起生效", fp(d), crate::calendar::cst_seconds(*at)),
            format!(
                "device {} was revoked, effective {} (China Standard Time)",
                fp(d),
                crate::calendar::cst_seconds(*at)
            ),
        ));
    }
}

fn chains(held: &[Held], a: &mut Answer) {
    let mut by_device: BTreeMap<PublicKey, Vec<&Held>> = BTreeMap::new();
    for h in held {
        by_device.entry(h.rec.body().device).or_default().push(h);
    }
    let mut links = 0usize;
    for (d, mut hs) in by_device {
        hs.sort_by_key(|h| (h.rec.body().seq, h.log_index));
        let mut gaps: Vec<(u64, u64)> = Vec::new();
        let mut prev: Option<&Held> = None;
        if let Some(first) = hs.first()
            && first.rec.body().seq > 0
        {
            gaps.push((0, first.rec.body().seq - 1));
        }
        for h in hs {
            let body = h.rec.body();
            match prev {
                Some(p) if p.rec.body().seq == body.seq => {
                    a.push(Line::flaw(
                        "chain_fork",
                        format!(
                            "设备 {} 在链位置 {} 有两条不同的记录：{} 与 {}",
                            fp(&d),
                            body.seq,
                            p.rec.id(),
                            h.rec.id()
                        ),
                        format!(
                            "device {} has two different records at chain position {}: {} and {}",
                            fp(&d),
                            body.seq,
                            p.rec.id(),
                            h.rec.id()
                        ),
                    ));
                    continue;
                }
                Some(p) if p.rec.body().seq + 1 == body.seq => {
                    if let Err(err) = check_next(Some(&p.rec.tail()), body) {
                        a.push(Line::flaw(
                            "chain_broken",
                            format!("设备 {} 的链在位置 {} 断开：{err}", fp(&d), body.seq),
                            format!("device {}'s chain breaks at position {}: {err}", fp(&d), body.seq),
                        ));
                    } else if p.log_index > h.log_index {
                        a.push(Line::flaw(
                            "chain_out_of_log_order",
                            format!("设备 {} 的链位置 {} 在日志中排在前一条之前", fp(&d), body.seq),
                            format!(
                                "device {}'s chain position {} stands before its predecessor in the log",
                                fp(&d),
                                body.seq
                            ),
                        ));
                    } else {
                        links += 1;
                    }
                }
                Some(p) => gaps.push((p.rec.body().seq + 1, body.seq - 1)),
                None if body.seq == 0 => {
                    if let Err(err) = check_next(None, body) {
                        a.push(Line::flaw(
                            "chain_broken",
                            format!("设备 {} 的链首条记录无效：{err}", fp(&d)),
                            format!("device {}'s first record is not a chain start: {err}", fp(&d)),
                        ));
                    }
                }
                None => {}
            }
            prev = Some(h);
        }
        if !gaps.is_empty() {
            let list = gaps
                .iter()
                .map(|(x, y)| if x == y { x.to_string() } else { format!("{x}–{y}") })
                .collect::<Vec<_>>()
                .join(", ");
            a.push(Line::note(
                "chain_gap",
                format!("设备 {} 的链位置 {list} 不在本包中（范围外的记录；导出时加 --whole-chains 可收入）", fp(&d)),
                format!(
                    "device {}'s chain positions {list} are not in this bag (records outside the scope; export with --whole-chains to include them)",
                    fp(&d)
                ),
            ));
        }
    }
    a.push(Line::proved(
        "chains_linked",
        format!("{links} 处设备链前后相连（每条记录指向其前一条的编号）"),
        format!("{links} chain links hold (each record names its predecessor's id)"),
    ));
}

fn media(index: &ArchiveIndex, files: &BTreeMap<String, (Hash, u64)>, held: &[Held], a: &mut Answer) {
    let mut ok = 0usize;
    let listed: BTreeSet<Hash> = index.media.iter().map(|m| m.sha256).collect();
    let named: BTreeSet<String> = index.media.iter().filter_map(|m| m.file.clone()).collect();
    for path in files.keys().filter(|p| p.starts_with("data/media/") && !named.contains(*p)) {
        a.push(Line::flaw(
            "media_file_unindexed",
            format!("媒体文件 {path} 不在索引中"),
            format!("media file {path} is not in the index"),
        ));
    }
    for m in &index.media {
        let Some(path) = &m.file else {
            a.push(Line::note(
                "media_not_received",
                format!("媒体 {}（{}）服务器从未收到其内容", m.sha256, m.media_type),
                format!("media {} ({}) never reached the server", m.sha256, m.media_type),
            ));
            continue;
        };
        match files.get(path) {
            None => a.push(Line::flaw(
                "media_missing",
                format!("媒体 {} 的文件 {path} 不在包中", m.sha256),
                format!("media {}'s file {path} is not in the bag", m.sha256),
            )),
            Some((h, size)) if *h != m.sha256 || *size != m.size || *path != media_file(&m.sha256) => {
                a.push(Line::flaw(
                    "media_altered",
                    format!("{path} 的内容（SHA-256 {h}，{size} 字节）不是记录所列的媒体 {}（{} 字节）", m.sha256, m.size),
                    format!("{path} holds SHA-256 {h} ({size} bytes), not the media {} ({} bytes) the records list", m.sha256, m.size),
                ))
            }
            Some(_) => ok += 1,
        }
    }
    let mut unlisted = BTreeSet::new();
    for h in held.iter().filter(|h| h.why == Inclusion::Scope) {
        for m in &h.rec.body().evidence.media {
            if !listed.contains(&m.sha256) && unlisted.insert(m.sha256) {
                a.push(Line::flaw(
                    "media_unlisted",
                    format!("记录 {} 列出的媒体 {} 不在包的索引中", h.rec.id(), m.sha256),
                    format!(
                        "media {} listed by record {} is missing from the bag's index",
                        m.sha256,
                        h.rec.id()
                    ),
                ));
            }
        }
    }
    a.push(Line::proved(
        "media_by_content",
        format!("{ok} 个媒体文件的 SHA-256 与记录所签的一致"),
        format!("{ok} media files match the SHA-256 their records signed"),
    ));
}

fn reports(index: &ArchiveIndex, held: &[Held], a: &mut Answer) {
    let mut ok = 0usize;
    for r in &index.reports {
        let is_report =
            held.iter().any(|h| h.rec.id() == r.report && matches!(h.rec.body().payload, Payload::Report(_)));
        let pdf = index.media.iter().any(|m| m.sha256 == r.pdf && m.file.is_some());
        if is_report && pdf {
            ok += 1;
        } else {
            a.push(Line::flaw(
                "report_incomplete",
                format!("报告 {} 的记录或其签发的 PDF 不在包中", r.report),
                format!("report {}'s record or its issued PDF is not in the bag", r.report),
            ));
        }
    }
    if !index.reports.is_empty() {
        a.push(Line::proved(
            "reports_held",
            format!("{ok} 份报告的记录与系统签发的 PDF 均在包中"),
            format!("{ok} reports are in the bag with the PDF the system issued"),
        ));
    }
}

fn split_view(label: &str, size: u64) -> Line {
    Line::flaw(
        "split_view",
        format!("{label} 中日志 {size} 条时的根与本包不同：服务器展示了两个不同的历史"),
        format!(
            "{label} shows a different root at log size {size} than this bag: the server showed two histories"
        ),
    )
}

fn agreed(label: &str, zh: String, en: String) -> Line {
    Line::proved(
        "seen_consistent",
        format!("{label}：{zh}与本包一致"),
        format!("{label}: {en} is consistent with this bag"),
    )
}

fn bad_signature(label: &str, err: crate::log::LogError) -> Line {
    Line::flaw(
        "seen_signature",
        format!("{label} 中的检查点签名无效（{err}）"),
        format!("the checkpoint in {label} does not verify ({err})"),
    )
}

/// Compare a checkpoint seen elsewhere with this archive's history: same
/// size, same root; smaller, the server's own history must hold it; larger,
/// a consistency proof must carry the head to it.
fn seen_checkpoint(index: &ArchiveIndex, keys: &[PublicKey], label: &str, s: &Seen, a: &mut Answer) {
    let head = &index.head.checkpoint;
    match s {
        Seen::Checkpoint(c) => {
            if let Err(err) = c.verify(keys) {
                return a.push(bad_signature(label, err));
            }
            let c = &c.checkpoint;
            if c.size > head.size {
                a.push(Line::note(
                    "seen_later_unproven",
                    format!(
                        "{label} 的检查点（{} 条）晚于本包（{} 条），没有一致性证明无法比较：向服务器取 /v1/log/consistency?from={}",
                        c.size, head.size, head.size
                    ),
                    format!(
                        "{label}'s checkpoint ({} records) is later than this bag's ({}); without a consistency proof it cannot be compared: ask the server for /v1/log/consistency?from={}",
                        c.size, head.size, head.size
                    ),
                ));
                return;
            }
            match index.history.iter().find(|e| e.checkpoint.checkpoint.size == c.size) {
                Some(e) if e.checkpoint.checkpoint.root == c.root => a.push(agreed(
                    label,
                    format!("日志 {} 条时的检查点", c.size),
                    format!("the checkpoint at log size {}", c.size),
                )),
                Some(_) => a.push(split_view(label, c.size)),
                None => a.push(Line::flaw(
                    "seen_not_in_history",
                    format!("{label} 持有服务器在日志 {} 条时签名的检查点，但服务器自己的历史中没有它：服务器展示了另一个历史", c.size),
                    format!(
                        "{label} holds a checkpoint the server signed at log size {}, which the server's own history lacks: it showed another history",
                        c.size
                    ),
                )),
            }
        }
        Seen::Extension(x) => {
            if let Err(err) = x.checkpoint.verify(keys) {
                return a.push(bad_signature(label, err));
            }
            let size = x.checkpoint.checkpoint.size;
            match verify_consistency(head, &x.checkpoint.checkpoint, &x.proof) {
                Ok(()) => a.push(agreed(
                    label,
                    format!("更晚的检查点（{size} 条）延续本包的日志，"),
                    format!("a later checkpoint ({size} records) extends this bag's log and"),
                )),
                Err(err) => a.push(Line::flaw(
                    "seen_not_extension",
                    format!("{label} 的检查点（{size} 条）不是本包日志的延续（{err}）"),
                    format!("{label}'s checkpoint ({size} records) does not extend this bag's log ({err})"),
                )),
            }
        }
        Seen::Archive(other) => seen_archive(index, keys, label, other, a),
    }
}

/// Another export: the two histories agree wherever both hold a size, and
/// the later one's history holds the earlier one's head, consistently.
fn seen_archive(index: &ArchiveIndex, keys: &[PublicKey], label: &str, other: &ArchiveIndex, a: &mut Answer) {
    if let Err(err) = other.head.verify(keys) {
        return a.push(bad_signature(label, err));
    }
    let mine: BTreeMap<u64, Hash> =
        index.history.iter().map(|e| (e.checkpoint.checkpoint.size, e.checkpoint.checkpoint.root)).collect();
    let mut common = 0usize;
    let theirs = other.history.iter().map(|e| &e.checkpoint).chain(std::iter::once(&other.head));
    for c in theirs.filter(|c| c.verify(keys).is_ok()) {
        match mine.get(&c.checkpoint.size) {
            Some(root) if *root == c.checkpoint.root => common += 1,
            Some(_) => return a.push(split_view(label, c.checkpoint.size)),
            None => {}
        }
    }
    let (earlier, later) = if other.head.checkpoint.size >= index.head.checkpoint.size {
        (index, other)
    } else {
        (other, index)
    };
    let extends = later.history.iter().any(|e| {
        let c = &e.checkpoint.checkpoint;
        c.size == earlier.head.checkpoint.size
            && c.root == earlier.head.checkpoint.root
            && verify_consistency(c, &later.head.checkpoint, &e.consistency).is_ok()
    });
    let size = other.head.checkpoint.size;
    if extends {
        a.push(agreed(
            label,
            format!("另一导出（{size} 条；{common} 个共同检查点）"),
            format!("another export ({size} records; {common} checkpoints in common)"),
        ));
    } else {
        a.push(Line::flaw(
            "seen_not_extension",
            format!("{label} 与本包的日志不能证明为同一历史（较晚者的历史中没有较早者的检查点）"),
            format!("{label} and this bag cannot be proven one history (the later one's history lacks the earlier one's checkpoint)"),
        ));
    }
}

/// The answer as people read it: one line per finding, both languages,
/// flaws first named as such.
pub fn render(a: &Answer) -> String {
    let mut out = String::new();
    for l in &a.lines {
        let mark = match l.level {
            Level::Proved => "✓ 已证明 / proved",
            Level::Note => "· 说明 / note",
            Level::Flaw => "✗ 缺陷 / FLAW",
        };
        out.push_str(&format!("{mark} [{}]\n    {}\n    {}\n", l.code, l.zh, l.en));
    }
    let flaws = a.flaws().count();
    if flaws == 0 {
        out.push_str("结论：包完整，未发现缺陷。\nResult: the archive is whole; no flaw found.\n");
    } else {
        out.push_str(&format!("结论：发现 {flaws} 处缺陷。\nResult: {flaws} flaws found.\n"));
    }
    out
}
