//! The lab registry's operations ([`RegistryTx`]), once for both back ends.

use super::SqlTx;
use crate::store::registry::*;
use crate::store::sql::{Conn, Row, args, to_json};
use crate::store::{Result, StoreError};
use custody_core::lab_registry::RegistryVersion;
use custody_core::model::Id;

const REQUEST_COLS: &str = "id, lab, person, account, submitted_ms, summary, registry, base, state, \
     decided_by, decided_ms, reason, record";

fn request(mut r: Row) -> Result<RequestRow> {
    let id_of = |s: String| Id::new(s).map_err(|e| StoreError::Corrupt(e.to_string()));
    Ok(RequestRow {
        id: r.text(0)?,
        lab: id_of(r.text(1)?)?,
        person: id_of(r.text(2)?)?,
        account: r.text(3)?,
        submitted_ms: r.int(4)?,
        summary: r.text(5)?,
        registry: r.text(6)?,
        base: r.opt_hash(7)?,
        state: {
            let s = r.text(8)?;
            RequestState::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("request state {s}")))?
        },
        decided_by: r.opt_text(9)?,
        decided_ms: r.opt_int(10)?,
        reason: r.opt_text(11)?,
        record: r.opt_hash(12)?,
    })
}

impl<C: Conn> RegistryTx for SqlTx<'_, C> {
    fn insert_registry_version(&mut self, v: &RegistryVersion) -> Result<()> {
        self.c.exec(
            "INSERT INTO lab_registry_versions (lab, record, effective_ms, json) VALUES ($1,$2,$3,$4)",
            args![&v.registry.lab, &v.record, v.effective_ms, to_json(&v.registry)],
        )?;
        Ok(())
    }

    fn registry_versions(&mut self, lab: &Id) -> Result<Vec<RegistryVersion>> {
        self.c
            .rows(
                "SELECT record, effective_ms, json FROM lab_registry_versions WHERE lab = $1 \
                 ORDER BY effective_ms, seq",
                args![lab],
            )?
            .into_iter()
            .map(|mut r| {
                Ok(RegistryVersion { record: r.hash(0)?, effective_ms: r.int(1)?, registry: r.json(2)? })
            })
            .collect()
    }

    fn insert_registry_request(&mut self, r: &RequestRow) -> Result<()> {
        self.c.exec(
            &format!(
                "INSERT INTO lab_registry_requests ({REQUEST_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
            ),
            args![
                &r.id,
                &r.lab,
                &r.person,
                &r.account,
                r.submitted_ms,
                &r.summary,
                &r.registry,
                r.base.as_ref(),
                r.state.as_str(),
                r.decided_by.as_deref(),
                r.decided_ms,
                r.reason.as_deref(),
                r.record.as_ref()
            ],
        )?;
        Ok(())
    }

    fn registry_request(&mut self, id: &str) -> Result<Option<RequestRow>> {
        self.c
            .opt(&format!("SELECT {REQUEST_COLS} FROM lab_registry_requests WHERE id = $1"), args![id])?
            .map(request)
            .transpose()
    }

    fn registry_requests_of(&mut self, lab: &Id) -> Result<Vec<RequestRow>> {
        self.c
            .rows(
                &format!(
                    "SELECT {REQUEST_COLS} FROM lab_registry_requests WHERE lab = $1 ORDER BY submitted_ms DESC, id DESC"
                ),
                args![lab],
            )?
            .into_iter()
            .map(request)
            .collect()
    }

    fn registry_requests_in(&mut self, state: RequestState) -> Result<Vec<RequestRow>> {
        self.c
            .rows(
                &format!(
                    "SELECT {REQUEST_COLS} FROM lab_registry_requests WHERE state = $1 ORDER BY submitted_ms, id"
                ),
                args![state.as_str()],
            )?
            .into_iter()
            .map(request)
            .collect()
    }

    fn decide_registry_request(&mut self, d: &RequestRow) -> Result<bool> {
        let n = self.c.exec(
            "UPDATE lab_registry_requests SET state = $2, decided_by = $3, decided_ms = $4, reason = $5, \
             record = $6 WHERE id = $1 AND state = 'pending'",
            args![
                &d.id,
                d.state.as_str(),
                d.decided_by.as_deref(),
                d.decided_ms,
                d.reason.as_deref(),
                d.record.as_ref()
            ],
        )?;
        Ok(n == 1)
    }
}
