//! The printable commission form (R10): made on the phone, offline, as a PDF
//! with the Chinese font embedded (subset to the characters used, so the file
//! stays small), listing the specimens, tags and tests, both signatures, and
//! a QR that resolves to the signed record.

use custody_core::model::SpecimenKind;
use custody_core::record::{Payload, SignedRecord};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, TextDirection};

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

/// Render the form. `font` is a TrueType/OpenType font with CJK coverage.
pub fn commission_pdf(record: &SignedRecord, ctx: &FormContext, font: &[u8]) -> Result<Vec<u8>, PdfError> {
    let Payload::Commission(c) = &record.body().payload else { return Err(PdfError::NotACommission) };
    let font = Font::new(font.to_vec().into(), 0)
        .ok_or_else(|| PdfError::Font("not a usable TrueType/OpenType font".into()))?;
    let mut doc = Document::new();
    let mut page = doc.start_page_with(PageSettings::from_wh(W, H).expect("A4 size"));
    let mut s = page.surface();
    let mut y = M + 20.0;
    let text = |s: &mut krilla::surface::Surface<'_>, x: f32, y: f32, size: f32, t: &str| {
        s.set_fill(Some(black()));
        s.draw_text(Point::from_xy(x, y), font.clone(), size, t, false, TextDirection::Auto);
    };
    let line = |s: &mut krilla::surface::Surface<'_>, x0: f32, y0: f32, x1: f32, y1: f32| {
        let mut pb = PathBuilder::new();
        pb.move_to(x0, y0);
        pb.line_to(x1, y1);
        if let Some(p) = pb.finish() {
            s.set_fill(None);
            s.set_stroke(Some(Stroke {
                paint: rgb::Color::new(60, 60, 60).into(),
                width: 0.8,
                ..Stroke::default()
            }));
            s.draw_path(&p);
            s.set_stroke(None);
        }
    };

    text(&mut s, M, y, 18.0, "建设工程质量检测见证取样委托单");
    y += 16.0;
    text(
        &mut s,
        M,
        y,
        9.0,
        "Commission form for witnessed sampling (R10) — signed on the device; verify by scanning the QR",
    );
    y += 24.0;
    for (k, v) in [
        ("委托单号 Form no.", c.form_no.as_str()),
        ("工程名称 Project", ctx.project_name.as_str()),
        ("单位工程 Unit project", ctx.unit_project_name.as_str()),
        ("检测机构 Lab", ctx.lab_name.as_str()),
        ("出具时间 Issued", ctx.issued_at.as_str()),
    ] {
        text(&mut s, M, y, 10.5, &format!("{k}：{v}"));
        y += 16.0;
    }
    y += 8.0;
    // The table.
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
    line(&mut s, M, y - 12.0, W - M, y - 12.0);
    for (h, x) in cols {
        text(&mut s, M + x, y, 9.5, h);
    }
    y += 6.0;
    line(&mut s, M, y, W - M, y);
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
            text(&mut s, M + x, y, 8.5, &v);
        }
        y += 14.0;
        line(&mut s, M, y - 9.0, W - M, y - 9.0);
        if y > H - 260.0 {
            break;
        }
    }
    y += 20.0;

    // Signatures.
    let fp = record.body().device.fingerprint();
    text(&mut s, M, y, 11.0, &format!("取样员 Sampler：{}", ctx.sampler_name));
    text(&mut s, M, y + 14.0, 8.5, &format!("设备签名 device signature ✓（密钥指纹 {fp}）"));
    text(&mut s, W / 2.0, y, 11.0, &format!("见证员 Witness：{}", ctx.witness_name));
    let co =
        if ctx.witness_cosigned { "设备会签 co-signature ✓" } else { "待会签 co-signature pending" };
    text(&mut s, W / 2.0, y + 14.0, 8.5, co);
    if let Some(png) = &ctx.hand_signature_png
        && let Ok(img) = krilla::image::Image::from_png(png.clone().into(), true)
    {
        s.push_transform(&krilla::geom::Transform::from_translate(W / 2.0, y + 22.0));
        s.draw_image(img, Size::from_wh(140.0, 56.0).expect("positive size"));
        s.pop();
    }
    y += 96.0;

    // The QR that resolves to the record.
    let qr = qrcode::QrCode::with_error_correction_level(ctx.verify_url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PdfError::Pdf(e.to_string()))?;
    let n = qr.width();
    let size = 110.0_f32;
    let cell = size / n as f32;
    let (qx, qy) = (W - M - size, y);
    s.set_fill(Some(black()));
    let colors = qr.to_colors();
    let mut pb = PathBuilder::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (cx, cy) = ((i % n) as f32, (i / n) as f32);
            if let Some(r) = Rect::from_xywh(qx + cx * cell, qy + cy * cell, cell + 0.05, cell + 0.05) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(p) = pb.finish() {
        s.draw_path(&p);
    }
    text(&mut s, M, y + 12.0, 9.0, "扫描右侧二维码核验本委托单的电子记录（签名、时间与防篡改日志）。");
    text(
        &mut s,
        M,
        y + 26.0,
        8.0,
        "Scan the QR to verify this form's signed record (signatures, times, transparency log).",
    );
    text(&mut s, M, y + 44.0, 7.0, &format!("记录编号 Record: {}", record.id()));
    text(&mut s, M, y + 56.0, 7.0, &ctx.verify_url);
    text(&mut s, M, H - M, 7.0, "本委托单随样品送至检测机构；检测机构逐一扫描样品标识核对（R11）。");
    s.finish();
    page.finish();
    doc.finish().map_err(|e| PdfError::Pdf(format!("{e:?}")))
}
