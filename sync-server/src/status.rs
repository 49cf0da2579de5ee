//! Watching it (issue 20): the few numbers that say whether the evidence is
//! safe, gathered in one place for both `/metrics` (refreshed by a task in
//! every serving instance) and `sync-server admin status` (read straight
//! from the store and the disks, so it works when the server does not).
//!
//! Each number has its alarm beside it ([`Status::alerts`]); the same
//! thresholds are in the ready-made alert rules (`packaging/alerts.yml`)
//! and explained in `docs/operations.md`.

use crate::config::{Config, TlsMode};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Records accepted but not yet covered by a signed checkpoint, beyond which
/// the log's signer is falling behind.
pub const UNSIGNED_RECORDS_ALARM: u64 = 10_000;
/// A checkpoint older than this while records wait means nothing signs them.
pub const CHECKPOINT_AGE_ALARM_S: i64 = 15 * 60;
/// Free space below this share of a disk.
pub const DISK_FREE_ALARM: f64 = 0.10;
/// A certificate expiring within this many days.
pub const CERT_DAYS_ALARM: f64 = 21.0;
/// Replica lag beyond this many seconds (reads for labs and regulators go there).
pub const REPLICA_LAG_ALARM_S: f64 = 60.0;
/// Devices whose clocks are this far off (the request window is ±5 min;
/// beyond this they will soon be refused).
pub const CLOCK_SKEW_ALARM_S: f64 = 120.0;
/// An instance whose last report is older than this is presumed down.
pub const INSTANCE_SILENT_S: i64 = 120;
/// Every alert [`Status::alerts`] can raise; each has a rule in
/// `packaging/alerts.yml` (checked by `tests/operations.rs`).
pub const ALERT_KEYS: &[&str] = &[
    "log_backlog",
    "checkpoint_stale",
    "disk_free",
    "backup_missing",
    "backup_stale",
    "backup_failed",
    "certificate_expiry",
    "replica_lag",
    "instance_silent",
    "device_clock_skew",
];

/// How often a serving instance refreshes its gauges and its report.
pub const REFRESH_MS: u64 = 15_000;

/// What this process saw since it started (every instance reports its own).
static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);
static SKEW: Mutex<Skew> = Mutex::new(Skew { max_abs_ms: 0, over_alarm: 0, seen: 0 });

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Skew {
    /// Largest device clock offset seen (signed requests, ms, absolute).
    pub max_abs_ms: i64,
    /// Requests whose device clock was off by more than the alarm.
    pub over_alarm: u64,
    pub seen: u64,
}

/// A signed request's device clock compared with ours (`auth`).
pub fn note_clock(device_minus_server_ms: i64) {
    metrics::histogram!("sync_device_clock_skew_seconds")
        .record(device_minus_server_ms.abs() as f64 / 1000.0);
    let mut s = SKEW.lock().unwrap_or_else(|p| p.into_inner());
    s.seen += 1;
    s.max_abs_ms = s.max_abs_ms.max(device_minus_server_ms.abs());
    if device_minus_server_ms.abs() as f64 > CLOCK_SKEW_ALARM_S * 1000.0 {
        s.over_alarm += 1;
    }
}

/// A record stored: in effect, or refused (kept as evidence without custody effect) (`ingest`).
pub fn note_record(rejected: bool) {
    if rejected { &REJECTED } else { &ACCEPTED }.fetch_add(1, Ordering::Relaxed);
}

/// One serving instance's report, kept in the store's `meta` table under
/// `instance:<host>:<bind>` so `admin status` sees every instance, up or down.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceReport {
    pub host: String,
    pub bind: String,
    pub version: String,
    pub started_ms: i64,
    pub at_ms: i64,
    pub accepted: u64,
    pub rejected: u64,
    /// Records stored since the instance started, and those refused.
    /// Clock skew of devices over the last refresh interval.
    pub skew: Skew,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    pub what: &'static str,
    pub path: PathBuf,
    pub free_bytes: u64,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupState {
    pub dir: PathBuf,
    /// The newest verified backup: its directory, age and records.
    pub latest: Option<(PathBuf, i64, u64)>,
    /// Backups that failed verification and are still there.
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub store: String,
    pub records: u64,
    /// Size and age (s) of the latest signed checkpoint.
    pub checkpoint: Option<(u64, i64)>,
    pub unsigned_records: u64,
    pub disks: Vec<Disk>,
    pub backup: BackupState,
    pub backup_max_age_s: i64,
    /// Days until the server's TLS certificate expires.
    pub cert_days: Option<f64>,
    /// Replica lag: WAL bytes, seconds.
    pub replica_lag: Option<(f64, f64)>,
    pub instances: Vec<InstanceReport>,
    /// The server's face re-check (issue 19): on, or why not, in both
    /// languages; and how many records it has re-checked.
    pub faces: String,
    pub face_rechecks: u64,
    pub now_ms: i64,
}

