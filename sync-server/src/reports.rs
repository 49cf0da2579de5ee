//! R13: reports the system vouches for. The store's side of the report QR:
//! gather what `custody_core::report_seal` decides on (is the chain whole?
//! what is the report's standing now?), make the seal, answer a check.
//!
//! Nothing is stored for a seal: Ed25519 is deterministic and the issue
//! time is the report record's first-seen time (the server's own clock), so
//! the same report always gets the same seal, on any instance, after any
//! restore.
//!
//! The report PDF issued with the seal is stored, once (`issued`: why).

mod issued;
pub use issued::*;

use crate::faces::Media;
use crate::ingest::{decode_stored, stored_verdict};
use crate::logtree;
use crate::store::{RecordRow, Result, StoreError, Tx};
use crate::trail;
use custody_core::SigningKey;
use custody_core::crypto::Hash;
use custody_core::log::SignedCheckpoint;
use custody_core::model::Id;
use custody_core::oversight::lab::LabThresholds;
use custody_core::protocol::{
    IssuedPdf, PublicFigure, PublicFlag, PublicReportView, PublicSpecimen, PublicTestResult, RecordStatus,
};
use custody_core::record::{Payload, ReceiptDecision, Report, TestData};
use custody_core::report_seal::{
    self, Gap, Issuance, ReportEvent, ReportSeal, ReviewEntry, SealError, SignedSeal, SpecimenFacts,
    TestEntry,
};
use custody_core::results::check::{TestCheck, TestFlag, TestInput, check_test};
use custody_core::results::group::{self, Cube};
use custody_core::routes;
use custody_core::verify::Lang;
use custody_core::{PublicKey, TagCode};

/// A stored report record, decoded.
struct Stored {
    row: RecordRow,
    report: Report,
    author_org: Option<Id>,
}

fn load(tx: &mut dyn Tx, id: &Hash) -> Result<Option<Stored>> {
    let Some(row) = tx.record(id)? else { return Ok(None) };
    let rec = decode_stored(&row)?;
    let Payload::Report(report) = &rec.body().payload else { return Ok(None) };
    let author_org = tx.person(&rec.body().author)?.map(|p| p.org);
    Ok(Some(Stored { report: report.clone(), author_org, row }))
}

/// Why a report gets no seal.
#[derive(Debug)]
pub enum NotIssued {
    Unknown,
    /// The asking device's organisation is not the report's lab.
    NotYours,
    Gaps(Vec<Gap>),
}

/// One raw curve of a report's current tests, for the checks across
/// specimens (`results::group::near_identical_between`).
struct ArrivedCurve {
    tag: String,
    sha: Hash,
    bytes: Vec<u8>,
}

