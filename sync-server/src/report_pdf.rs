//! R13: the test report PDF the system issues — what a lab hands to the
//! client and a regulator files, carrying the report QR on **every** page.
//!
//! What it prints (zh-CN first, English second): the lab, the report number,
//! the project and unit projects, the test items, each specimen (tag as
//! printed, kind, grade, the custody verdict check by check — witnessed in
//! time, on site, tag intact: the same facts the public check page shows),
//! each test's reported values beside the system's recomputation from the raw
//! curve with its flags (R12), the conclusion and the issue date. Nothing
//! personal of the field staff: no names of samplers or witnesses, no faces,
//! no coordinates — the public view it is built from carries none.
//!
//! On every page: the seal QR (error correction Q, the check page's URL for
//! the seal, `ReportSeal::qr_text` of the configured public URL), the caption
//! 扫码查验 / Scan to check and 第 n / N 页. The QR is a 1-pixel-per-module
//! grey image with a 4-module quiet zone, drawn without interpolation: sharp
//! squares on paper, and one image object the pages share.
//!
//! Attached unaltered (PDF embedded files): every raw curve file the tests
//! name, as the machine wrote it (relation `Source`), and the document the
//! lab signed (relation `Source`). The file is archival PDF/A-3b (krilla
//! checks the profile when it writes: fonts embedded, colours calibrated,
//! each attachment with its MIME type, description and date; PDF/A-3 is the
//! part of the standard that allows attachments).
//!
//! **Deterministic**: the creation and attachment dates are the report's
//! issue time (China Standard Time), the document id is derived from the
//! report record's id, and krilla writes no clock and no random id, so the
//! same facts and font give the same bytes. The issued PDF is still rendered
//! once and kept (`reports::issue_pdf`), because its bytes also depend on the
//! font file and this code, which may change between releases; its SHA-256
//! is what the check page shows as the PDF the system issued. (The QR cannot
//! carry that hash: it is printed on the very PDF. The seal's `document`
//! stays the hash of the lab's signed document, which is attached.)

use custody_core::Hash;
use custody_core::calendar;
use custody_core::model::SpecimenKind;
use custody_core::protocol::PublicSpecimen;
use custody_core::verify::Lang;
use krilla::configure::{Archival, ConfigurationBuilder, PdfVersion};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::{BitsPerComponent, CustomImage, Image, ImageColorspace};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::MetadataProvider;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One specimen as the report prints it.
#[derive(Debug, Clone)]
pub struct PdfSpecimen {
    pub kind: SpecimenKind,
    pub grade: String,
    /// Its custody verdict and recomputed tests, as the public check shows them.
    pub public: PublicSpecimen,
}

/// A file attached to the PDF, byte for byte.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The name a PDF reader lists it under.
    pub name: String,
    pub media_type: String,
    /// What it is, zh-CN then English.
    pub description: String,
    pub bytes: Vec<u8>,
}

impl Attachment {
    pub fn sha256(&self) -> Hash {
        Hash::of(&self.bytes)
    }
}

/// Everything the issued report shows, gathered by `reports::pdf_facts`.
#[derive(Debug, Clone)]
pub struct ReportPdf {
    /// The report record's id.
    pub report: Hash,
    pub report_no: String,
    pub lab: String,
    pub lab_name: Option<String>,
    pub project_name: Option<String>,
    pub unit_projects: Vec<String>,
    pub tests: Vec<String>,
    pub conclusion: String,
    pub issued_ms: i64,
    /// The fingerprint of the system key that signed the seal.
    pub key_id: String,
    /// What the QR carries: the check page's URL for the seal.
    pub qr_text: String,
    pub specimens: Vec<PdfSpecimen>,
    /// The document the lab signed (its SHA-256 is the seal's `document`).
    pub document: Attachment,
    /// The raw machine curves, one per distinct file.
    pub curves: Vec<Attachment>,
}

