//! Oversight (issue 16) against the real server on both back ends: a
//! sampling nobody witnesses is found missed on the server's own clock
//! (R8, A4.1) — pending while a witness phone is offline, missed once every
//! witness phone synced, late when a witnessing turns up after — and the
//! project tallies the early warnings read (R17).

#[macro_use]
mod common;

use common::browser::signed_in;
use common::*;
use custody_core::protocol::*;
use custody_core::record::SignedRecord;
use custody_core::routes;
use sync_server::demo;
use sync_server::testing::Backend;

on_each_backend!(
    r8_a_sampling_never_witnessed_is_found_missed_once_every_witness_phone_synced,
    r8_an_offline_witness_keeps_it_pending_and_its_record_decides,
    r17_r18_the_dashboard_warns_in_scope_with_the_evidence_one_click_away,
    r20_a_spot_check_draw_is_recomputed_from_its_published_inputs,
    a4_1_r12_a_specimen_received_and_never_tested_is_raised,
);

const MIN: i64 = 60_000;

/// The demo world on a back end, with the sampler's and the witness's
/// phones enrolled and synced.
async fn world(b: Backend) -> (tempfile::TempDir, TestServer, Phone, Phone) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    world_on(dir, server).await
}

async fn world_on(
    dir: tempfile::TempDir,
    server: TestServer,
) -> (tempfile::TempDir, TestServer, Phone, Phone) {
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let witness = enrolled(&server, 3, demo::WITNESS).await;
    sampler.sync_time().await;
    (dir, server, sampler, witness)
}

async fn sample(sampler: &mut Phone, serial: u32) -> SignedRecord {
    let m = media(serial, "sampler");
    let s = sampler.field_record(demo_sampling(serial), 50.0, 60.0, &as_refs(&m));
    let r = sampler.upload(&[&s]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    s
}

fn watch_state(server: &TestServer, s: &SignedRecord) -> (String, serde_json::Value) {
    let id = s.id();
    let w = server.state.store.read(|tx| tx.watch(&id)).unwrap().expect("the sampling is watched");
    (w.state, serde_json::from_str(&w.detail).unwrap())
}

fn tally(server: &TestServer, key: &str) -> i64 {
    let rows = server.state.store.read(|tx| tx.tallies()).unwrap();
    rows.iter().filter(|r| r.project == demo::PROJECT && r.key == key).map(|r| r.n).sum()
}

async fn r8_a_sampling_never_witnessed_is_found_missed_once_every_witness_phone_synced(b: Backend) {
    let (_dir, server, mut sampler, mut witness) = world(b).await;
    let inspector = enrolled(&server, 5, demo::INSPECTOR).await;
    let s = sample(&mut sampler, 301).await;
    server.oversight_pass();
    assert_eq!(watch_state(&server, &s).0, "open");
    assert_eq!(tally(&server, "state:open"), 1);

    // The window closes; the witness's phone has not synced since: nothing
    // proves no witnessing sits in its queue.
    server.clock.advance(25 * MIN);
    let report = server.oversight_pass();
    assert_eq!(report.decided, vec![(s.id(), "pending".to_owned())]);
    let (state, detail) = watch_state(&server, &s);
    assert_eq!(state, "pending");
    let unsynced = detail["unsynced"].as_array().unwrap();
    assert_eq!(unsynced.len(), 1, "{detail}");
    assert_eq!(unsynced[0]["person"], demo::WITNESS);
    // Hours later, still offline: still pending, nothing raised.
    server.clock.advance(120 * MIN);
    server.oversight_pass();
    assert_eq!(watch_state(&server, &s).0, "pending");
    let v: Vec<ViolationView> = inspector.get_json(routes::VIOLATIONS).await;
    assert!(!v.iter().any(|x| x.finding.code == "witness_missing"), "{v:?}");
    // The console names what is known: the phone that has not synced.
    let mut city = signed_in(&server, "zhaomin", Some(demo::INSPECTOR));
    let page = city
        .get(&sync_server::console::paths::fill(
            sync_server::console::paths::OVERSIGHT_PROJECT,
            demo::PROJECT,
        ))
        .await;
    assert_eq!(page.attrs("pending-row", "data-testid").len(), 1, "{}", page.body);
    assert!(page.body.contains(demo::WITNESS), "the witness's phone is named");

    // The witness's phone syncs (it holds no witnessing): now it is proven.
    witness.sync_time().await;
    server.oversight_pass();
    let (state, detail) = watch_state(&server, &s);
    assert_eq!(state, "missed", "{detail}");
    assert_eq!(detail["phones_checked"], 1);
    let v: Vec<ViolationView> = inspector.get_json(routes::VIOLATIONS).await;
    let missing: Vec<_> = v.iter().filter(|x| x.finding.code == "witness_missing").collect();
    assert_eq!(missing.len(), 1, "raised once, to the regulator: {v:?}");
    assert_eq!(missing[0].record, s.id());
    assert_eq!(missing[0].finding.rule, custody_core::verify::Rule::R8);
    assert!(missing[0].finding.message_zh.contains("缺少见证"), "{}", missing[0].finding.message_zh);
    // Passes after do not raise it again.
    server.oversight_pass();
    let v: Vec<ViolationView> = inspector.get_json(routes::VIOLATIONS).await;
    assert_eq!(v.iter().filter(|x| x.finding.code == "witness_missing").count(), 1);
    assert_eq!((tally(&server, "state:missed"), tally(&server, "finding:witness_missing")), (1, 1));

    // A witnessing that turns up now makes it late.
    let m = media(301, "witness");
    let w = witness.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&m));
    let r = witness.upload(&[&w]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    server.oversight_pass();
    assert_eq!(watch_state(&server, &s).0, "late");
    assert_eq!((tally(&server, "state:missed"), tally(&server, "state:late")), (0, 1));
    let pair = format!("pair:{}/{}", demo::SAMPLER, demo::WITNESS);
    assert_eq!(tally(&server, &pair), 1);
    server.stop().await;
}

