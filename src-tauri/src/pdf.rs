//! The printable commission form (R10): made on the phone, offline, as a PDF
//! with the Chinese font embedded (subset to the characters used, so the file
//! stays small), listing the specimens, tags and tests, both signatures, and
//! a QR that resolves to the signed record's public page.
//!
//! [`export_commission`] gathers what the form shows from the engine (names
//! from the profile, each item's sampling, the witness's handwritten
//! signature), renders it and writes it to the exports folder.

use custody_core::model::{Id, SpecimenKind};
use custody_core::protocol::DeviceProfile;
use custody_core::record::{CommissionItem, Payload, SignedRecord};
use custody_core::{Hash, routes};
use field_engine::{Engine, EngineError};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, TextDirection};
use serde::Serialize;
use std::path::Path;

/// What the form shows beside the record itself.
pub struct FormContext {
    pub project_name: String,
    pub unit_project_name: String,
    pub lab_name: String,
    pub sampler_name: String,
    pub witness_name: String,
    /// Whether the witness's co-signature is on the record (R10).
    pub witness_cosigned: bool,
    /// Per item: specimen kind, part, grade, batch, quantity+unit, sampled at (text).
    pub items: Vec<ItemRow>,
    /// The witness's handwritten signature (PNG), if this phone holds it.
    pub hand_signature_png: Option<Vec<u8>>,
    /// Where anyone can check the record (the QR's content).
    pub verify_url: String,
    pub issued_at: String,
}

pub struct ItemRow {
    pub tag_printed: String,
    pub kind: SpecimenKind,
    pub part: String,
    pub grade: String,
    pub batch: String,
    pub quantity: String,
    pub tests: String,
    pub sampled_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("font: {0}")]
    Font(String),
    #[error("the record is not a commission form")]
    NotACommission,
    #[error("PDF: {0}")]
    Pdf(String),
}

const W: f32 = 595.0; // A4, points
const H: f32 = 842.0;
const M: f32 = 42.0;

fn black() -> Fill {
    Fill { paint: rgb::Color::new(20, 20, 20).into(), opacity: NormalizedF32::ONE, rule: FillRule::NonZero }
}

/// One page being drawn in one font.
struct Canvas<'a, 'b> {
    s: &'a mut krilla::surface::Surface<'b>,
    font: Font,
}

impl Canvas<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, t: &str) {
        self.s.set_fill(Some(black()));
        self.s.draw_text(Point::from_xy(x, y), self.font.clone(), size, t, false, TextDirection::Auto);
    }

    fn line(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x0, y0);
        pb.line_to(x1, y1);
        if let Some(p) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke {
                paint: rgb::Color::new(60, 60, 60).into(),
                width: 0.8,
                ..Stroke::default()
            }));
            self.s.draw_path(&p);
            self.s.set_stroke(None);
        }
    }
}

/// Render the form. `font` is a TrueType/OpenType font with CJK coverage.
pub fn commission_pdf(record: &SignedRecord, ctx: &FormContext, font: &[u8]) -> Result<Vec<u8>, PdfError> {
    let Payload::Commission(c) = &record.body().payload else { return Err(PdfError::NotACommission) };
    let font = Font::new(font.to_vec().into(), 0)
        .ok_or_else(|| PdfError::Font("not a usable TrueType/OpenType font".into()))?;
    let mut doc = Document::new();
    let mut page = doc.start_page_with(PageSettings::from_wh(W, H).expect("A4 size"));
    let mut s = page.surface();
    let mut canvas = Canvas { s: &mut s, font };
    let y = header(&mut canvas, &c.form_no, ctx, M + 20.0);
    let y = items(&mut canvas, ctx, y);
    let y = signatures(&mut canvas, record, ctx, y + 20.0);
    verification_qr(&mut canvas, record, ctx, y)?;
    s.finish();
    page.finish();
    doc.finish().map_err(|e| PdfError::Pdf(format!("{e:?}")))
}

/// The title and the form's facts; where the next part starts.
fn header(c: &mut Canvas<'_, '_>, form_no: &str, ctx: &FormContext, mut y: f32) -> f32 {
    c.text(M, y, 18.0, "建设工程质量检测见证取样委托单");
    y += 16.0;
    c.text(
        M,
        y,
        9.0,
        "Commission form for witnessed sampling (R10) — signed on the device; verify by scanning the QR",
    );
    y += 24.0;
    for (k, v) in [
        ("委托单号 Form no.", form_no),
        ("工程名称 Project", ctx.project_name.as_str()),
        ("单位工程 Unit project", ctx.unit_project_name.as_str()),
        ("检测机构 Lab", ctx.lab_name.as_str()),
        ("出具时间 Issued", ctx.issued_at.as_str()),
    ] {
        c.text(M, y, 10.5, &format!("{k}：{v}"));
        y += 16.0;
    }
    y + 8.0
}

