//! The contract with the screens (`app/`), kept from drifting by tests.
//!
//! - The TypeScript declarations of every type a command takes or returns
//!   are generated from the Rust types (ts-rs: `custody-core` and
//!   `field-engine` derive them behind their `ts` feature, this crate under
//!   `cfg(test)`) into `app/src/contract/`, which `app/src/api.ts` imports.
//!   The committed files must be exactly what the Rust types generate.
//! - Every command the screens invoke is in the `handlers!` list of
//!   `lib.rs`, and every command in that list is one the screens invoke.
//!
//! After changing a type, regenerate with [`REGENERATE`]. Tests only: the
//! declarations derive under `cfg(test)` and nothing here ships.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use ts_rs::{Config, TS};

/// The one command that rewrites `app/src/contract/` from the Rust types.
const REGENERATE: &str = "UPDATE_CONTRACT=1 cargo test -p field-app --lib contract";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn contract_dir() -> PathBuf {
    repo().join("app/src/contract")
}

/// Every type a command takes or returns, with every type they name.
fn export(dir: &Path) -> Result<(), ts_rs::ExportError> {
    // JSON numbers: the shapes carry milliseconds and sizes, well within 2^53.
    let cfg = Config::new().with_large_int("number").with_out_dir(dir);
    macro_rules! export {
        ($($t:ty),* $(,)?) => { $( <$t>::export_all(&cfg)?; )* };
    }
    export!(
        // The shell's own (commands.rs, camera.rs, location.rs, pdf.rs, error.rs).
        crate::error::CmdError,
        crate::commands::AppInfo,
        crate::camera::Purpose,
        crate::camera::CameraEvent,
        crate::commands::LivenessView,
        crate::commands::Captured,
        crate::location::CollectedView,
        crate::commands::SamplingForm,
        crate::commands::HandshakeQr,
        crate::commands::WitnessForm,
        crate::commands::CommissionForm,
        crate::commands::ReceiptForm,
        crate::pdf::PdfFile,
        // The engine's.
        field_engine::SyncStatus,
        field_engine::SyncReport,
        field_engine::Created,
        field_engine::OpenSampling,
        field_engine::PlanItemView,
        field_engine::RecordView,
        field_engine::handshake::HandshakeOffer,
        // The protocol's and the record's (custody-core).
        custody_core::protocol::DeviceProfile,
        custody_core::protocol::TrailResponse,
        custody_core::protocol::ConsoleLoginInfo,
    );
    Ok(())
}

/// `*.ts` files of a directory: name → content.
fn ts_files(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ts"))
        .map(|p| {
            let name = p.file_name().expect("a file").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        })
        .collect()
}

/// What the Rust types generate now, with `index.ts` re-exporting each type.
fn generated() -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    export(dir.path()).expect("ts-rs exports every contract type");
    for sub in std::fs::read_dir(dir.path()).expect("exported").flatten() {
        assert!(
            !sub.path().is_dir(),
            "a contract type was exported into a sub-directory ({}): keep them flat",
            sub.path().display()
        );
    }
    let mut files = ts_files(dir.path());
    let mut index = format!(
        "// Generated from the Rust types by src-tauri/src/contract.rs: do not edit.\n\
         // Regenerate: {REGENERATE}\n"
    );
    for name in files.keys() {
        let ty = name.trim_end_matches(".ts");
        index.push_str(&format!("export type {{ {ty} }} from './{ty}';\n"));
    }
    files.insert("index.ts".into(), index);
    files
}

#[test]
fn the_screens_types_are_generated_from_the_rust_types() {
    let want = generated();
    let dir = contract_dir();
    if std::env::var_os("UPDATE_CONTRACT").is_some() {
        for old in ts_files(&dir).keys() {
            std::fs::remove_file(dir.join(old)).expect("remove a stale contract file");
        }
        std::fs::create_dir_all(&dir).expect("contract directory");
        for (name, content) in &want {
            std::fs::write(dir.join(name), content).expect("write a contract file");
        }
    }
    let have = ts_files(&dir);
    let names: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    let mut drift = Vec::new();
    for name in names {
        match (want.get(name), have.get(name)) {
            (Some(w), Some(h)) if w == h => {}
            (Some(_), Some(_)) => drift.push(format!("  changed: {name}")),
            (Some(_), None) => drift.push(format!("  missing: {name}")),
            (None, Some(_)) => drift.push(format!("  no longer generated: {name}")),
            (None, None) => unreachable!(),
        }
    }
    assert!(
        drift.is_empty(),
        "app/src/contract/ differs from what the Rust types generate:\n{}\n\
         The screens would read shapes the shell no longer sends. Regenerate with\n  {REGENERATE}\n\
         then fix what `npm --prefix app run build` reports.",
        drift.join("\n")
    );
}

/// The commands of the `handlers!` list in lib.rs.
fn handled() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(repo().join("src-tauri/src/lib.rs")).expect("lib.rs");
    let start = lib.find("macro_rules! handlers").expect("the handlers! macro");
    let end = start + lib[start..].find("\n}\n").expect("the end of handlers!");
    lib[start..end]
        .split("$crate::commands::")
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .collect()
}

/// The command names in `invoke[<…>]('name'` calls of one source file.
fn invoked_in(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in source.match_indices("invoke") {
        let mut rest = source[at + "invoke".len()..].trim_start();
        if let Some(generic) = rest.strip_prefix('<') {
            // Skip the type argument, which may nest (`invoke<Array<X>>`).
            let mut depth = 1;
            let Some(close) = generic.char_indices().find_map(|(i, c)| {
                depth += match c {
                    '<' => 1,
                    '>' => -1,
                    _ => 0,
                };
                (depth == 0).then_some(i)
            }) else {
                continue;
            };
            rest = generic[close + 1..].trim_start();
        }
        let Some(args) = rest.strip_prefix('(') else { continue };
        let args = args.trim_start();
        let Some(quote) = args.chars().next().filter(|c| matches!(c, '\'' | '"' | '`')) else { continue };
        let name: String = args[1..].chars().take_while(|c| *c != quote).collect();
        out.push(name);
    }
    out
}

/// Every command the front end invokes (all of `app/src`).
fn invoked() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("app sources").flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "ts" || x == "tsx") {
                let source = std::fs::read_to_string(&p).expect("a source file");
                out.extend(invoked_in(&source));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&repo().join("app/src"), &mut out);
    out
}

#[test]
fn invocations_are_found_with_or_without_a_type_argument() {
    let src = "invoke<Profile | null>('profile'); invoke('camera_pull'); invoke<Array<X>>(\n 'history', {})\n\
               // a failed `invoke` rejected\n invoke<{ text: string }>(\"handshake_qr\")";
    assert_eq!(invoked_in(src), ["profile", "camera_pull", "history", "handshake_qr"]);
}

#[test]
fn the_screens_invoke_exactly_the_commands_the_shell_handles() {
    let handled = handled();
    let invoked = invoked();
    assert!(handled.len() > 20, "the handlers! list was not read: {handled:?}");
    let unknown: Vec<_> = invoked.difference(&handled).collect();
    let unused: Vec<_> = handled.difference(&invoked).collect();
    assert!(unknown.is_empty(), "app/ invokes commands lib.rs's handlers! does not list: {unknown:?}");
    assert!(unused.is_empty(), "handlers! lists commands app/ never invokes: {unused:?}");
}
