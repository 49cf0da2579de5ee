//! What the web console keeps (issue 13): accounts, sessions, the
//! challenges the field app approves to sign someone in, and the audit log
//! (append-only: every console action; every read of a face photo, from
//! the console or elsewhere, is in the face-read log, `super::faces`).
//! Part of every [`Tx`](super::Tx) (`Tx: ConsoleTx`), written once for both
//! back ends in `tx/console.rs`.

use super::Result;
use custody_core::model::Id;
use custody_core::{Hash, PublicKey};

/// What an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// An operator's administrator (R21).
    Admin,
    /// A person of the directory (a regulator's inspector, an owner's
    /// manager, a field person signing in with their phone).
    Person,
}

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub kind: AccountKind,
    /// The directory person (for `Person` accounts).
    pub person: Option<Id>,
    /// Argon2id PHC string; `None` until set up (or for phone-only people).
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP step accepted (a code is used once).
    pub totp_last_step: Option<i64>,
    /// A one-time setup code (hashed) and until when it works.
    pub setup_hash: Option<Hash>,
    pub setup_expires_ms: Option<i64>,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
    /// Failed sign-ins since the last success.
    pub failed: u32,
    pub locked_until_ms: Option<i64>,
}

impl AccountRow {
    /// A new account with nothing set up yet: no password, no second
    /// factor, no setup link (the caller issues one if it needs one).
    pub fn new(id: String, login: String, display_name: String, person: Option<Id>, now: i64) -> AccountRow {
        AccountRow {
            id,
            login,
            display_name,
            kind: if person.is_some() { AccountKind::Person } else { AccountKind::Admin },
            person,
            password_hash: None,
            totp_secret: None,
            totp_last_step: None,
            setup_hash: None,
            setup_expires_ms: None,
            created_ms: now,
            disabled_ms: None,
            failed: 0,
            locked_until_ms: None,
        }
    }
}

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionScope {
    /// Everything the account may.
    Full,
    /// Only finish setting up (a password and a second factor).
    Setup,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    /// SHA-256 of the cookie's token (the token itself is never stored).
    pub token_hash: Hash,
    pub account: String,
    pub scope: SessionScope,
    /// The form token this session's pages carry (CSRF).
    pub csrf: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub last_seen_ms: i64,
    pub revoked_ms: Option<i64>,
    pub ip: String,
    pub agent: String,
}

/// A sign-in waiting for the field app's approval (the QR on the page).
#[derive(Debug, Clone)]
pub struct LoginRow {
    pub id: String,
    /// SHA-256 of the secret in the QR.
    pub secret_hash: Hash,
    /// SHA-256 of the secret in the requesting browser's cookie: only that
    /// browser may take the approved sign-in.
    pub browser_hash: Hash,
    pub ip: String,
    pub agent: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub approved_person: Option<Id>,
    pub approved_device: Option<PublicKey>,
    pub approved_ms: Option<i64>,
    pub consumed_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Its place in the log (assigned on insert).
    pub seq: u64,
    pub at_ms: i64,
    /// The account that acted (`-` when nobody was signed in).
    pub account: String,
    /// A stable code: `sign_in`, `grant`, `export_audit` … (`view_face`
    /// in logs written before face reads had their own log)
    pub action: String,
    /// What it acted on (a person, a record, a media hash …).
    pub target: String,
    /// Anything else worth keeping (JSON or text).
    pub detail: String,
    pub ip: String,
}

/// Which violations a console page lists.
#[derive(Debug, Clone)]
pub enum ViolationScope {
    /// Every one (administrators).
    All,
    /// Of projects whose division code starts with this prefix (R18).
    Jurisdiction(String),
    /// Of these projects.
    Projects(Vec<String>),
}

/// One listed violation: its place in the list, the record, the finding (JSON).
#[derive(Debug, Clone)]
pub struct ViolationEntry {
    pub id: u64,
    pub record: Hash,
    pub finding: String,
}

/// The console's operations, one transaction's worth.
pub trait ConsoleTx {
    /// Every project with who owns it, works on it, tests for it and
    /// supplies its tags: what `access::console_project` decides on.
    fn project_scopes(&mut self) -> Result<Vec<custody_core::access::ProjectScope>>;
    /// Records newest first, before a log index (`None`: the newest), of
    /// these projects (`None`: every record), of one kind if given.
    fn console_records(
        &mut self,
        projects: Option<&[String]>,
        kind: Option<&str>,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<super::RecordRow>>;
    /// Violations newest first, before an entry (`None`: the newest).
    fn console_violations(
        &mut self,
        scope: &ViolationScope,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<ViolationEntry>>;

    fn console_account(&mut self, id: &str) -> Result<Option<AccountRow>>;
    fn console_account_by_login(&mut self, login: &str) -> Result<Option<AccountRow>>;
    fn console_account_of_person(&mut self, person: &Id) -> Result<Option<AccountRow>>;
    fn console_accounts(&mut self) -> Result<Vec<AccountRow>>;
    fn insert_console_account(&mut self, a: &AccountRow) -> Result<()>;
    /// Write every mutable field of an account.
    fn update_console_account(&mut self, a: &AccountRow) -> Result<()>;

    fn insert_console_session(&mut self, s: &SessionRow) -> Result<()>;
    fn console_session(&mut self, token_hash: &Hash) -> Result<Option<SessionRow>>;
    /// Record activity (sliding idle expiry).
    fn touch_console_session(&mut self, token_hash: &Hash, now: i64, expires_ms: i64) -> Result<()>;
    fn revoke_console_session(&mut self, token_hash: &Hash, now: i64) -> Result<()>;
    /// Sign out everywhere: every live session of the account.
    fn revoke_console_sessions_of(&mut self, account: &str, now: i64) -> Result<u64>;
    fn console_sessions_of(&mut self, account: &str) -> Result<Vec<SessionRow>>;

    fn insert_console_login(&mut self, l: &LoginRow) -> Result<()>;
    fn console_login(&mut self, id: &str) -> Result<Option<LoginRow>>;
    /// Approve a pending, unexpired challenge; false if it was not one.
    fn approve_console_login(&mut self, id: &str, person: &Id, device: &PublicKey, now: i64) -> Result<bool>;
    /// Take an approved challenge once; false if already taken.
    fn consume_console_login(&mut self, id: &str, now: i64) -> Result<bool>;

    /// Append to the audit log; its sequence number.
    fn insert_audit(&mut self, a: &AuditRow) -> Result<()>;
    /// The newest entries before `before` (exclusive; `None`: the newest).
    fn audit(&mut self, before: Option<u64>, limit: u32) -> Result<Vec<AuditRow>>;
}
