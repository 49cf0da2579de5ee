//! BagIt (RFC 8493) as far as an archive needs it, pure: the bag
//! declaration, SHA-256 manifests, `bag-info.txt` with `Payload-Oxum`.
//! Reading files and hashing them is the caller's (the verifier's, the
//! exporter's); deciding whether they match is here, with its words.

use super::Line;
use crate::crypto::Hash;
use std::collections::BTreeMap;

/// `bagit.txt`, exactly.
pub const DECLARATION: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
pub const DECLARATION_FILE: &str = "bagit.txt";
pub const BAG_INFO_FILE: &str = "bag-info.txt";
pub const MANIFEST_FILE: &str = "manifest-sha256.txt";
pub const TAG_MANIFEST_FILE: &str = "tagmanifest-sha256.txt";

/// RFC 8493 2.1.3: a path in a manifest percent-encodes CR, LF and `%`.
fn encode_path(p: &str) -> String {
    p.replace('%', "%25").replace('\n', "%0A").replace('\r', "%0D")
}

fn decode_path(p: &str) -> String {
    p.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r").replace("%25", "%")
}

/// A manifest's text: one `checksum  path` line per file, by path.
pub fn manifest_text(files: &BTreeMap<String, Hash>) -> String {
    files.iter().map(|(p, h)| format!("{h}  {}\n", encode_path(p))).collect()
}

/// `bag-info.txt`: the fields in order, `Payload-Oxum` (octets.files of
/// the payload) among them so a validator notices a missing file early.
pub fn bag_info_text(fields: &[(&str, String)], payload_octets: u64, payload_files: u64) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        // A value never spans lines here: line breaks become spaces.
        out.push_str(&format!("{k}: {}\n", v.replace(['\n', '\r'], " ")));
    }
    out.push_str(&format!("Payload-Oxum: {payload_octets}.{payload_files}\n"));
    out
}

/// Read a manifest: path → lowercase hex checksum. A line that is not
/// `checksum whitespace path`, or a path that leaves the bag, is a flaw.
pub fn parse_manifest(name: &str, text: &str) -> Result<BTreeMap<String, String>, Line> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            Line::flaw(
                "bag_manifest_unreadable",
                format!("{name} 第 {} 行无法读取：{line:?}", n + 1),
                format!("{name} line {} cannot be read: {line:?}", n + 1),
            )
        };
        let (sum, path) = line.split_once([' ', '\t']).ok_or_else(bad)?;
        let path = decode_path(path.trim_start());
        if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
            return Err(bad());
        }
        if path.starts_with('/') || path.split('/').any(|s| s == ".." || s == "." || s.is_empty()) {
            return Err(Line::flaw(
                "bag_manifest_path",
                format!("{name} 第 {} 行的路径越出了包：{path:?}", n + 1),
                format!("{name} line {}: the path leaves the bag: {path:?}", n + 1),
            ));
        }
        if out.insert(path.clone(), sum.to_ascii_lowercase()).is_some() {
            return Err(Line::flaw(
                "bag_manifest_duplicate",
                format!("{name} 两次列出 {path}"),
                format!("{name} lists {path} twice"),
            ));
        }
    }
    Ok(out)
}

/// The bag declaration: version 1.0 (or 0.97, which RFC 8493 validators
/// also read) and UTF-8 tag files.
pub fn check_declaration(text: &str) -> Option<Line> {
    let mut version = None;
    let mut encoding = None;
    for l in text.lines() {
        if let Some((k, v)) = l.split_once(':') {
            match k.trim() {
                "BagIt-Version" => version = Some(v.trim().to_owned()),
                "Tag-File-Character-Encoding" => encoding = Some(v.trim().to_owned()),
                _ => {}
            }
        }
    }
    let ok = matches!(version.as_deref(), Some("1.0" | "0.97"))
        && encoding.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("UTF-8"));
    (!ok).then(|| {
        Line::flaw(
            "bag_declaration",
            format!("bagit.txt 不是 BagIt 1.0 的 UTF-8 声明：{text:?}"),
            format!("bagit.txt is not a BagIt 1.0 UTF-8 declaration: {text:?}"),
        )
    })
}

/// `Payload-Oxum` against the payload as found, if the bag states it.
pub fn check_payload_oxum(bag_info: &str, octets: u64, files: u64) -> Option<Line> {
    let stated = bag_info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "Payload-Oxum").then(|| v.trim().to_owned())
    })?;
    let found = format!("{octets}.{files}");
    (stated != found).then(|| {
        Line::flaw(
            "bag_payload_oxum",
            format!("bag-info.txt 称数据部分为 {stated}（字节.文件数），实际为 {found}"),
            format!("bag-info.txt states the payload is {stated} (octets.files); found {found}"),
        )
    })
}

/// A manifest against the files found: every file listed, every listed
/// file there, every checksum matching. `found` holds exactly the files
/// the manifest must cover (the payload for `manifest-sha256.txt`, the tag
/// files for the tag manifest).
pub fn check_manifest(
    name: &str,
    listed: &BTreeMap<String, String>,
    found: &BTreeMap<String, Hash>,
) -> Vec<Line> {
    let mut out = Vec::new();
    for (path, sum) in listed {
        match found.get(path) {
            None => out.push(Line::flaw(
                "bag_file_missing",
                format!("{name} 列出的 {path} 不在包中"),
                format!("{path}, listed in {name}, is not in the bag"),
            )),
            Some(h) if h.to_hex() != *sum => out.push(Line::flaw(
                "bag_file_altered",
                format!("{path} 的 SHA-256 与 {name} 不符：文件已被改动"),
                format!("{path} does not match its SHA-256 in {name}: the file was altered"),
            )),
            Some(_) => {}
        }
    }
    for path in found.keys().filter(|p| !listed.contains_key(*p)) {
        out.push(Line::flaw(
            "bag_file_unlisted",
            format!("{path} 在包中但 {name} 未列出：文件是后加的"),
            format!("{path} is in the bag but not in {name}: the file was added"),
        ));
    }
    out
}
