//! The lab station (R12): the folder a testing machine exports its curve
//! files into, watched by the lab's engine, so every mechanical test's curve
//! is captured and signed without anyone choosing which files to hand in.
//!
//! One [`Engine::capture_folder`] pass looks at the folder's top level:
//!
//! * Only regular files named `*.csv`, `*.txt` or `*.dat` (any case) are
//!   curve files. Names starting with `.` or `~`, or ending `.tmp`/`.part`,
//!   are files a machine or an editor is still writing: left alone.
//! * **Finished writing**: a machine may write a file in place, slowly. A file
//!   is taken when its size and modification time are the same as the
//!   previous pass saw them, or when it was last modified at least
//!   [`StationOptions::settle`] ago. Otherwise it is counted as waiting and
//!   looked at again next pass. (Machines that write a temporary name and
//!   rename it are ready at once, through the settle rule.) A file taken too
//!   early fails to parse (truncated) and lands in `failed/`, kept.
//! * Each file is read once; its SHA-256 names it. The bytes read are the
//!   bytes parsed, stored as the curve media (unaltered) and signed.
//! * A file whose bytes are not a curve, that names no valid tag, whose tag
//!   this lab did not receive, or that the rules refuse is moved to
//!   `failed/` with `<name>.error.txt` beside it, saying why in zh-CN and
//!   English (the parser's message names the line). Nothing is ever deleted;
//!   an existing name is never overwritten (a ` (n)` suffix is added).
//! * A captured file is moved to `done/`. A file whose bytes changed between
//!   being read and being moved stays where it is for the next pass.
//!
//! # Crash safety (kill -9 at any instant)
//!
//! The record and the note "these bytes were captured by that record" (table
//! `station_files`, keyed by SHA-256) are written in the **same SQLite
//! transaction** as the signed record (`append_own_record_with`), and a file
//! is moved to `done/` only after that transaction committed. So at any
//! instant a file is either not captured (still in the folder: the next pass
//! captures it) or captured and noted (the next pass finds its hash and only
//! moves it to `done/`). It is never captured twice, never lost. Lookups
//! also take any own `test_data` record naming the same curve media, so a
//! curve entered by hand is not signed again. A crash between storing the
//! media and committing leaves an unreferenced content-addressed file,
//! harmless and reused by the retry. Moves are `rename`s in one file system
//! (atomic); a crash between a failure's note and its move leaves a spare
//! note and the file still in the folder, which fails again next pass.
//!
//! One station process per folder: the no-overwrite check before a rename
//! is not atomic against a second mover.

use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::steps::TestDataInput;
use crate::store::StationFile;
use custody_core::curve::{self, MachineCurve};
use custody_core::record::MediaPurpose;
use custody_core::verify::Lang;
use custody_core::{Hash, Id, TagCode};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where captured files go, inside the watched folder.
pub const DONE_DIR: &str = "done";
/// Where files that could not be captured go, with their `.error.txt`.
pub const FAILED_DIR: &str = "failed";

/// What the previous pass saw of each file: (size, modification time).
pub(crate) type Seen = HashMap<PathBuf, (u64, Option<SystemTime>)>;

/// How the station reads the machine's folder.
#[derive(Debug, Clone)]
pub struct StationOptions {
    /// A file not modified for this long is finished, whatever the last pass saw.
    pub settle: Duration,
    /// The test and standard of a file whose header names no test (the
    /// station stands by one machine, e.g. a compression machine for cubes).
    pub default_test: String,
    pub default_standard: String,
    /// The standard each test named in a header is done to. A header naming
    /// a test not listed here is not guessed at: the file fails.
    pub standards: BTreeMap<String, String>,
}

impl Default for StationOptions {
    fn default() -> StationOptions {
        let standards = [
            ("concrete_cube_strength", "GB/T 50081-2019"),
            ("rebar_tensile", "GB/T 228.1-2021"),
            ("coupler_tensile", "JGJ 107-2016"),
        ];
        StationOptions {
            settle: Duration::from_secs(3),
            default_test: "concrete_cube_strength".into(),
            default_standard: "GB/T 50081-2019".into(),
            standards: standards.iter().map(|(t, s)| (t.to_string(), s.to_string())).collect(),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default)]
pub struct StationPass {
    /// Files captured (or found captured before a crash), where they now are
    /// in `done/`, and the test data record carrying each.
    pub captured: Vec<(PathBuf, Hash)>,
    /// Files moved to `failed/`, where they now are, and why (zh-CN, English).
    pub failed: Vec<(PathBuf, String, String)>,
    /// Curve files left for a later pass (still being written, or unreadable now).
    pub waiting: usize,
}

/// Why one file cannot be captured: zh-CN, English.
struct Refusal(String, String);

fn refusal(zh: impl Into<String>, en: impl Into<String>) -> Refusal {
    Refusal(zh.into(), en.into())
}

/// A curve file's name, not a partial or hidden one.
fn is_curve_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    let partial = lower.starts_with('.')
        || lower.starts_with('~')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part");
    !partial && [".csv", ".txt", ".dat"].iter().any(|ext| lower.ends_with(ext))
}

