//! Each custody step's own rules, beyond what every step shares; test
//! data is also judged against the lab's registry (`registry`, R3).

use super::{Judging, Missing, Verdict, Violation, counted_cosigners};
use crate::crypto::Hash;
use crate::custody::{self, CustodyError};
use crate::place::{self, CoPresence};
use crate::record::{
    Commission, LabReceipt, MediaPurpose, Payload, ReceiptDecision, ReportRevocation, TestData, TestReview,
    Witnessing,
};
use crate::time::{self, WindowVerdict};

pub(super) fn check(j: &Judging<'_>, v: &mut Vec<Violation>, verdict: &mut Verdict) {
    match &j.body.payload {
        Payload::Sampling(s) => match j.ctx.unit_projects.get(&s.unit_project) {
            Some(up) if up.project == s.project => {}
            _ => v.push(Violation::UnknownUnitProject { unit_project: s.unit_project.clone() }),
        },
        Payload::Witnessing(w) => witnessing(j, w, v, verdict),
        Payload::Commission(c) => commission(j, c, v),
        Payload::LabReceipt(r) => receipt(j, r, v),
        Payload::TestData(t) => {
            if let Some(h) = t.curve
                && !j.body.evidence.has_media(&h)
            {
                v.push(Violation::MediaNotListed { hash: h });
            }
            if !t.automatic {
                v.push(Violation::TestDataNotAutomatic);
            }
            revision(j, t, v);
            super::registry::check(j, t, v);
        }
        Payload::Report(r)
            if !j.body.evidence.media_with(MediaPurpose::ReportDocument).any(|m| m.sha256 == r.document) =>
        {
            v.push(Violation::MissingEvidence { what: Missing::ReportDocument });
        }
        Payload::ReportRevoked(r) => revocation(j, r, v),
        Payload::TestReviewed(r) => review(j, r, v),
        _ => {}
    }
}

/// R12, R20: a correction names earlier test data of the same tag and test,
/// and says why; a reason without a correction is meaningless and refused.
fn revision(j: &Judging<'_>, t: &TestData, v: &mut Vec<Violation>) {
    use super::RevisionProblem as P;
    let Some(earlier) = t.revises else {
        if t.reason.is_some() {
            v.push(Violation::RevisionInvalid { what: P::NotTestData });
        }
        return;
    };
    if t.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        v.push(Violation::RevisionInvalid { what: P::NoReason });
    }
    let Some(refd) = j.ctx.referenced.get(&earlier) else { return };
    match &refd.record.body().payload {
        Payload::TestData(e) if e.tag == t.tag && e.test == t.test => {}
        Payload::TestData(_) => v.push(Violation::RevisionInvalid { what: P::OtherTagOrTest }),
        _ => v.push(Violation::RevisionInvalid { what: P::NotTestData }),
    }
}

/// R12: a review names a test of its tag, is by someone other than the
/// tester, and says why when it returns the data.
fn review(j: &Judging<'_>, r: &TestReview, v: &mut Vec<Violation>) {
    use super::ReviewProblem as P;
    if !r.approved && r.note.trim().is_empty() {
        v.push(Violation::ReviewInvalid { what: P::ReturnedWithoutNote });
    }
    let Some(refd) = j.ctx.referenced.get(&r.test_data) else { return };
    let b = refd.record.body();
    match &b.payload {
        Payload::TestData(t) => {
            if t.tag != r.tag {
                v.push(Violation::ReviewInvalid { what: P::OtherTag });
            }
            if b.author == j.body.author {
                v.push(Violation::SelfReview);
            }
        }
        _ => v.push(Violation::ReviewInvalid { what: P::NotTestData }),
    }
}

/// R13: a revocation names a report, its very tags, and a reason. Whether
/// the revoker is of the report's lab is the server's to judge (it holds
/// the directory); a revocation from elsewhere never changes the status.
fn revocation(j: &Judging<'_>, r: &ReportRevocation, v: &mut Vec<Violation>) {
    use super::RevocationProblem as P;
    if r.reason.trim().is_empty() {
        v.push(Violation::RevocationInvalid { what: P::NoReason });
    }
    let Some(refd) = j.ctx.referenced.get(&r.report) else { return };
    match &refd.record.body().payload {
        Payload::Report(rep) => {
            let mut a: Vec<&crate::TagCode> = rep.tags.iter().collect();
            let mut b: Vec<&crate::TagCode> = r.tags.iter().collect();
            a.sort();
            b.sort();
            if a != b {
                v.push(Violation::RevocationInvalid { what: P::TagsDiffer });
            }
        }
        _ => v.push(Violation::RevocationInvalid { what: P::NotAReport }),
    }
}

