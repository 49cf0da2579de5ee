//! The operator's documents are claims about the code (issue 20): every
//! metric the server exports is explained in `docs/operations.md` and
//! nothing there is invented; every metric the ready-made alert rules
//! (`packaging/alerts.yml`) read exists; every alert `admin status` can
//! raise has its rule, with the same threshold.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use sync_server::status;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Names in `metrics::counter!("…"`, `gauge!`, `histogram!` under sync-server/src.
fn exported_metrics() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root().join("sync-server/src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for kind in ["counter!(\"", "gauge!(\"", "histogram!(\""] {
                    for (i, _) in text.match_indices(kind) {
                        let rest = &text[i + kind.len()..];
                        out.insert(rest[..rest.find('"').unwrap()].to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Metric-like words (`sync_…`, `http_…`, `oversight_…`) in a text.
fn named(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| ["sync_", "http_", "oversight_"].iter().any(|p| w.starts_with(p)) && w.len() > 6)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_exported_metric_is_documented_and_no_documented_one_is_invented() {
    let exported = exported_metrics();
    assert!(exported.contains("sync_log_unsigned_records") && exported.contains("http_requests_total"));
    let doc = read("docs/operations.md");
    let documented = named(&doc);
    for m in &exported {
        assert!(
            documented.contains(m),
            "docs/operations.md: add a row for metric `{m}` (what it means, when to worry)"
        );
    }
    for m in documented.iter().filter(|m| {
        m.ends_with("_total")
            || m.ends_with("_seconds")
            || m.ends_with("_bytes")
            || m.ends_with("_records")
            || m.ends_with("_ratio")
            || m.ends_with("_failed")
    }) {
        assert!(
            exported.contains(m),
            "docs/operations.md names metric `{m}`, which the server does not export"
        );
    }
}

#[test]
fn the_alert_rules_read_real_metrics_and_match_admin_status() {
    let rules = read("packaging/alerts.yml");
    let exported = exported_metrics();
    for m in named(&rules) {
        assert!(exported.contains(&m), "packaging/alerts.yml reads `{m}`, which the server does not export");
    }
    // Each rule with a `status_key`: its key and the number it compares with.
    let mut thresholds = std::collections::BTreeMap::new();
    let mut expr = String::new();
    for line in rules.lines() {
        let line = line.trim();
        if let Some(e) = line.strip_prefix("expr:") {
            expr = e.trim().to_owned();
        }
        if let Some(i) = line.find("status_key: ") {
            let key = line[i + 12..].trim_end_matches('}').trim().to_owned();
            let number = expr
                .split(['>', '<'])
                .nth(1)
                .and_then(|t| t.split_whitespace().next())
                .and_then(|t| t.parse::<f64>().ok());
            thresholds.insert(key, number);
        }
    }
    for key in status::ALERT_KEYS {
        assert!(thresholds.contains_key(*key), "packaging/alerts.yml: no rule with status_key: {key}");
    }
    let default_backup_age = sync_server::config::Config::default().backup.max_age_hours as f64 * 3600.0;
    for (key, want) in [
        ("log_backlog", status::UNSIGNED_RECORDS_ALARM as f64),
        ("checkpoint_stale", status::CHECKPOINT_AGE_ALARM_S as f64),
        ("disk_free", status::DISK_FREE_ALARM),
        ("device_clock_skew", status::CLOCK_SKEW_ALARM_S),
        ("replica_lag", status::REPLICA_LAG_ALARM_S),
        ("certificate_expiry", status::CERT_DAYS_ALARM * 86_400.0),
        ("backup_stale", default_backup_age),
        ("backup_failed", 0.0),
    ] {
        assert_eq!(
            thresholds[key],
            Some(want),
            "packaging/alerts.yml rule for {key}: threshold differs from admin status's"
        );
    }
}

/// The demo is kept out of production: `sync-server demo` refuses a store
/// that holds anything but the demo's own records (and starts on an empty one).
#[test]
fn the_demo_refuses_a_store_with_real_records() {
    let dir = tempfile::tempdir().unwrap();
    let config = sync_server::testing::config(dir.path());
    {
        let state = sync_server::AppState::open(config).unwrap();
        assert!(sync_server::demo::may_seed(&state.store).unwrap(), "an empty store may take the demo");
        let admin = sync_server::admin::Admin::of(&state);
        let org = custody_core::model::Organisation {
            id: custody_core::model::Id::new("ORG-REAL").unwrap(),
            name: "某真实单位".into(),
            role: custody_core::model::OrgRole::Owner,
            credit_code: None,
            jurisdiction: None,
        };
        admin.add_org(org).unwrap();
        assert!(!sync_server::demo::may_seed(&state.store).unwrap());
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--data", dir.path().to_str().unwrap(), "demo"])
        .env("JZQY_SERVER__BIND", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Refusing is immediate; a demo that seeded would serve until killed.
    let mut status = None;
    for _ in 0..600 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if status.is_none() {
        child.kill().unwrap();
        panic!("`sync-server demo` started serving on a store with real records");
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut text).unwrap();
    assert!(!status.unwrap().success(), "{text}");
    assert!(text.contains("演示只能用于空数据库") && text.contains("not the demo's"), "{text}");
}