/// The table of specimens, as many as fit above the signatures.
fn items(c: &mut Canvas<'_, '_>, ctx: &FormContext, mut y: f32) -> f32 {
    let cols: [(&str, f32); 8] = [
        ("标识码", 0.0),
        ("样品", 118.0),
        ("部位", 190.0),
        ("规格", 262.0),
        ("批号", 304.0),
        ("数量", 372.0),
        ("检测项目", 404.0),
        ("取样时间", 452.0),
    ];
    c.line(M, y - 12.0, W - M, y - 12.0);
    for (h, x) in cols {
        c.text(M + x, y, 9.5, h);
    }
    y += 6.0;
    c.line(M, y, W - M, y);
    y += 14.0;
    for it in &ctx.items {
        let cells = [
            it.tag_printed.as_str(),
            it.kind.name_zh(),
            it.part.as_str(),
            it.grade.as_str(),
            it.batch.as_str(),
            it.quantity.as_str(),
            it.tests.as_str(),
            it.sampled_at.as_str(),
        ];
        for ((_, x), v) in cols.iter().zip(cells) {
            let v: String = v.chars().take(if *x == 0.0 { 24 } else { 10 }).collect();
            c.text(M + x, y, 8.5, &v);
        }
        y += 14.0;
        c.line(M, y - 9.0, W - M, y - 9.0);
        if y > H - 260.0 {
            break;
        }
    }
    y
}

/// Who signed: the sampler's device, the witness's co-signature, the
/// witness's handwritten signature if drawn.
fn signatures(c: &mut Canvas<'_, '_>, record: &SignedRecord, ctx: &FormContext, y: f32) -> f32 {
    let fp = record.body().device.fingerprint();
    c.text(M, y, 11.0, &format!("取样员 Sampler：{}", ctx.sampler_name));
    c.text(M, y + 14.0, 8.5, &format!("设备签名 device signature ✓（密钥指纹 {fp}）"));
    c.text(W / 2.0, y, 11.0, &format!("见证员 Witness：{}", ctx.witness_name));
    let co =
        if ctx.witness_cosigned { "设备会签 co-signature ✓" } else { "待会签 co-signature pending" };
    c.text(W / 2.0, y + 14.0, 8.5, co);
    if let Some(png) = &ctx.hand_signature_png
        && let Ok(img) = krilla::image::Image::from_png(png.clone().into(), true)
    {
        c.s.push_transform(&krilla::geom::Transform::from_translate(W / 2.0, y + 22.0));
        c.s.draw_image(img, Size::from_wh(140.0, 56.0).expect("positive size"));
        c.s.pop();
    }
    y + 96.0
}

/// The QR that resolves to the record's public page, and how to use it.
fn verification_qr(
    c: &mut Canvas<'_, '_>,
    record: &SignedRecord,
    ctx: &FormContext,
    y: f32,
) -> Result<(), PdfError> {
    let qr = qrcode::QrCode::with_error_correction_level(ctx.verify_url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PdfError::Pdf(e.to_string()))?;
    let n = qr.width();
    let size = 110.0_f32;
    let cell = size / n as f32;
    let (qx, qy) = (W - M - size, y);
    c.s.set_fill(Some(black()));
    let mut pb = PathBuilder::new();
    for (i, dark) in qr.to_colors().iter().enumerate() {
        if *dark == qrcode::Color::Dark {
            let (cx, cy) = ((i % n) as f32, (i / n) as f32);
            if let Some(r) = Rect::from_xywh(qx + cx * cell, qy + cy * cell, cell + 0.05, cell + 0.05) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(p) = pb.finish() {
        c.s.draw_path(&p);
    }
    c.text(M, y + 12.0, 9.0, "扫描右侧二维码核验本委托单的电子记录（签名、时间与防篡改日志）。");
    c.text(
        M,
        y + 26.0,
        8.0,
        "Scan the QR to verify this form's signed record (signatures, times, transparency log).",
    );
    c.text(M, y + 44.0, 7.0, &format!("记录编号 Record: {}", record.id()));
    c.text(M, y + 56.0, 7.0, &ctx.verify_url);
    c.text(M, H - M, 7.0, "本委托单随样品送至检测机构；检测机构逐一扫描样品标识核对（R11）。");
    Ok(())
}

/// A form written to the exports folder.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PdfFile {
    pub path: String,
    pub size: u64,
}

/// Why a form could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("no such commission form")]
    NoSuchForm,
    #[error("not a commission form")]
    NotAForm,
    #[error("the Chinese font is missing: cannot render the form")]
    NoFont,
    #[error("{0}")]
    Render(PdfError),
    #[error("{0}")]
    Save(std::io::Error),
    /// The rendering thread failed.
    #[error("{0}")]
    Internal(String),
}