/// The font the report is set in: a TrueType/OpenType file with CJK
/// coverage, or one face of a collection (`.ttc`).
#[derive(Clone)]
pub struct ReportFont {
    pub path: PathBuf,
    pub index: u32,
    data: Arc<Vec<u8>>,
}

impl std::fmt::Debug for ReportFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportFont({}, face {})", self.path.display(), self.index)
    }
}

/// Why no PDF could be made. Each says what to do, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// The configured font file cannot be read.
    FontMissing { path: String, reason: String },
    /// It is read but is not a usable font (or has no such face).
    FontUnusable { path: String, index: u32 },
    /// The font lacks Chinese characters.
    FontWithoutChinese { path: String },
    /// krilla refused to write it (a PDF/A rule, an image).
    Render(String),
}

impl PdfError {
    pub fn code(&self) -> &'static str {
        match self {
            PdfError::FontMissing { .. }
            | PdfError::FontUnusable { .. }
            | PdfError::FontWithoutChinese { .. } => "report_font_unavailable",
            PdfError::Render(_) => "report_pdf_failed",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PdfError::FontMissing { path, reason }, Lang::ZhCn) => format!(
                "无法生成报告 PDF：找不到报告字体文件 {path}（{reason}）。请安装 fonts-noto-cjk，或在配置 [reports] font_file 中指定含中文的字体"
            ),
            (PdfError::FontMissing { path, reason }, Lang::En) => format!(
                "cannot make the report PDF: the report font file {path} cannot be read ({reason}); install fonts-noto-cjk or set [reports] font_file to a font with Chinese"
            ),
            (PdfError::FontUnusable { path, index }, Lang::ZhCn) => {
                format!(
                    "无法生成报告 PDF：{path} 不是可用的字体（或没有第 {index} 个字形集），请检查 [reports] font_file 与 font_index"
                )
            }
            (PdfError::FontUnusable { path, index }, Lang::En) => format!(
                "cannot make the report PDF: {path} is not a usable font (or has no face {index}); check [reports] font_file and font_index"
            ),
            (PdfError::FontWithoutChinese { path }, Lang::ZhCn) => {
                format!("无法生成报告 PDF：字体 {path} 不含中文字符，请在 [reports] 中指定含中文的字体")
            }
            (PdfError::FontWithoutChinese { path }, Lang::En) => {
                format!(
                    "cannot make the report PDF: the font {path} has no Chinese characters; set [reports] to a font with Chinese"
                )
            }
            (PdfError::Render(e), Lang::ZhCn) => format!("报告 PDF 生成失败：{e}"),
            (PdfError::Render(e), Lang::En) => format!("the report PDF could not be written: {e}"),
        }
    }
}

impl ReportFont {
    /// Read and check the font: it must open at `index` and hold the
    /// characters a report always prints.
    pub fn load(path: &Path, index: u32) -> Result<ReportFont, PdfError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path)
            .map_err(|e| PdfError::FontMissing { path: shown.clone(), reason: e.to_string() })?;
        let font = ReportFont { path: path.to_owned(), index, data: Arc::new(data) };
        let face = font.face().ok_or_else(|| PdfError::FontUnusable { path: shown.clone(), index })?;
        let charmap = face.charmap();
        if "检测报告扫码查验第页".chars().any(|c| charmap.map(c).is_none()) {
            return Err(PdfError::FontWithoutChinese { path: shown });
        }
        Ok(font)
    }

    fn face(&self) -> Option<skrifa::FontRef<'_>> {
        skrifa::FontRef::from_index(&self.data, self.index).ok()
    }
}

const W: f32 = 595.0; // A4, points
const H: f32 = 842.0;
const M: f32 = 42.0;
/// The footer band on every page: the QR, its caption, the page number.
const QR_SIZE: f32 = 86.0;
const FOOTER: f32 = QR_SIZE + 18.0;
/// Where the body of a page may go down to.
const BODY_END: f32 = H - M - FOOTER;

