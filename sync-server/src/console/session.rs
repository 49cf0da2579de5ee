//! Who is at the console: the session cookie, the account behind it, and
//! the `custody_core::access::Viewer` every page asks with.
//!
//! * The cookie holds a random token; the store keeps only its SHA-256.
//!   `HttpOnly`, `SameSite=Strict`, `Path=/console`, `Secure` over TLS.
//! * Sessions end after a while without a request (sliding) and at a fixed
//!   time after sign-in; "sign out everywhere" revokes them all.
//! * Every form carries the session's CSRF token, and every POST must come
//!   from this origin (`Origin`, else `Referer`).

use super::{Client, Deny};
use crate::AppState;
use crate::facts::device_viewer;
use crate::store::console::{AccountKind, AccountRow, SessionRow, SessionScope};
use crate::store::{Result as StoreResult, StoreError, Tx};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custody_core::Hash;
use custody_core::access::{self, Viewer};
use custody_core::model::{Id, OrgRole};

/// The session cookie.
pub const COOKIE: &str = "jzqy_console";
/// Binds a QR sign-in to the browser that asked for it.
pub const LOGIN_COOKIE: &str = "jzqy_login";
/// The page language (`zh-CN` or `en`).
pub const LANG_COOKIE: &str = "jzqy_lang";

/// A fresh random token (32 bytes, base64url).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// How a token is kept: only its hash.
pub fn token_hash(token: &str) -> Hash {
    Hash::of(token.as_bytes())
}

/// A `Set-Cookie` value. `max_age_s = 0` deletes it.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_s: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age_s {
        c.push_str(&format!("; Max-Age={a}"));
    }
    c
}

/// A cookie's value from the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts.headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(
        |line| {
            line.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == name).then(|| v.to_owned())
            })
        },
    )
}

/// The operator's own organisation, for admin accounts' viewer.
const OPERATOR_ORG: &str = "OPERATOR";

/// The viewer an account asks with: an admin's, or the directory person's
/// (the same as their enrolled phone's).
pub fn viewer_of(tx: &mut dyn Tx, account: &AccountRow) -> StoreResult<Option<Viewer>> {
    match (account.kind, &account.person) {
        (AccountKind::Admin, _) => {
            let id =
                Id::new(format!("ADMIN-{}", account.id)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(Some(Viewer {
                is_admin: true,
                person: id,
                org: Id::new(OPERATOR_ORG).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                org_role: OrgRole::Operator,
                jurisdiction: None,
                grants: vec![],
                lab_assignments: vec![],
            }))
        }
        (AccountKind::Person, Some(person)) => {
            let Some(p) = tx.person(person)? else { return Ok(None) };
            let Some(org) = tx.org(&p.org)? else { return Ok(None) };
            Ok(Some(device_viewer(tx, &p.id, &org.id, org.role)?))
        }
        (AccountKind::Person, None) => Ok(None),
    }
}

/// A signed-in account with a full session.
#[derive(Debug, Clone)]
pub struct User {
    pub account: AccountRow,
    pub session: SessionRow,
    pub viewer: Viewer,
    pub client: Client,
}

impl User {
    /// The id the audit log names.
    pub fn audit_name(&self) -> String {
        format!("{} ({})", self.account.login, self.account.id)
    }
}

/// A signed-in administrator (`access::administer`).
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

/// An account that signed in and must finish setting up before anything else.
#[derive(Debug, Clone)]
pub struct SetupUser {
    pub account: AccountRow,
    pub session: SessionRow,
    pub client: Client,
}

/// Look up the session behind the request, in one read.
async fn session_of(
    parts: &Parts,
    state: &AppState,
    client: &Client,
) -> Result<(AccountRow, SessionRow, Option<Viewer>), Deny> {
    let token = cookie(parts, COOKIE).ok_or_else(|| Deny::sign_in(client.lang, parts))?;
    let hash = token_hash(&token);
    let now = state.now();
    let found = state
        .store
        .read_async(move |tx| {
            let Some(s) = tx.console_session(&hash)? else { return Ok(None) };
            let Some(a) = tx.console_account(&s.account)? else { return Ok(None) };
            let v = viewer_of(tx, &a)?;
            Ok(Some((a, s, v)))
        })
        .await
        .map_err(|e| Deny::internal(client.lang, e))?;
    let Some((a, s, v)) = found else { return Err(Deny::sign_in(client.lang, parts)) };
    if s.revoked_ms.is_some() || s.expires_ms <= now || a.disabled_ms.is_some() {
        return Err(Deny::sign_in(client.lang, parts));
    }
    // Sliding expiry, written at most once a minute per session.
    if now - s.last_seen_ms > 60_000 {
        let cfg = &state.config.console;
        let expires = (now + cfg.idle_minutes * 60_000).min(s.created_ms + cfg.session_hours * 3_600_000);
        let h = s.token_hash;
        let _ = state.store.write_async(move |tx| tx.touch_console_session(&h, now, expires)).await;
    }
    Ok((a, s, v))
}

impl FromRequestParts<AppState> for User {
    type Rejection = Deny;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = Client::from_parts(parts, state);
        let (account, session, viewer) = session_of(parts, state, &client).await?;
        if session.scope != SessionScope::Full {
            return Err(Deny::redirect(super::paths::SETUP));
        }
        let viewer = viewer.ok_or_else(|| Deny::sign_in(client.lang, parts))?;
        Ok(User { account, session, viewer, client })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Deny;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let u = User::from_request_parts(parts, state).await?;
        access::administer(&u.viewer).map_err(|d| Deny::forbidden(u.client.lang, d))?;
        Ok(AdminUser(u))
    }
}

impl FromRequestParts<AppState> for SetupUser {
    type Rejection = Deny;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = Client::from_parts(parts, state);
        let (account, session, _) = session_of(parts, state, &client).await?;
        Ok(SetupUser { account, session, client })
    }
}

/// The form token matches the session's (CSRF).
pub fn check_csrf(session: &SessionRow, given: &str, lang: custody_core::verify::Lang) -> Result<(), Deny> {
    // Compared as hashes: how long a comparison takes says nothing about the token.
    let ok = Hash::of(session.csrf.as_bytes()) == Hash::of(given.as_bytes());
    if ok { Ok(()) } else { Err(Deny::csrf(lang)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_locked_down() {
        let c = set_cookie(COOKIE, "abc", true, Some(60));
        for part in ["HttpOnly", "SameSite=Strict", "Path=/console", "Secure", "Max-Age=60"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!set_cookie(COOKIE, "abc", false, None).contains("Secure"));
    }

    #[test]
    fn tokens_are_random_and_kept_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
