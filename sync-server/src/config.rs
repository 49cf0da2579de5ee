//! Configuration, layered: built-in defaults → a TOML file → environment
//! variables (`JZQY_SERVER__BIND=0.0.0.0:8443`, double underscore = nesting).
//! With no configuration at all, `sync-server serve` runs on 127.0.0.1 with an
//! embedded SQLite database and media on the local disk under `./sync-data`.

use custody_core::policy::Policy;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub storage: StorageConfig,
    pub limits: Limits,
    pub policy: Policy,
    pub log: LogConfig,
    pub console: ConsoleConfig,
    pub oversight: OversightConfig,
    pub backup: BackupConfig,
    pub reports: ReportsConfig,
    pub faces: FacesConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// The URL devices use to reach this server (goes into enrollment QRs).
    /// Empty: derived from `bind`.
    pub public_url: String,
    /// Where the database (embedded default), media and keys live.
    pub data_dir: PathBuf,
    /// Reverse proxies in front of this server: IP addresses or CIDR blocks
    /// (`10.0.0.5`, `10.0.0.0/24`, `::1`). Only a request arriving from one
    /// of them has its `X-Forwarded-For` and `X-Forwarded-Proto` believed, so
    /// the console's per-address sign-in limits and its audit lines name the
    /// real client. Empty: those headers are ignored (anyone could forge them).
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain HTTP on a loopback address, a self-signed certificate otherwise.
    Auto,
    Off,
    SelfSigned,
    Files,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub mode: TlsMode,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Extra host names / IPs for the self-signed certificate.
    pub names: Vec<String>,
}

#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite:PATH` (default: `sqlite:<data_dir>/custody.sqlite`) or
    /// `postgres://user:password@host:port/database`.
    pub database: String,
    /// PostgreSQL only: a streaming replica for the lab, regulator and
    /// verification reads (`postgres://…`). Empty: the primary serves them.
    pub read_replica: String,
    /// PEM file of the CA certificates that sign the PostgreSQL servers'
    /// certificates, trusted besides the system's roots. TLS is used when the
    /// server offers it (`sslmode=prefer`, the default) or demanded with
    /// `?sslmode=require` in the URL; `sslmode=disable` turns it off.
    pub database_ca: Option<PathBuf>,
    /// Media directory (default: `<data_dir>/media`).
    pub media_dir: Option<PathBuf>,
    /// Media in S3-compatible object storage: `s3://bucket` or
    /// `s3://bucket/prefix`. Empty: the media directory.
    pub media_bucket: String,
    /// The key-encryption key of the face photos (issue 18, PIPL): a file
    /// outside the database and the media store, made at first start,
    /// owner-only. Empty: `<data_dir>/keys/face-photos.key`.
    pub face_key_file: PathBuf,
    pub s3: S3Config,
}

/// Where the bucket lives and how to sign for it. Unset fields fall back to
/// the standard `AWS_*` environment variables.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// e.g. `https://oss-cn-hangzhou.aliyuncs.com` or `http://127.0.0.1:9000`;
    /// empty: AWS itself.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style URLs (`endpoint/bucket/key`), which most self-hosted
    /// S3-compatible servers need.
    pub path_style: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &if self.secret_access_key.is_empty() { "" } else { "***" })
            .field("path_style", &self.path_style)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest record upload request.
    pub upload_body_bytes: usize,
    /// Largest media chunk.
    pub media_chunk_bytes: usize,
    /// Largest single media file (a short process video).
    pub media_file_bytes: u64,
    pub request_timeout_secs: u64,
    pub media_timeout_secs: u64,
    pub records_per_upload: usize,
}

/// The web console's sessions and sign-in protection (issue 13).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// A session ends after this long without a request.
    pub idle_minutes: i64,
    /// A session ends this long after sign-in, whatever happens.
    pub session_hours: i64,
    /// Failed sign-ins in a row that lock an account …
    pub lockout_failures: u32,
    /// … for this long.
    pub lockout_minutes: i64,
    /// Failed sign-ins from one address within ten minutes before it is
    /// told to wait (whatever accounts it tries).
    pub failures_per_address: u32,
    /// How long a console sign-in QR waits for the field app.
    pub qr_login_minutes: i64,
    /// How long an account's one-time setup link works.
    pub setup_hours: i64,
    /// Largest letter of authorisation or face reference uploaded. The
    /// whole form may be this plus 64 KiB: a grant's letter and face
    /// together, or a unit project's form with its boundary.
    pub upload_bytes: usize,
    /// Base tiles drawn under the console's maps: an XYZ Web Mercator URL
    /// template with `{z}`, `{x}`, `{y}` (a tile server the office PCs can
    /// reach). Empty (the default): plain background, works offline.
    pub map_tiles: String,
    /// The datum the tiles are drawn in: `wgs84` (Tianditu, OpenStreetMap)
    /// or `gcj02` (AMap, Tencent).
    pub map_tiles_datum: String,
}