fn media_type(name: &str) -> &'static str {
    if name.to_lowercase().ends_with(".csv") { "text/csv" } else { "text/plain" }
}

/// The tag in a file name: the whole stem (`310260010000420015`, or printed
/// with spaces or dashes), else its leading run of digits, spaces and dashes
/// (`3102-60-0100-0042001-5_cube2`).
fn tag_from_name(name: &str) -> Option<TagCode> {
    let stem = Path::new(name).file_stem()?.to_str()?;
    if let Ok(tag) = TagCode::parse(stem) {
        return Some(tag);
    }
    let end = stem.find(|c: char| !(c.is_ascii_digit() || c == ' ' || c == '-')).unwrap_or(stem.len());
    TagCode::parse(&stem[..end]).ok()
}

/// The specimen's tag: the header's, else the file name's.
fn tag_of(curve: &MachineCurve, name: &str) -> std::result::Result<TagCode, Refusal> {
    if let Some(text) = &curve.header.specimen {
        // The machine was told a specimen: that is the claim, never second-guessed by the name.
        return TagCode::parse(text).map_err(|e| {
            refusal(
                format!("文件表头的试样编号“{text}”不是有效的标识码：{}", e.message_zh()),
                format!("the header's specimen `{text}` is not a valid tag code: {e}"),
            )
        });
    }
    tag_from_name(name).ok_or_else(|| {
        refusal(
            "文件表头没有试样编号，文件名中也没有标识码：无法确定是哪个试件的曲线",
            "the header names no specimen and the file name holds no tag code: whose curve this is is unknown",
        )
    })
}

/// The test and standard: the header's test with its listed standard, else the defaults.
fn test_of(curve: &MachineCurve, opts: &StationOptions) -> std::result::Result<(String, String), Refusal> {
    match curve.header.test.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok((opts.default_test.clone(), opts.default_standard.clone())),
        Some(test) => match opts.standards.get(test) {
            Some(standard) => Ok((test.to_owned(), standard.clone())),
            None => Err(refusal(
                format!("文件表头的试验项目“{test}”未配置依据标准，请在工作站设置中添加"),
                format!(
                    "no standard is configured for the header's test `{test}`: add it to the station's settings"
                ),
            )),
        },
    }
}

/// Errors that are about this file (it goes to `failed/`); any other error
/// (storage, keys, enrollment, authorisation) stops the pass with every
/// file left where it is, for the next pass once it is fixed.
fn about_the_file(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::Invalid { .. }
            | EngineError::Refused(_)
            | EngineError::NeedsConfirmation(_)
            | EngineError::UnknownTag(_)
            | EngineError::TagAlreadyUsed { .. }
    )
}

/// Move `src` into `dir` under its own name, or `stem (n).ext` if that is
/// taken: never overwrites.
fn move_into(src: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = src.file_name().and_then(|n| n.to_str()).unwrap_or("curve");
    let dest = free_name(dir, name, |p| p.exists());
    std::fs::rename(src, &dest)?;
    sync_dir(dir);
    Ok(dest)
}

/// `dir/name`, or `dir/stem (n).ext` for the first n for which `taken` is false.
pub(crate) fn free_name(dir: &Path, name: &str, taken: impl Fn(&Path) -> bool) -> PathBuf {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let mut dest = dir.join(name);
    let mut n = 1;
    while taken(&dest) {
        dest = dir.join(format!("{stem} ({n}){ext}"));
        n += 1;
    }
    dest
}

/// Make a rename durable; best effort (the next pass repeats any move lost).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Whether the machine has finished writing a file: unmodified for `settle`,
/// or exactly as the previous pass saw it (size and modification time).
fn ready(path: &Path, meta: &std::fs::Metadata, opts: &StationOptions, seen: &Seen, now: SystemTime) -> bool {
    let mtime = meta.modified().ok();
    let settled = mtime.and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age >= opts.settle);
    settled || seen.get(path) == Some(&(meta.len(), mtime))
}

