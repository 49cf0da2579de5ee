//! `sync-server`: serve, administer, demo. See `sync-server --help`.

use clap::{Parser, Subcommand};
use custody_core::model::{
    Id, OrgRole, Organisation, Person, PersonRole, Project, SpecimenKind, UnitProject,
};
use custody_core::place::{Datum, SiteBoundary};
use custody_core::record::LabAssignment;
use custody_core::tag::{BatchKey, SerialRange, TagBatch};
use std::path::PathBuf;
use std::process::ExitCode;
use sync_server::admin::{Admin, AdminError};
use sync_server::config::{Config, TlsMode};
use sync_server::{AppState, demo, keys, maintenance};

#[derive(Parser)]
#[command(
    name = "sync-server",
    version,
    about = "见证取样 sync server: verifies every record, keeps everything"
)]
struct Cli {
    /// Configuration file (TOML). Environment variables JZQY_* override it.
    #[arg(long, short, global = true, env = "JZQY_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (overrides server.data_dir).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server (embedded SQLite and local media by default).
    Serve {
        /// Seed the demo project first and print its enrollment QRs.
        #[arg(long)]
        demo: bool,
    },
    /// Seed the demo project, print enrollment QRs, and serve.
    Demo {
        /// Reference face photos for the demo people (obama.jpg, biden.jpg), e.g. .models/faces.
        #[arg(long)]
        faces: Option<PathBuf>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Administer the store (works while the server runs).
    Admin {
        #[command(subcommand)]
        cmd: AdminCmd,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Register an organisation.
    Org {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// owner, contractor, supervisor, lab, tag_supplier, regulator, operator
        #[arg(long)]
        role: String,
        #[arg(long)]
        credit_code: Option<String>,
        /// Administrative division code a regulator oversees (R18).
        #[arg(long)]
        jurisdiction: Option<String>,
    },
    /// Register a project.
    Project {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        jurisdiction: String,
    },
    /// Register a unit project with its site boundary (GeoJSON Polygon or Feature).
    Unit {
        #[arg(long)]
        id: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        boundary: PathBuf,
        /// Datum of the GeoJSON coordinates: wgs84, gcj02 (AMap/Tencent) or bd09 (Baidu).
        #[arg(long, default_value = "wgs84")]
        datum: String,
    },
    /// Register a person in an organisation.
    Person {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        org: String,
    },
    /// Record a letter of authorisation and real-name verification (R1).
    Grant {
        #[arg(long)]
        id: String,
        #[arg(long)]
        person: String,
        /// Omit only for lab staff (valid on every commissioned project).
        #[arg(long)]
        project: Option<String>,
        /// sampler, witness, lab_receiver, lab_tester, lab_reporter, inspector
        #[arg(long)]
        role: String,
        /// The scanned letter of authorisation (PDF or image).
        #[arg(long)]
        letter: PathBuf,
        /// How identity was verified, e.g. "id_card+face".
        #[arg(long)]
        real_name: String,
        /// Reference face photo for on-device 1:1 checks.
        #[arg(long)]
        face: Option<PathBuf>,
        /// Last valid day, YYYY-MM-DD.
        #[arg(long)]
        until: Option<String>,
    },
    /// Revoke an authorisation (R1).
    Revoke {
        #[arg(long)]
        grant: String,
        #[arg(long)]
        reason: String,
    },
    /// Register a supplier's tag batch for a project (R15-R16).
    Tags {
        #[arg(long)]
        supplier_org: String,
        #[arg(long)]
        project: String,
        /// The supplier's 4-digit code printed in every tag.
        #[arg(long)]
        supplier_code: u16,
        #[arg(long)]
        year: u8,
        #[arg(long)]
        batch: u16,
        /// Serial ranges FIRST-LAST (repeatable).
        #[arg(long = "range")]
        ranges: Vec<String>,
        /// A file with one tag code per line (alternative to --range).
        #[arg(long)]
        list: Option<PathBuf>,
    },
    /// Commission a lab for a unit project (R2).
    Lab {
        #[arg(long)]
        project: String,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        lab: String,
        /// Specimen kinds, comma separated (default: all).
        #[arg(long)]
        kinds: Option<String>,
    },
    /// File a tag supplier's yearly guide price per tag (R15): a tag-supply
    /// contract above it is refused.
    GuidePrice {
        #[arg(long)]
        supplier: String,
        #[arg(long)]
        year: u16,
        /// Yuan per tag, at most two decimals (e.g. 1.50).
        #[arg(long)]
        price: String,
        /// The filing's reference (备案文号).
        #[arg(long)]
        filing: String,
    },
    /// Make a one-time enrollment QR for a person's device.
    Enroll {
        #[arg(long)]
        person: String,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 24)]
        hours: i64,
    },
    /// Revoke a device (lost or stolen phone).
    RevokeDevice {
        /// The device's public key (base64url).
        #[arg(long)]
        key: String,
        #[arg(long)]
        reason: String,
    },
    /// A web-console account and its one-time setup link (the first
    /// administrator is made this way). An existing account is left alone
    /// unless --reset (new link, password and second factor cleared).
    ConsoleAccount {
        #[arg(long, default_value = "admin")]
        login: String,
        #[arg(long, default_value = "系统管理员")]
        name: String,
        /// A directory person the account is (blank: an administrator).
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        reset: bool,
    },
    /// Create an admin API token.
    Token {
        #[arg(long, default_value = "admin")]
        label: String,
    },
    /// Verify the whole store: signatures, chains, log, media hashes.
    Verify,
    /// Rotate the server's signing key (issue 18): a new key, the old one
    /// signing the handover to it, the old private key destroyed. Everything
    /// the old key signed stays valid; phones follow the handover at their
    /// next sync. Restart every instance afterwards (with the new key file).
    RotateKey {
        /// Why, in words kept with the handover (routine, suspected compromise …).
        #[arg(long)]
        reason: String,
    },
    /// Export a project, a report or a period as a BagIt bag that
    /// `custody-verify` checks without this server (R14): records, media,
    /// issued reports, a signed checkpoint with a proof per record, every
    /// earlier checkpoint with its consistency proof, the server keys.
    Export {
        /// A directory that does not exist yet.
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        project: Option<String>,
        /// A report record's id (hex): the report, its specimens' records,
        /// what amends or revokes it.
        #[arg(long)]
        report: Option<String>,
        /// First seen on or after this day (YYYY-MM-DD, China Standard Time).
        #[arg(long)]
        from: Option<String>,
        /// First seen on or before this day.
        #[arg(long)]
        to: Option<String>,
        /// Every earlier record of each device too, so its chain has no gap.
        #[arg(long)]
        whole_chains: bool,
    },
    /// Run one oversight pass now (what the server's timer runs): watch new
    /// samplings, decide closed windows, tally, draw due spot checks.
    Oversight,
    /// Back up the store (either back end: a consistent SQLite snapshot),
    /// media and keys, then verify the copy in full. Without --to: a dated
    /// directory in backup.dir, keeping backup.keep verified ones (what the
    /// packaged nightly timer runs).
    Backup {
        /// An empty directory instead of a dated one in backup.dir.
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Restore a backup into a scratch directory, open it with this server
    /// version and verify everything against the backup's manifest; prints
    /// the time and size. Does not touch the live store.
    RestoreDrill {
        /// The backup (default: the newest verified one in backup.dir).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Where to restore (default: backup.dir/.drill, removed afterwards).
        #[arg(long)]
        scratch: Option<PathBuf>,
        /// Keep the restored copy for inspection.
        #[arg(long)]
        keep: bool,
    },
    /// Restore a backup into an empty data directory. Its private keys come
    /// unsealed with the passphrase (default: backup.key_passphrase_file),
    /// or from the escrowed keys directory.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// The file holding the passphrase the backup's keys were sealed with.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// The keys directory kept apart from the backups (escrow).
        #[arg(long)]
        keys_from: Option<PathBuf>,
    },
    /// The state of the deployment at a glance: log, checkpoint, disks,
    /// backups, certificate, replica, instances and their devices' clocks,
    /// then the alerts (exit status 1 when there are any).
    Status {
        /// Machine-readable (JSON) instead of the text page.
        #[arg(long)]
        json: bool,
    },
    /// Face photos encrypted at rest (issue 18): seal those in the clear,
    /// rotate the key-encryption key.
    Faces {
        #[command(subcommand)]
        cmd: faces_cli::FacesCmd,
    },
    /// Copy the embedded store to PostgreSQL (and media from a directory to a
    /// bucket), then verify the copy. Safe to re-run: it catches up.
    Migrate {
        /// The embedded store, `sqlite:PATH` (default: this data directory's).
        #[arg(long)]
        from: Option<String>,
        /// `postgres://user:password@host:port/database`
        #[arg(long)]
        to: String,
        /// Media directory to copy from (default: this data directory's media).
        #[arg(long)]
        media_from: Option<PathBuf>,
        /// `s3://bucket[/prefix]` to copy media into ([storage.s3] / AWS_* say
        /// where and how). Without it media stay where they are.
        #[arg(long)]
        media_to: Option<String>,
    },
}