/// Advance widths of the font, to wrap lines where they really end.
struct Measure<'a> {
    face: skrifa::FontRef<'a>,
    widths: std::collections::HashMap<char, Option<f32>>,
}

impl<'a> Measure<'a> {
    fn new(face: skrifa::FontRef<'a>) -> Self {
        Measure { face, widths: Default::default() }
    }

    /// Width of `c` at 1 pt, `None` when the font lacks it.
    fn glyph(&mut self, c: char) -> Option<f32> {
        let face = &self.face;
        *self.widths.entry(c).or_insert_with(|| {
            let gid = face.charmap().map(c)?;
            let m = face
                .glyph_metrics(skrifa::instance::Size::new(1.0), skrifa::instance::LocationRef::default());
            Some(m.advance_width(gid).unwrap_or(1.0))
        })
    }

    /// The text as it can be printed: characters the font lacks become
    /// `?` (PDF/A forbids drawing a missing glyph; a lab's free text may hold one).
    fn printable(&mut self, text: &str) -> String {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .map(|c| if c == ' ' || self.glyph(c).is_some() { c } else { '?' })
            .collect()
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).unwrap_or(0.5)).sum::<f32>() * size
    }

    /// Split into lines no wider than `max` points (at spaces where it can,
    /// anywhere between CJK characters).
    fn wrap(&mut self, text: &str, size: f32, max: f32) -> Vec<String> {
        let text = self.printable(text);
        let mut lines = Vec::new();
        let mut line = String::new();
        for c in text.chars() {
            line.push(c);
            if self.width(&line, size) > max {
                line.pop();
                let cut = match line.rfind(' ') {
                    Some(i) if i > line.len() / 2 && c.is_ascii_alphanumeric() => i,
                    _ => line.len(),
                };
                let rest = line.split_off(cut);
                lines.push(line.trim_end().to_owned());
                line = rest.trim_start().to_owned();
                line.push(c);
            }
        }
        if !line.trim().is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// One table cell: cut with `…` to fit.
    fn fit(&mut self, text: &str, size: f32, max: f32) -> String {
        let mut s = self.printable(text);
        if self.width(&s, size) <= max {
            return s;
        }
        while !s.is_empty() && self.width(&format!("{s}…"), size) > max {
            s.pop();
        }
        format!("{s}…")
    }
}

/// One line of the body: cells at x offsets from the margin.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    size: f32,
    /// Space it takes, from the previous line's baseline to its own.
    advance: f32,
    cells: Vec<(f32, String)>,
    /// A thin rule under it (table headers, section ends).
    rule: bool,
}

struct Body<'m, 'a> {
    m: &'m mut Measure<'a>,
    lines: Vec<Line>,
}

const TEXT_W: f32 = W - 2.0 * M;

impl Body<'_, '_> {
    fn para(&mut self, size: f32, indent: f32, text: &str) {
        for (i, l) in self.m.wrap(text, size, TEXT_W - indent).into_iter().enumerate() {
            let advance = if i == 0 { size * 1.55 } else { size * 1.35 };
            self.lines.push(Line { size, advance, cells: vec![(indent, l)], rule: false });
        }
    }

    fn heading(&mut self, zh: &str, en: &str) {
        self.space(6.0);
        self.para(12.0, 0.0, &format!("{zh}  {en}"));
        if let Some(l) = self.lines.last_mut() {
            l.rule = true;
        }
        self.space(2.0);
    }

    fn space(&mut self, pt: f32) {
        self.lines.push(Line { size: 0.0, advance: pt, cells: vec![], rule: false });
    }

    /// A label and its value; the value wraps beside the label.
    fn fact(&mut self, label: &str, value: &str) {
        const LABEL_W: f32 = 150.0;
        let size = 10.0;
        let label = self.m.fit(label, 9.0, LABEL_W - 6.0);
        for (i, l) in self.m.wrap(value, size, TEXT_W - LABEL_W).into_iter().enumerate() {
            let mut cells = vec![(LABEL_W, l)];
            if i == 0 {
                cells.insert(0, (0.0, label.clone()));
            }
            self.lines.push(Line { size, advance: size * 1.5, cells, rule: false });
        }
    }

