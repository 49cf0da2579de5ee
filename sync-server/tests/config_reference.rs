//! The configuration reference (`docs/configuration.md`) and the file the
//! package installs as `/etc/jzqy/sync-server.toml` (`packaging/sync-server.toml`),
//! checked against the code (issue 20). The key paths and defaults come from
//! `Config::default()` serialised, so a key added, renamed or removed, or a
//! default changed, fails here until both files say the same; and every
//! environment variable the reference names is set for real and must change
//! its key.

#![allow(clippy::result_large_err)] // figment's test jail returns its own error type

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use sync_server::config::Config;

const DOCS: &str = "docs/configuration.md";
const PACKAGED: &str = "packaging/sync-server.toml";
const THIS: &str = "sync-server/tests/config_reference.rs";

/// Where the packaged file departs from the built-in defaults, and to what
/// (as TOML writes the value). Anything else it sets must equal the default,
/// so a default changed in the code cannot silently diverge from the file.
const PRODUCTION: &[(&str, &str)] = &[
    ("server.bind", r#""0.0.0.0:8443""#),
    ("server.data_dir", r#""/var/lib/jzqy""#),
    ("backup.dir", r#""/var/backups/jzqy""#),
    ("log.format", r#""json""#),
];

/// A valid value other than the default, as an environment variable gives
/// it, for the keys where one cannot be derived from the default (text,
/// lists, unset paths; numbers get +1 or half, booleans the other one), and
/// the keys that must be set beside it for the configuration to be valid.
type Sample = (&'static str, &'static str, &'static [(&'static str, &'static str)]);
const SAMPLES: &[Sample] = &[
    ("server.bind", "0.0.0.0:9443", &[]),
    ("server.public_url", "https://jzqy.example.gov.cn:8443", &[]),
    ("server.data_dir", "/var/lib/jzqy", &[]),
    ("server.trusted_proxies", r#"["10.0.0.0/24", "::1"]"#, &[]),
    ("tls.mode", "self-signed", &[]),
    ("tls.cert", "/etc/jzqy/tls/fullchain.pem", &[]),
    ("tls.key", "/etc/jzqy/tls/privkey.pem", &[]),
    ("tls.names", r#"["jzqy.example.gov.cn"]"#, &[]),
    ("storage.database", "postgres://jzqy:pw@db.internal:5432/jzqy", &[]),
    (
        "storage.read_replica",
        "postgres://jzqy:pw@replica.internal:5432/jzqy",
        &[("storage.database", "postgres://jzqy:pw@db.internal:5432/jzqy")],
    ),
    ("storage.database_ca", "/etc/jzqy/db-ca.pem", &[]),
    ("storage.media_dir", "/srv/jzqy/media", &[]),
    ("storage.media_bucket", "s3://jzqy-media/prod", &[]),
    ("storage.face_key_file", "/etc/jzqy/face-photos.key", &[]),
    ("storage.s3.endpoint", "https://oss-cn-hangzhou.aliyuncs.com", &[]),
    ("storage.s3.region", "cn-hangzhou", &[]),
    ("storage.s3.access_key_id", "LTAI5tExampleKeyId", &[]),
    ("storage.s3.secret_access_key", "example-secret", &[]),
    ("log.filter", "info,sync_server=debug", &[]),
    ("log.format", "json", &[]),
    ("console.map_tiles", "https://tiles.example.gov.cn/{z}/{x}/{y}.png", &[]),
    ("console.map_tiles_datum", "gcj02", &[]),
    ("backup.dir", "/var/backups/jzqy", &[]),
    ("backup.key_passphrase_file", "/etc/jzqy/backup-passphrase", &[]),
    ("reports.font_file", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", &[]),
    ("faces.models_dir", "/usr/share/jzqy/models", &[]),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate sits in the workspace").to_owned()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(workspace().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every key path of a configuration with its value as serde writes it
/// (`None` is `null`).
fn keys_of(c: &Config) -> BTreeMap<String, Value> {
    fn flatten(v: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    flatten(v, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
                }
            }
            _ => {
                out.insert(path.to_owned(), v.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    flatten(&serde_json::to_value(c).expect("a configuration serialises"), "", &mut out);
    out
}

fn defaults() -> BTreeMap<String, Value> {
    keys_of(&Config::default())
}

/// A value as written in TOML (JSON's string escapes are TOML's).
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "(unset)".into(),
        Value::String(s) => serde_json::to_string(s).expect("text serialises"),
        Value::Array(a) => format!("[{}]", a.iter().map(literal).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// The reference's Default column.
fn default_cell(v: &Value) -> String {
    if v.is_null() { "*unset*".into() } else { format!("`{}`", literal(v)) }
}

fn env_var(key: &str) -> String {
    format!("JZQY_{}", key.replace('.', "__").to_uppercase())
}

/// `oversight.project.min_samplings` → `oversight.project`.
fn section_of(key: &str) -> &str {
    key.rsplit_once('.').map_or("", |(s, _)| s)
}

/// One row of a key table in the reference.
struct Row {
    line: usize,
    /// The `[section]` of the heading the table is under, if any.
    section: Option<String>,
    key: String,
    default: String,
    env: String,
}

/// The rows of every table whose header starts `| Key | Default |`, with
/// what is malformed about the others.
fn reference_rows(text: &str) -> (Vec<Row>, Vec<String>) {
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    let (mut section, mut in_table, mut in_code) = (None, false, false);
    for (i, line) in text.lines().enumerate() {
        let (n, t) = (i + 1, line.trim());
        if t.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if t.starts_with('#') {
            section = t.split_once("`[").and_then(|(_, r)| r.split_once("]`")).map(|(s, _)| s.to_owned());
            in_table = false;
            continue;
        }
        if !t.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<&str> = t.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() >= 2 && cells[0] == "Key" && cells[1] == "Default" {
            in_table = true;
            continue;
        }
        if !in_table || cells.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
            continue;
        }
        if cells.len() != 4 {
            problems.push(format!(
                "{DOCS}:{n}: a key row has {} cells, not 4 (key, default, variable, meaning); \
                 write a `|` inside a cell as `\\|`",
                cells.len()
            ));
            continue;
        }
        let Some(key) = cells[0].strip_prefix('`').and_then(|k| k.strip_suffix('`')) else {
            problems.push(format!("{DOCS}:{n}: the key {:?} must be written in backticks", cells[0]));
            continue;
        };
        rows.push(Row {
            line: n,
            section: section.clone(),
            key: key.to_owned(),
            default: cells[1].to_owned(),
            env: cells[2].to_owned(),
        });
    }
    (rows, problems)
}

fn fail_with(problems: &[String], what: &str) {
    assert!(problems.is_empty(), "{what}:\n\n{}\n", problems.join("\n\n"));
}

/// (a) Every key of `Config` has one row, under its section's heading, with
/// its default as `Config::default()` writes it and its variable.
#[test]
fn the_reference_documents_every_key_with_its_default_and_variable() {
    let (rows, mut problems) = reference_rows(&read(DOCS));
    for (key, value) in defaults() {
        let want = (default_cell(&value), format!("`{}`", env_var(&key)));
        let section = section_of(&key);
        let mine: Vec<&Row> = rows.iter().filter(|r| r.key == key).collect();
        let Some(row) = mine.first() else {
            problems.push(format!(
                "{DOCS} has no row for `{key}`. Add one to the table under the heading `[{section}]` \
                 (make the heading and its table if there is none):\n\
                 | `{key}` | {} | {} | what it means; what changing it means (requirement IDs where it \
                 keeps a rule) |",
                want.0, want.1
            ));
            continue;
        };
        if mine.len() > 1 {
            let lines: Vec<String> = mine.iter().map(|r| r.line.to_string()).collect();
            problems.push(format!(
                "{DOCS}: `{key}` has {} rows (lines {}): keep one",
                mine.len(),
                lines.join(", ")
            ));
        }
        if row.default != want.0 {
            problems.push(format!(
                "{DOCS}:{}: the default of `{key}` is {} (as Config::default() writes it), the row says {}: \
                 correct the Default cell, and check its text and {PACKAGED} still say what the new \
                 default means",
                row.line, want.0, row.default
            ));
        }
        if row.env != want.1 {
            problems.push(format!(
                "{DOCS}:{}: the variable of `{key}` is {}, the row says {}",
                row.line, want.1, row.env
            ));
        }
        if row.section.as_deref() != Some(section) {
            problems.push(format!(
                "{DOCS}:{}: the row of `{key}` is under {}; move it to the table under the heading `[{section}]`",
                row.line,
                row.section.as_ref().map_or("no `[section]` heading".into(), |s| format!("`[{s}]`"))
            ));
        }
    }
    fail_with(&problems, "the configuration reference is behind the code");
}

/// (b) No row names a key `Config` does not have (renamed or removed).
#[test]
fn the_reference_has_no_row_for_a_key_that_does_not_exist() {
    let keys = defaults();
    let (rows, _) = reference_rows(&read(DOCS));
    assert!(rows.len() > 50, "{DOCS}: found only {} key rows; did the table header change?", rows.len());
    let problems: Vec<String> = rows
        .iter()
        .filter(|r| !keys.contains_key(&r.key))
        .map(|r| {
            format!(
                "{DOCS}:{}: `{}` is not a key of sync_server::config::Config (renamed or removed?): \
                 remove the row or correct the key",
                r.line, r.key
            )
        })
        .collect();
    fail_with(&problems, "the configuration reference documents keys the code does not have");
}

/// What the packaged file says about each key: set (`key = value`) or left
/// unset (`# key = value`), with its line.
struct Mentions {
    set: BTreeMap<String, usize>,
    commented: BTreeMap<String, usize>,
}

fn key_of_line(t: &str) -> Option<&str> {
    let (k, _) = t.split_once(" = ")?;
    let k = k.trim_end();
    (k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    .then_some(k)
}

fn packaged_mentions(text: &str) -> (Mentions, Vec<String>) {
    let mut m = Mentions { set: BTreeMap::new(), commented: BTreeMap::new() };
    let mut problems = Vec::new();
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let (n, t) = (i + 1, line.trim());
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_owned();
            continue;
        }
        let (commented, body) = match t.strip_prefix('#') {
            Some(rest) => (true, rest.strip_prefix(' ').unwrap_or(rest)),
            None => (false, t),
        };
        let Some(k) = key_of_line(body) else { continue };
        let key = format!("{section}.{k}");
        let into = if commented { &mut m.commented } else { &mut m.set };
        if let Some(first) = into.insert(key.clone(), n) {
            problems.push(format!("{PACKAGED}:{n}: `{key}` again (first on line {first}): keep one"));
        }
    }
    (m, problems)
}

fn load_in_jail(jail: &mut figment::Jail, name: &str, text: &str) -> Result<Config, String> {
    let path = jail.directory().join(name);
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Config::load(Some(&path)).map_err(|e| e.to_string())
}

/// (c) The packaged file loads, names every key (set, or `# key = …` when
/// it has no default), and departs from the defaults only as `PRODUCTION`
/// says; each `# key = …` example loads when uncommented.
#[test]
fn the_packaged_file_loads_names_every_key_and_departs_from_the_defaults_only_where_listed() {
    let text = read(PACKAGED);
    let keys = defaults();
    let (m, mut problems) = packaged_mentions(&text);
    for (key, value) in &keys {
        let (set, commented) = (m.set.get(key), m.commented.get(key));
        let section = section_of(key);
        let name = &key[section.len() + 1..];
        match (set, commented) {
            (None, None) if value.is_null() => problems.push(format!(
                "{PACKAGED} does not mention `{key}`: add, under [{section}], its comment and\n# {name} = <an example>"
            )),
            (None, None) => problems.push(format!(
                "{PACKAGED} does not mention `{key}`: add, under [{section}], its comment and\n{name} = {}",
                literal(value)
            )),
            (Some(a), Some(b)) => problems.push(format!(
                "{PACKAGED}: `{key}` is both set (line {a}) and commented out (line {b}): keep one"
            )),
            _ => {}
        }
    }
    for (key, line) in m.set.iter().chain(&m.commented) {
        if !keys.contains_key(key) {
            problems.push(format!(
                "{PACKAGED}:{line}: `{key}` is not a key of sync_server::config::Config (renamed or removed, \
                 or under the wrong [section]?)"
            ));
        }
    }
    for (key, _) in PRODUCTION {
        if !keys.contains_key(*key) {
            problems.push(format!("PRODUCTION in {THIS} lists `{key}`, which is not a key: remove it"));
        }
    }

    let mut loaded = Err(String::new());
    let mut examples = Vec::new();
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        loaded = load_in_jail(jail, "sync-server.toml", &text);
        let lines: Vec<&str> = text.lines().collect();
        for (key, n) in &m.commented {
            let mut edited = lines.clone();
            let uncommented = lines[n - 1].trim().trim_start_matches('#').trim_start().to_owned();
            edited[n - 1] = &uncommented;
            let r = load_in_jail(jail, "example.toml", &edited.join("\n"));
            examples.push((key.clone(), *n, r.map(|c| keys_of(&c).get(key).cloned())));
        }
        Ok(())
    });
    for (key, n, r) in examples {
        match r {
            Ok(Some(v)) if !v.is_null() => {}
            Ok(_) => problems.push(format!("{PACKAGED}:{n}: uncommenting the example does not set `{key}`")),
            Err(e) => {
                problems.push(format!("{PACKAGED}:{n}: uncommenting the example of `{key}` fails: {e}"))
            }
        }
    }
    match loaded {
        Err(e) => problems.push(format!("{PACKAGED} does not load: {e}")),
        Ok(c) => {
            let got = keys_of(&c);
            for (key, default) in &keys {
                let value = literal(&got[key]);
                let listed = PRODUCTION.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
                match listed {
                    None if got[key] != *default => problems.push(format!(
                        "{PACKAGED} sets `{key}` to {value}, but the built-in default is {}. Set it back \
                         to the default; or, if the package is meant to differ there, add\n    (\"{key}\", \
                         r#\"{value}\"#),\nto PRODUCTION in {THIS}, say why in the file's comment, and name \
                         it in {DOCS}'s section Production",
                        literal(default)
                    )),
                    Some(_) if got[key] == *default => problems.push(format!(
                        "PRODUCTION in {THIS} lists `{key}`, but {PACKAGED} leaves it at the default {value}: \
                         remove it from PRODUCTION, or set it in the file"
                    )),
                    Some(want) if value != want => problems.push(format!(
                        "{PACKAGED} sets `{key}` to {value}, PRODUCTION in {THIS} says {want}: make them agree \
                         (the package's directories and the systemd unit depend on it)"
                    )),
                    _ => {}
                }
            }
        }
    }
    fail_with(&problems, "the packaged configuration file is out of step with the code");
}

/// Setting one key through its environment variable: the variable, what it
/// says, and the configuration expected back (the defaults with that key,
/// and any set beside it, changed).
struct Case {
    key: String,
    var: String,
    raw: String,
    beside: Vec<(String, String)>,
    want: BTreeMap<String, Value>,
}

/// A valid value for `key` other than its default, from `SAMPLES` or
/// derived from the default.
fn case(key: &str, var: String, keys: &BTreeMap<String, Value>) -> Result<Case, String> {
    let default = &keys[key];
    let sample = SAMPLES.iter().find(|(k, ..)| *k == key);
    let derived = match default {
        Value::Bool(b) => Some(Value::Bool(!b)),
        Value::Number(n) if n.is_u64() => n.as_u64().map(|v| Value::from(v + 1)),
        Value::Number(n) if n.is_i64() => n.as_i64().map(|v| Value::from(v + 1)),
        Value::Number(n) => n.as_f64().map(|v| Value::from(v / 2.0)),
        _ => None,
    };
    let (raw, expected, beside) = match (derived, sample) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "SAMPLES in {THIS} has `{key}`, whose value is derived from its default: remove it"
            ));
        }
        (None, None) => {
            return Err(format!(
                "`{key}` has no sample: add (\"{key}\", \"<a valid value other than {}>\", &[]) to SAMPLES in {THIS}",
                literal(default)
            ));
        }
        (Some(v), None) => (v.to_string(), v, &[][..]),
        (None, Some((_, raw, beside))) => {
            let expected = match default {
                Value::Array(_) => serde_json::from_str(raw).map_err(|e| format!("`{key}`: {raw}: {e}"))?,
                _ => Value::String((*raw).to_owned()),
            };
            ((*raw).to_owned(), expected, *beside)
        }
    };
    let mut want = keys.clone();
    want.insert(key.to_owned(), expected);
    for (k, v) in beside {
        want.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    let beside = beside.iter().map(|(k, v)| (env_var(k), (*v).to_owned())).collect();
    Ok(Case { key: key.to_owned(), var, raw, beside, want })
}

/// (d) Each variable the reference names, set to another valid value, loads
/// and changes exactly its key (a misspelt variable would be refused).
#[test]
fn every_variable_in_the_reference_sets_its_key() {
    let keys = defaults();
    let (rows, _) = reference_rows(&read(DOCS));
    let mut problems = Vec::new();
    for (k, ..) in SAMPLES {
        if !keys.contains_key(*k) {
            problems.push(format!("SAMPLES in {THIS} has `{k}`, which is not a key: remove it"));
        }
    }
    let mut cases = Vec::new();
    for row in rows.iter().filter(|r| keys.contains_key(&r.key)) {
        match case(&row.key, row.env.trim_matches('`').to_owned(), &keys) {
            Ok(c) => cases.push(c),
            Err(e) => problems.push(e),
        }
    }
    let mut results = Vec::new();
    figment::Jail::expect_with(|jail| {
        for c in &cases {
            jail.clear_env();
            jail.set_env(&c.var, &c.raw);
            for (var, v) in &c.beside {
                jail.set_env(var, v);
            }
            results.push(Config::load(None).map(|c| keys_of(&c)).map_err(|e| e.to_string()));
        }
        Ok(())
    });
    for (c, r) in cases.iter().zip(results) {
        let Case { key, var, raw, want, .. } = c;
        match r {
            Err(e) => problems.push(format!("{var}={raw}: does not load: {e}")),
            Ok(got) if got != *want => {
                let diff: Vec<String> = want
                    .keys()
                    .filter(|k| got.get(*k) != want.get(*k))
                    .map(|k| format!("`{k}` = {} (expected {})", literal(&got[k]), literal(&want[k])))
                    .collect();
                problems.push(format!("{var}={raw} did not set `{key}` alone: {}", diff.join(", ")));
            }
            Ok(_) => {}
        }
    }
    fail_with(&problems, "environment variables of the reference do not do what it says");
}

/// (e) Every TOML example in the reference (the production files) loads.
#[test]
fn every_toml_example_in_the_reference_loads() {
    let text = read(DOCS);
    let mut blocks: Vec<(usize, String)> = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.trim()) {
            (None, "```toml") => open = Some((i + 1, String::new())),
            (Some(_), "```") => blocks.extend(open.take()),
            (Some((_, b)), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    assert!(!blocks.is_empty(), "{DOCS} has no ```toml examples; the section Production should have some");
    let mut results = Vec::new();
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        for (line, block) in &blocks {
            results.push((*line, load_in_jail(jail, "example.toml", block)));
        }
        Ok(())
    });
    let problems: Vec<String> = results
        .into_iter()
        .filter_map(|(line, r)| r.err().map(|e| format!("{DOCS}:{line}: the example does not load: {e}")))
        .collect();
    fail_with(&problems, "examples in the configuration reference do not load");
}
