//! Reading a testing machine's curve export (R12).
//!
//! # What machines write
//!
//! Chinese universal and compression testing machines (万能试验机,
//! 压力试验机) run Windows software that exports one CSV or TXT file per
//! specimen: some header lines, then a table.
//!
//! * **Encoding.** Older lab PCs write GBK (code page 936), newer software
//!   UTF-8, often with a byte-order mark (Excel, Notepad). Valid UTF-8 is
//!   read as UTF-8, anything else as GB18030 (the superset of GBK, so every
//!   GBK file reads the same). A BOM is a promise of UTF-8: bad bytes after
//!   it are an error, not a reason to try GBK. UTF-16 is refused by name.
//!   Short GBK texts can happen to be valid UTF-8 (the classic `联通`); the
//!   Chinese headers of a real export make that practically impossible.
//! * **Header lines** `key: value`, `key：value`, `key,value`, `key=value`,
//!   `key<TAB>value`, in Chinese or English. Known keys fill
//!   [`CurveHeader`]'s fields; the rest (reported results such as 最大力,
//!   抗压强度, 下屈服强度) are kept verbatim in `other`, because the
//!   station reports them later and they are compared with the recomputation.
//!   Dimensions may carry units (`150mm`, `22500 mm²`, `150×150×150`);
//!   millimetres are the only length unit accepted, and a bare number is
//!   taken as millimetres because every GB standard states them so. A key
//!   that appears twice with different values is refused (which one would
//!   the lab mean?). Empty values count as absent.
//! * **The table** starts at the first line that names a time column and a
//!   force column (`时间(s),力(kN),位移(mm)`, `Time [s]<TAB>Force [N]`,
//!   `t,F,dL`). Cells are separated by tabs, commas, semicolons or runs of
//!   spaces, whichever the column header uses. Unknown columns (序号, 应力…)
//!   are skipped. When a file has both an extensometer and a crosshead
//!   column the extensometer is read ([`ExtSource`]).
//! * **Units** come from the column header, else from `力单位: kN`-style or
//!   `单位: s,kN,mm` header lines before the table. A column read without a
//!   unit is refused rather than guessed: N read as kN is a thousandfold
//!   error, and a file that does not say cannot be trusted. Forces become
//!   kN, times s (by dividing by 1000, so 174 N and 0.174 kN read alike).
//! * **Footer lines** after the last data row (some software writes its
//!   results there) are read like header lines.
//!
//! Not read: several key/value pairs on one line (`试样编号,A1,设备编号,M7`,
//! as some spreadsheet-style exports write); the value then holds the rest
//! of the line, verbatim.
//!
//! # What is refused
//!
//! Everything in [`CurveError`]: each error names its line. Time may stand
//! still (equal stamps at high rates) but never go back. The parser never
//! panics, whatever the bytes (property tests feed it arbitrary and mutated
//! files), and caps what it reads ([`MAX_BYTES`], [`MAX_SAMPLES`],
//! [`MAX_HEADER_LINES`]) so one upload cannot exhaust the server.

use std::borrow::Cow;

use super::error::{CurveError, Quantity};
use super::header::{self, Column, Field, Separator};
use super::{CurveHeader, ExtSource, MachineCurve, Sample, TextEncoding};

/// The largest file read: a rebar test at 100 Hz for 3 minutes is under 1 MiB.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// The most samples read: a hundred times the longest test in the notes.
pub const MAX_SAMPLES: usize = 2_000_000;
/// The most header and footer lines read.
pub const MAX_HEADER_LINES: usize = 1_000;

/// Parses one machine curve file. Never panics.
pub fn parse(bytes: &[u8]) -> Result<MachineCurve, CurveError> {
    let (text, encoding) = decode(bytes)?;
    // Lines are read one at a time, never collected: 64 MiB of line ends
    // must not become a billion-byte index.
    let mut lines = split_lines(&text).enumerate().map(|(i, line)| (i + 1, line));
    let mut reader = HeaderReader {
        header: CurveHeader { encoding: Some(encoding), ..Default::default() },
        ..Default::default()
    };

    let mut seen = 0;
    let table = loop {
        let Some((number, line)) = lines.next() else {
            return Err(CurveError::NoTable { lines: seen });
        };
        seen = number;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(labels) = table_labels(line) {
            break Table::new(&labels, Separator::detect(line), &reader, number)?;
        }
        reader.read(line, number)?;
    };

    // Rows run to the last line that starts like a number; what follows is
    // a footer. A row cut short (`12.`, `1.2e`) still starts like a number,
    // so truncation is never mistaken for a footer. Lines that do not start
    // like a number wait in `maybe_footer` until a later row shows they
    // were inside the table after all.
    let mut rows = Rows { table: &table, samples: Vec::new(), short: None };
    let mut maybe_footer: Vec<(usize, &str)> = Vec::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        if !starts_numeric(line, table.sep) {
            if maybe_footer.len() >= MAX_HEADER_LINES {
                return Err(CurveError::TooManyHeaderLines { line: number, max: MAX_HEADER_LINES });
            }
            maybe_footer.push((number, line));
            continue;
        }
        for (n, l) in maybe_footer.drain(..) {
            rows.push(l, n)?;
        }
        rows.push(line, number)?;
    }
    let samples = rows.finish(seen)?;
    for (number, line) in maybe_footer {
        reader.read(line, number)?;
    }

    let mut header = reader.header;
    header.units = table.units;
    header.ext_source = table.ext.map(|(_, source, _)| source);
    Ok(MachineCurve { header, samples })
}

