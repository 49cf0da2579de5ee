//! The console's operations ([`ConsoleTx`]), once for both back ends.

use super::SqlTx;
use crate::store::console::*;
use crate::store::dialect::Dialect;
use crate::store::sql::{Conn, Row, args, name_of, select_records};
use crate::store::*;
use custody_core::access::ProjectScope;
use std::collections::HashMap;

const ACCOUNT_COLS: &str = "id, login, display_name, kind, person, password_hash, totp_secret, totp_last_step, \
     setup_hash, setup_expires_ms, created_ms, disabled_ms, failed, locked_until_ms";
const SESSION_COLS: &str =
    "token_hash, account, scope, csrf, created_ms, expires_ms, last_seen_ms, revoked_ms, ip, agent";
const LOGIN_COLS: &str = "id, secret_hash, browser_hash, ip, agent, created_ms, expires_ms, approved_person, \
     approved_device, approved_ms, consumed_ms";

fn account(mut r: Row) -> Result<AccountRow> {
    Ok(AccountRow {
        id: r.text(0)?,
        login: r.text(1)?,
        display_name: r.text(2)?,
        kind: r.named(3)?,
        person: r.opt_id(4)?,
        password_hash: r.opt_text(5)?,
        totp_secret: r.opt_bytes(6)?,
        totp_last_step: r.opt_int(7)?,
        setup_hash: r.opt_hash(8)?,
        setup_expires_ms: r.opt_int(9)?,
        created_ms: r.int(10)?,
        disabled_ms: r.opt_int(11)?,
        failed: r.uint(12)? as u32,
        locked_until_ms: r.opt_int(13)?,
    })
}

fn session(mut r: Row) -> Result<SessionRow> {
    Ok(SessionRow {
        token_hash: r.hash(0)?,
        account: r.text(1)?,
        scope: r.named(2)?,
        csrf: r.text(3)?,
        created_ms: r.int(4)?,
        expires_ms: r.int(5)?,
        last_seen_ms: r.int(6)?,
        revoked_ms: r.opt_int(7)?,
        ip: r.text(8)?,
        agent: r.text(9)?,
    })
}

fn login(mut r: Row) -> Result<LoginRow> {
    Ok(LoginRow {
        id: r.text(0)?,
        secret_hash: r.hash(1)?,
        browser_hash: r.hash(2)?,
        ip: r.text(3)?,
        agent: r.text(4)?,
        created_ms: r.int(5)?,
        expires_ms: r.int(6)?,
        approved_person: r.opt_id(7)?,
        approved_device: r.opt_hash(8)?.map(|h| PublicKey(h.0)),
        approved_ms: r.opt_int(9)?,
        consumed_ms: r.opt_int(10)?,
    })
}

fn audit(mut r: Row) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: r.uint(0)?,
        at_ms: r.int(1)?,
        account: r.text(2)?,
        action: r.text(3)?,
        target: r.text(4)?,
        detail: r.text(5)?,
        ip: r.text(6)?,
    })
}

impl<C: Conn> SqlTx<'_, C> {
    fn accounts_where(&mut self, tail: &str, a: &[crate::store::sql::Arg<'_>]) -> Result<Vec<AccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM console_accounts {tail}");
        self.c.rows(&sql, a)?.into_iter().map(account).collect()
    }
}