fn fail(zh: &str, en: impl std::fmt::Display) -> ExitCode {
    eprintln!("错误：{zh}\nerror: {en}");
    ExitCode::FAILURE
}

fn parse_enum<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, AdminError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| AdminError::invalid(format!("无效的{what}：{s}"), format!("invalid {what}: {s}")))
}

fn parse_id(s: &str) -> Result<Id, AdminError> {
    Id::new(s).map_err(|e| AdminError::invalid(format!("编号格式错误：{s}"), e.to_string()))
}

/// End of the given day in China Standard Time (UTC+8), in ms.
fn end_of_day_cst(s: &str) -> Result<i64, AdminError> {
    custody_core::calendar::end_of_day_cst(s).ok_or_else(|| {
        AdminError::invalid(format!("日期格式应为 YYYY-MM-DD：{s}"), format!("date must be YYYY-MM-DD: {s}"))
    })
}

/// Read a GeoJSON site boundary in the given datum (`custody_core::geojson`).
fn read_boundary(path: &PathBuf, datum: Datum) -> Result<SiteBoundary, AdminError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AdminError::invalid(
            format!("无法读取 {}", path.display()),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    custody_core::geojson::site_boundary(&text, datum)
        .map_err(|e| AdminError::invalid(e.message_zh, e.message_en))
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log.filter));
    if config.log.format == "json" {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

fn print_offer(person: &str, offer: &custody_core::protocol::EnrollmentOffer) {
    let qr = offer.to_qr();
    println!(
        "\n{} ({person}) — 用手机扫描以注册设备 / scan with the field app to enroll:",
        offer.person_name
    );
    println!("{}", demo::terminal_qr(&qr));
    println!("{qr}");
}

fn tls_material(state: &AppState) -> Result<Option<keys::TlsMaterial>, keys::KeyFileError> {
    let c = &state.config;
    if !c.tls_enabled() {
        return Ok(None);
    }
    if c.tls.mode == TlsMode::Files {
        return keys::load_tls_files(
            c.tls.cert.as_ref().expect("validated"),
            c.tls.key.as_ref().expect("validated"),
        )
        .map(Some);
    }
    let mut names = vec!["localhost".to_owned()];
    if let Ok(a) = c.server.bind.parse::<std::net::SocketAddr>()
        && !a.ip().is_unspecified()
    {
        names.push(a.ip().to_string());
    }
    names.extend(c.tls.names.iter().cloned());
    keys::load_or_create_self_signed(&c.keys_dir(), &names).map(Some)
}

/// The operator's backup commands (`admin backup`, `admin restore-drill`).
#[path = "cli/backup.rs"]
mod backup_cli;
use backup_cli::{backup_cmd, restore_drill};
/// `admin export`, the lifetime archive (R14).
#[path = "cli/export.rs"]
mod export_cli;
/// `admin faces` (face photos encrypted at rest, issue 18).
#[path = "cli/faces.rs"]
mod faces_cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail("配置错误", e),
    };
    if let Some(d) = cli.data {
        config.server.data_dir = d;
    }
    match cli.cmd {
        Cmd::Openapi => {
            print!("{}", sync_server::openapi::spec_json());
            ExitCode::SUCCESS
        }
        Cmd::Serve { demo } => serve(config, demo.then_some(None)),
        Cmd::Demo { faces } => serve(config, Some(faces)),
        Cmd::Admin { cmd: AdminCmd::Restore { .. } } if config.is_postgres() || config.bucket().is_some() => {
            fail(
                "备份只能恢复到内置数据库；请先恢复到数据目录，再用 admin migrate 迁移到 PostgreSQL",
                "a backup restores into the embedded store: restore it into a data directory, then `admin migrate` it into PostgreSQL",
            )
        }
        Cmd::Admin { cmd: AdminCmd::RestoreDrill { from, scratch, keep } } => {
            restore_drill(&config, from, scratch, keep)
        }
        Cmd::Admin { cmd: AdminCmd::Restore { from, passphrase_file, keys_from } } => {
            let configured =
                Some(config.backup.key_passphrase_file.clone()).filter(|p| !p.as_os_str().is_empty());
            let source = match (keys_from, passphrase_file.or(configured)) {
                (Some(dir), _) => sync_server::key_custody::KeySource::Escrow(dir),
                (None, Some(file)) => match sync_server::key_custody::read_passphrase(&file) {
                    Ok(p) => sync_server::key_custody::KeySource::Passphrase(p),
                    Err(e) => return fail(&e.message_zh(), e),
                },
                (None, None) => sync_server::key_custody::KeySource::InTheClear,
            };
            match maintenance::restore(
                &from,
                &config.database_path(),
                &config.media_dir(),
                &config.keys_dir(),
                &config.face_key_file(),
                &source,
            ) {
                Ok(()) => {
                    println!("restored into {}; verifying…", config.server.data_dir.display());
                    admin_cmd(config, AdminCmd::Verify)
                }
                Err(e) => fail("恢复失败", e),
            }
        }
        Cmd::Admin { cmd: AdminCmd::Migrate { from, to, media_from, media_to } } => {
            migrate_cmd(config, from, to, media_from, media_to)
        }
        Cmd::Admin { cmd } => admin_cmd(config, cmd),
    }
}