/// R8, R9: the witness held the very sampling record, of the same tag, is
/// not its sampler, stood beside the sampler, and finished within the window.
fn witnessing(j: &Judging<'_>, w: &Witnessing, v: &mut Vec<Violation>, verdict: &mut Verdict) {
    let ev = &j.body.evidence;
    if let Some(h) = w.hand_signature
        && !ev.media_with(MediaPurpose::HandSignature).any(|m| m.sha256 == h)
    {
        v.push(Violation::MediaNotListed { hash: h });
    }
    let Some(refd) = j.ctx.referenced.get(&w.sampling) else { return };
    let sb = refd.record.body();
    let Payload::Sampling(s) = &sb.payload else {
        v.push(Violation::Custody {
            tag: w.tag.clone(),
            error: CustodyError::WrongLink {
                link: custody::Link::Sampling,
                expected: Hash([0; 32]),
                found: w.sampling,
            },
        });
        return;
    };
    if w.sampling_sig != *refd.record.sig() {
        v.push(Violation::HandshakeMismatch);
    }
    if w.tag != s.tag {
        v.push(Violation::TagDiffersFromSampling { sampling_tag: s.tag.clone() });
    }
    if sb.author == j.body.author {
        v.push(Violation::SelfWitness);
    }
    let policy = &j.ctx.policy;
    if let (Some(a), Some(b)) = (place::best_fix(&sb.evidence.fixes), place::best_fix(&ev.fixes)) {
        let cp = place::co_presence(a, b, policy.co_presence_max_m, policy.accuracy_sigma);
        match cp {
            CoPresence::Apart { distance_m } => {
                v.push(Violation::NotTogether { distance_m: distance_m.round() as i64 })
            }
            CoPresence::Uncertain { distance_m } => {
                v.push(Violation::CoPresenceUncertain { distance_m: distance_m.round() as i64 })
            }
            CoPresence::Together { .. } => {}
        }
        verdict.co_presence = Some(cp);
    }
    let window = time::witness_window(&refd.time, &j.time, policy.witness_window_ms);
    match window {
        WindowVerdict::Late { min_gap_ms } => v.push(Violation::LateWitness { min_gap_ms }),
        WindowVerdict::Undetermined { reason, claimed_gap_ms } => {
            v.push(Violation::TimingUndetermined { reason, claimed_gap_ms })
        }
        WindowVerdict::Compliant { .. } => {}
    }
    verdict.window = Some(window);
}

/// R2, R10: the form lists specimens, goes to a lab the owner commissioned
/// for this unit project and these kinds, and carries its witness's
/// co-signature — by someone authorised to witness when co-signing (R1).
fn commission(j: &Judging<'_>, c: &Commission, v: &mut Vec<Violation>) {
    if c.items.is_empty() {
        v.push(Violation::EmptyCommission);
    }
    let kinds: Vec<_> = c
        .items
        .iter()
        .filter_map(|i| j.ctx.referenced.get(&i.sampling))
        .filter_map(|r| match &r.record.body().payload {
            Payload::Sampling(s) => Some(s.specimen.kind),
            _ => None,
        })
        .collect();
    let assigned = j.ctx.lab_assignments.iter().any(|a| {
        a.lab == c.lab && a.unit_project == c.unit_project && kinds.iter().all(|k| a.kinds.contains(k))
    });
    if !assigned {
        v.push(Violation::LabNotCommissioned { lab: c.lab.clone() });
    }
    let counted =
        j.signed.map(|s| counted_cosigners(s, &j.ctx.cosigners, j.ctx.judged_at_ms)).unwrap_or_default();
    if let Some(s) = j.signed
        && j.ctx.judged_at_ms.is_some()
    {
        for cs in s.cosigs() {
            if let Some(who) = j.ctx.cosigners.get(&cs.device)
                && who.person == cs.author
                && !counted.contains(&who.person)
            {
                v.push(Violation::CosignerNotAuthorised { person: who.person.clone() });
            }
        }
    }
    if !counted.contains(&c.witness) {
        v.push(Violation::AwaitingWitnessCosignature);
    }
}

/// R11: the receipt answers a form that lists this tag, addressed to the
/// receiver's lab, co-signed by its witness (R10: without it, refused as a
/// receipt of a complete specimen; a rejection stands); accepting a specimen whose
/// trail carries findings needs the receiver's recorded confirmation of each.
fn receipt(j: &Judging<'_>, r: &LabReceipt, v: &mut Vec<Violation>) {
    if let Some(refd) = j.ctx.referenced.get(&r.commission)
        && let Payload::Commission(c) = &refd.record.body().payload
    {
        if !c.items.iter().any(|i| i.tag == r.tag) {
            v.push(Violation::TagNotOnCommission { tag: r.tag.clone() });
        }
        if let Some(d) = j.device
            && d.org != c.lab
        {
            v.push(Violation::WrongLab { lab: c.lab.clone() });
        }
        if !refd.cosigners.contains(&c.witness) {
            // R10: the form is complete only with the witness's
            // co-signature; a lab may reject the specimen without it, not
            // receive it.
            v.push(if r.decision == ReceiptDecision::Accepted {
                Violation::ReceivedWithoutCosignature
            } else {
                Violation::AwaitingWitnessCosignature
            });
        }
    }
    if r.decision == ReceiptDecision::Accepted {
        let unconfirmed = crate::trail::unconfirmed(&j.ctx.trail_findings, &r.acknowledged);
        if !unconfirmed.is_empty() {
            v.push(Violation::UnconfirmedTrailFindings { codes: unconfirmed });
        }
    }
}