async fn r8_an_offline_witness_keeps_it_pending_and_its_record_decides(b: Backend) {
    let (_dir, server, mut sampler, mut witness) = world(b).await;
    let s = sample(&mut sampler, 302).await;
    // The witness signs five minutes later, offline, and stays offline.
    server.clock.advance(5 * MIN);
    let m = media(302, "witness");
    let w = witness.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&m));
    server.clock.advance(3 * 60 * MIN);
    server.oversight_pass();
    assert_eq!(watch_state(&server, &s).0, "pending", "never missed while the witness phone is away");
    // It comes back: its record decides (no anchor proves when it was
    // made, so the window is undetermined — not missed, not late).
    let r = witness.upload(&[&w]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    witness.sync_time().await;
    server.oversight_pass();
    assert_eq!(watch_state(&server, &s).0, "undetermined");
    assert_eq!(tally(&server, "state:pending"), 0);
    assert_eq!(tally(&server, "state:undetermined"), 1);
    server.stop().await;
}

async fn r17_r18_the_dashboard_warns_in_scope_with_the_evidence_one_click_away(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = sync_server::testing::config_on(b, dir.path());
    config.oversight.project.min_samplings = 1;
    let server = TestServer::start_with(config, None).await;
    let (_dir, server, mut sampler, mut witness) = world_on(dir, server).await;
    let s = sample(&mut sampler, 303).await;
    // Past the window and the 15 minutes a signed request may be under way.
    server.clock.advance(40 * MIN);
    witness.sync_time().await;
    server.oversight_pass();
    assert_eq!(watch_state(&server, &s).0, "missed");

    // The city's inspector: the project, its missed witnessing, the warning.
    let mut city = signed_in(&server, "zhaomin", Some(demo::INSPECTOR));
    let page = city.get(sync_server::console::paths::OVERSIGHT).await;
    assert_eq!(page.status, 200);
    let rows = page.attrs("oversight-row", "data-project");
    assert!(rows.contains(&demo::PROJECT.to_owned()), "{rows:?}");
    let i = rows.iter().position(|p| p == demo::PROJECT).unwrap();
    assert_eq!(page.attrs("oversight-row", "data-missed")[i], "1");
    assert_eq!(page.attrs("oversight-row", "data-score")[i], "60", "100 less twice the rule's weight");
    assert!(page.attrs("oversight-warning", "data-code").contains(&"witness_late_or_missed".to_owned()));
    // By month (China time): the sampling, witnessed never; the project on the map.
    let id = s.id();
    let latest = server.state.store.read(move |tx| tx.watch(&id)).unwrap().unwrap().latest_ms.unwrap();
    let (y, m, ..) = custody_core::calendar::cst(latest);
    let month = format!("{y:04}-{m:02}");
    assert_eq!(page.attrs("month-row", "data-month"), [month]);
    assert_eq!(
        (page.attrs("month-row", "data-samplings"), page.attrs("month-row", "data-flagged")),
        (vec!["1".to_owned()], vec!["1".to_owned()])
    );
    assert!(page.has("oversight-chart") && page.has("oversight-map"));
    assert!(page.body.contains("score-bad"), "a score of 60 is drawn red");
    // One click: the project's page lists the sampling behind the warning.
    let detail = city
        .get(&sync_server::console::paths::fill(
            sync_server::console::paths::OVERSIGHT_PROJECT,
            demo::PROJECT,
        ))
        .await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.attrs("warning", "data-code"), ["witness_late_or_missed"]);
    assert!(
        detail.body.contains(&format!("/console/records/{}", s.id().to_hex())),
        "evidence links the sampling"
    );
    assert_eq!(detail.attrs("score-component", "data-deducted").iter().filter(|d| *d != "0").count(), 1);
    // The live feed: resumed from the start, it carries the finding; the
    // stream is scoped like the pages.
    let feed = city.get(&format!("{}?once=1&after=0", sync_server::console::paths::OVERSIGHT_EVENTS)).await;
    assert_eq!(feed.status, 200);
    assert!(feed.headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    assert!(feed.body.contains("event: finding") && feed.body.contains("witness_missing"), "{}", feed.body);
    assert!(feed.body.contains(&s.id().to_hex()));
    // Another county's inspector does not see it (R18).
    let mut xishi = signed_in(&server, "wuhao", Some("P-WUHAO"));
    let page = xishi.get(sync_server::console::paths::OVERSIGHT).await;
    assert!(!page.attrs("oversight-row", "data-project").contains(&demo::PROJECT.to_owned()));
    let detail = xishi
        .get(&sync_server::console::paths::fill(
            sync_server::console::paths::OVERSIGHT_PROJECT,
            demo::PROJECT,
        ))
        .await;
    assert_eq!(detail.status, 403);
    server.stop().await;
}