fn migrate_cmd(
    mut config: Config,
    from: Option<String>,
    to: String,
    media_from: Option<PathBuf>,
    media_to: Option<String>,
) -> ExitCode {
    use sync_server::blobs::Blobs;
    let source = match from.as_deref().map(|f| f.strip_prefix("sqlite:").ok_or(f)) {
        None => config.database_path(),
        Some(Ok(p)) => PathBuf::from(p),
        Some(Err(f)) => return fail("来源须为 sqlite:路径", format!("--from {f:?}: expected sqlite:PATH")),
    };
    if !sync_server::config::is_postgres_url(&to) {
        return fail(
            "目标须为 postgres:// 地址",
            format!("--to {:?}: expected postgres://…", sync_server::config::redact_url(&to)),
        );
    }
    let src_media = match Blobs::open(&media_from.unwrap_or_else(|| config.media_dir())) {
        Ok(b) => b,
        Err(e) => return fail("无法打开媒体目录", e),
    };
    let dst_media = match media_to {
        Some(bucket) => {
            config.storage.media_bucket = bucket;
            if config.bucket().is_none() {
                return fail("媒体目标须为 s3://桶名[/前缀]", "--media-to: expected s3://bucket[/prefix]");
            }
            match Blobs::from_config(&config) {
                Ok(b) => Some(b),
                Err(e) => return fail("无法连接对象存储", e),
            }
        }
        None => None,
    };
    let pg =
        match sync_server::store::postgres::PgStore::open(&to, None, config.storage.database_ca.as_deref()) {
            Ok(p) => p,
            Err(e) => return fail("无法连接 PostgreSQL", e),
        };
    println!("migrating {} → {}", source.display(), pg.url());
    let media = dst_media.as_ref().map(|d| (&src_media, d));
    let verify_media = dst_media.as_ref().unwrap_or(&src_media);
    let faces = match sync_server::faces::FaceVault::from_key_files(&config.face_key_file()) {
        Ok(f) => f,
        Err(e) => return fail(&e.message_zh(), e),
    };
    match sync_server::migrate::migrate(&source, &pg, media, verify_media, faces.as_ref()) {
        Ok(r) => {
            for (table, rows, written) in &r.tables {
                println!("  {table:<18} {rows:>9} rows  ({written} written)");
            }
            if let Some(b) = &dst_media {
                println!("  media → {}: {} objects copied", b.describe(), r.media_copied);
            }
            if r.verify.ok() {
                println!(
                    "迁移完成并已核验 / migrated and verified: {} records, {} device chains, {} media files, log consistent",
                    r.verify.records, r.verify.devices, r.verify.media
                );
                ExitCode::SUCCESS
            } else {
                for p in &r.verify.problems {
                    eprintln!("  problem: {p}");
                }
                fail("迁移后的核验发现问题", format!("{} problems after the copy", r.verify.problems.len()))
            }
        }
        Err(e) => fail("迁移失败（目标未改动或可重新运行）", e),
    }
}

