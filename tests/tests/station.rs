//! R12 through the lab station: a testing machine's export folder, watched
//! by the lab's engine, against a real sync server. Machine files come from
//! the core's simulator written as machines write them (GBK and UTF-8).

mod support;

use custody_core::curve::sim::{self, CubeParams};
use custody_core::curve::{FileStyle, to_file};
use custody_core::record::{Payload, ReceiptDecision, SignedRecord, TagRead, TagReadMethod};
use custody_core::{Hash, TagCode, fixtures};
use field_engine::{CommissionInput, ReceiptInput, StationOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;
use sync_server::demo;

/// A lab phone that received the specimens tagged `serials`, by the whole
/// path: sampled, witnessed, commissioned and co-signed, then received (R6-R11).
async fn lab_that_received(server: &TestServer, serials: &[u32]) -> Phone {
    let sampler = Phone::enrolled(server, demo::SAMPLER).await;
    let witness = Phone::enrolled(server, demo::WITNESS).await;
    let lab = Phone::enrolled(server, demo::LAB_RECEIVER).await;
    let mut items = Vec::new();
    for &serial in serials {
        let s = sampler.engine.create_sampling(sampler.sampling_input(serial, 50.0, 60.0), false).unwrap();
        witness.engine.receive_handshake(&sampler.engine.handshake_qr(&s.id).unwrap()).unwrap();
        let w =
            witness.engine.create_witnessing(witness.witness_input(s.id, serial, 51.0, 60.0), false).unwrap();
        items.push((s.id, w.id));
    }
    sampler.engine.sync_once().await.unwrap();
    witness.engine.sync_once().await.unwrap();
    // The commission names the witnessings: the sampler's phone fetches them.
    sampler.engine.sync_once().await.unwrap();
    let form = CommissionInput {
        form_no: "WT-ST-1".into(),
        lab: id(demo::LAB_ORG),
        witness: id(demo::WITNESS),
        items,
    };
    let c = sampler.engine.create_commission(form, false).unwrap();
    sampler.engine.sync_once().await.unwrap();
    witness.engine.sync_once().await.unwrap();
    witness.engine.cosign(&c.id).unwrap();
    witness.engine.sync_once().await.unwrap();
    for &serial in serials {
        let tag = fixtures::tag(serial);
        let trail = lab.engine.verify_tag(tag.as_str()).await.unwrap();
        assert!(trail.ok, "{}", trail.summary_en);
        let receipt = ReceiptInput {
            tag,
            tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
            commission: c.id,
            decision: ReceiptDecision::Accepted,
        };
        lab.engine.create_receipt(receipt, false).unwrap();
    }
    let rep = lab.engine.sync_once().await.unwrap();
    assert_eq!(rep.accepted, serials.len());
    lab
}

/// A cube's curve file as a machine writes it, the tag in its header or not.
fn cube_file(seed: u64, tag: Option<&TagCode>, style: FileStyle) -> Vec<u8> {
    let mut p = CubeParams::new(150.0, 30, seed);
    p.labels.specimen = tag.map(TagCode::printed);
    p.labels.machine = Some("YAW-2000-07".into());
    to_file(&sim::cube(&p), style)
}

/// A file cut off as a machine dies mid-write: its last row short of a field.
fn cut_mid_row(whole: &[u8]) -> Vec<u8> {
    let last_separator = whole.iter().rposition(|b| *b == b',' || *b == b'\t').unwrap();
    whole[..last_separator].to_vec()
}

/// The test data records a store holds, by the curve they carry.
fn test_data_by_curve(records: impl IntoIterator<Item = SignedRecord>) -> BTreeMap<Hash, Vec<SignedRecord>> {
    let mut out: BTreeMap<Hash, Vec<SignedRecord>> = BTreeMap::new();
    for r in records {
        if let Payload::TestData(t) = &r.body().payload {
            out.entry(t.curve.expect("a station record carries its curve")).or_default().push(r.clone());
        }
    }
    out
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn now_settled() -> StationOptions {
    // The test writes whole files before the pass: nothing to wait for.
    StationOptions { settle: Duration::ZERO, ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r12_the_station_captures_machine_files_and_keeps_bad_ones() {
    let (_d, server) = world().await;
    let lab = lab_that_received(&server, &[41]).await;
    let tag = fixtures::tag(41);
    let machine = lab.dir.path().join("machine");
    std::fs::create_dir_all(&machine).unwrap();

    // Two good files: the tag in a GBK header; the tag only in a UTF-8 file's name.
    let gbk = cube_file(1, Some(&tag), FileStyle::GbkChinese);
    let utf8 = cube_file(2, None, FileStyle::Utf8English);
    std::fs::write(machine.join("cube-1.csv"), &gbk).unwrap();
    std::fs::write(machine.join(format!("{}.TXT", tag.printed().replace(' ', "-"))), &utf8).unwrap();
    // A file cut short mid-row, and one for a specimen this lab never received.
    let truncated = cut_mid_row(&cube_file(3, Some(&tag), FileStyle::GbkChinese));
    let lines = truncated.split(|b| *b == b'\n').count();
    std::fs::write(machine.join("cube-2.csv"), &truncated).unwrap();
    std::fs::write(machine.join("cube-3.csv"), cube_file(4, Some(&fixtures::tag(42)), FileStyle::GbkChinese))
        .unwrap();
    // Still being written, and not a curve file: left alone.
    std::fs::write(machine.join("cube-4.csv.part"), &gbk[..100]).unwrap();
    std::fs::write(machine.join("notes.xlsx"), b"PK").unwrap();

    let pass = lab.engine.capture_folder(&machine, &now_settled()).unwrap();
    assert_eq!(pass.captured.len(), 2, "{pass:?}");
    assert_eq!(pass.failed.len(), 2, "{pass:?}");
    assert_eq!(pass.waiting, 0);
    assert_eq!(files_in(&machine), ["cube-4.csv.part", "notes.xlsx"], "the rest left alone");
    let done = files_in(&machine.join("done"));
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!(
        files_in(&machine.join("failed")),
        ["cube-2.csv", "cube-2.csv.error.txt", "cube-3.csv", "cube-3.csv.error.txt"]
    );
    // Nothing altered either: the failed files are byte for byte the machine's.
    assert_eq!(std::fs::read(machine.join("failed/cube-2.csv")).unwrap(), truncated);

    // Why, in both languages, naming the line (truncation) or the reason.
    let why = |n: &str| std::fs::read_to_string(machine.join("failed").join(n)).unwrap();
    let cut = why("cube-2.csv.error.txt");
    assert!(cut.contains(&format!("第 {lines} 行")) && cut.contains(&format!("line {lines}")), "{cut}");
    let foreign = why("cube-3.csv.error.txt");
    assert!(foreign.contains("未在本机收样") && foreign.contains("not received"), "{foreign}");
    let (_, zh, en) = &pass.failed[0];
    assert!(zh.contains("R12") && en.contains("truncated"), "{zh} / {en}");

    // One automatic test data record per good file, its curve the raw bytes.
    let records: Vec<SignedRecord> =
        pass.captured.iter().map(|(_, id)| lab.engine.signed_record(id).unwrap().unwrap()).collect();
    let by_curve = test_data_by_curve(records);
    assert_eq!(by_curve.keys().copied().collect::<Vec<_>>(), {
        let mut k = vec![Hash::of(&gbk), Hash::of(&utf8)];
        k.sort();
        k
    });
    for r in by_curve.values().flatten() {
        let Payload::TestData(t) = &r.body().payload else { unreachable!() };
        assert!(t.automatic);
        assert_eq!(t.tag, tag);
        assert_eq!((t.test.as_str(), t.standard.as_str()), ("concrete_cube_strength", "GB/T 50081-2019"));
        assert_eq!(t.equipment.as_ref().map(|e| e.as_str()), Some("YAW-2000-07"));
    }

    // Uploaded, accepted, the curve files on the server byte for byte.
    let rep = lab.engine.sync_once().await.unwrap();
    assert_eq!((rep.accepted, rep.media_completed), (2, 2), "{rep:?}");
    for (_, id) in &pass.captured {
        assert_eq!(lab.engine.record(id).unwrap().unwrap().state, "accepted");
    }
    assert_eq!(server.state.blobs.read(&Hash::of(&gbk)).unwrap(), gbk);
    assert_eq!(server.state.blobs.read(&Hash::of(&utf8)).unwrap(), utf8);

    // The same bytes again under another name: moved to done/, not signed twice.
    std::fs::write(machine.join("cube-1.csv"), &gbk).unwrap();
    let again = lab.engine.capture_folder(&machine, &now_settled()).unwrap();
    assert_eq!(again.captured.len(), 1);
    assert_eq!(again.captured[0].1, pass.captured.iter().find(|(f, _)| f.ends_with("cube-1.csv")).unwrap().1);
    assert!(again.captured[0].0.ends_with("done/cube-1 (1).csv"), "{:?}", again.captured[0].0);
    assert_eq!(lab.engine.sync_once().await.unwrap().uploaded, 0, "nothing new to sign or send");

    // A file the machine is still writing in place waits until a pass finds
    // it as the last one left it (a long settle time: only that rule applies).
    let patient = StationOptions { settle: Duration::from_secs(3600), ..Default::default() };
    let growing = cube_file(5, Some(&tag), FileStyle::Utf8English);
    let half = growing.len() / 2;
    std::fs::write(machine.join("cube-5.csv"), &growing[..half]).unwrap();
    let first = lab.engine.capture_folder(&machine, &patient).unwrap();
    assert_eq!((first.captured.len(), first.failed.len(), first.waiting), (0, 0, 1));
    std::fs::write(machine.join("cube-5.csv"), &growing).unwrap();
    let second = lab.engine.capture_folder(&machine, &patient).unwrap();
    assert_eq!((second.captured.len(), second.waiting), (0, 1), "it grew since: still waiting");
    let third = lab.engine.capture_folder(&machine, &patient).unwrap();
    assert_eq!((third.captured.len(), third.failed.len(), third.waiting), (1, 0, 0));
    let r = lab.engine.signed_record(&third.captured[0].1).unwrap().unwrap();
    assert_eq!(test_data_by_curve([r]).keys().next(), Some(&Hash::of(&growing)), "the whole file");
    server.stop().await;
}

/// `target/debug/field-sim`, next to this test's own `deps` folder. Cargo
/// builds it for `cargo test --workspace` (field-sim has tests of its own),
/// which is what scripts/test runs.
fn field_sim() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join(format!("field-sim{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

/// How many distinct good curve files the machine writes.
const GOOD: usize = 45;

/// Every file the machine wrote, by name, with its bytes.
type Written = BTreeMap<String, Vec<u8>>;

/// `GOOD` good files over two tags in both styles, two of them written twice
/// under other names, and two truncated ones.
fn machine_files(a: &TagCode, b: &TagCode) -> (Written, Written) {
    let mut good = Written::new();
    for i in 0..GOOD as u64 {
        let (tag, style) = match i % 3 {
            0 => (Some(a), FileStyle::GbkChinese),
            1 => (Some(b), FileStyle::Utf8English),
            _ => (None, FileStyle::GbkChinese),
        };
        let bytes = cube_file(100 + i, tag, style);
        // Without a header tag, the file name says whose curve it is.
        let name =
            if tag.is_some() { format!("cube-{i:02}.csv") } else { format!("{}_{i:02}.csv", a.as_str()) };
        good.insert(name, bytes);
    }
    let copies: Vec<Vec<u8>> = good.values().take(2).cloned().collect();
    for (k, bytes) in copies.into_iter().enumerate() {
        good.insert(format!("copy-{k}.csv"), bytes);
    }
    let mut bad = Written::new();
    for k in 0..2u64 {
        bad.insert(format!("cut-{k}.csv"), cut_mid_row(&cube_file(200 + k, Some(a), FileStyle::Utf8English)));
    }
    (good, bad)
}

/// Kill -9 at deterministic "random" moments while a station captures and
/// uploads; then let it finish. Every file ends in done/ or failed/ exactly
/// once, every distinct curve is signed exactly once, on the device and on
/// the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r12_kill_9_during_capture_loses_and_doubles_nothing() {
    let Some(bin) = field_sim() else {
        eprintln!("SKIPPED: target/debug/field-sim is not built (cargo build -p field-sim)");
        return;
    };
    let help = std::process::Command::new(&bin).args(["station", "--help"]).output().unwrap();
    assert!(help.status.success(), "field-sim is stale (no `station`): cargo build -p field-sim");

    let (_d, server) = world().await;
    let lab = lab_that_received(&server, &[43, 44]).await;
    let (a, b) = (fixtures::tag(43), fixtures::tag(44));
    // field-sim keeps its engine in DATA/engine and keys in DATA/secrets; the
    // test phone's engine is DATA/data: one engine, two names.
    let data = lab.dir.path().to_owned();
    std::os::unix::fs::symlink(data.join("data"), data.join("engine")).unwrap();
    let machine = data.join("machine");
    std::fs::create_dir_all(&machine).unwrap();
    let (good, bad) = machine_files(&a, &b);
    // The machine exports while the station runs, in three batches, each
    // file as machines do: a hidden temporary name, then a rename.
    let all: Vec<(&String, &Vec<u8>)> = good.iter().chain(&bad).collect();
    let batches: Vec<Vec<(&String, &Vec<u8>)>> =
        all.chunks(all.len().div_ceil(3)).map(<[_]>::to_vec).collect();
    let export = |batch: &[(&String, &Vec<u8>)]| {
        for (name, bytes) in batch {
            let tmp = machine.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, bytes).unwrap();
            std::fs::rename(&tmp, machine.join(name)).unwrap();
        }
    };

    let station = |extra: &[&str]| {
        let mut c = std::process::Command::new(&bin);
        c.arg("--data").arg(&data).args(["station", "--dir"]).arg(&machine).args(["--settle-ms", "0"]);
        c.args(extra).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        c
    };
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..21 {
        if round % 7 == 0 {
            export(&batches[round / 7]);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Short enough to land inside a pass most times (a pass over all the
        // files takes a few hundred ms), long enough to get into one.
        let delay = Duration::from_millis(5 + x % 80);
        let mut cmd = station(&["--interval-ms", "20"]);
        let left = tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().unwrap();
            std::thread::sleep(delay);
            child.kill().unwrap(); // SIGKILL: no destructor, no flush
            child.wait().unwrap();
        });
        left.await.unwrap();
        eprintln!("round {round}: killed after {delay:?}, {} files still waiting", files_in(&machine).len());
    }
    // Then left to finish: a pass and a sync, and one more sync for any
    // upload a kill interrupted after the last pass's records were made.
    for _ in 0..2 {
        let mut cmd = station(&["--once"]);
        let status = tokio::task::spawn_blocking(move || cmd.status().unwrap()).await.unwrap();
        assert!(status.success());
    }

    // Every file ended exactly once: good ones in done/ under their own
    // names (unique names in, so no suffix), bad ones in failed/.
    assert!(files_in(&machine).is_empty(), "{:?}", files_in(&machine));
    let done = files_in(&machine.join("done"));
    assert_eq!(done, good.keys().cloned().collect::<Vec<_>>());
    for (name, bytes) in &good {
        assert_eq!(&std::fs::read(machine.join("done").join(name)).unwrap(), bytes, "{name}");
    }
    let failed: Vec<String> =
        files_in(&machine.join("failed")).into_iter().filter(|n| !n.ends_with(".error.txt")).collect();
    assert_eq!(failed, bad.keys().cloned().collect::<Vec<_>>());
    assert_eq!(done.len() + failed.len(), good.len() + bad.len(), "count in = done + failed");

    // Exactly one test data record per distinct content, on the device ...
    let distinct: std::collections::BTreeSet<Hash> = good.values().map(|b| Hash::of(b)).collect();
    assert_eq!(distinct.len(), GOOD);
    let c = rusqlite::Connection::open(data.join("data/field.sqlite")).unwrap();
    let mut st = c.prepare("SELECT envelope, state FROM own_records WHERE kind = 'test_data'").unwrap();
    let rows: Vec<(Vec<u8>, String)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert!(rows.iter().all(|(_, s)| s == "accepted"), "{:?}", rows.iter().map(|r| &r.1).collect::<Vec<_>>());
    let device = test_data_by_curve(rows.iter().map(|(e, _)| SignedRecord::from_bytes(e).unwrap()));
    assert_eq!(device.keys().copied().collect::<std::collections::BTreeSet<_>>(), distinct);
    assert!(device.values().all(|v| v.len() == 1), "a curve signed twice");
    let noted: i64 = c.query_row("SELECT count(*) FROM station_files", [], |r| r.get(0)).unwrap();
    assert_eq!(noted, GOOD as i64);

    // ... and on the server, with every curve file whole.
    let mut on_server = Vec::new();
    for tag in [&a, &b] {
        let rows = server.state.store.read(|tx| tx.records_for_tag(tag.as_str())).unwrap();
        on_server.extend(
            rows.into_iter()
                .filter(|r| r.kind == "test_data")
                .map(|r| SignedRecord::from_bytes(&r.envelope).unwrap()),
        );
    }
    let server_side = test_data_by_curve(on_server);
    assert_eq!(server_side.keys().copied().collect::<std::collections::BTreeSet<_>>(), distinct);
    assert!(server_side.values().all(|v| v.len() == 1), "a curve stored twice on the server");
    for bytes in good.values() {
        assert_eq!(&server.state.blobs.read(&Hash::of(bytes)).unwrap(), bytes);
    }
    server.stop().await;
}

/// R12: a machine that sends each test over a connection. A whole test
/// becomes a file the station captures like an export; a connection reset
/// mid-test keeps what arrived in `failed/` with its note; a station killed
/// mid-test finds its part file at the next start and keeps it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r12_a_streamed_test_is_captured_and_a_broken_stream_is_kept() {
    use field_engine::station_stream::{self, Received};
    use tokio::io::AsyncWriteExt;
    let (_d, server) = world().await;
    let lab = lab_that_received(&server, &[43]).await;
    let tag = fixtures::tag(43);
    let machine = lab.dir.path().join("machine");
    std::fs::create_dir_all(&machine).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    // A whole test: sent in pieces, as readings arrive, then closed.
    let file = cube_file(7, Some(&tag), FileStyle::GbkChinese);
    let dir = machine.clone();
    let receiving = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let first = station_stream::receive(stream, &dir).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let second = station_stream::receive(stream, &dir).await.unwrap();
        (first, second)
    });
    let mut machine_side = tokio::net::TcpStream::connect(addr).await.unwrap();
    for chunk in file.chunks(1000) {
        machine_side.write_all(chunk).await.unwrap();
    }
    machine_side.shutdown().await.unwrap();
    drop(machine_side);
    // A test cut off: half the bytes, then a reset (RST, not a close).
    let half = &file[..file.len() / 2];
    let mut broken_side = tokio::net::TcpStream::connect(addr).await.unwrap();
    broken_side.write_all(half).await.unwrap();
    broken_side.set_zero_linger().unwrap();
    drop(broken_side);
    let (first, second) = receiving.await.unwrap();

    let Received::Ready(ready) = first else { panic!("{first:?}") };
    assert_eq!(std::fs::read(&ready).unwrap(), file, "the bytes the machine sent, unaltered");
    let Received::Broken(kept) = second else { panic!("a reset is not a finished test: {second:?}") };
    assert_eq!(std::fs::read(&kept).unwrap(), half, "what arrived is kept");
    let note = std::fs::read_to_string(format!("{}.error.txt", kept.display())).unwrap();
    assert!(note.contains("中断") && note.contains("broke"), "{note}");

    // The station captures the streamed test like an exported file.
    let pass = lab.engine.capture_folder(&machine, &now_settled()).unwrap();
    assert_eq!(pass.captured.len(), 1, "{pass:?}");
    assert_eq!(pass.failed.len(), 0, "{pass:?}");
    lab.engine.sync_once().await.unwrap();
    let records = pass.captured.iter().map(|(_, id)| lab.engine.signed_record(id).unwrap().unwrap());
    let tests = test_data_by_curve(records);
    assert_eq!(tests.get(&Hash::of(&file)).map(Vec::len), Some(1), "signed once, bound to the raw bytes");

    // A station killed mid-test: its part file is kept at the next start.
    std::fs::write(machine.join(".stream-1-9.part"), half).unwrap();
    let recovered = station_stream::recover(&machine).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(std::fs::read(&recovered[0]).unwrap(), half);
    assert!(!machine.join(".stream-1-9.part").exists());
    // An empty connection leaves nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = machine.clone();
    let probe =
        tokio::spawn(async move { station_stream::receive(listener.accept().await.unwrap().0, &dir).await });
    drop(tokio::net::TcpStream::connect(addr).await.unwrap());
    assert_eq!(probe.await.unwrap().unwrap(), Received::Empty);
    assert!(files_in(&machine).iter().all(|f| !f.ends_with(".part")), "{:?}", files_in(&machine));
}