impl<C: Conn> ConsoleTx for SqlTx<'_, C> {
    fn project_scopes(&mut self) -> Result<Vec<ProjectScope>> {
        let mut scopes: Vec<ProjectScope> = self
            .projects()?
            .into_iter()
            .map(|p| ProjectScope {
                project: p.id,
                owner: p.owner,
                jurisdiction: p.jurisdiction,
                participants: vec![],
                labs: vec![],
                suppliers: vec![],
            })
            .collect();
        let index: HashMap<String, usize> =
            scopes.iter().enumerate().map(|(i, s)| (s.project.to_string(), i)).collect();
        let pairs = |t: &mut Self, sql: &str| -> Result<Vec<(String, Id)>> {
            t.c.rows(sql, &[])?.into_iter().map(|mut r| Ok((r.text(0)?, r.id(1)?))).collect()
        };
        for (project, org) in
            pairs(self, "SELECT DISTINCT project, org FROM grants WHERE project IS NOT NULL")?
        {
            if let Some(&i) = index.get(&project) {
                scopes[i].participants.push(org);
            }
        }
        for (project, lab) in pairs(self, "SELECT DISTINCT project, lab FROM lab_assignments")? {
            if let Some(&i) = index.get(&project) {
                scopes[i].labs.push(lab);
            }
        }
        for mut r in self.c.rows("SELECT project, json FROM tag_batches", &[])? {
            let (project, batch): (String, TagBatch) = (r.text(0)?, r.json(1)?);
            if let Some(&i) = index.get(&project)
                && !scopes[i].suppliers.contains(&batch.supplier_org)
            {
                scopes[i].suppliers.push(batch.supplier_org);
            }
        }
        Ok(scopes)
    }

    fn console_records(
        &mut self,
        projects: Option<&[String]>,
        kind: Option<&str>,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<RecordRow>> {
        // No page yet: everything (a plain bound lets the index seek to a deep page).
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows = match projects {
            Some([]) => return Ok(vec![]),
            Some(list) => self.c.rows(Dialect::RECORDS_OF_PROJECTS.get(C::DIALECT), args![list, before, kind, limit])?,
            None => self.c.rows(
                select_records!(
                    "WHERE log_index < CAST($1 AS BIGINT) \
                     AND (CAST($2 AS TEXT) IS NULL OR kind = CAST($2 AS TEXT)) ORDER BY log_index DESC LIMIT $3"
                ),
                args![before, kind, limit],
            )?,
        };
        rows.into_iter().map(super::rows::record_row).collect()
    }

    fn console_violations(
        &mut self,
        scope: &ViolationScope,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<ViolationEntry>> {
        // No page yet: everything (a plain bound lets the index seek to a deep page).
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows = match scope {
            ViolationScope::Projects(list) if list.is_empty() => return Ok(vec![]),
            ViolationScope::Projects(list) => self.c.rows(
                Dialect::VIOLATIONS_OF_PROJECTS.get(C::DIALECT),
                args![list.as_slice(), before, limit],
            )?,
            ViolationScope::Jurisdiction(prefix) => self.c.rows(
                "SELECT v.id, v.record, v.finding FROM violations v JOIN projects p ON p.id = v.project \
                 WHERE p.jurisdiction LIKE CAST($1 AS TEXT) || '%' \
                 AND v.id < CAST($2 AS BIGINT) ORDER BY v.id DESC LIMIT $3",
                args![prefix, before, limit],
            )?,
            ViolationScope::All => self.c.rows(
                "SELECT v.id, v.record, v.finding FROM violations v \
                 WHERE v.id < CAST($1 AS BIGINT) ORDER BY v.id DESC LIMIT $2",
                args![before, limit],
            )?,
        };
        rows.into_iter()
            .map(|mut r| Ok(ViolationEntry { id: r.uint(0)?, record: r.hash(1)?, finding: r.text(2)? }))
            .collect()
    }

    fn console_account(&mut self, id: &str) -> Result<Option<AccountRow>> {
        Ok(self.accounts_where("WHERE id = $1", args![id])?.pop())
    }

    fn console_account_by_login(&mut self, login: &str) -> Result<Option<AccountRow>> {
        Ok(self.accounts_where("WHERE login = $1", args![login])?.pop())
    }

    fn console_account_of_person(&mut self, person: &Id) -> Result<Option<AccountRow>> {
        Ok(self.accounts_where("WHERE person = $1 ORDER BY created_ms LIMIT 1", args![person])?.pop())
    }

    fn console_accounts(&mut self) -> Result<Vec<AccountRow>> {
        self.accounts_where("ORDER BY created_ms", &[])
    }

    fn insert_console_account(&mut self, a: &AccountRow) -> Result<()> {
        self.c.exec(
            "INSERT INTO console_accounts (id, login, display_name, kind, person, password_hash, totp_secret, \
             totp_last_step, setup_hash, setup_expires_ms, created_ms, disabled_ms, failed, locked_until_ms) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
            args![
                &a.id,
                &a.login,
                &a.display_name,
                name_of(&a.kind),
                a.person.as_ref(),
                a.password_hash.as_ref(),
                a.totp_secret.as_ref(),
                a.totp_last_step,
                a.setup_hash.as_ref(),
                a.setup_expires_ms,
                a.created_ms,
                a.disabled_ms,
                a.failed,
                a.locked_until_ms
            ],
        )?;
        Ok(())
    }

    fn update_console_account(&mut self, a: &AccountRow) -> Result<()> {
        self.c.exec(
            "UPDATE console_accounts SET display_name = $2, password_hash = $3, totp_secret = $4, \
             totp_last_step = $5, setup_hash = $6, setup_expires_ms = $7, disabled_ms = $8, failed = $9, \
             locked_until_ms = $10 WHERE id = $1",
            args![
                &a.id,
                &a.display_name,
                a.password_hash.as_ref(),
                a.totp_secret.as_ref(),
                a.totp_last_step,
                a.setup_hash.as_ref(),
                a.setup_expires_ms,
                a.disabled_ms,
                a.failed,
                a.locked_until_ms
            ],
        )?;
        Ok(())
    }

    fn insert_console_session(&mut self, s: &SessionRow) -> Result<()> {
        self.c.exec(
            "INSERT INTO console_sessions (token_hash, account, scope, csrf, created_ms, expires_ms, last_seen_ms, \
             revoked_ms, ip, agent) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            args![
                &s.token_hash,
                &s.account,
                name_of(&s.scope),
                &s.csrf,
                s.created_ms,
                s.expires_ms,
                s.last_seen_ms,
                s.revoked_ms,
                &s.ip,
                &s.agent
            ],
        )?;
        Ok(())
    }

    fn console_session(&mut self, token_hash: &Hash) -> Result<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLS} FROM console_sessions WHERE token_hash = $1");
        self.c.opt(&sql, args![token_hash])?.map(session).transpose()
    }

    fn touch_console_session(&mut self, token_hash: &Hash, now: i64, expires_ms: i64) -> Result<()> {
        self.c.exec_later(
            "UPDATE console_sessions SET last_seen_ms = $2, expires_ms = $3 WHERE token_hash = $1",
            args![token_hash, now, expires_ms],
        )
    }

    fn revoke_console_session(&mut self, token_hash: &Hash, now: i64) -> Result<()> {
        self.c.exec(
            "UPDATE console_sessions SET revoked_ms = $2 WHERE token_hash = $1 AND revoked_ms IS NULL",
            args![token_hash, now],
        )?;
        Ok(())
    }

    fn revoke_console_sessions_of(&mut self, account: &str, now: i64) -> Result<u64> {
        self.c.exec(
            "UPDATE console_sessions SET revoked_ms = $2 WHERE account = $1 AND revoked_ms IS NULL",
            args![account, now],
        )
    }

    fn console_sessions_of(&mut self, account: &str) -> Result<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM console_sessions WHERE account = $1 ORDER BY created_ms DESC"
        );
        self.c.rows(&sql, args![account])?.into_iter().map(session).collect()
    }

    fn insert_console_login(&mut self, l: &LoginRow) -> Result<()> {
        self.c.exec(
            "INSERT INTO console_logins (id, secret_hash, browser_hash, ip, agent, created_ms, expires_ms, \
             approved_person, approved_device, approved_ms, consumed_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            args![
                &l.id,
                &l.secret_hash,
                &l.browser_hash,
                &l.ip,
                &l.agent,
                l.created_ms,
                l.expires_ms,
                l.approved_person.as_ref(),
                l.approved_device.as_ref(),
                l.approved_ms,
                l.consumed_ms
            ],
        )?;
        Ok(())
    }

    fn console_login(&mut self, id: &str) -> Result<Option<LoginRow>> {
        let sql = format!("SELECT {LOGIN_COLS} FROM console_logins WHERE id = $1");
        self.c.opt(&sql, args![id])?.map(login).transpose()
    }

    fn approve_console_login(&mut self, id: &str, person: &Id, device: &PublicKey, now: i64) -> Result<bool> {
        let n = self.c.exec(
            "UPDATE console_logins SET approved_person = $2, approved_device = $3, approved_ms = $4 \
             WHERE id = $1 AND approved_ms IS NULL AND consumed_ms IS NULL AND expires_ms > $4",
            args![id, person, device, now],
        )?;
        Ok(n == 1)
    }

    fn consume_console_login(&mut self, id: &str, now: i64) -> Result<bool> {
        let n = self.c.exec(
            "UPDATE console_logins SET consumed_ms = $2 WHERE id = $1 AND approved_ms IS NOT NULL AND consumed_ms IS NULL",
            args![id, now],
        )?;
        Ok(n == 1)
    }

    fn insert_audit(&mut self, a: &AuditRow) -> Result<()> {
        self.c.exec(
            "INSERT INTO audit_log (at_ms, account, action, target, detail, ip) VALUES ($1,$2,$3,$4,$5,$6)",
            args![a.at_ms, &a.account, &a.action, &a.target, &a.detail, &a.ip],
        )?;
        Ok(())
    }

    fn audit(&mut self, before: Option<u64>, limit: u32) -> Result<Vec<AuditRow>> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        self.c
            .rows(
                "SELECT seq, at_ms, account, action, target, detail, ip FROM audit_log \
                 WHERE seq < CAST($1 AS BIGINT) ORDER BY seq DESC LIMIT $2",
                args![before, limit],
            )?
            .into_iter()
            .map(audit)
            .collect()
    }
}