    /// A table row: each cell cut to its column.
    fn row(&mut self, size: f32, columns: &[(f32, f32)], cells: &[&str], rule: bool) {
        let cells =
            columns.iter().zip(cells).map(|((x, w), t)| (*x, self.m.fit(t, size, *w - 4.0))).collect();
        self.lines.push(Line { size, advance: size * 1.6, cells, rule });
    }
}

fn ok_mark(ok: bool) -> &'static str {
    if ok { "【通过 OK】" } else { "【未通过 FAIL】" }
}

/// Print a figure as the public page does (GB/T 8170 rounded already).
fn figure(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_else(|| "—".into())
}

/// The body of the report, as lines, before it is cut into pages.
fn body(r: &ReportPdf, m: &mut Measure<'_>) -> Vec<Line> {
    let mut b = Body { m, lines: Vec::new() };
    b.para(18.0, 0.0, "建设工程质量检测报告");
    b.para(
        9.5,
        0.0,
        "Construction materials test report — issued through the witnessed-sampling monitoring system (R13)",
    );
    b.space(6.0);
    let lab = match &r.lab_name {
        Some(n) => format!("{n}（{}）", r.lab),
        None => r.lab.clone(),
    };
    b.fact("报告编号 Report no.", &r.report_no);
    b.fact("检测机构 Lab", &lab);
    b.fact("工程名称 Project", r.project_name.as_deref().unwrap_or("—"));
    b.fact("单位工程 Unit project", &r.unit_projects.join("；"));
    b.fact("检测项目 Tests", &r.tests.join("；"));
    b.fact("签发时间 Issued (UTC+8)", &calendar::cst_minutes(r.issued_ms));
    b.fact("报告记录 Report record", &r.report.to_hex());

    b.heading("试件与取样见证", "Specimens and their custody");
    for s in &r.specimens {
        let p = &s.public;
        b.para(
            10.5,
            0.0,
            &format!(
                "标识 Tag {} · {} {} · 规格等级 Grade {}",
                p.tag,
                s.kind.name_zh(),
                s.kind.name_en(),
                s.grade
            ),
        );
        let verdict = if p.ok {
            "取样见证链完整 custody trail whole"
        } else {
            "取样见证链有问题 custody trail has findings"
        };
        b.para(9.5, 12.0, &format!("{} {verdict} · {} {}", ok_mark(p.ok), p.stage_zh, p.stage));
        for k in &p.checks {
            b.para(8.5, 24.0, &format!("{} {}  {}", ok_mark(k.ok), k.message_zh, k.message_en));
        }
        tests_of(&mut b, p);
        b.space(4.0);
    }

    b.heading("结论", "Conclusion");
    b.para(10.5, 0.0, &r.conclusion);

    b.heading("附件（嵌入本 PDF，原样保存）", "Attachments (embedded in this PDF, unaltered)");
    for a in std::iter::once(&r.document).chain(&r.curves) {
        b.para(9.0, 0.0, &format!("{} — {}", a.name, a.description));
        b.para(
            7.5,
            12.0,
            &format!("SHA-256 {} · {} bytes · {}", a.sha256().to_hex(), a.bytes.len(), a.media_type),
        );
    }
    b.heading("如何核验", "How to check");
    b.para(
        9.0,
        0.0,
        "扫描每页右下角的二维码，打开系统的查验页面：报告状态（有效、被替换、已撤销）、试件取样见证链与系统按原始曲线复核的结果。在该页面可选择您收到的文件，在手机上计算 SHA-256，与系统签发的本 PDF 和检测机构签署的报告原件比对。",
    );
    b.para(
        8.5,
        0.0,
        "Scan the QR at the foot of any page to open the system's check page: the report's status (valid, replaced, revoked), its specimens' custody and the system's recomputation from the raw curves. There you can pick the file you received; its SHA-256 is computed on your phone and compared with this PDF as the system issued it and with the document the lab signed.",
    );
    b.para(7.5, 0.0, &format!("系统签名密钥 System key {}", r.key_id));
    b.lines
}