/// Serve; `demo` seeds the demo project first (with reference faces from the given directory).
fn serve(config: Config, demo: Option<Option<PathBuf>>) -> ExitCode {
    init_tracing(&config);
    let mut state = match AppState::open(config) {
        Ok(s) => s,
        Err(e) => return fail("无法启动", e),
    };
    let tls = match tls_material(&state) {
        Ok(t) => t,
        Err(e) => return fail("TLS 证书错误", e),
    };
    state.tls_cert_sha256 = tls.as_ref().map(|t| t.cert_sha256);
    let listener = match std::net::TcpListener::bind(&state.config.server.bind) {
        Ok(l) => l,
        Err(e) => return fail(&format!("无法监听 {}", state.config.server.bind), e),
    };
    let bound = listener.local_addr().ok();
    let url = state.public_url(bound);
    if let Some(faces) = &demo {
        let admin = Admin::of(&state);
        // The demo's people, accounts and setup links would stay in a real
        // archive for good (the log is append-only): only into an empty
        // store, or one the demo made.
        if !demo::may_seed(&state.store).unwrap_or(false) {
            return fail(
                "此数据库已有非演示数据：演示只能用于空数据库（生产环境请用 serve）",
                format!(
                    "{} holds records that are not the demo's: the demo seeds only an empty store (production runs `serve`)",
                    state.store.describe()
                ),
            );
        }
        match demo::seed_with_faces(&admin, faces.as_deref()) {
            Ok(true) => println!("演示项目已创建 / demo project created: {}", demo::PROJECT),
            Ok(false) => println!("演示项目已存在 / demo project already present: {}", demo::PROJECT),
            Err(e) => return fail(&e.message_zh(), e),
        }
        match demo::offers(&admin, &url, state.tls_cert_sha256) {
            Ok(offers) => {
                let dir = state.config.server.data_dir.join("demo-enrollment");
                let _ = std::fs::create_dir_all(&dir);
                for (person, offer) in &offers {
                    print_offer(person, offer);
                    let _ = std::fs::write(dir.join(format!("{person}.txt")), offer.to_qr());
                }
                println!("\n(enrollment codes also written to {})", dir.display());
            }
            Err(e) => return fail(&e.message_zh(), e),
        }
        // A second phone per person for `field-sim rehearse` (scripts/run's
        // finished demo report), so the app's own codes stay unused.
        match demo::offers(&admin, &url, state.tls_cert_sha256) {
            Ok(offers) => {
                let dir = state.config.server.data_dir.join("demo-rehearsal");
                let _ = std::fs::create_dir_all(&dir);
                for (person, offer) in &offers {
                    let _ = std::fs::write(dir.join(format!("{person}.txt")), offer.to_qr());
                }
            }
            Err(e) => return fail(&e.message_zh(), e),
        }
        if let Err(e) = demo_console(&state, &url) {
            return fail(&e.message_zh(), e);
        }
    }
    tracing::info!(%url, store = %state.store.describe(), tls = tls.is_some(), server_key = %state.key.public().fingerprint(), "sync server listening");
    println!("\n服务已启动 / listening on {url}  (Ctrl-C 停止 / to stop)");
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail("无法启动运行时", e),
    };
    match rt.block_on(sync_server::serve_on(listener, state, tls, sync_server::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("服务异常退出", e),
    }
}

