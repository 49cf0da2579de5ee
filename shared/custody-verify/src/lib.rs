//! Reading and writing the archive's BagIt bag (RFC 8493) on disk (R14).
//!
//! The checks themselves are `custody_core::archive` (pure); this crate
//! walks the directory, hashes every file (streaming: media run to
//! gigabytes), and hands the core what it found. It depends on nothing
//! but the core, so the verifier built from it runs with no server, no
//! database and no network — what an archive or a court has in decades.
//! The server's `admin export` writes its bags with [`seal_bag`], so the
//! writer and the reader of the manifests are one piece of code.

use custody_core::archive::bagit::{
    self, BAG_INFO_FILE, DECLARATION, DECLARATION_FILE, MANIFEST_FILE, TAG_MANIFEST_FILE,
};
use custody_core::archive::check::{self, Seen};
use custody_core::archive::{Answer, INDEX_FILE, Line};
use custody_core::crypto::{Hash, Hasher, PublicKey};
use custody_core::log::{Receipt, SignedCheckpoint};
use custody_core::protocol::ConsistencyResponse;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What the reader brings besides the bag.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The published system key(s); empty, the bag's own are used and named.
    pub trusted: Vec<PublicKey>,
    /// Checkpoints seen elsewhere: a checkpoint, a receipt or a consistency
    /// answer as JSON files, or other bags.
    pub seen: Vec<PathBuf>,
}

/// SHA-256 and size of a file, read in blocks.
pub fn hash_file(path: &Path) -> io::Result<(Hash, u64)> {
    let mut f = fs::File::open(path)?;
    let mut h = Hasher::default();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((h.finish(), size))
}

/// Every regular file under `dir`, as `/`-separated paths relative to the
/// bag. A symbolic link or anything else that is not a plain file or
/// directory is refused: a bag must hold its bytes, not point elsewhere.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>, odd: &mut Vec<String>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let t = e.file_type()?;
        let path = e.path();
        let rel = path
            .strip_prefix(root)
            .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
            .unwrap_or_default();
        if t.is_dir() {
            walk(root, &path, out, odd)?;
        } else if t.is_file() {
            out.push(rel);
        } else {
            odd.push(rel);
        }
    }
    Ok(())
}

fn hash_all(root: &Path, paths: &[String]) -> io::Result<BTreeMap<String, (Hash, u64)>> {
    paths.iter().map(|p| Ok((p.clone(), hash_file(&root.join(p))?))).collect()
}

/// Write the bag's tag files around an existing `data/`: the declaration,
/// the payload manifest, `bag-info.txt` (the fields given, with
/// `Payload-Oxum`) and the tag manifest.
pub fn seal_bag(dir: &Path, info: &[(&str, String)]) -> io::Result<()> {
    let mut paths = Vec::new();
    let mut odd = Vec::new();
    walk(dir, &dir.join("data"), &mut paths, &mut odd)?;
    if let Some(o) = odd.first() {
        return Err(io::Error::other(format!("not a plain file: {o}")));
    }
    let payload = hash_all(dir, &paths)?;
    let octets: u64 = payload.values().map(|(_, s)| *s).sum();
    let sums: BTreeMap<String, Hash> = payload.iter().map(|(p, (h, _))| (p.clone(), *h)).collect();
    fs::write(dir.join(DECLARATION_FILE), DECLARATION)?;
    fs::write(dir.join(MANIFEST_FILE), bagit::manifest_text(&sums))?;
    fs::write(dir.join(BAG_INFO_FILE), bagit::bag_info_text(info, octets, payload.len() as u64))?;
    let mut tags = BTreeMap::new();
    for f in [DECLARATION_FILE, BAG_INFO_FILE, MANIFEST_FILE] {
        tags.insert(f.to_owned(), hash_file(&dir.join(f))?.0);
    }
    fs::write(dir.join(TAG_MANIFEST_FILE), bagit::manifest_text(&tags))
}

/// Read what the reader saw elsewhere: a bag directory, or a JSON file
/// holding a consistency answer, a signed checkpoint or a receipt.
pub fn load_seen(path: &Path) -> Result<Seen, String> {
    if path.is_dir() {
        let bytes = fs::read(path.join(INDEX_FILE)).map_err(|e| format!("{}: {e}", path.display()))?;
        return check::parse_index(&bytes).map(|i| Seen::Archive(Box::new(i))).map_err(|l| l.en);
    }
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Ok(x) = serde_json::from_slice::<ConsistencyResponse>(&bytes) {
        return Ok(Seen::Extension(x));
    }
    if let Ok(c) = serde_json::from_slice::<SignedCheckpoint>(&bytes) {
        return Ok(Seen::Checkpoint(c));
    }
    if let Ok(r) = serde_json::from_slice::<Receipt>(&bytes) {
        return Ok(Seen::Checkpoint(r.checkpoint));
    }
    Err(format!(
        "{}: not a signed checkpoint, a receipt, a consistency answer or a bag / 不是检查点、回执、一致性证明或包",
        path.display()
    ))
}

