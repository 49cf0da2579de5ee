//! Machine curves (R12): what a testing machine records for one specimen,
//! kept exactly as it came (the raw file is stored unaltered as media) and
//! parsed into these types for the recomputation in [`crate::results`].
//!
//! Universal and compression testing machines (万能试验机, 压力试验机)
//! export a header (specimen, machine, rates, dimensions) and a table of
//! samples: time, force and displacement or extension. Units differ between
//! makers (N or kN, s or ms); the parser converts to the units here and
//! keeps the declared ones in [`CurveHeader::units`], so nothing is guessed
//! silently.
//!
//! * [`parse()`]: a machine's export (GBK or UTF-8) into a [`MachineCurve`],
//!   or a [`CurveError`] naming the line, in zh-CN and English.
//! * [`sim`]: a testing machine in software, deterministic from a seed.
//! * [`to_file`]: a curve written as a machine writes it ([`FileStyle`]).

use serde::{Deserialize, Serialize};

mod error;
mod header;
pub mod parse;
pub mod sim;
mod write;

pub use error::{CurveError, Quantity};
pub use parse::parse;
pub use write::{FileStyle, to_file};

/// How the file's text was encoded. Chinese Windows lab PCs write GBK (code
/// page 936); newer software writes UTF-8, often with a byte-order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 that began with the byte-order mark EF BB BF (Windows Notepad, Excel).
    Utf8Bom,
    /// Not valid UTF-8, decoded as GB18030 (a superset of GBK and GB2312).
    Gb18030,
}

/// Where the extension column came from: the crosshead (or piston) moves
/// with the whole machine's compliance, an extensometer measures over its
/// own gauge Le. Rp0.2 and Agt need the extensometer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtSource {
    /// 引伸计, 变形, extension, dL: the extensometer.
    Extensometer,
    /// 位移, displacement, stroke: crosshead or piston travel.
    Crosshead,
}

/// One sample as the machine recorded it, converted to SI-ish lab units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the test started.
    pub t_s: f64,
    /// Force in kN.
    pub force_kn: f64,
    /// Crosshead displacement or extensometer extension in mm, as the
    /// machine recorded it (`None` when the file has no such column).
    pub ext_mm: Option<f64>,
}

/// What the file's header says. Every field is optional because machines
/// differ; the recomputation names what it lacked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveHeader {
    /// The specimen's tag as printed (the tag code), when the machine was given it.
    pub specimen: Option<String>,
    /// The testing machine's registered id or serial.
    pub machine: Option<String>,
    /// What was tested, e.g. `concrete_cube_strength`, `rebar_tensile`, `coupler_tensile`.
    pub test: Option<String>,
    /// Cross-section in mm² (S0 for bars, A for cubes).
    pub area_mm2: Option<f64>,
    /// Cube edge in mm (100, 150, 200).
    pub cube_mm: Option<f64>,
    /// Nominal bar diameter in mm.
    pub diameter_mm: Option<f64>,
    /// Original gauge length L0 in mm (for A).
    pub gauge_mm: Option<f64>,
    /// Extensometer gauge length Le in mm (for Rp0.2 and Agt).
    pub extensometer_gauge_mm: Option<f64>,
    /// Final gauge length Lu in mm, measured after fracture (for A).
    pub final_gauge_mm: Option<f64>,
    /// The declared loading rate, as written (e.g. `0.5 MPa/s`).
    pub rate: Option<String>,
    /// Start of the test as written by the machine (its own clock: a claim).
    pub started: Option<String>,
    /// The units the file declared for its columns, as written (e.g. `s`, `kN`, `mm`).
    pub units: Vec<String>,
    /// Header lines the parser did not map, kept as (key, value).
    pub other: Vec<(String, String)>,
    /// How the file was encoded (set by the parser; `None` for curves built in memory).
    #[serde(default)]
    pub encoding: Option<TextEncoding>,
    /// Which column [`Sample::ext_mm`] came from (set by the parser; when a file
    /// has both, the extensometer wins).
    #[serde(default)]
    pub ext_source: Option<ExtSource>,
}

/// A parsed machine curve: the header and every sample in file order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineCurve {
    pub header: CurveHeader,
    pub samples: Vec<Sample>,
}
