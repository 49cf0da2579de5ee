//! R13: the report PDF the system issues, rendered once and kept.
//!
//! Why kept rather than rendered per request: the check page tells a reader
//! the SHA-256 of the PDF the system issued, so that a file they were handed
//! can be compared. The seal's QR cannot carry that hash (it is printed on
//! the very PDF), and the bytes depend on more than the records — the font
//! file, this code's layout — which may change between releases. So the
//! first PDF rendered for a report (when its lab fetches the seal, or the
//! first time either PDF route is asked for it) is written to the media
//! store (content-addressed, write-once, verified and backed up with every
//! other object) and the report → PDF row to `issued_reports`; every later
//! download is those bytes, and the check page reads the row (one indexed
//! read, no rendering). Two instances issuing at once render the same facts;
//! the first row written wins and both answer with it.
//!
//! Rendering is deterministic anyway (`report_pdf`): re-rendering the same
//! facts with the same font gives the same bytes, which the tests check.

use super::{CheckFailure, Sealed, check, covering_checkpoint, sealed_report};
use crate::faces::Media;
use crate::ingest::decode_stored;
use crate::logtree;
use crate::report_pdf::{Attachment, PdfError, PdfSpecimen, ReportFont, ReportPdf, render};
use crate::store::{IssuedPdfRow, MediaRow, Result, Store, StoreError, Tx};
use custody_core::model::{Id, SpecimenKind};
use custody_core::protocol::RecordStatus;
use custody_core::record::Payload;
use custody_core::verify::Lang;
use custody_core::{Hash, PublicKey, SigningKey, TagCode};

/// Why no PDF is issued (beside a seal that does not check out).
#[derive(Debug)]
pub enum PdfRefusal {
    Check(CheckFailure),
    /// The lab's signed document has not finished uploading.
    DocumentPending,
    /// A test's curve file has not (R12: the seal needs it; a replaced
    /// test's curve may still be missing).
    CurvePending {
        tag: String,
    },
    Pdf(PdfError),
}

impl PdfRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            PdfRefusal::Check(f) => f.code(),
            PdfRefusal::DocumentPending => "report_document_pending",
            PdfRefusal::CurvePending { .. } => "curve_pending",
            PdfRefusal::Pdf(e) => e.code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PdfRefusal::Check(f), _) => f.message(lang),
            (PdfRefusal::Pdf(e), _) => e.message(lang),
            (PdfRefusal::DocumentPending, Lang::ZhCn) => {
                "检测机构签署的报告文件尚未上传完毕，PDF 需将其原样附入：请同步后再试（R13）".into()
            }
            (PdfRefusal::DocumentPending, Lang::En) => {
                "the report document the lab signed has not finished uploading and the PDF attaches it unaltered: sync and try again (R13)".into()
            }
            (PdfRefusal::CurvePending { tag }, Lang::ZhCn) => {
                format!("试件 {tag} 的试验曲线尚未上传完毕，PDF 需将其原样附入：请同步后再试（R12）")
            }
            (PdfRefusal::CurvePending { tag }, Lang::En) => format!(
                "specimen {tag}: its machine curve has not finished uploading and the PDF attaches it unaltered: sync and try again (R12)"
            ),
        }
    }
}

/// A name a PDF reader shows for an attachment: ASCII (what every reader
/// and PDF/A validator takes in the file specification).
fn file_name(stem: &str, media_type: &str) -> String {
    let stem: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    let ext = match media_type.split(';').next().unwrap_or("").trim() {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/plain" => "txt",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/json" => "json",
        _ => "bin",
    };
    format!("{stem}.{ext}")
}

/// The bytes of a complete media object, `None` while it is uploading.
fn complete(tx: &mut dyn Tx, media: &Media, sha: &Hash) -> Result<Option<(MediaRow, Vec<u8>)>> {
    let Some(row) = tx.media(sha)?.filter(|m| m.complete) else { return Ok(None) };
    let bytes = media.read_in(tx, sha).map_err(|e| StoreError::Media(format!("{sha}: {e}")))?;
    Ok(Some((row, bytes)))
}