/// One line of trouble, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub key: &'static str,
    pub zh: String,
    pub en: String,
}

impl Status {
    pub fn gather(config: &Config, store: &Store, now_ms: i64) -> Result<Status, StoreError> {
        let (records, checkpoint, instances, face_rechecks) = store.read(|tx| {
            let size = tx.log_size()?;
            let face_rechecks = tx.face_recheck_count()?;
            let cp = tx.latest_checkpoint()?;
            let mut instances = Vec::new();
            for (_, v) in tx.meta_with_prefix("instance:")? {
                if let Ok(r) = serde_json::from_str::<InstanceReport>(&v) {
                    instances.push(r);
                }
            }
            Ok((size, cp, instances, face_rechecks))
        })?;
        let checkpoint = checkpoint.map(|c| (c.checkpoint.size, (now_ms - c.checkpoint.server_ms) / 1000));
        let mut disks = Vec::new();
        let mut on = |what: &'static str, path: &Path| {
            if let Some((free, total)) = disk_space(path) {
                disks.push(Disk { what, path: path.to_owned(), free_bytes: free, total_bytes: total });
            }
        };
        if !config.is_postgres() {
            on("database", config.database_path().parent().unwrap_or(Path::new(".")));
        }
        if config.bucket().is_none() {
            on("media", &config.media_dir());
        }
        if !config.backup.dir.as_os_str().is_empty() {
            on("backup", &config.backup.dir);
        }
        let backup = backup_state(&config.backup.dir, now_ms);
        let replica_lag = match store {
            Store::Postgres(p) => p.replica_lag()?,
            Store::Sqlite(_) => None,
        };
        Ok(Status {
            store: store.describe(),
            records,
            unsigned_records: records.saturating_sub(checkpoint.map_or(0, |c| c.0)),
            checkpoint,
            disks,
            backup,
            backup_max_age_s: (config.backup.max_age_hours * 3600) as i64,
            cert_days: cert_path(config)
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|pem| cert_not_after_ms(&pem))
                .map(|ms| (ms - now_ms) as f64 / 86_400_000.0),
            replica_lag,
            instances,
            faces: crate::face_recheck::FaceRechecker::new(config).describe(),
            face_rechecks,
            now_ms,
        })
    }

    /// What needs a person now, each with the threshold it crossed.
    pub fn alerts(&self) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut alert = |key, zh: String, en: String| out.push(Alert { key, zh, en });
        if self.unsigned_records > UNSIGNED_RECORDS_ALARM {
            alert(
                "log_backlog",
                format!("{} 条记录尚未进入已签名的检查点", self.unsigned_records),
                format!("{} records are not yet in a signed checkpoint", self.unsigned_records),
            );
        }
        if let Some((_, age)) = self.checkpoint
            && self.unsigned_records > 0
            && age > CHECKPOINT_AGE_ALARM_S
        {
            alert(
                "checkpoint_stale",
                format!("最新检查点已 {} 分钟未更新，但有记录等待签名", age / 60),
                format!("the latest checkpoint is {} min old while records wait", age / 60),
            );
        }
        for d in &self.disks {
            let share = d.free_bytes as f64 / d.total_bytes.max(1) as f64;
            if share < DISK_FREE_ALARM {
                alert(
                    "disk_free",
                    format!("{} 所在磁盘仅剩 {:.0}%（{}）", d.what, share * 100.0, d.path.display()),
                    format!("the {} disk has {:.0} % free ({})", d.what, share * 100.0, d.path.display()),
                );
            }
        }
        if !self.backup.dir.as_os_str().is_empty() {
            match self.backup.latest {
                None => alert(
                    "backup_missing",
                    format!("{} 中没有通过校验的备份", self.backup.dir.display()),
                    format!("no verified backup in {}", self.backup.dir.display()),
                ),
                Some((_, age, _)) if age > self.backup_max_age_s => alert(
                    "backup_stale",
                    format!("最近一次通过校验的备份已是 {} 小时前", age / 3600),
                    format!("the newest verified backup is {} h old", age / 3600),
                ),
                _ => {}
            }
            if self.backup.failed > 0 {
                alert(
                    "backup_failed",
                    format!("{} 个备份未通过校验（.failed）", self.backup.failed),
                    format!("{} backup(s) failed verification (.failed)", self.backup.failed),
                );
            }
        }
        if let Some(days) = self.cert_days
            && days < CERT_DAYS_ALARM
        {
            alert(
                "certificate_expiry",
                format!("TLS 证书 {days:.0} 天后到期"),
                format!("the TLS certificate expires in {days:.0} days"),
            );
        }
        if let Some((_, secs)) = self.replica_lag
            && secs > REPLICA_LAG_ALARM_S
        {
            alert(
                "replica_lag",
                format!("只读副本落后 {secs:.0} 秒"),
                format!("the read replica is {secs:.0} s behind"),
            );
        }
        for i in &self.instances {
            let silent = (self.now_ms - i.at_ms) / 1000;
            if silent > INSTANCE_SILENT_S {
                // A report that stopped: the instance is down (or gone for good: its line stays until cleared).
                alert(
                    "instance_silent",
                    format!("实例 {}（{}）已 {} 秒无报告", i.host, i.bind, silent),
                    format!("instance {} ({}) has not reported for {} s", i.host, i.bind, silent),
                );
            } else if i.skew.over_alarm > 0 {
                alert(
                    "device_clock_skew",
                    format!(
                        "{} 个请求的设备时钟偏差超过 {CLOCK_SKEW_ALARM_S} 秒（实例 {}）",
                        i.skew.over_alarm, i.host
                    ),
                    format!(
                        "{} request(s) came from device clocks more than {CLOCK_SKEW_ALARM_S} s off (instance {})",
                        i.skew.over_alarm, i.host
                    ),
                );
            }
        }
        out
    }

    /// The `admin status` page: one glance.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let gb = |b: u64| b as f64 / 1e9;
        let _ = writeln!(s, "store / 存储:        {}", self.store);
        let _ = writeln!(s, "records / 记录:      {}", self.records);
        let _ = writeln!(
            s,
            "face re-check / 人脸复核: {} ({} record(s) re-checked)",
            self.faces, self.face_rechecks
        );
        match self.checkpoint {
            Some((size, age)) => {
                let _ = writeln!(
                    s,
                    "checkpoint / 检查点: size {size}, {age} s old; {} record(s) waiting to be signed",
                    self.unsigned_records
                );
            }
            None => {
                let _ = writeln!(s, "checkpoint / 检查点: none yet");
            }
        }
        for d in &self.disks {
            let _ = writeln!(
                s,
                "disk / 磁盘 {:<9} {:.1} GB free of {:.1} GB ({})",
                d.what,
                gb(d.free_bytes),
                gb(d.total_bytes),
                d.path.display()
            );
        }
        if self.backup.dir.as_os_str().is_empty() {
            let _ = writeln!(
                s,
                "backup / 备份:       backup.dir not set (backups only with `admin backup --to`)"
            );
        } else {
            match &self.backup.latest {
                Some((p, age, n)) => {
                    let _ = writeln!(
                        s,
                        "backup / 备份:       {} ({} h old, {n} records, verified)",
                        p.display(),
                        age / 3600
                    );
                }
                None => {
                    let _ =
                        writeln!(s, "backup / 备份:       none verified in {}", self.backup.dir.display());
                }
            }
        }
        if let Some(d) = self.cert_days {
            let _ = writeln!(s, "certificate / 证书:  expires in {d:.0} days");
        }
        if let Some((bytes, secs)) = self.replica_lag {
            let _ = writeln!(s, "replica / 副本:      {bytes:.0} bytes, {secs:.0} s behind");
        }
        for i in &self.instances {
            let _ = writeln!(
                s,
                "instance / 实例:     {} {} v{}, report {} s ago; since start {} accepted, {} rejected; device clocks up to {:.0} s off",
                i.host,
                i.bind,
                i.version,
                (self.now_ms - i.at_ms) / 1000,
                i.accepted,
                i.rejected,
                i.skew.max_abs_ms as f64 / 1000.0
            );
        }
        let alerts = self.alerts();
        if alerts.is_empty() {
            let _ = writeln!(s, "\n正常 / all clear");
        } else {
            let _ = writeln!(s, "\n{} 项告警 / {} alert(s):", alerts.len(), alerts.len());
            for a in alerts {
                let _ = writeln!(s, "  [{}] {} / {}", a.key, a.zh, a.en);
            }
        }
        s
    }

    /// Set the gauges `/metrics` shows (names documented in docs/operations.md).
    pub fn export(&self) {
        metrics::gauge!("sync_log_records").set(self.records as f64);
        metrics::gauge!("sync_log_unsigned_records").set(self.unsigned_records as f64);
        if let Some((_, age)) = self.checkpoint {
            metrics::gauge!("sync_checkpoint_age_seconds").set(age as f64);
        }
        for d in &self.disks {
            metrics::gauge!("sync_disk_free_bytes", "disk" => d.what).set(d.free_bytes as f64);
            metrics::gauge!("sync_disk_free_ratio", "disk" => d.what)
                .set(d.free_bytes as f64 / d.total_bytes.max(1) as f64);
        }
        if let Some((_, age, _)) = self.backup.latest {
            metrics::gauge!("sync_backup_age_seconds").set(age as f64);
        }
        if !self.backup.dir.as_os_str().is_empty() {
            metrics::gauge!("sync_backups_failed").set(self.backup.failed as f64);
        }
        if let Some(d) = self.cert_days {
            metrics::gauge!("sync_tls_certificate_expiry_seconds").set(d * 86_400.0);
        }
        if let Some((bytes, secs)) = self.replica_lag {
            metrics::gauge!("sync_replica_lag_bytes").set(bytes);
            metrics::gauge!("sync_replica_lag_seconds").set(secs);
        }
    }
}