/// Make the commission form of record `id` and write it into `exports`.
pub async fn export_commission(
    engine: &Engine,
    id: &Hash,
    font: Option<Vec<u8>>,
    exports: &Path,
) -> Result<PdfFile, FormError> {
    let (record, form_no, ctx) = form_context(engine, id).await?;
    let font = font.ok_or(FormError::NoFont)?;
    let bytes = tauri::async_runtime::spawn_blocking(move || commission_pdf(&record, &ctx, &font))
        .await
        .map_err(|e| FormError::Internal(e.to_string()))?
        .map_err(FormError::Render)?;
    std::fs::create_dir_all(exports).map_err(FormError::Save)?;
    let path =
        exports.join(format!("委托单-{}-{}.pdf", form_no.replace(['/', '\\'], "-"), &id.to_hex()[..8]));
    std::fs::write(&path, &bytes).map_err(FormError::Save)?;
    Ok(PdfFile { path: path.display().to_string(), size: bytes.len() as u64 })
}

/// The signed commission record, its form number, and what the form shows
/// beside it, from what this phone holds (the witness's handwritten
/// signature is fetched from the server when only it holds it).
async fn form_context(engine: &Engine, id: &Hash) -> Result<(SignedRecord, String, FormContext), FormError> {
    let enrollment = engine.enrollment()?.ok_or(EngineError::NotEnrolled)?;
    let profile = &enrollment.profile;
    let view = engine.record(id)?.ok_or(FormError::NoSuchForm)?;
    let Payload::Commission(c) = &view.body.payload else { return Err(FormError::NotAForm) };
    let mut items = Vec::new();
    let mut hand_signature = None;
    for it in &c.items {
        items.push(item_row(engine.record(&it.sampling)?.as_ref(), it));
        if hand_signature.is_none()
            && let Some(w) = engine.record(&it.witnessing)?
            && let Payload::Witnessing(wp) = &w.body.payload
            && let Some(h) = wp.hand_signature
        {
            hand_signature = match engine.media_bytes(&h) {
                Ok(b) => Some(b),
                Err(_) => engine.fetch_media(&h).await.ok(),
            };
        }
    }
    let project = profile.projects.iter().find(|p| p.project.id == c.project);
    let ctx = FormContext {
        project_name: project.map(|p| p.project.name.clone()).unwrap_or_else(|| c.project.to_string()),
        unit_project_name: project
            .and_then(|p| p.unit_projects.iter().find(|u| u.id == c.unit_project))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| c.unit_project.to_string()),
        lab_name: org_name(profile, &c.lab),
        sampler_name: person_name(profile, &view.body.author),
        witness_name: person_name(profile, &c.witness),
        witness_cosigned: view.cosigners.iter().any(|x| x == c.witness.as_str()),
        items,
        hand_signature_png: hand_signature,
        verify_url: format!("{}{}", enrollment.server_url.trim_end_matches('/'), routes::record_page(id)),
        issued_at: local_time(view.created_ms),
    };
    let record = engine.signed_record(id)?.ok_or(FormError::NoSuchForm)?;
    Ok((record, c.form_no.clone(), ctx))
}

/// One row of the form: the item's tag and tests, and the specimen as its
/// sampling record describes it (blank when this phone does not hold it).
fn item_row(sampling: Option<&field_engine::RecordView>, item: &CommissionItem) -> ItemRow {
    let mut row = ItemRow {
        tag_printed: item.tag.printed(),
        kind: SpecimenKind::Other,
        part: String::new(),
        grade: String::new(),
        batch: String::new(),
        quantity: String::new(),
        tests: item.tests.join("、"),
        sampled_at: String::new(),
    };
    if let Some(v) = sampling
        && let Payload::Sampling(sp) = &v.body.payload
    {
        row.kind = sp.specimen.kind;
        row.part = sp.specimen.part.clone();
        row.grade = sp.specimen.grade.clone();
        row.batch = sp.specimen.batch_no.clone();
        row.quantity = format!("{}{}", sp.specimen.quantity, sp.specimen.unit);
        row.sampled_at = local_time(v.created_ms);
    }
    row
}

fn org_name(profile: &DeviceProfile, id: &Id) -> String {
    profile
        .projects
        .iter()
        .flat_map(|p| p.organisations.iter())
        .find(|o| &o.id == id)
        .map(|o| o.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn person_name(profile: &DeviceProfile, id: &Id) -> String {
    profile.people.iter().find(|p| &p.id == id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_string())
}

/// A moment as printed on forms and photo watermarks: China Standard Time
/// (UTC+8, the regulation's time zone), to the minute.
pub fn local_time(ms: i64) -> String {
    custody_core::calendar::cst_minutes(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_china_standard_time() {
        assert_eq!(local_time(0), "1970-01-01 08:00");
        // 2024-02-29 15:59:59 UTC is 23:59 in Beijing; a minute later it is 1 March.
        assert_eq!(local_time(1_709_222_399_000), "2024-02-29 23:59");
        assert_eq!(local_time(1_709_222_400_000), "2024-03-01 00:00");
        assert_eq!(local_time(-1000), "1970-01-01 07:59");
    }
}