async fn r20_a_spot_check_draw_is_recomputed_from_its_published_inputs(b: Backend) {
    use sync_server::console::paths;
    let (dir, server, mut sampler, _) = world(b).await;

    // Only regulators' inspectors (and admins) may draw.
    let mut lab = signed_in(&server, "wangqiang", Some(demo::LAB_RECEIVER));
    let csrf = lab.csrf().await;
    let r = lab
        .post(paths::DRAWS, &[("csrf", &csrf), ("target_count", "1"), ("inspectors_per_target", "1")])
        .await;
    assert_eq!(r.status, 403);

    // The province's inspector: bad numbers get a reason, nothing stored.
    let mut province = signed_in(&server, "sunli", Some("P-SUNLI"));
    let form = province.get(paths::DRAWS).await;
    assert_eq!(form.status, 200);
    let targets: usize = common::browser::text_of(&form.body, "draw-targets").unwrap().parse().unwrap();
    assert!(targets >= 2, "the province sees both districts' projects");
    let csrf = province.csrf().await;
    let too_many = (targets + 1).to_string();
    for (count, per, why) in [("x", "1", "整数"), (too_many.as_str(), "1", "R20"), ("1", "0", "R20")] {
        let r = province
            .post(paths::DRAWS, &[("csrf", &csrf), ("target_count", count), ("inspectors_per_target", per)])
            .await;
        assert_eq!(r.status, 400, "{count}/{per}");
        assert!(r.body.contains(why), "{count}/{per}: the reason is shown");
    }
    assert!(server.state.store.read(|tx| tx.spot_check_draws()).unwrap().is_empty());

    let r = province
        .post(
            paths::DRAWS,
            &[
                ("csrf", &csrf),
                ("title", "2026 年第四季度抽查"),
                ("target_count", "2"),
                ("inspectors_per_target", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let public_path = r.location.clone().unwrap();
    // Published at once, anonymously readable, not drawn yet.
    let mut anyone = common::browser::Browser::new(&server.url);
    let page = anyone.get(&public_path).await;
    assert_eq!(page.status, 200);
    assert!(page.has("draw-waiting"));
    let sha = common::browser::text_of(&page.body, "draw-spec-sha").unwrap();

    // The next record in the log is the beacon.
    let _ = sample(&mut sampler, 304).await;
    let page = anyone.get(&public_path).await;
    assert_eq!(page.attrs("draw-pick", "data-target").len(), 2, "{}", page.body);
    let json_path = format!("{public_path}/json");
    let published: serde_json::Value = serde_json::from_str(&anyone.get(&json_path).await.body).unwrap();
    assert_eq!(published["spec_sha256"], sha.as_str(), "the spec did not change after it was announced");
    let size = published["beacon"]["log_size"].as_u64().unwrap();
    let root = server.state.store.read(move |tx| sync_server::logtree::root(tx, size)).unwrap();
    assert_eq!(published["beacon_hex"], root.to_hex(), "the beacon is the log's root at the next size");

    // An independent implementation recomputes it from the published JSON.
    let file = dir.path().join("draw.json");
    std::fs::write(&file, serde_json::to_vec(&published).unwrap()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/draw/recompute.py");
    let out = std::process::Command::new("python3").arg(&script).arg(&file).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let recomputed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(recomputed, published["result"]);
    server.stop().await;
}

async fn a4_1_r12_a_specimen_received_and_never_tested_is_raised(b: Backend) {
    use custody_core::record::ReceiptDecision;
    use sync_server::console::paths;
    let (_dir, server, mut sampler, mut witness) = world(b).await;
    let mut lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    witness.sync_time().await;
    // The whole trail, in time, and the lab receives the specimen.
    let s = sample(&mut sampler, 305).await;
    let m = media(305, "witness");
    let w = witness.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&m));
    assert_eq!(witness.upload(&[&w]).await.results[0].status, RecordStatus::Accepted);
    let body = sampler.dev.body(demo_commission(&[(&s, &w)]), vec![], vec![], sampler.now());
    let mut c = sampler.dev.sign(body);
    // Co-signed by its witness: a form without it cannot be received (R10).
    c.cosign(&witness.dev.key, custody_core::fixtures::id(demo::WITNESS));
    assert_ne!(sampler.upload(&[&c]).await.results[0].status, RecordStatus::Rejected);
    let tag = custody_core::fixtures::tag(305);
    let body = lab.dev.body(
        custody_core::fixtures::receipt(tag.clone(), c.id(), ReceiptDecision::Accepted),
        vec![],
        vec![],
        lab.now(),
    );
    let receipt = lab.dev.sign(body);
    let r = lab.upload(&[&receipt]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    server.oversight_pass();
    assert_eq!(tally(&server, "stale:received"), 0, "just received: not late yet");
    // 35 days on (the default: concrete is tested at 28 days), no test data.
    server.clock.advance(36 * 24 * 60 * MIN);
    server.oversight_pass();
    assert_eq!(tally(&server, "stale:received"), 1);
    let mut city = signed_in(&server, "zhaomin", Some(demo::INSPECTOR));
    let page = city.get(&paths::fill(paths::OVERSIGHT_PROJECT, demo::PROJECT)).await;
    assert!(page.attrs("warning", "data-code").contains(&"received_not_tested".to_owned()), "{}", page.body);
    assert!(
        page.body.contains(&paths::fill(paths::TAG, tag.as_str())),
        "the specimen's trail one click away"
    );
    server.stop().await;
}

/// `sync-server admin oversight` runs one pass by hand against the store a
/// running server uses (here with a zero window, so the sampling's window
/// has closed, and no witness phone enrolled, so nothing keeps it pending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_admin_oversight_runs_one_pass_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(Backend::Embedded, dir.path()).await;
    server.seed();
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    sampler.sync_time().await;
    let s = sample(&mut sampler, 306).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--data", dir.path().to_str().unwrap(), "admin", "oversight"])
        .env("JZQY_POLICY__WITNESS_WINDOW_MS", "0")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("1 samplings changed state"), "{text}");
    assert_eq!(watch_state(&server, &s).0, "missed");
    server.stop().await;
}