/// The demo's console accounts: the administrator and the regulators at
/// province, city and two districts (R18). Each gets a one-time setup link
/// until its holder has set a password; links go to `demo-console/`.
fn demo_console(state: &AppState, url: &str) -> Result<(), AdminError> {
    let dir = state.config.server.data_dir.join("demo-console");
    let _ = std::fs::create_dir_all(&dir);
    let mut accounts = vec![("admin".to_owned(), "演示管理员".to_owned(), None)];
    for (login, person) in demo::REGULATOR_LOGINS {
        let name = demo::REGULATORS
            .iter()
            .find(|r| r.0 == person)
            .map(|r| format!("{}（{}）", r.1, r.3))
            .unwrap_or_default();
        accounts.push((login.to_owned(), name, Some(parse_id(person)?)));
    }
    for (person, name, _, _, login) in demo::PLAN_PEOPLE {
        accounts.push((login.to_owned(), name.to_owned(), Some(parse_id(person)?)));
    }
    println!("\n管理平台 / web console: {url}/console");
    for (login, name, person) in accounts {
        match sync_server::console::ensure_account(state, &login, &name, person, "demo")? {
            Some(path) => {
                let link = format!("{url}{path}");
                let _ = std::fs::write(dir.join(format!("{login}.txt")), &link);
                if login == "admin" {
                    println!("一次性管理员设置链接 / one-time admin setup link:\n  {link}");
                }
            }
            None => {
                let _ = std::fs::remove_file(dir.join(format!("{login}.txt")));
                if login == "admin" {
                    println!(
                        "管理员账号已设置，请用密码和动态验证码登录 / the admin account is set up: sign in with its password and one-time code"
                    );
                }
            }
        }
    }
    println!(
        "(监管账号 sunli 省 · zhaomin 市 · zhoujie 站前区 · wuhao 西市区，计划人员 chenjing 建设单位 · huanglei 施工单位 · xufang 监理 的设置链接在 / regulators' and plan people's setup links in {})",
        dir.display()
    );
    Ok(())
}