/// The facts of one specimen: its trail verdict, who received it, and its
/// tests recomputed from their raw curves (R12, `results::check`), with a
/// concrete group's value from its three cubes (`results::group`).
fn specimen(
    tx: &mut dyn Tx,
    media: &Media,
    key: &PublicKey,
    checkpoint: &SignedCheckpoint,
    tag: &TagCode,
    curves: &mut Vec<ArrivedCurve>,
) -> Result<(SpecimenFacts, PublicSpecimen, Vec<String>)> {
    let judged = trail::trail(tx, tag, checkpoint, key, None)?
        .map_err(|_| StoreError::Corrupt("an admin view was denied".into()))?;
    let mut facts = SpecimenFacts {
        tag: tag.printed(),
        trail_ok: judged.ok,
        received_by: None,
        curve: false,
        curve_pending: false,
        curve_unreadable: false,
        mismatches: vec![],
        unreviewed: vec![],
        registry: vec![],
    };
    let (mut grade, mut tests, mut results) = (None, Vec::new(), Vec::new());
    let rows: Vec<_> = tx
        .records_for_tag(tag.as_str())?
        .into_iter()
        .filter(|r| r.status == RecordStatus::Accepted)
        .collect();
    for row in &rows {
        let rec = decode_stored(row)?;
        match &rec.body().payload {
            Payload::Sampling(s) => grade = Some(s.specimen.grade.clone()),
            Payload::LabReceipt(r) if r.decision == ReceiptDecision::Accepted => {
                facts.received_by = tx.person(&rec.body().author)?.map(|p| p.org);
            }
            _ => {}
        }
    }
    // R12, R20: which tests are current and approved is the core's rule.
    let (mut entries, mut reviews, mut tests_by_id) = (Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        match &decode_stored(row)?.body().payload {
            Payload::TestReviewed(r) => {
                reviews.push(ReviewEntry { test_data: r.test_data, approved: r.approved })
            }
            Payload::TestData(t) => {
                entries.push(TestEntry { id: row.id, test: t.test.clone(), revises: t.revises });
                tests_by_id.push((row.id, t.clone()));
            }
            _ => {}
        }
    }
    let (current, unreviewed) = report_seal::current_tests(&entries, &reviews);
    facts.unreviewed = unreviewed;
    let mut cubes: Vec<CubeOf> = Vec::new();
    for entry in current {
        let Some((id, t)) = tests_by_id.iter().find(|(id, _)| *id == entry.id) else { continue };
        let id = *id;
        // R3: what the test broke of the lab's registry, as judged when it arrived.
        if let Some(row) = rows.iter().find(|r| r.id == id) {
            for v in stored_verdict(row)?.violations {
                if let custody_core::verify::Violation::RegistryBreach { problem } = v
                    && !facts.registry.contains(&problem)
                {
                    facts.registry.push(problem);
                }
            }
        }
        facts.curve |= t.curve.is_some() && t.automatic;
        let item = format!("{} {}", t.test, t.standard).trim().to_owned();
        if !tests.contains(&item) {
            tests.push(item);
        }
        let (check, pending, bytes) = recompute(tx, media, id, t, grade.as_deref())?;
        facts.curve_pending |= pending;
        if let (Some(sha), Some(b)) = (t.curve, &bytes) {
            curves.push(ArrivedCurve { tag: tag.printed(), sha, bytes: b.clone() });
        }
        if t.test == "concrete_cube_strength" {
            cubes.push(CubeOf { curve: bytes, named: t.curve.is_some(), reported: t.results.clone() });
        }
        facts.curve_unreadable |= check
            .flags
            .iter()
            .any(|f| matches!(f, TestFlag::CurveUnreadable { .. } | TestFlag::NotRecomputable { .. }));
        for f in &check.flags {
            if let TestFlag::Mismatch { name, .. } = f {
                facts.mismatches.push(name.clone());
            }
        }
        results.push(public_result(t, &check));
    }
    if let Some(r) = group_result(tag, grade.as_deref(), &cubes, &mut facts) {
        results.push(r);
    }
    let public = PublicSpecimen {
        tag: tag.printed(),
        stage: judged.stage,
        stage_zh: judged.stage_zh,
        ok: judged.ok,
        checks: judged.checks,
        results,
    };
    Ok((facts, public, tests))
}

/// One cube of a concrete group: its curve when arrived, whether its test
/// names one, and what the lab reported with it.
struct CubeOf {
    curve: Option<Vec<u8>>,
    named: bool,
    reported: Vec<custody_core::record::Measurement>,
}

/// GB/T 50081: the group value of a tag's cubes, when all have curves
/// (`results::group::check_group`); a mismatch counts like any other.
fn group_result(
    tag: &TagCode,
    grade: Option<&str>,
    cubes: &[CubeOf],
    facts: &mut SpecimenFacts,
) -> Option<PublicTestResult> {
    let named: Vec<Cube<'_>> = cubes
        .iter()
        .filter(|c| c.named)
        .map(|c| Cube { curve: c.curve.as_deref(), reported: &c.reported })
        .collect();
    let check = group::check_group(grade, &named)?;
    for f in &check.flags {
        if let TestFlag::Mismatch { name, .. } = f {
            facts.mismatches.push(name.clone());
        }
    }
    let group_test = TestData {
        tag: tag.clone(),
        receipt: Hash([0; 32]),
        test: group::GROUP_TEST.into(),
        standard: "GB/T 50081-2019".into(),
        results: vec![],
        curve: None,
        automatic: true,
        equipment: None,
        revises: None,
        reason: None,
    };
    Some(public_result(&group_test, &check))
}