/// Oversight (issue 16): the server's own pass over what arrived, and the
/// thresholds of the early warnings (R8, R17).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OversightConfig {
    /// How often the server looks for samplings whose witness window closed
    /// and tallies what arrived (0: never; `sync-server admin oversight`
    /// runs one pass by hand).
    pub interval_ms: u64,
    /// Records and findings tallied per transaction (keeps each pass's hold
    /// on the write lock short).
    pub batch: u32,
    /// Thresholds of the project warnings (`custody_core::oversight::project`).
    pub project: custody_core::oversight::project::ProjectThresholds,
    /// Thresholds of the lab signals (`custody_core::oversight::lab`), checked
    /// at start; the signals run once lab results exist (issue 14).
    pub lab: custody_core::oversight::lab::LabThresholds,
    /// Progress against plan (A4.1, `custody_core::plans::progress`).
    pub plans: custody_core::plans::progress::ProgressPolicy,
}

impl Default for OversightConfig {
    fn default() -> Self {
        OversightConfig {
            interval_ms: 10_000,
            batch: 500,
            project: Default::default(),
            lab: Default::default(),
            plans: Default::default(),
        }
    }
}

/// The test report PDF the system issues (R13, `report_pdf`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// The font the report is set in: a TrueType/OpenType file or
    /// collection with Chinese. The default is Debian's `fonts-noto-cjk`
    /// (a dependency of the package).
    pub font_file: PathBuf,
    /// The face within a collection (`.ttc`): 2 is Noto Sans CJK SC
    /// (simplified Chinese glyph forms) in Debian's file; 0 for a single font.
    pub font_index: u32,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            font_file: PathBuf::from("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
            font_index: 2,
        }
    }
}

/// The server's own face re-check (issue 19, R1, R7; `crate::faces`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FacesConfig {
    /// The face models (`scripts/lib/models.sh` installs them). Unset:
    /// the capture crate's default (`$CAPTURE_MODELS`, else `.models` in
    /// the source tree the server was built from). Without them the server
    /// says so at start and in `admin status`, and does not re-check.
    pub models_dir: Option<PathBuf>,
}

impl FacesConfig {
    /// Where the models are looked for.
    pub fn dir(&self) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(capture::face::default_models_dir)
    }
}

/// Scheduled backups (`sync-server admin backup`, run nightly by the
/// packaged `jzqy-backup.timer`): each is verified after it is made, then
/// the oldest beyond `keep` are removed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// Where dated backups go (one directory each). Empty: `admin backup`
    /// needs `--to`. Put it on another disk than `server.data_dir`.
    pub dir: PathBuf,
    /// Verified backups kept; older ones are removed once a newer one has
    /// verified (never the last good one).
    pub keep: u32,
    /// `admin status` and `/metrics` call a backup older than this stale.
    pub max_age_hours: u64,
    /// A file holding the passphrase that seals the private keys in each
    /// backup (`key_custody`). Empty: backups hold no private key at all.
    pub key_passphrase_file: PathBuf,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig { dir: PathBuf::new(), keep: 7, max_age_hours: 26, key_passphrase_file: PathBuf::new() }
    }
}