// One arm per admin subcommand: the CLI's table of contents; each arm
// parses its arguments and calls one `Admin` operation.
#[allow(clippy::too_many_lines)]
fn admin_cmd(config: Config, cmd: AdminCmd) -> ExitCode {
    let state = match AppState::open(config) {
        Ok(s) => s,
        Err(e) => return fail("无法打开数据目录", e),
    };
    let admin = Admin::of(&state);
    let result: Result<String, AdminError> = (|| {
        Ok(match cmd {
            AdminCmd::Org { id, name, role, credit_code, jurisdiction } => {
                let role: OrgRole = parse_enum("单位类型", &role)?;
                let out = admin.add_org(Organisation {
                    id: parse_id(&id)?,
                    name,
                    role,
                    credit_code,
                    jurisdiction,
                })?;
                format!("organisation {id} registered (record {})", out.id)
            }
            AdminCmd::Project { id, name, owner, jurisdiction } => {
                let out = admin.add_project(Project {
                    id: parse_id(&id)?,
                    name,
                    owner: parse_id(&owner)?,
                    jurisdiction,
                })?;
                format!("project {id} registered (record {})", out.id)
            }
            AdminCmd::Unit { id, project, name, boundary, datum } => {
                let datum: Datum = parse_enum("坐标系", &datum)?;
                let boundary = read_boundary(&boundary, datum)?;
                let out = admin.add_unit_project(UnitProject {
                    id: parse_id(&id)?,
                    project: parse_id(&project)?,
                    name,
                    boundary,
                })?;
                format!("unit project {id} registered (record {})", out.id)
            }
            AdminCmd::Person { id, name, org } => {
                let out = admin.add_person(Person { id: parse_id(&id)?, name, org: parse_id(&org)? })?;
                format!("person {id} registered (record {})", out.id)
            }
            AdminCmd::Grant { id, person, project, role, letter, real_name, face, until } => {
                let out = grant_cmd(&admin, &id, &person, project, &role, &letter, real_name, face, until)?;
                format!("authorisation {id} recorded (record {})", out.id)
            }
            AdminCmd::Revoke { grant, reason } => {
                let out = admin.revoke_grant(parse_id(&grant)?, reason)?;
                format!("authorisation {grant} revoked (record {})", out.id)
            }
            AdminCmd::Tags { supplier_org, project, supplier_code, year, batch, ranges, list } => {
                let key = BatchKey { supplier: supplier_code, year, batch };
                let b = TagBatch {
                    key,
                    supplier_org: parse_id(&supplier_org)?,
                    project: parse_id(&project)?,
                    ranges: serial_ranges(key, &ranges, list)?,
                };
                let n = b.len();
                let out = admin.register_tags(b)?;
                format!("{n} tags registered (record {})", out.id)
            }
            AdminCmd::Lab { project, unit, lab, kinds } => {
                let kinds = match kinds {
                    Some(k) => k
                        .split(',')
                        .map(|s| parse_enum::<SpecimenKind>("样品类型", s.trim()))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => SpecimenKind::ALL.to_vec(),
                };
                let out = admin.assign_lab(LabAssignment {
                    project: parse_id(&project)?,
                    unit_project: parse_id(&unit)?,
                    lab: parse_id(&lab)?,
                    kinds,
                })?;
                format!("lab {lab} commissioned for {unit} (record {})", out.id)
            }
            AdminCmd::GuidePrice { supplier, year, price, filing } => {
                let price_fen = custody_core::plans::fen_of_yuan(&price).ok_or_else(|| {
                    AdminError::invalid(
                        format!("单价“{price}”应为元，最多两位小数（如 1.50）"),
                        format!("price “{price}” should be yuan with at most two decimals (e.g. 1.50)"),
                    )
                })?;
                let out = admin.file_guide_price(custody_core::plans::GuidePrice {
                    supplier: parse_id(&supplier)?,
                    year,
                    price_fen,
                    filing,
                })?;
                format!("guide price of {supplier} for {year} filed (record {})", out.id)
            }
            AdminCmd::Enroll { person, hours } => {
                let tls =
                    tls_material(&state).map_err(|e| AdminError::invalid("TLS 证书错误", e.to_string()))?;
                let url = state.public_url(None);
                let offer = admin.enrollment_offer(
                    &parse_id(&person)?,
                    hours * 3_600_000,
                    &url,
                    tls.map(|t| t.cert_sha256),
                )?;
                print_offer(&person, &offer);
                format!("valid for {hours} h, once")
            }
            AdminCmd::RevokeDevice { key, reason } => {
                let k = key
                    .parse()
                    .map_err(|_| AdminError::invalid("设备公钥格式错误", "malformed device key"))?;
                let out = admin.revoke_device(k, reason)?;
                format!("device revoked (record {})", out.id)
            }
            AdminCmd::ConsoleAccount { login, name, person, reset } => {
                let person = person.as_deref().map(parse_id).transpose()?;
                let link = if reset {
                    let l = login.trim().to_lowercase();
                    let a =
                        state.store.read(move |tx| tx.console_account_by_login(&l))?.ok_or_else(|| {
                            AdminError::invalid(
                                format!("没有登录名为 {login} 的账号"),
                                format!("no account with login {login}"),
                            )
                        })?;
                    Some(sync_server::console::reset_account(&state, &a.id, "cli", "-")?)
                } else {
                    sync_server::console::ensure_account(&state, &login, &name, person, "cli")?
                };
                match link {
                    Some(path) => format!(
                        "一次性设置链接（只显示这一次）/ one-time setup link (shown once):\n{}{path}",
                        state.public_url(None)
                    ),
                    None => format!(
                        "账号 {login} 已在使用，未改动（需要重置请加 --reset）/ account {login} is in use and was left alone (--reset to reset it)"
                    ),
                }
            }
            AdminCmd::Token { label } => {
                let t = admin.create_token(&label)?;
                format!("admin token (shown once, keep it secret):\n{t}")
            }
            AdminCmd::Oversight => {
                let c = &state.config;
                let r = sync_server::oversight::pass(&state.store, &c.policy, &c.oversight, state.now())?;
                let changed = r.decided.len();
                format!(
                    "监管统计完成：{} 条记录、{} 条违规已计入，{changed} 个取样的见证状态变化，{} 次抽查已抽取 / \
                     oversight pass: {} records and {} findings tallied, {changed} samplings changed state, {} draws made",
                    r.records, r.findings, r.draws, r.records, r.findings, r.draws
                )
            }
            AdminCmd::Verify => {
                let r = maintenance::verify_store(
                    &state.store,
                    &state.blobs,
                    &state.key.public(),
                    Some(&state.faces),
                )?;
                if r.ok() {
                    format!(
                        "store verified: {} records, {} device chains, {} media files, log consistent\n  face photos: {} sealed (opened and matched), {} in the clear{}",
                        r.records,
                        r.devices,
                        r.media,
                        r.faces_opened,
                        r.faces_plain,
                        if r.faces_plain > 0 { " (`admin faces seal` seals them)" } else { "" }
                    )
                } else {
                    return Err(AdminError::invalid(
                        format!("发现 {} 个问题", r.problems.len()),
                        format!("{} problem(s):\n{}", r.problems.len(), r.problems.join("\n")),
                    ));
                }
            }
            AdminCmd::Backup { to } => backup_cmd(&state, to)?,
            AdminCmd::RotateKey { reason } => {
                if reason.trim().is_empty() {
                    return Err(AdminError::invalid("请用 --reason 说明轮换原因", "say why with --reason"));
                }
                let h =
                    sync_server::keys::rotate(&state.config.keys_dir(), &state.store, &reason, state.now())
                        .map_err(|e| {
                        AdminError::invalid(format!("密钥轮换失败：{e}"), format!("key rotation failed: {e}"))
                    })?;
                format!(
                    "服务器签名密钥已轮换：{old} → {new}（旧私钥已销毁，旧签名仍然有效）。请重启所有实例。\n\
                     server signing key rotated: {old} → {new} (the old private key is destroyed; what it signed stays valid). \
                     Restart every instance.\nnew public key: {key}",
                    old = h.handover.old.fingerprint(),
                    new = h.handover.new.fingerprint(),
                    key = h.handover.new,
                )
            }
            AdminCmd::Export { out, project, report, from, to, whole_chains } => {
                export_cli::export_cmd(&state, out, project, report, (from, to), whole_chains)?
            }
            AdminCmd::Faces { cmd } => faces_cli::faces_cmd(&state, cmd)?,
            AdminCmd::Status { json } => {
                let status = sync_server::status::Status::gather(&state.config, &state.store, state.now())?;
                let page = if json {
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "status": status, "alerts": status.alerts() }),
                    )
                    .expect("status serialises")
                } else {
                    status.render()
                };
                if !status.alerts().is_empty() {
                    println!("{page}");
                    return Err(AdminError::invalid("有告警", format!("{} alert(s)", status.alerts().len())));
                }
                page
            }
            AdminCmd::Restore { .. } | AdminCmd::Migrate { .. } | AdminCmd::RestoreDrill { .. } => {
                unreachable!("handled before opening the store")
            }
        })
    })();
    match result {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.message_zh(), e),
    }
}