/// A specimen's kind and grade and its unit project, from its sampling.
fn sampled(tx: &mut dyn Tx, tag: &str) -> Result<Option<(SpecimenKind, String, Id)>> {
    let Ok(tag) = TagCode::parse(tag) else { return Ok(None) };
    for row in tx.records_for_tag(tag.as_str())? {
        if row.status != RecordStatus::Accepted {
            continue;
        }
        if let Payload::Sampling(s) = &decode_stored(&row)?.body().payload {
            return Ok(Some((s.specimen.kind, s.specimen.grade.clone(), s.unit_project.clone())));
        }
    }
    Ok(None)
}

/// R13: what the issued PDF prints for a seal that checks out — the public
/// check's answer (the same custody verdicts and recomputed figures the
/// check page shows) and beside it each specimen's kind and grade, its unit
/// project, and the files attached, read from the media store.
#[allow(clippy::too_many_arguments)] // the check's own inputs, passed through
pub fn pdf_facts(
    tx: &mut dyn Tx,
    media: &Media,
    key: &SigningKey,
    keys: &[PublicKey],
    text: &str,
    base_url: &str,
    checkpoint: &custody_core::log::SignedCheckpoint,
    lab: &custody_core::oversight::lab::LabThresholds,
) -> Result<std::result::Result<ReportPdf, PdfRefusal>> {
    let view = match check(tx, media, key, keys, text, base_url, checkpoint, lab)? {
        Ok(v) => v,
        Err(f) => return Ok(Err(PdfRefusal::Check(f))),
    };
    let signed = custody_core::report_seal::SignedSeal::decode(text)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let qr_text = signed.qr_text(base_url).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Some((doc_row, doc)) = complete(tx, media, &view.document_sha256)? else {
        return Ok(Err(PdfRefusal::DocumentPending));
    };
    let document = Attachment {
        name: file_name(&format!("lab-report-{}", view.report_no), &doc_row.media_type),
        media_type: doc_row.media_type,
        description: "检测机构签署的报告原件（其 SHA-256 登记在二维码中） The report document the lab signed (its SHA-256 is in the QR's seal)".into(),
        bytes: doc,
    };
    let (mut specimens, mut curves, mut unit_projects) = (Vec::new(), Vec::<Attachment>::new(), Vec::new());
    for p in &view.specimens {
        let (kind, grade, unit) = match sampled(tx, &p.tag)? {
            Some((kind, grade, unit)) => (kind, grade, Some(unit)),
            None => (SpecimenKind::Other, String::new(), None),
        };
        if let Some(unit) = unit
            && let Some(u) = tx.unit_project(&unit)?
            && !unit_projects.contains(&u.name)
        {
            unit_projects.push(u.name);
        }
        for t in &p.results {
            let Some(sha) = t.curve else { continue };
            if curves.iter().any(|c| c.sha256() == sha) {
                continue;
            }
            let Some((row, bytes)) = complete(tx, media, &sha)? else {
                return Ok(Err(PdfRefusal::CurvePending { tag: p.tag.clone() }));
            };
            let digits: String = p.tag.chars().filter(char::is_ascii_digit).collect();
            curves.push(Attachment {
                name: file_name(&format!("curve-{digits}-{}-{}", t.test, &sha.to_hex()[..12]), &row.media_type),
                media_type: row.media_type,
                description: format!(
                    "试件 {} 的试验机原始曲线文件（{} {}），原样 Raw machine curve file of specimen {}, unaltered",
                    p.tag, t.test, t.standard, p.tag
                ),
                bytes,
            });
        }
        specimens.push(PdfSpecimen { kind, grade, public: p.clone() });
    }
    Ok(Ok(ReportPdf {
        report: view.report,
        report_no: view.report_no,
        lab: view.lab,
        lab_name: view.lab_name,
        project_name: view.project_name,
        unit_projects,
        tests: view.tests,
        conclusion: view.conclusion,
        issued_ms: view.issued_ms,
        key_id: view.key_id,
        qr_text,
        specimens,
        document,
        curves,
    }))
}