/// R12: one test recomputed from its curve, if the curve has arrived
/// (`true` beside it when it has not; the curve's bytes when it has).
/// Other specimens' test data naming the very same file are named too.
pub(crate) fn recompute(
    tx: &mut dyn Tx,
    media: &Media,
    record: Hash,
    t: &TestData,
    grade: Option<&str>,
) -> Result<(TestCheck, bool, Option<Vec<u8>>)> {
    let (mut bytes, mut pending, mut elsewhere) = (None, false, Vec::new());
    if let Some(sha) = t.curve {
        if tx.media(&sha)?.is_some_and(|m| m.complete) {
            bytes =
                Some(media.read_in(tx, &sha).map_err(|e| StoreError::Corrupt(format!("curve {sha}: {e}")))?);
        } else {
            pending = true;
        }
        for other in tx.records_with_curve(&sha)? {
            if other.id == record || other.status != RecordStatus::Accepted {
                continue;
            }
            if let Payload::TestData(o) = &decode_stored(&other)?.body().payload
                && o.tag != t.tag
            {
                elsewhere.push(o.tag.printed());
            }
        }
    }
    let check = check_test(&TestInput {
        test: &t.test,
        grade,
        curve: bytes.as_deref(),
        names_curve: t.curve.is_some(),
        reported: &t.results,
        same_curve_elsewhere: elsewhere,
    });
    Ok((check, pending, bytes))
}

fn public_result(t: &TestData, c: &TestCheck) -> PublicTestResult {
    PublicTestResult {
        test: t.test.clone(),
        standard: t.standard.clone(),
        curve: t.curve,
        correction: t.reason.clone().filter(|_| t.revises.is_some()),
        figures: c
            .recomputed
            .iter()
            .map(|f| PublicFigure {
                name: f.name.clone(),
                unit: f.unit.clone(),
                value: f.value.rounded,
                raw: f.value.raw,
                reported: c.comparisons.iter().find(|x| x.name == f.name).and_then(|x| x.reported),
            })
            .collect(),
        flags: c
            .flags
            .iter()
            .map(|f| PublicFlag {
                code: f.code().into(),
                message_zh: f.message(Lang::ZhCn),
                message_en: f.message(Lang::En),
            })
            .collect(),
    }
}

fn issuance(
    tx: &mut dyn Tx,
    media: &Media,
    key: &PublicKey,
    checkpoint: &SignedCheckpoint,
    lab: &LabThresholds,
    s: &Stored,
) -> Result<(Issuance, Vec<PublicSpecimen>, Vec<String>)> {
    let verdict = stored_verdict(&s.row)?;
    let mut specimens = Vec::new();
    let mut public = Vec::new();
    let mut tests = Vec::new();
    let mut curves = Vec::new();
    for tag in &s.report.tags {
        let (f, p, t) = specimen(tx, media, key, checkpoint, tag, &mut curves)?;
        specimens.push(f);
        public.push(p);
        for item in t {
            if !tests.contains(&item) {
                tests.push(item);
            }
        }
    }
    near_identical(&curves, lab, &mut public);
    let issuance = Issuance {
        accepted: s.row.status == RecordStatus::Accepted,
        findings: verdict.violations.iter().map(|v| v.code()).collect(),
        lab: s.author_org.clone(),
        specimens,
    };
    Ok((issuance, public, tests))
}

/// R12: a curve of the report that is a near-identical copy of another of
/// its curves (other bytes, same shape) is flagged on the test naming it.
fn near_identical(curves: &[ArrivedCurve], lab: &LabThresholds, public: &mut [PublicSpecimen]) {
    let files: Vec<&[u8]> = curves.iter().map(|c| c.bytes.as_slice()).collect();
    for (i, alike) in group::near_identical_between(&files, lab).into_iter().enumerate() {
        let Some(c) = curves.get(i) else { continue };
        // Byte-identical files are `curve_reused` already.
        let alike: Vec<_> = alike.into_iter().filter(|(j, _)| curves[*j].sha != c.sha).collect();
        if alike.is_empty() {
            continue;
        }
        let flag = TestFlag::CurveNearIdentical {
            tags: alike.iter().map(|(j, _)| curves[*j].tag.clone()).collect(),
            difference: alike.iter().map(|a| a.1).fold(0.0, f64::max),
        };
        let result = public
            .iter_mut()
            .filter(|p| p.tag == c.tag)
            .flat_map(|p| p.results.iter_mut())
            .find(|r| r.curve == Some(c.sha));
        if let Some(r) = result {
            r.flags.push(PublicFlag {
                code: flag.code().into(),
                message_zh: flag.message(Lang::ZhCn),
                message_en: flag.message(Lang::En),
            });
        }
    }
}