/// `admin grant`: read the letter and face files and record the grant.
#[allow(clippy::too_many_arguments)]
fn grant_cmd(
    admin: &Admin<'_>,
    id: &str,
    person: &str,
    project: Option<String>,
    role: &str,
    letter: &PathBuf,
    real_name: String,
    face: Option<PathBuf>,
    until: Option<String>,
) -> Result<sync_server::ingest::Outcome, AdminError> {
    let role: PersonRole = parse_enum("角色", role)?;
    let letter_bytes = std::fs::read(letter)
        .map_err(|e| AdminError::invalid(format!("无法读取授权书 {}", letter.display()), e.to_string()))?;
    let face = match face {
        Some(f) => {
            let bytes = std::fs::read(&f).map_err(|e| {
                AdminError::invalid(format!("无法读取人脸照片 {}", f.display()), e.to_string())
            })?;
            Some((bytes, sync_server::admin::media_type_of(&f)))
        }
        None => None,
    };
    let until = until.as_deref().map(end_of_day_cst).transpose()?;
    let project = project.as_deref().map(parse_id).transpose()?;
    admin.grant(
        parse_id(id)?,
        parse_id(person)?,
        project,
        role,
        (&letter_bytes, sync_server::admin::media_type_of(letter)),
        real_name,
        face.as_ref().map(|(b, t)| (b.as_slice(), *t)),
        until,
    )
}

