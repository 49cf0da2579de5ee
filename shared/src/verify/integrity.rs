//! Integrity: the record is what its signer made, the signer is who it says,
//! and it sits where it claims in its device's chain. What fails here is not
//! attributable: rejected, never stored.

use super::{Judging, VerifyContext, Violation};
use crate::record::{RecordBody, SignatureError, SignedRecord};

/// The author's signature and every co-signature verify.
pub(super) fn signatures(record: &SignedRecord, v: &mut Vec<Violation>) {
    match record.verify_signatures() {
        Ok(()) => {}
        Err(SignatureError::Author) => v.push(Violation::BadSignature),
        Err(SignatureError::Cosignature { index } | SignatureError::SelfCosignature { index }) => {
            v.push(Violation::BadCosignature { index })
        }
    }
}

/// Who signed: admin facts only by the server's key, custody steps only by
/// an enrolled device of their author; each co-signature in the name of its
/// own device's person; the record continues its device's chain.
pub(super) fn signer(
    body: &RecordBody,
    signed: Option<&SignedRecord>,
    ctx: &VerifyContext,
    server_authored: bool,
    v: &mut Vec<Violation>,
) {
    let kind = body.kind();
    if server_authored {
        if !kind.is_admin_fact() {
            v.push(Violation::ServerKeyOnCustodyStep);
        }
    } else if kind.is_admin_fact() {
        v.push(Violation::AdminFactFromDevice);
    }
    if !server_authored {
        match ctx.device.as_ref() {
            None => v.push(Violation::UnknownDevice),
            Some(d) if d.person != body.author => {
                v.push(Violation::DeviceNotAuthors { device_person: d.person.clone() })
            }
            _ => {}
        }
    }
    if let Some(rec) = signed.filter(|_| !ctx.draft) {
        for (index, c) in rec.cosigs().iter().enumerate() {
            if ctx.cosigners.get(&c.device).is_none_or(|who| who.person != c.author) {
                v.push(Violation::CosignatureMisattributed { index });
            }
        }
    }
    if !ctx.draft
        && let Err(error) = crate::record::check_next(ctx.chain_tail.as_ref(), body)
    {
        v.push(Violation::Chain { error });
    }
}

/// A revoked device's records after its revocation are not its person's.
pub(super) fn device_revocation(j: &Judging<'_>, v: &mut Vec<Violation>) {
    if let Some(d) = j.device
        && let Some(rev) = d.revoked_at_ms
    {
        if j.time.proven.earliest_ms.is_some_and(|e| e >= rev) {
            v.push(Violation::DeviceRevoked { effective_ms: rev });
        } else if j.t_hi >= rev {
            v.push(Violation::DeviceRevocationUncertain { effective_ms: rev });
        }
    }
}