/// Check the bag at `dir`: BagIt first (declaration, manifests, payload
/// size), then everything the index claims. An `Err` is only for a bag
/// that cannot be read at all (no such directory) or a `seen` file that
/// is not one; every flaw of the bag itself is a line of the answer.
pub fn verify_bag(dir: &Path, opts: &Options) -> Result<Answer, String> {
    let mut seen = Vec::new();
    for p in &opts.seen {
        seen.push((p.display().to_string(), load_seen(p)?));
    }
    let mut a = Answer::default();
    let mut paths = Vec::new();
    let mut odd = Vec::new();
    walk(dir, dir, &mut paths, &mut odd).map_err(|e| format!("{}: {e}", dir.display()))?;
    for o in odd {
        a.push(Line::flaw(
            "bag_not_a_file",
            format!("{o} 不是普通文件（如符号链接）：包必须自带其内容"),
            format!("{o} is not a plain file (a symbolic link?): a bag must hold its bytes"),
        ));
    }
    match fs::read_to_string(dir.join(DECLARATION_FILE)) {
        Ok(t) => a.lines.extend(bagit::check_declaration(&t)),
        Err(_) => a.push(Line::flaw("bag_declaration", "包中没有 bagit.txt", "the bag has no bagit.txt")),
    }
    let (payload_paths, tag_paths): (Vec<String>, Vec<String>) =
        paths.into_iter().partition(|p| p.starts_with("data/"));
    let payload = hash_all(dir, &payload_paths).map_err(|e| e.to_string())?;
    let sums = |m: &BTreeMap<String, (Hash, u64)>| m.iter().map(|(p, (h, _))| (p.clone(), *h)).collect();
    let mut manifests_ok = true;
    match fs::read_to_string(dir.join(MANIFEST_FILE)) {
        Ok(t) => match bagit::parse_manifest(MANIFEST_FILE, &t) {
            Ok(listed) => {
                let lines = bagit::check_manifest(MANIFEST_FILE, &listed, &sums(&payload));
                manifests_ok &= lines.is_empty();
                a.lines.extend(lines);
            }
            Err(l) => {
                manifests_ok = false;
                a.push(l)
            }
        },
        Err(_) => {
            manifests_ok = false;
            a.push(Line::flaw(
                "bag_no_manifest",
                "包中没有 manifest-sha256.txt",
                "the bag has no manifest-sha256.txt",
            ))
        }
    }
    if let Ok(t) = fs::read_to_string(dir.join(TAG_MANIFEST_FILE)) {
        let tags: Vec<String> = tag_paths.into_iter().filter(|p| !p.starts_with("tagmanifest-")).collect();
        let found = hash_all(dir, &tags).map_err(|e| e.to_string())?;
        match bagit::parse_manifest(TAG_MANIFEST_FILE, &t) {
            Ok(listed) => {
                let lines = bagit::check_manifest(TAG_MANIFEST_FILE, &listed, &sums(&found));
                manifests_ok &= lines.is_empty();
                a.lines.extend(lines);
            }
            Err(l) => {
                manifests_ok = false;
                a.push(l)
            }
        }
    }
    if let Ok(info) = fs::read_to_string(dir.join(BAG_INFO_FILE)) {
        let octets = payload.values().map(|(_, s)| *s).sum();
        a.lines.extend(bagit::check_payload_oxum(&info, octets, payload.len() as u64));
    }
    if manifests_ok {
        a.push(Line::proved(
            "bag_manifests",
            format!("BagIt 清单：{} 个数据文件的 SHA-256 全部相符，无缺无增", payload.len()),
            format!(
                "BagIt manifests: all {} payload files match their SHA-256, none missing, none added",
                payload.len()
            ),
        ));
    }
    let index = match fs::read(dir.join(INDEX_FILE)).map_err(|e| {
        Line::flaw(
            "index_missing",
            format!("无法读取 {INDEX_FILE}：{e}"),
            format!("{INDEX_FILE} cannot be read: {e}"),
        )
    }) {
        Ok(bytes) => check::parse_index(&bytes),
        Err(l) => Err(l),
    };
    match index {
        Ok(index) => {
            let mut read = |p: &str| fs::read(dir.join(p)).ok();
            let inner = check::check(&index, &payload, &mut read, &opts.trusted, &seen);
            a.lines.extend(inner.lines);
        }
        Err(l) => a.push(l),
    }
    Ok(a)
}