/// The serial ranges of `admin tags`: `FIRST-LAST` arguments, plus one tag
/// per line of a list file (printed digits or QR text), all of batch `key`.
fn serial_ranges(
    key: BatchKey,
    ranges: &[String],
    list: Option<PathBuf>,
) -> Result<Vec<SerialRange>, AdminError> {
    let mut rs = Vec::new();
    for r in ranges {
        let (a, b) = r.split_once('-').unwrap_or((r, r));
        let (Ok(first), Ok(last)) = (a.trim().parse(), b.trim().parse()) else {
            return Err(AdminError::invalid(
                format!("号段格式应为 起-止：{r}"),
                format!("range must be FIRST-LAST: {r}"),
            ));
        };
        rs.push(SerialRange { first, last });
    }
    if let Some(path) = list {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AdminError::invalid(format!("无法读取 {}", path.display()), e.to_string()))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let t = custody_core::TagCode::parse(line).map_err(|e| {
                AdminError::invalid(
                    format!("第 {} 行：{}", n + 1, e.message_zh()),
                    format!("line {}: {e}", n + 1),
                )
            })?;
            if t.batch_key() != key {
                return Err(AdminError::invalid(
                    format!("第 {} 行的标识不属于该批次", n + 1),
                    format!("line {}: tag is not of this batch", n + 1),
                ));
            }
            rs.push(SerialRange { first: t.serial(), last: t.serial() });
        }
    }
    Ok(rs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_until_dates() {
        // 2026-11-02 ends at 2026-11-02T15:59:59.999Z.
        assert_eq!(end_of_day_cst("2026-11-02").unwrap(), 1_793_577_600_000 + 16 * 3_600_000 - 1);
        assert!(end_of_day_cst("2026-13-01").is_err());
    }
}