impl Engine {
    /// One pass over the machine's export folder `dir`: capture every
    /// finished curve file as signed test data, move it to `done/`; move
    /// what cannot be captured to `failed/` with the reason. See the module
    /// doc for the rules and why a crash loses and doubles nothing.
    pub fn capture_folder(&self, dir: &Path, opts: &StationOptions) -> Result<StationPass> {
        self.enrolled()?;
        let mut pass = StationPass::default();
        let now = SystemTime::now();
        let previous = std::mem::take(&mut *self.station_seen.lock().unwrap_or_else(|p| p.into_inner()));
        let mut seen = Seen::new();
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            EngineError::invalid(
                format!("无法读取试验机导出文件夹 {}：{e}", dir.display()),
                format!("cannot read the machine's folder {}: {e}", dir.display()),
            )
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
            // symlink_metadata: a link is not a file the machine wrote.
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if !meta.is_file() || !is_curve_name(&name) {
                continue;
            }
            if ready(&path, &meta, opts, &previous, now) {
                files.push((path, name));
            } else {
                seen.insert(path, (meta.len(), meta.modified().ok()));
                pass.waiting += 1;
            }
        }
        files.sort();
        for (path, name) in files {
            let Ok(bytes) = std::fs::read(&path) else {
                // Vanished or locked by the machine since listed: next pass.
                pass.waiting += 1;
                continue;
            };
            self.capture_file(dir, &path, &name, &bytes, opts, &mut pass)?;
        }
        *self.station_seen.lock().unwrap_or_else(|p| p.into_inner()) = seen;
        Ok(pass)
    }

    /// One finished file: captured (or found captured) and moved to `done/`,
    /// or moved to `failed/` with the reason.
    fn capture_file(
        &self,
        dir: &Path,
        path: &Path,
        name: &str,
        bytes: &[u8],
        opts: &StationOptions,
        pass: &mut StationPass,
    ) -> Result<()> {
        let sha = Hash::of(bytes);
        let record = match self.store.record_capturing(&sha)? {
            // Captured before a crash (or the same bytes under another name).
            Some(id) => Ok(id),
            None => match self.sign_curve(name, bytes, sha, opts) {
                Ok(id) => Ok(id),
                Err(Failure::Refused(r)) => Err(r),
                Err(Failure::Engine(e)) => return Err(e),
            },
        };
        // Changed since it was read (a machine rewriting it, or still
        // writing): moving it would file bytes never captured, or fail a file
        // about to be whole. Left for the next pass; what was signed stays signed.
        if std::fs::read(path).ok().map(|b| Hash::of(&b)) != Some(sha) {
            pass.waiting += 1;
            return Ok(());
        }
        match record {
            Ok(id) => {
                let at = move_into(path, &dir.join(DONE_DIR)).map_err(io_error)?;
                pass.captured.push((at, id));
            }
            Err(Refusal(zh, en)) => {
                let at = self.fail(dir, path, name, &sha, &zh, &en)?;
                pass.failed.push((at, zh, en));
            }
        }
        Ok(())
    }

    /// Parse, find the tag and test, store the bytes, sign — the record and
    /// the station's note in one transaction.
    fn sign_curve(
        &self,
        name: &str,
        bytes: &[u8],
        sha: Hash,
        opts: &StationOptions,
    ) -> std::result::Result<Hash, Failure> {
        let curve = curve::parse(bytes)
            .map_err(|e| Failure::Refused(refusal(e.message(Lang::ZhCn), e.message(Lang::En))))?;
        let tag = tag_of(&curve, name).map_err(Failure::Refused)?;
        let (test, standard) = test_of(&curve, opts).map_err(Failure::Refused)?;
        let equipment = curve.header.machine.as_deref().and_then(|m| Id::new(m.trim()).ok());
        let media =
            self.store_media(bytes, MediaPurpose::TestCurve, media_type(name)).map_err(Failure::Engine)?;
        let input = TestDataInput {
            tag,
            test,
            standard,
            // What the machine itself reported; the server recomputes each
            // from the curve and flags a difference (R12).
            results: reported_values(&curve),
            curve: Some(media),
            automatic: true,
            equipment,
            revises: None,
            reason: None,
        };
        let note = StationFile { sha256: sha, name: name.to_owned() };
        // Flags need no person here: they are signed into the record and the
        // server shows them; refusing would leave the curve uncaptured.
        match self.create_test_data_with(input, true, Some(&note)) {
            Ok(created) => Ok(created.id),
            Err(e) if about_the_file(&e) => {
                Err(Failure::Refused(refusal(e.message(Lang::ZhCn), e.message(Lang::En))))
            }
            Err(e) => Err(Failure::Engine(e)),
        }
    }

    /// Move a file that cannot be captured to `failed/`, its reason beside it.
    fn fail(&self, dir: &Path, path: &Path, name: &str, sha: &Hash, zh: &str, en: &str) -> Result<PathBuf> {
        const NOTE: &str = ".error.txt";
        let failed = dir.join(FAILED_DIR);
        std::fs::create_dir_all(&failed).map_err(io_error)?;
        // The destination: a name free for both the file and its note.
        let dest = free_name(&failed, name, |p| p.exists() || note_path(p, NOTE).exists());
        let text = format!("{zh}\n{en}\n\n文件 / file: {name}\nSHA-256: {}\n", sha.to_hex());
        // The note first (written whole, then renamed in): a crash after it
        // leaves the file in the folder, to fail again and be moved next pass.
        let tmp = failed.join(format!(".{}.tmp", sha.to_hex()));
        std::fs::write(&tmp, text).map_err(io_error)?;
        std::fs::rename(&tmp, note_path(&dest, NOTE)).map_err(io_error)?;
        std::fs::rename(path, &dest).map_err(io_error)?;
        sync_dir(&failed);
        Ok(dest)
    }
}