fn backup_state(dir: &Path, now_ms: i64) -> BackupState {
    let mut state = BackupState { dir: dir.to_owned(), latest: None, failed: 0 };
    if dir.as_os_str().is_empty() {
        return state;
    }
    if let Ok(list) = crate::backup::list(dir)
        && let Some((p, m)) = list.last()
    {
        state.latest = Some((p.clone(), (now_ms - m.created_at_ms) / 1000, m.records));
    }
    state.failed = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "failed")).count()
        })
        .unwrap_or(0);
    state
}

fn cert_path(config: &Config) -> Option<PathBuf> {
    if !config.tls_enabled() {
        return None;
    }
    match config.tls.mode {
        TlsMode::Files => config.tls.cert.clone(),
        _ => Some(config.keys_dir().join("tls-cert.pem")),
    }
}

/// Free and total bytes of the file system holding `path` (or its nearest
/// existing ancestor).
pub fn disk_space(path: &Path) -> Option<(u64, u64)> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let st = rustix::fs::statvfs(existing).ok()?;
    Some((st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize))
}

/// The `notAfter` of the first certificate in `pem`, in ms since the epoch:
/// a small DER walk (Certificate → TBSCertificate → Validity), enough for
/// the one date an operator must not miss.
pub fn cert_not_after_ms(pem: &str) -> Option<i64> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    let (cert, _) = der_seq(der.as_ref())?;
    let (mut tbs, _) = der_seq(cert)?;
    // [0] EXPLICIT version, when present.
    if tbs.first() == Some(&0xa0) {
        tbs = der_next(tbs)?.1;
    }
    for _ in 0..3 {
        // serialNumber, signature, issuer
        tbs = der_next(tbs)?.1;
    }
    let (validity, _) = der_seq(tbs)?;
    let (_, after) = der_next(validity)?;
    let (tag, body, _) = der_tlv(after)?;
    let text = std::str::from_utf8(body).ok()?;
    let digits = text.strip_suffix('Z')?;
    let (y, rest) = match tag {
        0x17 => {
            let yy: i64 = digits.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, digits.get(2..)?)
        }
        0x18 => (digits.get(..4)?.parse().ok()?, digits.get(4..)?),
        _ => return None,
    };
    let n = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let days = custody_core::calendar::days_from_civil(y, n(0)?, n(2)?);
    Some(((days * 86_400) + n(4)? * 3600 + n(6)? * 60 + n(8)?) * 1000)
}