/// A specimen's tests: reported beside recomputed, and what to look at (R12).
fn tests_of(b: &mut Body<'_, '_>, p: &PublicSpecimen) {
    const COLS: [(f32, f32); 4] = [(24.0, 130.0), (154.0, 120.0), (274.0, 130.0), (404.0, 107.0)];
    for t in &p.results {
        let curve = match &t.curve {
            Some(h) => format!("曲线 curve SHA-256 {}…", &h.to_hex()[..16]),
            None => "无曲线 no curve".into(),
        };
        b.para(9.5, 12.0, &format!("{} · {} · {curve}", t.test, t.standard));
        if let Some(why) = &t.correction {
            b.para(8.5, 24.0, &format!("更正后的数据，原因 Corrected, because: {why}"));
        }
        if !t.figures.is_empty() {
            b.row(
                8.5,
                &COLS,
                &["指标 Figure", "报告值 Reported", "系统复核值 Recomputed", "单位 Unit"],
                true,
            );
            for f in &t.figures {
                b.row(8.5, &COLS, &[&f.name, &figure(f.reported), &figure(Some(f.value)), &f.unit], false);
            }
        }
        for f in &t.flags {
            b.para(8.5, 24.0, &format!("提示 Flag [{}] {}  {}", f.code, f.message_zh, f.message_en));
        }
    }
}

/// Cut the body into pages: each page's lines, a line never split.
fn paginate(lines: Vec<Line>) -> Vec<Vec<Line>> {
    let mut pages = vec![Vec::new()];
    let mut y = M;
    for line in lines {
        if y + line.advance > BODY_END && !pages.last().is_some_and(Vec::is_empty) {
            pages.push(Vec::new());
            y = M + 22.0; // the running head of a continued page
            if line.cells.is_empty() {
                continue; // no blank space at the top of a page
            }
        }
        y += line.advance;
        pages.last_mut().expect("one page at least").push(line);
    }
    pages
}

/// The QR as an image: one grey pixel per module, with the quiet zone.
#[derive(Clone, Hash)]
struct QrImage {
    side: u32,
    pixels: Vec<u8>,
}

impl CustomImage for QrImage {
    fn color_channel(&self) -> &[u8] {
        &self.pixels
    }
    fn alpha_channel(&self) -> Option<&[u8]> {
        None
    }
    fn bits_per_component(&self) -> BitsPerComponent {
        BitsPerComponent::Eight
    }
    fn size(&self) -> (u32, u32) {
        (self.side, self.side)
    }
    fn icc_profile(&self) -> Option<&[u8]> {
        None
    }
    fn color_space(&self) -> ImageColorspace {
        ImageColorspace::Luma
    }
}

/// The seal QR at level Q (readable from a worn or stamped page).
fn qr_image(text: &str) -> Result<Image, PdfError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::Q)
        .map_err(|e| PdfError::Render(format!("QR: {e}")))?;
    let n = qr.width();
    let quiet = 4;
    let side = n + 2 * quiet;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in qr.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            pixels[(i / n + quiet) * side + i % n + quiet] = 0;
        }
    }
    Image::from_custom(QrImage { side: side as u32, pixels }, false).map_err(PdfError::Render)
}

fn black() -> Fill {
    Fill {
        paint: krilla::color::rgb::Color::new(20, 20, 20).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn rule(s: &mut krilla::surface::Surface<'_>, y: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(M, y);
    pb.line_to(W - M, y);
    if let Some(p) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            paint: krilla::color::rgb::Color::new(90, 90, 90).into(),
            width: 0.6,
            ..Stroke::default()
        }));
        s.draw_path(&p);
        s.set_stroke(None);
    }
}