/// The checkpoint a check is proven against: the stored one when it covers
/// the log (a read), else one signed now (a short write).
pub fn checkpoint_now(
    store: &Store,
    key: &SigningKey,
    now: i64,
) -> Result<custody_core::log::SignedCheckpoint> {
    match store.read(covering_checkpoint)? {
        Some(c) => Ok(c),
        None => store.write(|tx| logtree::checkpoint(tx, key, now)),
    }
}

/// What the PDF routes answer with: the issued PDF's row and its bytes.
pub struct IssuedFile {
    pub row: IssuedPdfRow,
    pub report_no: String,
    pub bytes: Vec<u8>,
}

/// Where the PDF routes and the seal route get the issued PDF.
pub struct Issuer<'a> {
    pub store: &'a Store,
    pub media: &'a Media,
    pub key: &'a SigningKey,
    pub base_url: &'a str,
    /// The thresholds of the curve comparison (`oversight.lab`).
    pub lab: &'a custody_core::oversight::lab::LabThresholds,
    /// The report font, loaded when a PDF must be rendered.
    pub font: &'a dyn Fn() -> std::result::Result<ReportFont, PdfError>,
    pub now: i64,
}

impl Issuer<'_> {
    /// The issued PDF of the report `text` seals: the kept one, or rendered
    /// now and kept when there is none yet. Blocking (a worker thread).
    pub fn pdf(&self, text: &str) -> Result<std::result::Result<IssuedFile, PdfRefusal>> {
        let sealed: Sealed = match self.store.read(|tx| {
            // Seals printed before a key rotation stay valid (issue 18).
            let keys = crate::keys::known_keys(&self.key.public(), &crate::keys::handovers(tx)?);
            sealed_report(tx, &keys, text)
        })? {
            Ok(s) => s,
            Err(f) => return Ok(Err(PdfRefusal::Check(f))),
        };
        let report = sealed.report();
        let row = match self.store.read(|tx| tx.issued_pdf(&report))? {
            Some(row) => row,
            None => match self.issue(&sealed.text)? {
                Ok(row) => row,
                Err(r) => return Ok(Err(r)),
            },
        };
        let bytes = self
            .media
            .read(self.store, &row.sha256)
            .map_err(|e| StoreError::Media(format!("{}: {e}", row.sha256)))?;
        Ok(Ok(IssuedFile { row, report_no: sealed.report_no, bytes }))
    }

    /// Gather, render, keep. The row kept is the first one written.
    fn issue(&self, text: &str) -> Result<std::result::Result<IssuedPdfRow, PdfRefusal>> {
        let font = match (self.font)() {
            Ok(f) => f,
            Err(e) => return Ok(Err(PdfRefusal::Pdf(e))),
        };
        let checkpoint = checkpoint_now(self.store, self.key, self.now)?;
        let facts = match self.store.read(|tx| {
            let keys = crate::keys::known_keys(&self.key.public(), &crate::keys::handovers(tx)?);
            pdf_facts(tx, self.media, self.key, &keys, text, self.base_url, &checkpoint, self.lab)
        })? {
            Ok(f) => f,
            Err(r) => return Ok(Err(r)),
        };
        let bytes = match render(&facts, &font) {
            Ok(b) => b,
            Err(e) => return Ok(Err(PdfRefusal::Pdf(e))),
        };
        let sha256 = self.media.blobs.put_whole(&bytes).map_err(|e| StoreError::Media(e.to_string()))?;
        let row =
            IssuedPdfRow { report: facts.report, sha256, size: bytes.len() as u64, issued_ms: self.now };
        let kept = self.store.write(|tx| {
            // The object is in the media store like any upload: recorded
            // complete, so `admin verify` and backups count it.
            tx.upsert_media(
                &MediaRow {
                    sha256,
                    size: row.size,
                    media_type: "application/pdf".into(),
                    received: row.size,
                    complete: true,
                },
                self.now,
            )?;
            tx.keep_issued_pdf(&row)
        })?;
        if kept != row {
            tracing::info!(report = %row.report, "another instance issued this report's PDF first; serving its");
        }
        Ok(Ok(kept))
    }
}