/// The table's rows as they are read.
struct Rows<'t> {
    table: &'t Table,
    samples: Vec<Sample>,
    /// A row with fewer fields than the columns: the truncated end of the
    /// file if no row follows it, an error where it stands if one does.
    short: Option<(usize, usize)>,
}

impl Rows<'_> {
    fn push(&mut self, line: &str, number: usize) -> Result<(), CurveError> {
        let expected = self.table.width;
        if let Some((line, fields)) = self.short {
            return Err(CurveError::FieldCount { line, fields, expected });
        }
        if self.samples.len() >= MAX_SAMPLES {
            return Err(CurveError::TooManySamples { line: number, max: MAX_SAMPLES });
        }
        let sample = match self.table.row(line, number) {
            Err(CurveError::FieldCount { fields, .. }) if fields < expected => {
                self.short = Some((number, fields));
                return Ok(());
            }
            other => other?,
        };
        if let Some(previous) = self.samples.last().map(|s| s.t_s)
            && sample.t_s < previous
        {
            return Err(CurveError::TimeBackwards { line: number, t_s: sample.t_s, previous_s: previous });
        }
        self.samples.push(sample);
        Ok(())
    }

    /// The samples, unless the file ended in a short row or had none.
    fn finish(self, column_header: usize) -> Result<Vec<Sample>, CurveError> {
        if let Some((line, fields)) = self.short {
            return Err(CurveError::Truncated { line, fields, expected: self.table.width });
        }
        if self.samples.is_empty() {
            return Err(CurveError::NoRows { line: column_header });
        }
        Ok(self.samples)
    }
}

/// The text and how it was encoded; see the module doc for the rule.
fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), CurveError> {
    if bytes.len() > MAX_BYTES {
        return Err(CurveError::TooLarge { bytes: bytes.len(), max: MAX_BYTES });
    }
    if bytes.is_empty() {
        return Err(CurveError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(CurveError::UnsupportedEncoding("UTF-16"));
    }
    // NUL never appears in text of either encoding (GB18030 trail bytes are ≥ 0x30).
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(CurveError::Binary { line: line_at(bytes, at) });
    }
    let (body, bom) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(body) => (body, true),
        None => (bytes, false),
    };
    let (text, encoding) = match std::str::from_utf8(body) {
        Ok(text) => (Cow::Borrowed(text), if bom { TextEncoding::Utf8Bom } else { TextEncoding::Utf8 }),
        Err(e) if bom => return Err(CurveError::BadBytes { line: line_at(body, e.valid_up_to()) }),
        Err(_) => (Cow::Owned(decode_gb18030(body)?), TextEncoding::Gb18030),
    };
    // Control characters other than tab and line ends (and C1 controls,
    // which only mis-decoded bytes produce) mean a binary file.
    if let Some(at) =
        text.find(|c: char| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
    {
        return Err(CurveError::Binary { line: line_at(text.as_bytes(), at) });
    }
    Ok((text, encoding))
}

fn decode_gb18030(bytes: &[u8]) -> Result<String, CurveError> {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .ok_or(CurveError::TooLarge { bytes: bytes.len(), max: MAX_BYTES })?;
    let mut text = String::with_capacity(capacity);
    let (result, _) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(text),
        // The text decoded so far ends where the bad bytes begin.
        _ => Err(CurveError::BadBytes { line: 1 + text.matches('\n').count() }),
    }
}

/// The 1-based line of byte `at`.
fn line_at(bytes: &[u8], at: usize) -> usize {
    1 + bytes.get(..at).unwrap_or(bytes).iter().filter(|b| **b == b'\n').count()
}

/// Lines without their ends: CRLF (Windows), LF, or lone CR (old Mac software).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let end = if !text.contains('\n') && text.contains('\r') { '\r' } else { '\n' };
    text.split(end).map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// The column labels when `line` is a column header (it names time and force).