/// The PDF date of a moment: China Standard Time, as printed on the report.
fn pdf_date(ms: i64) -> DateTime {
    let (y, mo, d, h, mi, s) = calendar::cst(ms);
    DateTime::new(y.clamp(0, 9999) as u16)
        .month(mo as u8)
        .day(d as u8)
        .hour(h as u8)
        .minute(mi as u8)
        .second(s as u8)
        .utc_offset_hour(8)
        .utc_offset_minute(0)
}

/// A MIME type a PDF/A attachment may carry (the stored one when valid).
fn mime(media_type: &str) -> MimeType {
    let bare = media_type.split(';').next().unwrap_or("").trim();
    MimeType::new(bare)
        .or_else(|| MimeType::new("application/octet-stream"))
        .expect("application/octet-stream is a MIME type")
}

/// Render the issued report: deterministic for the same facts and font.
pub fn render(r: &ReportPdf, font: &ReportFont) -> Result<Vec<u8>, PdfError> {
    let shown = font.path.display().to_string();
    let face =
        font.face().ok_or_else(|| PdfError::FontUnusable { path: shown.clone(), index: font.index })?;
    let mut measure = Measure::new(face);
    let pages = paginate(body(r, &mut measure));
    let running_head =
        measure.printable(&format!("检测报告 {}（续） Test report {} (continued)", r.report_no, r.report_no));
    let pdf_font = Font::new(krilla::Data::from(font.data.clone()), font.index)
        .ok_or(PdfError::FontUnusable { path: shown, index: font.index })?;
    let qr = qr_image(&r.qr_text)?;

    let configuration = ConfigurationBuilder::new()
        .with_version(PdfVersion::Pdf17)
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| PdfError::Render(format!("{e:?}")))?;
    let mut doc = Document::new_with(SerializeSettings { configuration, ..SerializeSettings::default() });
    doc.set_metadata(
        Metadata::new()
            .title(format!("检测报告 Test report {}", r.report_no))
            .language("zh-CN".into())
            .creator("jzqy sync-server".into())
            .producer("jzqy sync-server (krilla)".into())
            .creation_date(pdf_date(r.issued_ms))
            .document_id(format!("jzqy-report-{}", r.report.to_hex())),
    );
    for a in std::iter::once(&r.document).chain(&r.curves) {
        doc.embed_file(EmbeddedFile {
            path: a.name.clone(),
            mime_type: Some(mime(&a.media_type)),
            description: Some(a.description.clone()),
            association_kind: AssociationKind::Source,
            data: a.bytes.clone().into(),
            modification_date: Some(pdf_date(r.issued_ms)),
            compress: None,
            location: None,
        })
        .ok_or_else(|| PdfError::Render(format!("two attachments named {}", a.name)))?;
    }
    let total = pages.len();
    for (n, lines) in pages.iter().enumerate() {
        let mut page = doc.start_page_with(PageSettings::from_wh(W, H).expect("A4 is a size"));
        let mut s = page.surface();
        let mut y = M;
        if n > 0 {
            s.set_fill(Some(black()));
            s.draw_text(
                Point::from_xy(M, y + 8.0),
                pdf_font.clone(),
                8.5,
                &running_head,
                false,
                TextDirection::Auto,
            );
            rule(&mut s, y + 13.0);
            y += 22.0;
        }
        for line in lines {
            y += line.advance;
            s.set_fill(Some(black()));
            for (x, text) in &line.cells {
                s.draw_text(
                    Point::from_xy(M + x, y),
                    pdf_font.clone(),
                    line.size,
                    text,
                    false,
                    TextDirection::Auto,
                );
            }
            if line.rule {
                rule(&mut s, y + line.size * 0.4);
            }
        }
        footer(&mut s, &pdf_font, &qr, n + 1, total, &measure.printable(&r.report_no));
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PdfError::Render(format!("{e:?}")))
}

