//! `field-sim machine`: a testing machine exporting curve files into the
//! folder a lab's watcher uploads from (R12), one file per specimen.
//!
//! Curves come from `custody_core::curve::sim` (deterministic from
//! `--seed`), files from `custody_core::curve::to_file` in the style chosen:
//! `gbk` as a Chinese Windows lab PC writes them, `utf8` as foreign software
//! does. Each file is written under a hidden temporary name in the same
//! folder, flushed to disk and then renamed, because a rename within one
//! file system is atomic: a watcher sees no file or the whole file, never
//! half of one (which the parser would refuse as truncated).

use custody_core::curve::sim::{
    BreakLocation, CouplerParams, CubeParams, Labels, RebarGrade, RebarParams, coupler, cube, rebar,
};
use custody_core::curve::{FileStyle, MachineCurve, to_file};
use field_engine::EngineError;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Concrete cubes, 150 mm, C30 (a compression machine).
    Cube,
    /// HRB400E bars, 20 mm (a universal testing machine).
    Rebar,
    /// Couplers on 25 mm HRB400 bars; every third breaks in the joint.
    Coupler,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// GBK, Chinese headers, CRLF, `.csv`.
    Gbk,
    /// UTF-8, English headers, tab-separated, `.txt`.
    Utf8,
}

#[derive(clap::Args, Clone, Debug)]
pub struct MachineArgs {
    /// The watched folder the files appear in (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "cube")]
    pub kind: Kind,
    /// How many specimens to test.
    #[arg(long, default_value_t = 3)]
    pub count: u32,
    /// Tag codes typed into the machine, used in turn (a cube group of three
    /// shares one tag: `--count 3 --tag CODE`). None: the header has no specimen.
    #[arg(long)]
    pub tag: Vec<String>,
    /// Pause between specimens, as between tests on a real machine.
    #[arg(long, default_value_t = 1000)]
    pub interval_ms: u64,
    #[arg(long, value_enum, default_value = "gbk")]
    pub style: Style,
    /// The machine's id as its software writes it.
    #[arg(long, default_value = "SIM-YAW-2000")]
    pub machine: String,
    /// First curve's seed; specimen i uses seed + i.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn bad(zh: &str, en: impl std::fmt::Display) -> EngineError {
    EngineError::invalid(zh, en.to_string())
}

/// Writes `args.count` curve files, printing each path as it appears.
pub async fn run(args: &MachineArgs) -> Result<(), EngineError> {
    std::fs::create_dir_all(&args.out).map_err(|e| bad("无法创建目录", e))?;
    for i in 0..args.count {
        if i > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(args.interval_ms)).await;
        }
        let tag = (!args.tag.is_empty()).then(|| args.tag[i as usize % args.tag.len()].clone());
        let labels =
            Labels { specimen: tag.clone(), machine: Some(args.machine.clone()), started: Some(now_cst()) };
        let curve = specimen(args.kind, args.seed.wrapping_add(u64::from(i)), i, labels);
        let style = match args.style {
            Style::Gbk => FileStyle::GbkChinese,
            Style::Utf8 => FileStyle::Utf8English,
        };
        let path = args.out.join(file_name(tag.as_deref(), i, args.style));
        write_atomically(&path, &to_file(&curve, style))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// One specimen's curve. Specimen `index` of a coupler batch breaks in the
/// joint when index % 3 == 2, so a batch of three shows both outcomes.
fn specimen(kind: Kind, seed: u64, index: u32, labels: Labels) -> MachineCurve {
    match kind {
        Kind::Cube => cube(&CubeParams { labels, ..CubeParams::new(150.0, 30, seed) }),
        Kind::Rebar => rebar(&RebarParams { labels, ..RebarParams::new(20.0, RebarGrade::Hrb400E, seed) }),
        Kind::Coupler => {
            let breaks = if index % 3 == 2 { BreakLocation::Joint } else { BreakLocation::Bar };
            let bars = RebarParams { labels, ..RebarParams::new(25.0, RebarGrade::Hrb400, seed) };
            coupler(&CouplerParams { rebar: bars, breaks })
        }
    }
}

/// `TAG-001.csv`: machines name exports after the specimen and a running number.
/// Characters a file system would refuse become `_`.
fn file_name(tag: Option<&str>, index: u32, style: Style) -> String {
    let stem: String = tag
        .unwrap_or("specimen")
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' })
        .collect();
    let ext = if style == Style::Gbk { "csv" } else { "txt" };
    format!("{stem}-{:03}.{ext}", index + 1)
}

/// Write to a hidden name beside `path`, flush to disk, rename into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.part"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        bad("无法写入曲线文件", format!("{}: {e}", path.display()))
    })
}

/// The machine's own clock, as it writes the start of a test.
fn now_cst() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    custody_core::calendar::cst_seconds(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_file_names_follow_the_tag() {
        assert_eq!(file_name(Some("310-26-0001-000017-4"), 0, Style::Gbk), "310-26-0001-000017-4-001.csv");
        assert_eq!(file_name(None, 9, Style::Utf8), "specimen-010.txt");
        assert_eq!(file_name(Some("a/b c"), 1, Style::Gbk), "a_b_c-002.csv");
    }

    #[tokio::test]
    async fn r12_machine_writes_files_the_parser_reads() {
        let dir = tempfile::tempdir().unwrap();
        let args = MachineArgs {
            out: dir.path().join("watched"),
            kind: Kind::Coupler,
            count: 3,
            tag: vec!["T1".into()],
            interval_ms: 0,
            style: Style::Utf8,
            machine: "M".into(),
            seed: 4,
        };
        run(&args).await.unwrap();
        let mut names: Vec<_> =
            std::fs::read_dir(&args.out).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["T1-001.txt", "T1-002.txt", "T1-003.txt"], "no temporary files left");
        let c = custody_core::curve::parse(&std::fs::read(args.out.join("T1-003.txt")).unwrap()).unwrap();
        assert_eq!(c.header.specimen.as_deref(), Some("T1"));
        assert!(c.header.other.iter().any(|(k, v)| k == "断裂位置" && v == "接头"));
    }
}