fn sealed(s: &Stored, lab: &Id, key: &SigningKey) -> std::result::Result<SignedSeal, SealError> {
    ReportSeal {
        report: s.row.id,
        lab: lab.clone(),
        report_no: s.report.report_no.clone(),
        document: s.report.document,
        issued_ms: s.row.first_seen_ms,
    }
    .sign(key)
}

/// R13: the seal of report `id` for a device of organisation `asking_org`,
/// when the chain is whole.
pub fn seal_for_lab(
    tx: &mut dyn Tx,
    media: &Media,
    key: &SigningKey,
    lab: &LabThresholds,
    id: &Hash,
    asking_org: &Id,
    now: i64,
) -> Result<std::result::Result<SignedSeal, NotIssued>> {
    let Some(s) = load(tx, id)? else { return Ok(Err(NotIssued::Unknown)) };
    if s.author_org.as_ref() != Some(asking_org) {
        return Ok(Err(NotIssued::NotYours));
    }
    let checkpoint = logtree::checkpoint(tx, key, now)?;
    let (issuance, _, _) = issuance(tx, media, &key.public(), &checkpoint, lab, &s)?;
    let gaps = report_seal::issuable(&issuance);
    if !gaps.is_empty() {
        return Ok(Err(NotIssued::Gaps(gaps)));
    }
    Ok(sealed(&s, asking_org, key)
        .map_err(|e| NotIssued::Gaps(vec![Gap::Findings { codes: vec![e.to_string()] }])))
}

/// Why a seal does not check out.
#[derive(Debug)]
pub enum CheckFailure {
    Seal(SealError),
    /// Validly signed, but no such report here: another deployment's seal
    /// under the same key, or records lost — either way, said plainly.
    Unknown,
    /// Validly signed but not matching the stored report: never expected.
    Mismatch,
}

impl CheckFailure {
    pub fn code(&self) -> &'static str {
        match self {
            CheckFailure::Seal(_) => "seal_invalid",
            CheckFailure::Unknown => "report_unknown",
            CheckFailure::Mismatch => "report_mismatch",
        }
    }

    /// What the person holding the report is told.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CheckFailure::Seal(e), _) => e.message(lang),
            (CheckFailure::Unknown, Lang::ZhCn) => {
                "二维码签名有效，但本系统没有这份报告：请勿采信，并向监管部门核实".into()
            }
            (CheckFailure::Unknown, Lang::En) => {
                "the seal's signature is valid but this system holds no such report: do not rely on it; ask the regulator".into()
            }
            (CheckFailure::Mismatch, Lang::ZhCn) => "二维码与系统中的报告不一致：请勿采信，并向监管部门报告".into(),
            (CheckFailure::Mismatch, Lang::En) => {
                "the seal does not match the report this system holds: do not rely on it; tell the regulator".into()
            }
        }
    }
}