fn table_labels(line: &str) -> Option<Vec<String>> {
    let labels = Separator::detect(line).labels(line);
    let has = |want: Column| labels.iter().any(|l| header::column(l) == Some(want));
    (has(Column::Time) && has(Column::Force)).then_some(labels)
}

/// Whether a line's first cell looks like a number, complete or cut short.
fn starts_numeric(line: &str, sep: Separator) -> bool {
    let cells = sep.cells(line);
    let Some(first) = cells.first() else { return false };
    let lower = first.to_ascii_lowercase();
    let bare = lower.trim_start_matches(['+', '-']);
    matches!(bare, "nan" | "inf" | "infinity")
        || (!first.is_empty()
            && first.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '+' | '-' | 'e' | 'E')))
}

/// Header (and footer) lines read so far.
#[derive(Default)]
struct HeaderReader {
    header: CurveHeader,
    /// Mapped fields already seen, with their values, to refuse contradictions.
    seen: Vec<(Field, String)>,
    /// `单位: s,kN,mm`: units by column position.
    units_by_position: Vec<String>,
    /// `力单位: kN`: units by quantity.
    units_by_quantity: Vec<(Quantity, String)>,
    lines: usize,
}

impl HeaderReader {
    fn read(&mut self, line: &str, number: usize) -> Result<(), CurveError> {
        self.lines += 1;
        if self.lines > MAX_HEADER_LINES {
            return Err(CurveError::TooManyHeaderLines { line: number, max: MAX_HEADER_LINES });
        }
        let (key, value) = header::key_value(line);
        let Some(field) = header::field(key) else {
            self.header.other.push((key.to_owned(), value.to_owned()));
            return Ok(());
        };
        if let Some((_, before)) = self.seen.iter().find(|(f, _)| *f == field) {
            return if before == value {
                Ok(())
            } else {
                Err(CurveError::DuplicateKey { line: number, key: key.to_owned() })
            };
        }
        self.seen.push((field, value.to_owned()));
        if value.is_empty() {
            return Ok(());
        }
        let key_unit = header::split_unit(key).1;
        let bad = || CurveError::BadHeaderValue { line: number, key: key.to_owned(), value: clip(value) };
        let length = || dimension(value, key_unit, Quantity::Length, number).and_then(|v| v.ok_or_else(bad));
        let h = &mut self.header;
        match field {
            Field::Specimen => h.specimen = Some(value.to_owned()),
            Field::Machine => h.machine = Some(value.to_owned()),
            Field::Test => h.test = Some(value.to_owned()),
            Field::Rate => h.rate = Some(value.to_owned()),
            Field::Started => h.started = Some(value.to_owned()),
            Field::Area => {
                h.area_mm2 = Some(dimension(value, key_unit, Quantity::Area, number)?.ok_or_else(bad)?);
            }
            Field::Cube => h.cube_mm = Some(cube_edge(value, key_unit, number)?.ok_or_else(bad)?),
            Field::Diameter => h.diameter_mm = Some(length()?),
            Field::Gauge => h.gauge_mm = Some(length()?),
            Field::ExtensometerGauge => h.extensometer_gauge_mm = Some(length()?),
            Field::FinalGauge => h.final_gauge_mm = Some(length()?),
            Field::Units => {
                self.units_by_position = value
                    .split(|c: char| matches!(c, ',' | '，' | ';' | '\t') || c.is_whitespace())
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            Field::UnitOf(quantity) => self.units_by_quantity.push((quantity, value.to_owned())),
        }
        Ok(())
    }
}

/// A positive dimension with an accepted unit (or none). `Ok(None)`: not a
/// number, or not positive.
fn dimension(
    value: &str,
    key_unit: Option<&str>,
    q: Quantity,
    line: usize,
) -> Result<Option<f64>, CurveError> {
    let Some((v, rest)) = header::leading_number(value) else { return Ok(None) };
    let unit = if rest.is_empty() { key_unit.unwrap_or_default() } else { rest };
    if !unit.is_empty() && header::unit_divisor(q, unit).is_none() {
        return Err(CurveError::WrongUnit { line, quantity: q, unit: clip(unit) });
    }
    Ok((v > 0.0).then_some(v))
}

/// A cube's edge from `150`, `150mm` or `150×150×150 mm`; `Ok(None)` when the
/// three sides differ (that is not a cube) or are not numbers.
fn cube_edge(value: &str, key_unit: Option<&str>, line: usize) -> Result<Option<f64>, CurveError> {
    let mut edge = None;
    for side in value.split(['×', 'x', 'X', '*']) {
        let Some(v) = dimension(side, key_unit, Quantity::Length, line)? else { return Ok(None) };
        if edge.is_some_and(|e| e != v) {
            return Ok(None);
        }
        edge = Some(v);
    }
    Ok(edge)
}

/// Cells in errors are clipped: a line of junk should not fill a screen.
fn clip(cell: &str) -> String {
    const MAX: usize = 40;
    if cell.chars().count() <= MAX {
        cell.to_owned()
    } else {
        cell.chars().take(MAX).chain(['…']).collect()
    }
}

/// Where the columns the parser reads are, and how to convert them.
struct Table {
    sep: Separator,
    width: usize,
    /// (column index, divisor to s).
    time: (usize, f64),
    /// (column index, divisor to kN).
    force: (usize, f64),
    /// (column index, source, divisor to mm).
    ext: Option<(usize, ExtSource, f64)>,
    /// The declared units as written: time, force, then extension when read.
    units: Vec<String>,
}

impl Table {
    fn new(
        labels: &[String],
        sep: Separator,
        header: &HeaderReader,
        line: usize,
    ) -> Result<Table, CurveError> {
        let mut time = None;
        let mut force = None;
        let mut extensometer = None;
        let mut crosshead = None;
        for (i, label) in labels.iter().enumerate() {
            let (slot, quantity) = match header::column(label) {
                Some(Column::Time) => (&mut time, Quantity::Time),
                Some(Column::Force) => (&mut force, Quantity::Force),
                Some(Column::Ext(ExtSource::Extensometer)) => (&mut extensometer, Quantity::Extension),
                Some(Column::Ext(ExtSource::Crosshead)) => (&mut crosshead, Quantity::Extension),
                None => continue,
            };
            if slot.replace(i).is_some() {
                return Err(CurveError::DuplicateColumn { line, quantity });
            }
        }
        let unit =
            |i: usize, quantity: Quantity| -> Result<(f64, String), CurveError> {
                let declared = labels
                    .get(i)
                    .and_then(|l| header::split_unit(l).1)
                    .or_else(|| {
                        header.units_by_quantity.iter().find(|(q, _)| *q == quantity).map(|(_, u)| u.as_str())
                    })
                    .or_else(|| header.units_by_position.get(i).map(String::as_str))
                    .ok_or(CurveError::MissingUnit { line, quantity })?;
                let divisor = header::unit_divisor(quantity, declared)
                    .ok_or_else(|| CurveError::WrongUnit { line, quantity, unit: clip(declared) })?;
                Ok((divisor, declared.to_owned()))
            };
        let (Some(time), Some(force)) = (time, force) else {
            return Err(CurveError::NoTable { lines: line });
        };
        let (time_divisor, time_unit) = unit(time, Quantity::Time)?;
        let (force_divisor, force_unit) = unit(force, Quantity::Force)?;
        let mut units = vec![time_unit, force_unit];
        let ext = match (extensometer, crosshead) {
            (Some(i), _) => Some((i, ExtSource::Extensometer)),
            (None, Some(i)) => Some((i, ExtSource::Crosshead)),
            (None, None) => None,
        };
        let ext = match ext {
            Some((i, source)) => {
                let (divisor, ext_unit) = unit(i, Quantity::Extension)?;
                units.push(ext_unit);
                Some((i, source, divisor))
            }
            None => None,
        };
        Ok(Table {
            sep,
            width: labels.len(),
            time: (time, time_divisor),
            force: (force, force_divisor),
            ext,
            units,
        })
    }