impl ConsoleConfig {
    /// The configured base tiles, if any (checked when the configuration loads).
    pub fn tiles(&self) -> Option<crate::console::map::Tiles> {
        crate::console::map::Tiles::from_config(&self.map_tiles, &self.map_tiles_datum).ok().flatten()
    }
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            idle_minutes: 30,
            session_hours: 12,
            lockout_failures: 5,
            lockout_minutes: 15,
            failures_per_address: 20,
            qr_login_minutes: 5,
            setup_hours: 72,
            upload_bytes: 10 << 20,
            map_tiles: String::new(),
            map_tiles_datum: "wgs84".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info,sync_server=debug`.
    pub filter: String,
    /// `json` for machines, `pretty` for people.
    pub format: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8787".into(),
            public_url: String::new(),
            data_dir: PathBuf::from("sync-data"),
            trusted_proxies: vec![],
        }
    }
}
impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig { mode: TlsMode::Auto, cert: None, key: None, names: vec![] }
    }
}
impl Default for Limits {
    fn default() -> Self {
        Limits {
            upload_body_bytes: 8 << 20,
            media_chunk_bytes: 4 << 20,
            media_file_bytes: 512 << 20,
            request_timeout_secs: 30,
            media_timeout_secs: 120,
            records_per_upload: 500,
        }
    }
}
impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { filter: "info".into(), format: "pretty".into() }
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Hide credentials in a database URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("database", &redact_url(&self.database))
            .field("read_replica", &redact_url(&self.read_replica))
            .field("database_ca", &self.database_ca)
            .field("media_dir", &self.media_dir)
            .field("media_bucket", &self.media_bucket)
            .field("face_key_file", &self.face_key_file)
            .field("s3", &self.s3)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("tls", &self.tls)
            .field("storage", &self.storage)
            .field("limits", &self.limits)
            .field("log", &self.log)
            .field("console", &self.console)
            .field("backup", &self.backup)
            .finish_non_exhaustive()
    }
}

/// An address block: `10.0.0.0/24`, `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl std::str::FromStr for IpNet {
    type Err = String;
    fn from_str(s: &str) -> Result<IpNet, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR block (e.g. 10.0.0.5 or 10.0.0.0/24)");
        let (a, p) = s.trim().split_once('/').map_or((s.trim(), None), |(a, p)| (a, Some(p)));
        let addr: std::net::IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl IpNet {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        // An IPv4 peer may arrive as an IPv4-mapped IPv6 address.
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        let bits = |a: std::net::IpAddr| -> u128 {
            match a {
                std::net::IpAddr::V4(v) => u32::from(v) as u128,
                std::net::IpAddr::V6(v) => u128::from(v),
            }
        };
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let shift = width - self.prefix as u32;
        if shift >= width {
            return true;
        }
        (bits(ip) >> shift) == (bits(self.addr) >> shift)
    }
}

/// `[policy]` is custody_core's `Policy`, which also travels to phones in
/// their profile and so accepts fields it does not know (an older app must
/// read a newer server's policy). The server's own configuration is stricter:
/// a misspelt key would silently leave a rule's default in force.
fn check_policy_keys(fig: &Figment) -> Result<(), ConfigError> {
    let Ok(value) = fig.find_value("policy") else { return Ok(()) };
    let Some(given) = value.as_dict() else { return Ok(()) };
    let known = serde_json::to_value(Policy::default()).expect("the policy serialises");
    let known = known.as_object().expect("the policy is a table");
    for key in given.keys() {
        if !known.contains_key(key) {
            let mut names: Vec<&str> = known.keys().map(String::as_str).collect();
            names.sort_unstable();
            return Err(ConfigError(format!("policy.{key}: unknown key (known: {})", names.join(", "))));
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults, then the file (if given), then `JZQY_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.is_file() {
                return Err(ConfigError(format!("file {} not found", f.display())));
            }
            fig = fig.merge(Toml::file(f));
        }
        // JZQY_CONFIG names the file (the command line's `--config`), not a key.
        fig = fig.merge(Env::prefixed("JZQY_").ignore(&["config"]).split("__"));
        check_policy_keys(&fig)?;
        let c: Config = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        crate::console::map::Tiles::from_config(&self.console.map_tiles, &self.console.map_tiles_datum)
            .map_err(ConfigError)?;
        self.oversight.project.check().map_err(|e| ConfigError(e.to_string()))?;
        self.oversight.lab.check().map_err(|e| ConfigError(format!("oversight.lab: {e}")))?;
        if self.oversight.batch == 0 {
            return Err(ConfigError("oversight.batch must be at least 1".into()));
        }
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!("server.bind {:?} is not an address:port", self.server.bind)));
        }
        if let Err(e) = self.proxies() {
            return Err(ConfigError(format!("server.trusted_proxies: {e}")));
        }
        if self.backup.keep == 0 {
            return Err(ConfigError(
                "backup.keep must be at least 1 (the last verified backup is never removed)".into(),
            ));
        }
        if self.tls.mode == TlsMode::Files && (self.tls.cert.is_none() || self.tls.key.is_none()) {
            return Err(ConfigError("tls.mode = \"files\" needs tls.cert and tls.key".into()));
        }
        let db = &self.storage.database;
        if !db.is_empty() && !db.starts_with("sqlite:") && !self.is_postgres() {
            return Err(ConfigError(format!(
                "storage.database {:?}: expected sqlite:PATH or postgres://user:password@host/database",
                redact_url(db)
            )));
        }
        let replica = &self.storage.read_replica;
        if !replica.is_empty() && (!self.is_postgres() || !is_postgres_url(replica)) {
            return Err(ConfigError(
                "storage.read_replica needs a postgres:// URL, and a PostgreSQL storage.database".into(),
            ));
        }
        if !self.storage.media_bucket.is_empty() && self.bucket().is_none() {
            return Err(ConfigError(format!(
                "storage.media_bucket {:?}: expected s3://bucket or s3://bucket/prefix",
                self.storage.media_bucket
            )));
        }
        Ok(())
    }

    /// The trusted reverse proxies, parsed (`server.trusted_proxies`).
    pub fn proxies(&self) -> Result<Vec<IpNet>, String> {
        self.server.trusted_proxies.iter().map(|s| s.parse()).collect()
    }

    pub fn is_postgres(&self) -> bool {
        is_postgres_url(&self.storage.database)
    }

    /// Bucket and key prefix, when media live in object storage.
    pub fn bucket(&self) -> Option<(String, String)> {
        let rest = self.storage.media_bucket.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return None;
        }
        Some((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
    }

    pub fn database_path(&self) -> PathBuf {
        match self.storage.database.strip_prefix("sqlite:") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => self.server.data_dir.join("custody.sqlite"),
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.storage.media_dir.clone().unwrap_or_else(|| self.server.data_dir.join("media"))
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.server.data_dir.join("keys")
    }

    /// Where the face photos' key-encryption key lives (`crate::faces`).
    pub fn face_key_file(&self) -> PathBuf {
        if self.storage.face_key_file.as_os_str().is_empty() {
            self.keys_dir().join(crate::faces::KEY_FILE)
        } else {
            self.storage.face_key_file.clone()
        }
    }

    pub fn bind_is_loopback(&self) -> bool {
        self.server.bind.parse::<std::net::SocketAddr>().map(|a| a.ip().is_loopback()).unwrap_or(false)
    }

    pub fn tls_enabled(&self) -> bool {
        match self.tls.mode {
            TlsMode::Off => false,
            TlsMode::Auto => !self.bind_is_loopback(),
            TlsMode::SelfSigned | TlsMode::Files => true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's test jail returns its own error type
mod tests {
    use super::*;

    #[test]
    fn layers_defaults_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[server]\nbind = \"0.0.0.0:9000\"\n[policy]\nwitness_window_ms = 600000\n")
            .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_SERVER__DATA_DIR", "/tmp/x");
            let c = Config::load(Some(&f)).unwrap();
            assert_eq!(c.server.bind, "0.0.0.0:9000");
            assert_eq!(c.server.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(c.policy.witness_window_ms, 600_000);
            assert_eq!(c.limits, Limits::default());
            assert!(c.tls_enabled(), "a non-loopback bind gets TLS by default");
            Ok(())
        });
    }

    #[test]
    fn a_misspelt_policy_key_is_refused_not_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_POLICY__WITNES_WINDOW_MS", "600000");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("policy.witnes_window_ms") && e.contains("witness_window_ms"), "{e}");
            Ok(())
        });
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[policy]\nwitness_window_ms = 600000\n").unwrap();
        assert_eq!(Config::load(Some(&f)).unwrap().policy.witness_window_ms, 600_000);
        std::fs::write(&f, "[policy]\nwitness_windw_ms = 600000\n").unwrap();
        assert!(Config::load(Some(&f)).unwrap_err().to_string().contains("policy.witness_windw_ms"));
    }

    #[test]
    fn the_config_file_variable_is_not_a_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_CONFIG", "/etc/jzqy/sync-server.toml");
            Config::load(None).expect("JZQY_CONFIG is --config's variable, not an unknown key");
            Ok(())
        });
    }

    #[test]
    fn secrets_are_never_printed() {
        let mut c = Config::default();
        c.storage.database = "postgres://jzqy:hunter2@db:5432/custody".into();
        c.storage.read_replica = "postgres://jzqy:hunter3@replica:5432/custody".into();
        c.storage.s3.secret_access_key = "s3cr3t-key".into();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("jzqy:***@db"));
        assert!(!shown.contains("hunter3") && shown.contains("jzqy:***@replica"));
        assert!(!shown.contains("s3cr3t-key"));
    }

    #[test]
    fn storage_is_chosen_by_urls_and_bad_ones_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_STORAGE__DATABASE", "postgres://u:p@db/jzqy");
            jail.set_env("JZQY_STORAGE__MEDIA_BUCKET", "s3://media-bucket/site/a");
            let c = Config::load(None).unwrap();
            assert!(c.is_postgres());
            assert_eq!(c.bucket(), Some(("media-bucket".into(), "site/a".into())));
            jail.set_env("JZQY_STORAGE__DATABASE", "mysql://u:p@db/jzqy");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("storage.database") && e.contains("postgres://") && !e.contains(":p@"), "{e}");
            jail.set_env("JZQY_STORAGE__DATABASE", "sqlite:/tmp/x.sqlite");
            jail.set_env("JZQY_STORAGE__READ_REPLICA", "postgres://u:p@replica/jzqy");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("read_replica"), "{e}");
            jail.set_env("JZQY_STORAGE__READ_REPLICA", "");
            jail.set_env("JZQY_STORAGE__MEDIA_BUCKET", "gs://elsewhere");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("media_bucket") && e.contains("s3://bucket"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_are_address_blocks() {
        let net = |s: &str| s.parse::<IpNet>().unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(net("10.0.0.0/24").contains(ip("10.0.0.200")));
        assert!(!net("10.0.0.0/24").contains(ip("10.0.1.1")));
        assert!(net("10.0.0.5").contains(ip("10.0.0.5")) && !net("10.0.0.5").contains(ip("10.0.0.6")));
        assert!(net("10.0.0.5").contains(ip("::ffff:10.0.0.5")), "IPv4-mapped peers match");
        assert!(net("fd00::/8").contains(ip("fd12::1")) && !net("fd00::/8").contains(ip("10.0.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("192.0.2.1")));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0/8", ""] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_SERVER__TRUSTED_PROXIES", "[\"10.0.0.0/24\", \"nginx\"]");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("server.trusted_proxies") && e.contains("nginx"), "{e}");
            jail.set_env("JZQY_SERVER__TRUSTED_PROXIES", "[\"10.0.0.0/24\"]");
            assert_eq!(Config::load(None).unwrap().proxies().unwrap().len(), 1);
            jail.set_env("JZQY_BACKUP__KEEP", "0");
            assert!(Config::load(None).unwrap_err().to_string().contains("backup.keep"));
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_clear_errors() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_SERVER__BIND", "not an address");
            let e = Config::load(None).unwrap_err();
            assert!(e.to_string().contains("server.bind"));
            Ok(())
        });
    }

    #[test]
    fn oversight_thresholds_are_checked_at_start_and_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("JZQY_OVERSIGHT__PROJECT__LATE_OR_MISSED_RATE", "1.5");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("oversight.project.late_or_missed_rate"), "{e}");
            jail.set_env("JZQY_OVERSIGHT__PROJECT__LATE_OR_MISSED_RATE", "0.1");
            jail.set_env("JZQY_OVERSIGHT__PROJECT__MISSPELT", "1");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("misspelt"), "an unknown key is refused: {e}");
            Ok(())
        });
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[oversight]\nbatch = 0\n").unwrap();
        assert!(Config::load(Some(&f)).unwrap_err().to_string().contains("oversight.batch"));
        std::fs::write(&f, "[oversight.lab]\nnot_a_threshold = 3\n").unwrap();
        assert!(Config::load(Some(&f)).is_err(), "lab thresholds refuse unknown keys too");
        std::fs::write(&f, "[oversight.project]\nmin_samplings = 1\n[oversight.lab]\n").unwrap();
        assert_eq!(Config::load(Some(&f)).unwrap().oversight.project.min_samplings, 1);
    }
}
