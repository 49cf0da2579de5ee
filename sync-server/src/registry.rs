//! R3: labs keep their registry (scope, equipment, staff) current through
//! change requests the operator approves. A lab's person asks for the whole
//! registry as it should be; the operator sees what it changes against the
//! registry in force and approves it — the server signs a
//! `LabRegistryUpdated` admin fact into the log, through the same pipeline
//! as every admin fact — or refuses it with a reason the lab is shown.
//!
//! Who may do what is `custody_core::access::lab_registry`; whether a
//! registry holds together is `custody_core::lab_registry::validate`, run
//! when the request is made (nothing is stored when it fails) and again by
//! the core when the approval is signed (the directory may have changed in
//! between). Every operation is one transaction: a refusal changes nothing.

use crate::admin::{self, AdminError, random_code};
use crate::store::registry::{RequestRow, RequestState};
use crate::store::{Store, StoreError, Tx};
use custody_core::SigningKey;
use custody_core::access::{self, Denied, RegistryAccess, Viewer};
use custody_core::lab_registry::{self, Expiry, Known, LabRegistry, RegistryVersion};
use custody_core::model::Id;
use custody_core::policy::Policy;
use custody_core::protocol::Finding;
use custody_core::record::{LabRegistryChange, Payload};
use custody_core::verify::Lang;
use custody_core::{Hash, access::administer};

/// Why a request was not taken or not decided. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{}", .0.message_en)]
    Denied(Denied),
    /// The registry asked for does not hold together (R3), or the form
    /// could not be read: every reason, in both languages.
    #[error("{}", .0.iter().map(|m| m.1.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<(String, String)>),
    #[error("no such request")]
    Unknown,
    #[error("the request was decided already")]
    NotPending,
    /// The core refused the admin fact when it was signed.
    #[error("{}", .0.iter().map(|f| f.message_en.as_str()).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Finding>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RequestError {
    pub fn message(&self, lang: Lang) -> String {
        let sep = if lang == Lang::ZhCn { "；" } else { "; " };
        match (self, lang) {
            (RequestError::Denied(d), Lang::ZhCn) => d.message_zh.clone(),
            (RequestError::Invalid(m), Lang::ZhCn) => {
                m.iter().map(|m| m.0.as_str()).collect::<Vec<_>>().join(sep)
            }
            (RequestError::Unknown, Lang::ZhCn) => "没有这项变更申请".into(),
            (RequestError::NotPending, Lang::ZhCn) => "该申请已处理过".into(),
            (RequestError::Refused(f), Lang::ZhCn) => {
                f.iter().map(|f| f.message_zh.as_str()).collect::<Vec<_>>().join(sep)
            }
            (RequestError::Store(e), Lang::ZhCn) => format!("存储错误：{e}"),
            (e, Lang::En) => e.to_string(),
        }
    }

    fn invalid(zh: impl Into<String>, en: impl Into<String>) -> RequestError {
        RequestError::Invalid(vec![(zh.into(), en.into())])
    }
}

pub type Result<T> = std::result::Result<T, RequestError>;

/// What the directory says about the names `r` uses (R3).
pub fn known(tx: &mut dyn Tx, r: &LabRegistry) -> crate::store::Result<Known> {
    let lab_role = tx.org(&r.lab)?.map(|o| o.role);
    let mut people = std::collections::BTreeMap::new();
    for q in &r.staff {
        if let Ok(person) = Id::new(q.person.as_str())
            && let Some(p) = tx.person(&person)?
        {
            people.insert(q.person.clone(), p.org);
        }
    }
    Ok(Known { lab_role, people })
}

/// R3: the lab's person `viewer` asks for `registry` to become `lab`'s
/// registry. Refused, with nothing stored, when the viewer is not of the
/// lab, the summary is empty, or the registry does not hold together.
pub fn submit(
    store: &Store,
    viewer: &Viewer,
    account: &str,
    lab: &Id,
    summary: &str,
    registry: LabRegistry,
    now: i64,
) -> Result<RequestRow> {
    match access::lab_registry(viewer, lab).map_err(RequestError::Denied)? {
        RegistryAccess::Request => {}
        RegistryAccess::Decide => {
            return Err(RequestError::invalid(
                "变更申请由检测机构本单位人员提出，系统管理员只审核",
                "changes are asked for by the lab's own people; administrators only decide them",
            ));
        }
    }
    if registry.lab != *lab {
        return Err(RequestError::invalid(
            format!("登记信息属于另一检测机构 {}（R3）", registry.lab),
            format!("the registry is another lab's, {} (R3)", registry.lab),
        ));
    }
    let summary = summary.trim().to_owned();
    if summary.is_empty() {
        return Err(RequestError::invalid("请说明变更内容", "say what the change is"));
    }
    let (viewer, account, lab) = (viewer.clone(), account.to_owned(), lab.clone());
    store.write_or_abort(move |tx| {
        let known = known(tx, &registry)?;
        let errors = lab_registry::validate(&registry, &known);
        if !errors.is_empty() {
            return Ok(Err(RequestError::Invalid(
                errors.iter().map(|e| (e.message(Lang::ZhCn), e.message(Lang::En))).collect(),
            )));
        }
        let base = tx.registry_versions(&lab)?.last().map(|v| v.record);
        let row = RequestRow {
            id: format!("REQ-{}", random_code().replace('-', "")),
            lab,
            person: viewer.person.clone(),
            account,
            submitted_ms: now,
            summary,
            registry: serde_json::to_string(&registry).expect("a registry serialises"),
            base,
            state: RequestState::Pending,
            decided_by: None,
            decided_ms: None,
            reason: None,
            record: None,
        };
        tx.insert_registry_request(&row)?;
        Ok(Ok(row))
    })?
}