    fn row(&self, line: &str, number: usize) -> Result<Sample, CurveError> {
        let cells = self.sep.cells(line);
        if cells.len() != self.width {
            return Err(CurveError::FieldCount { line: number, fields: cells.len(), expected: self.width });
        }
        let value = |(i, divisor): (usize, f64), quantity: Quantity| -> Result<f64, CurveError> {
            let cell = cells.get(i).copied().unwrap_or_default();
            Ok(self.number(cell, quantity, number)? / divisor)
        };
        Ok(Sample {
            t_s: value(self.time, Quantity::Time)?,
            force_kn: value(self.force, Quantity::Force)?,
            ext_mm: match self.ext {
                Some((i, _, divisor)) => Some(value((i, divisor), Quantity::Extension)?),
                None => None,
            },
        })
    }

    /// A finite number; a decimal comma is read when commas do not separate cells.
    fn number(&self, cell: &str, quantity: Quantity, line: usize) -> Result<f64, CurveError> {
        let parsed = match cell.parse::<f64>() {
            Ok(v) => Ok(v),
            Err(e) if self.sep != Separator::Comma && cell.contains(',') => {
                cell.replace(',', ".").parse().map_err(|_| e)
            }
            Err(e) => Err(e),
        };
        match parsed {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(_) => Err(CurveError::NotFinite { line, quantity, cell: clip(cell) }),
            Err(_) => Err(CurveError::NonNumeric { line, quantity, cell: clip(cell) }),
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