/// Tag, contents and the rest after one DER element.
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, head) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        (b.get(2..2 + n)?.iter().fold(0usize, |a, x| (a << 8) | *x as usize), 2 + n)
    };
    let body = b.get(head..head.checked_add(len)?)?;
    Some((tag, body, &b[head + len..]))
}

fn der_next(b: &[u8]) -> Option<(&[u8], &[u8])> {
    der_tlv(b).map(|(_, body, rest)| (body, rest))
}

fn der_seq(b: &[u8]) -> Option<(&[u8], &[u8])> {
    match der_tlv(b)? {
        (0x30, body, rest) => Some((body, rest)),
        _ => None,
    }
}

/// A serving instance's refresh: its gauges and its report in the store.
pub fn refresh(state: &crate::AppState, started_ms: i64) -> Result<(), StoreError> {
    let now = state.now();
    let status = Status::gather(&state.config, &state.store, now)?;
    status.export();
    let skew = std::mem::take(&mut *SKEW.lock().unwrap_or_else(|p| p.into_inner()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "-".into(), |h| h.trim().to_owned());
    let bind = state.bound.get().map_or_else(|| state.config.server.bind.clone(), |a| a.to_string());
    let report = InstanceReport {
        host: host.clone(),
        bind: bind.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_ms,
        at_ms: now,
        accepted: ACCEPTED.load(Ordering::Relaxed),
        rejected: REJECTED.load(Ordering::Relaxed),
        skew,
    };
    let value = serde_json::to_string(&report).expect("a report serialises");
    state.store.write(|tx| tx.set_meta(&format!("instance:{host}:{bind}"), &value))
}

/// Refresh every [`REFRESH_MS`] while serving.
pub fn spawn(state: crate::AppState) {
    let started = state.now();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(REFRESH_MS));
        loop {
            tick.tick().await;
            let s = state.clone();
            match tokio::task::spawn_blocking(move || refresh(&s, started)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "status refresh failed"),
                Err(e) => tracing::warn!(error = %e, "status refresh panicked"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_expiry_is_read_from_the_der() {
        let mut params = rcgen::CertificateParams::new(vec!["jzqy.example".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 6, 30);
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        let days = custody_core::calendar::days_from_civil(2031, 6, 30);
        assert_eq!(cert_not_after_ms(&pem), Some(days * 86_400_000));
        params.not_after = rcgen::date_time_ymd(2051, 1, 2);
        let pem = params.self_signed(&key).unwrap().pem();
        let days = custody_core::calendar::days_from_civil(2051, 1, 2);
        assert_eq!(cert_not_after_ms(&pem), Some(days * 86_400_000), "GeneralizedTime after 2049");
        assert_eq!(cert_not_after_ms("not a certificate"), None);
    }

    #[test]
    fn alerts_name_what_crossed_its_threshold() {
        let mut s = Status {
            store: "sqlite x".into(),
            records: 20_000,
            checkpoint: Some((5_000, 3600)),
            unsigned_records: 15_000,
            disks: vec![Disk { what: "media", path: "/srv".into(), free_bytes: 5, total_bytes: 100 }],
            backup: BackupState { dir: "/b".into(), latest: Some(("/b/x".into(), 30 * 3600, 10)), failed: 1 },
            backup_max_age_s: 26 * 3600,
            cert_days: Some(3.0),
            replica_lag: Some((1e6, 300.0)),
            instances: vec![],
            faces: "on".into(),
            face_rechecks: 0,
            now_ms: 1_000_000,
        };
        let keys: Vec<&str> = s.alerts().iter().map(|a| a.key).collect();
        assert!(keys.iter().all(|k| ALERT_KEYS.contains(k)), "listed in ALERT_KEYS");
        assert_eq!(
            keys,
            [
                "log_backlog",
                "checkpoint_stale",
                "disk_free",
                "backup_stale",
                "backup_failed",
                "certificate_expiry",
                "replica_lag"
            ]
        );
        s.unsigned_records = 0;
        s.disks[0].free_bytes = 50;
        s.backup.latest = Some(("/b/x".into(), 3600, 10));
        s.backup.failed = 0;
        s.cert_days = Some(90.0);
        s.replica_lag = Some((0.0, 0.0));
        assert!(s.alerts().is_empty(), "{:?}", s.alerts());
        assert!(s.render().contains("all clear"));
    }
}