fn pending(tx: &mut dyn Tx, id: &str) -> crate::store::Result<std::result::Result<RequestRow, RequestError>> {
    Ok(match tx.registry_request(id)? {
        None => Err(RequestError::Unknown),
        Some(r) if r.state != RequestState::Pending => Err(RequestError::NotPending),
        Some(r) => Ok(r),
    })
}

/// The registry a request asks for.
pub fn asked(r: &RequestRow) -> crate::store::Result<LabRegistry> {
    serde_json::from_str(&r.registry).map_err(|e| StoreError::Corrupt(format!("request {}: {e}", r.id)))
}

/// R3: an administrator approves a pending request: the server signs the
/// lab's whole new registry into the log (in force from now) and marks the
/// request approved with its record, in one transaction. Returns the record.
pub fn approve(
    store: &Store,
    key: &SigningKey,
    policy: &Policy,
    viewer: &Viewer,
    decided_by: &str,
    id: &str,
    now: i64,
) -> Result<Hash> {
    administer(viewer).map_err(RequestError::Denied)?;
    let (id, decided_by) = (id.to_owned(), decided_by.to_owned());
    store.write_or_abort(move |tx| {
        let mut row = match pending(tx, &id)? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let change = LabRegistryChange {
            request: row.id.clone(),
            requested_by: row.person.clone(),
            summary: row.summary.clone(),
            registry: asked(&row)?,
        };
        let out = match admin::submit_at(tx, key, policy, Payload::LabRegistryUpdated(change), vec![], now) {
            Ok(out) => out,
            Err(AdminError::Store(e)) => return Err(e),
            Err(AdminError::Refused(f)) => return Ok(Err(RequestError::Refused(f))),
            Err(e) => return Ok(Err(RequestError::invalid(e.message_zh(), e.to_string()))),
        };
        row.state = RequestState::Approved;
        row.decided_by = Some(decided_by);
        row.decided_ms = Some(now);
        row.record = Some(out.id);
        if !tx.decide_registry_request(&row)? {
            return Ok(Err(RequestError::NotPending));
        }
        Ok(Ok(out.id))
    })?
}

/// R3: an administrator refuses a pending request, saying why (the lab is
/// shown the reason); the registry does not change.
pub fn refuse(
    store: &Store,
    viewer: &Viewer,
    decided_by: &str,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    administer(viewer).map_err(RequestError::Denied)?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(RequestError::invalid("退回申请须说明理由", "a refusal needs a reason"));
    }
    let (id, decided_by) = (id.to_owned(), decided_by.to_owned());
    store.write_or_abort(move |tx| {
        let mut row = match pending(tx, &id)? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        row.state = RequestState::Refused;
        row.decided_by = Some(decided_by);
        row.decided_ms = Some(now);
        row.reason = Some(reason);
        if !tx.decide_registry_request(&row)? {
            return Ok(Err(RequestError::NotPending));
        }
        Ok(Ok(()))
    })?
}

/// What a lab's registry page shows.
#[derive(Debug, Clone)]
pub struct LabView {
    pub lab: Id,
    /// The registry in force now (the latest approved).
    pub current: Option<RegistryVersion>,
    /// What ends within a month, or has ended (R3).
    pub expiring: Vec<Expiry>,
    /// Its requests, newest first.
    pub requests: Vec<RequestRow>,
}

/// R3: a lab's registry as of `now`, with its warnings and requests.
pub fn lab_view(tx: &mut dyn Tx, lab: &Id, now: i64) -> crate::store::Result<LabView> {
    let versions = tx.registry_versions(lab)?;
    let current = lab_registry::in_force(&versions, now).cloned();
    let expiring = current
        .as_ref()
        .map(|v| {
            lab_registry::expiring(&v.registry, now, lab_registry::EXPIRY_WARNING_DAYS * lab_registry::DAY_MS)
        })
        .unwrap_or_default();
    let requests = tx.registry_requests_of(lab)?;
    Ok(LabView { lab: lab.clone(), current, expiring, requests })
}