/// The report's later events, from the records of its tags (a replacement
/// or a revocation names the same specimens): accepted reports amending
/// it, and accepted revocations of it with who signed them
/// (`report_status` counts only its own lab's).
fn events(tx: &mut dyn Tx, s: &Stored) -> Result<Vec<ReportEvent>> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for tag in &s.report.tags {
        for row in tx.records_for_tag(tag.as_str())? {
            if row.status != RecordStatus::Accepted || !seen.insert(row.id) {
                continue;
            }
            let rec = decode_stored(&row)?;
            match &rec.body().payload {
                Payload::Report(r) if r.amends == Some(s.row.id) => out.push(ReportEvent::Amended {
                    by: row.id,
                    report_no: r.report_no.clone(),
                    at_ms: row.first_seen_ms,
                }),
                Payload::ReportRevoked(r) if r.report == s.row.id => out.push(ReportEvent::Revoked {
                    reason: r.reason.clone(),
                    at_ms: row.first_seen_ms,
                    by: tx.person(&rec.body().author)?.map(|p| p.org),
                }),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A seal that checks out: signed by one of the system's `keys` and naming
/// the stored report as it is. The light half of [`check`] (no trails, no
/// curves), all the PDF routes need.
pub struct Sealed {
    pub signed: SignedSeal,
    /// The seal's canonical text (upper-case base32), whatever case was asked.
    pub text: String,
    pub report_no: String,
    stored: Stored,
}

impl Sealed {
    pub fn report(&self) -> Hash {
        self.stored.row.id
    }
}

/// Decode and verify a seal's text against the stored report.
pub fn sealed_report(
    tx: &mut dyn Tx,
    keys: &[PublicKey],
    text: &str,
) -> Result<std::result::Result<Sealed, CheckFailure>> {
    let signed = match SignedSeal::decode(text) {
        Ok(s) => s,
        Err(e) => return Ok(Err(CheckFailure::Seal(e))),
    };
    let seal = match signed.verify(keys) {
        Ok(s) => s.clone(),
        Err(e) => return Ok(Err(CheckFailure::Seal(e))),
    };
    let Some(s) = load(tx, &seal.report)? else { return Ok(Err(CheckFailure::Unknown)) };
    if s.report.document != seal.document
        || s.report.report_no != seal.report_no
        || s.row.first_seen_ms != seal.issued_ms
        || s.author_org.as_ref() != Some(&seal.lab)
    {
        return Ok(Err(CheckFailure::Mismatch));
    }
    let text = match signed.encode() {
        Ok(t) => t,
        Err(e) => return Ok(Err(CheckFailure::Seal(e))),
    };
    Ok(Ok(Sealed { text, report_no: s.report.report_no.clone(), signed, stored: s }))
}

/// R13: check a seal's text and answer what anyone may know of the report.
/// Reads only: the trails are proven against `checkpoint`, which must cover
/// the log ([`covering_checkpoint`]), so the check runs on a reader, beside
/// the writers, however many phones ask at once.
/// `keys`: the system's keys (current first); `lab`: the thresholds of the
/// curve comparison (`oversight.lab`, one rule with the lab warnings).
#[allow(clippy::too_many_arguments)] // each a distinct input of the check; a bundle would hide which
pub fn check(
    tx: &mut dyn Tx,
    media: &Media,
    key: &SigningKey,
    keys: &[PublicKey],
    text: &str,
    base_url: &str,
    checkpoint: &SignedCheckpoint,
    lab: &LabThresholds,
) -> Result<std::result::Result<PublicReportView, CheckFailure>> {
    let checked = match sealed_report(tx, keys, text)? {
        Ok(s) => s,
        Err(f) => return Ok(Err(f)),
    };
    let (signed, s) = (&checked.signed, &checked.stored);
    let seal = &signed.seal;
    let (_, specimens, tests) = issuance(tx, media, &key.public(), checkpoint, lab, s)?;
    let status = report_seal::report_status(&events(tx, s)?, s.author_org.as_ref());
    let replaced_by_url = match &status {
        // The replacement's own seal when it is issued; its record page otherwise.
        report_seal::ReportStatus::ReplacedBy { report, .. } => {
            load(tx, report)?.map(|r| match sealed(&r, &seal.lab, key).and_then(|x| x.encode()) {
                Ok(text) => format!("{base_url}{}", routes::report_check(&text)),
                Err(_) => format!("{base_url}{}", routes::record_page(report)),
            })
        }
        _ => None,
    };
    let project_name = match s.row.project.as_deref().map(Id::new) {
        Some(Ok(p)) => tx.project(&p)?.map(|p| p.name),
        _ => None,
    };
    let lab_name = tx.org(&seal.lab)?.map(|o| o.name);
    Ok(Ok(PublicReportView {
        report: s.row.id,
        report_no: s.report.report_no.clone(),
        lab: seal.lab.as_str().to_owned(),
        lab_name,
        project_name,
        tests,
        conclusion: s.report.conclusion.clone(),
        document_sha256: s.report.document,
        issued_ms: s.row.first_seen_ms,
        key_id: signed.key_id_hex(),
        status,
        replaced_by_url,
        specimens,
        issued_pdf: tx.issued_pdf(&s.row.id)?.map(|p| IssuedPdf {
            sha256: p.sha256,
            size: p.size,
            url: format!("{base_url}{}", routes::public_report_pdf(&checked.text)),
        }),
    }))
}

/// The latest signed checkpoint when it covers the whole log (a read);
/// `None` when records arrived since, and one must be signed (a write).
pub fn covering_checkpoint(tx: &mut dyn Tx) -> Result<Option<SignedCheckpoint>> {
    let size = tx.log_size()?;
    Ok(tx.latest_checkpoint()?.filter(|c| c.checkpoint.size >= size))
}