pub(crate) fn note_path(file: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", file.display()))
}

/// Why signing a file stopped: the file's fault, or the station's.
enum Failure {
    Refused(Refusal),
    Engine(EngineError),
}

fn io_error(e: std::io::Error) -> EngineError {
    EngineError::Media(crate::media::MediaError::Io(e))
}

/// The results the machine's file reports in its header (抗压强度, 下屈服强度,
/// Rm …), under the standards' symbols, as the lab's reported values.
fn reported_values(curve: &custody_core::curve::MachineCurve) -> Vec<custody_core::record::Measurement> {
    curve
        .header
        .other
        .iter()
        .filter_map(|(key, value)| {
            let name = custody_core::results::check::canonical_name(key)?;
            let number: String =
                value.trim().chars().take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-')).collect();
            let v: f64 = number.parse().ok().filter(|v: &f64| v.is_finite())?;
            let unit = if matches!(name, "A" | "Agt") { "%" } else { "MPa" };
            Some(custody_core::record::Measurement {
                name: name.into(),
                value_milli: (v * 1000.0).round() as i64,
                unit: unit.into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_the_machines_reported_values_go_under_the_standards_symbols() {
        let mut curve = custody_core::curve::MachineCurve::default();
        curve.header.other = vec![
            ("抗压强度".into(), "42.5 MPa".into()),
            ("最大力".into(), "956.2".into()),
            ("断后伸长率".into(), "24.5%".into()),
            ("下屈服强度".into(), "—".into()),
        ];
        let got: Vec<(String, i64, String)> =
            reported_values(&curve).into_iter().map(|m| (m.name, m.value_milli, m.unit)).collect();
        assert_eq!(got, vec![("f_cu".into(), 42_500, "MPa".into()), ("A".into(), 24_500, "%".into())]);
    }

    #[test]
    fn curve_names_and_partial_files() {
        for ok in ["a.csv", "B.CSV", "x.txt", "310260010000420015.Dat"] {
            assert!(is_curve_name(ok), "{ok}");
        }
        for no in [".a.csv", "~a.csv", "a.csv.tmp", "a.csv.part", "a.xlsx", "a", "a.TMP"] {
            assert!(!is_curve_name(no), "{no}");
        }
    }

    #[test]
    fn tags_from_file_names() {
        let tag = custody_core::TagCode::from_parts(310, 26, 1, 42).unwrap();
        let printed = tag.printed();
        for name in [
            format!("{}.csv", tag.as_str()),
            format!("{printed}.txt"),
            format!("{}.csv", printed.replace(' ', "-")),
            format!("{}_cube2.csv", tag.as_str()),
        ] {
            assert_eq!(tag_from_name(&name).as_ref(), Some(&tag), "{name}");
        }
        assert_eq!(tag_from_name("cube 7.csv"), None);
    }

    #[test]
    fn a_taken_name_gets_a_suffix_never_an_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let done = d.path().join("done");
        for content in ["one", "two", "three"] {
            let src = d.path().join("c.csv");
            std::fs::write(&src, content).unwrap();
            move_into(&src, &done).unwrap();
        }
        let read = |n: &str| std::fs::read_to_string(done.join(n)).unwrap();
        assert_eq!(
            (read("c.csv"), read("c (1).csv"), read("c (2).csv")),
            ("one".into(), "two".into(), "three".into())
        );
    }
}