/// Every page's foot: the seal QR, how to use it, the page number.
fn footer(
    s: &mut krilla::surface::Surface<'_>,
    font: &Font,
    qr: &Image,
    n: usize,
    total: usize,
    report_no: &str,
) {
    let top = H - M - QR_SIZE;
    rule(s, top - 8.0);
    s.push_transform(&Transform::from_translate(W - M - QR_SIZE, top));
    s.draw_image(qr.clone(), Size::from_wh(QR_SIZE, QR_SIZE).expect("positive size"));
    s.pop();
    let x = W - M - QR_SIZE - 8.0;
    s.set_fill(Some(black()));
    // The caption in a column left of the QR, wide enough for its longest line.
    let mut text = |y: f32, size: f32, t: &str, right: bool| {
        let x = if right { x - 190.0 } else { M };
        s.draw_text(Point::from_xy(x, y), font.clone(), size, t, false, TextDirection::Auto);
    };
    text(top + 22.0, 13.0, "扫码查验 / Scan to check", true);
    text(top + 40.0, 8.0, "核对报告状态与文件 check status and file", true);
    text(top + 62.0, 10.0, &format!("第 {n} / {total} 页  Page {n} of {total}"), true);
    text(top + 78.0, 8.0, &format!("报告编号 Report no. {report_no}"), true);
    text(top + 22.0, 8.0, "本报告由见证取样监控系统签发", false);
    text(top + 34.0, 8.0, "Issued through the witnessed-sampling", false);
    text(top + 44.0, 8.0, "monitoring system (R13)", false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(advance: f32) -> Line {
        Line { size: 10.0, advance, cells: vec![(0.0, "x".into())], rule: false }
    }

    #[test]
    fn pages_hold_whole_lines_and_never_start_with_blank_space() {
        let mut lines: Vec<Line> = (0..100).map(|_| line(15.0)).collect();
        lines.insert(40, Line { size: 0.0, advance: 6.0, cells: vec![], rule: false });
        let pages = paginate(lines);
        assert!(pages.len() >= 3, "{}", pages.len());
        let printed: usize = pages.iter().map(|p| p.iter().filter(|l| !l.cells.is_empty()).count()).sum();
        assert_eq!(printed, 100, "every line printed once");
        for p in &pages {
            assert!(M + p.iter().map(|l| l.advance).sum::<f32>() <= BODY_END + 22.0);
        }
        for p in pages.iter().skip(1) {
            assert!(!p[0].cells.is_empty());
        }
    }

    #[test]
    fn a_missing_font_is_said_in_both_languages() {
        let e = ReportFont::load(Path::new("/nonexistent/font.ttc"), 2).unwrap_err();
        assert_eq!(e.code(), "report_font_unavailable");
        assert!(e.message(Lang::ZhCn).contains("fonts-noto-cjk") && e.message(Lang::ZhCn).contains("字体"));
        assert!(e.message(Lang::En).contains("[reports] font_file"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("not-a-font.ttf");
        std::fs::write(&f, b"hello").unwrap();
        assert!(matches!(ReportFont::load(&f, 0), Err(PdfError::FontUnusable { .. })));
    }

    #[test]
    fn attachments_keep_a_valid_mime_type_or_fall_back() {
        assert_eq!(
            format!("{:?}", mime("text/csv; charset=gbk")),
            format!("{:?}", MimeType::new("text/csv").unwrap())
        );
        assert_eq!(
            format!("{:?}", mime("not a type")),
            format!("{:?}", MimeType::new("application/octet-stream").unwrap())
        );
    }

    #[test]
    fn pdf_dates_are_china_standard_time() {
        // 2024-02-29 16:00:00 UTC is 1 March, midnight, in Beijing.
        let midnight = DateTime::new(2024).month(3).day(1).hour(0).minute(0).second(0);
        assert_eq!(pdf_date(1_709_222_400_000), midnight.utc_offset_hour(8).utc_offset_minute(0));
    }
}
