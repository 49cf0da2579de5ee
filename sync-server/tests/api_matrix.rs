//! Who may call what (issue 18): every route of the API × every kind of
//! caller — anonymous, a revoked phone, the project's sampler, the
//! commissioned lab, a lab the owner never commissioned, the inspector of
//! the project's district and one of another district, an admin token and a
//! wrong one — as one table, on both storage back ends. A route added
//! without its row fails the test (the hostile-client suite covers forged
//! content; this covers who may call which door).
//!
//! And the bad-input sweep: every route, called by an enrolled phone (and
//! the admin routes by the token) with malformed JSON, wrong types, huge
//! numbers, deep nesting, an oversized or empty body, invalid UTF-8 and
//! mangled path parameters, answers a 4xx in the one error shape with
//! words in both languages — never a 5xx — and the server stays healthy.
//!
//! Cells: `401` no or bad credentials, `403` authenticated but not theirs
//! (a revoked phone is known, and refused),
//! `O` let through (any answer but 401/403: what it then says about the
//! request is the route's own business), or an exact status.

// The sweep reads top to bottom as one hostile caller's afternoon.
#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::*;
use custody_core::fixtures::{self, id};
use custody_core::model::{OrgRole, Person, PersonRole};
use custody_core::routes::{self, Method as M};
use custody_core::{Hash, SignedRecord};
use sync_server::demo;
use sync_server::testing::{Backend, TestServer};

on_each_backend!(
    the_api_authorisation_matrix_covers_every_route_and_holds,
    every_route_answers_bad_input_with_a_clear_4xx_and_stays_healthy,
);

/// What a path's parameter is filled with.
#[derive(Debug, Clone, Copy)]
enum Target {
    None,
    /// The sampling record (a record of the demo project).
    Record,
    /// The commission form (public: its QR is printed, R10).
    Commission,
    /// The sampler's process photo.
    Media,
    /// The sampled tag.
    Tag,
    /// A seal that is not one.
    BadSeal,
    /// A console sign-in that does not exist.
    Login,
    /// The demo project.
    Project,
}

/// `(method, path, target, cells)`; cells in the order of [`CALLERS`].
type Row = (M, &'static str, Target, &'static str);

const CALLERS: [&str; 9] = ["anon", "revoked", "sampler", "lab", "labx", "zq", "xs", "admin", "badtoken"];

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                                                          anon revk samp lab  labx zq   xs   adm  bad
    (M::Get,   routes::HEALTHZ,          Target::None,          "200  200  200  200  200  200  200  200  200"),
    (M::Get,   routes::READYZ,           Target::None,          "200  200  200  200  200  200  200  200  200"),
    (M::Get,   routes::METRICS,          Target::None,          "200  200  200  200  200  200  200  200  200"),
    (M::Get,   routes::OPENAPI,          Target::None,          "200  200  200  200  200  200  200  200  200"),
    // Enrollment needs a one-time code, not credentials: an empty body is a bad request.
    (M::Post,  routes::ENROLL,           Target::None,          "400  400  400  400  400  400  400  400  400"),
    (M::Get,   routes::PUBLIC_TAG,       Target::Tag,           "200  200  200  200  200  200  200  200  200"),
    (M::Get,   routes::PUBLIC_RECORD,    Target::Commission,    "200  200  200  200  200  200  200  200  200"),
    (M::Get,   routes::PUBLIC_REPORT,    Target::BadSeal,       "400  400  400  400  400  400  400  400  400"),
    (M::Get,   routes::PUBLIC_REPORT_PDF, Target::BadSeal,      "400  400  400  400  400  400  400  400  400"),
    // A device's own: any enrolled phone not revoked.
    (M::Get,   routes::PROFILE,          Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Post,  routes::TIME,             Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Post,  routes::RECORDS,          Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Post,  routes::COSIGNATURES,     Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Get,   routes::FEED,             Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Get,   routes::LOG_CHECKPOINT,   Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Get,   routes::LOG_CONSISTENCY,  Target::None,          "401  403  O    O    O    O    O    401  401"),
    (M::Get,   routes::LOG_RECEIPT,      Target::Record,        "401  403  O    O    O    O    O    401  401"),
    // Media: whoever may see the record listing it — its project's people, the
    // commissioned lab, the regulators of its jurisdiction (R18); faces only
    // their person's. Upload status and chunks: any phone (a hash names them).
    (M::Get,   routes::MEDIA,            Target::Media,         "401  403  O    O    O    O    O    401  401"),
    (M::Patch, routes::MEDIA,            Target::Media,         "401  403  O    O    O    O    O    401  401"),
    (M::Get,   routes::MEDIA_CONTENT,    Target::Media,         "401  403  O    O    403  O    403  401  401"),
    // R11: the commissioned lab reads the trail; regulators of its jurisdiction (R18).
    (M::Get,   routes::LAB_TAG,          Target::Tag,           "401  403  403  O    403  O    403  401  401"),
    (M::Get,   routes::LAB_REPORT_SEAL,  Target::Record,        "401  403  404  404  404  404  404  401  401"),
    (M::Get,   routes::LAB_REPORT_PDF,   Target::Record,        "401  403  404  404  404  404  404  401  401"),
    // Regulators list violations; nobody else.
    (M::Get,   routes::VIOLATIONS,       Target::None,          "401  403  403  403  403  O    O    401  401"),
    // Issue 15: whoever may see the project.
    (M::Get,   routes::PROJECT_PLANS,    Target::Project,       "401  403  O    O    403  O    403  401  401"),
    (M::Get,   routes::CONSOLE_LOGIN,    Target::Login,         "401  403  404  404  404  404  404  401  401"),
    (M::Post,  routes::CONSOLE_LOGIN,    Target::Login,         "401  403  O    O    O    O    O    401  401"),
    // The operator's token only.
    (M::Get,   routes::ADMIN_TAG,        Target::Tag,           "401  401  401  401  401  401  401  O    401"),
    (M::Get,   routes::ADMIN_VIOLATIONS, Target::None,          "401  401  401  401  401  401  401  O    401"),
];

struct World {
    record: SignedRecord,
    commission: SignedRecord,
    media: Hash,
    tag: custody_core::TagCode,
}

fn path_of(r: &Row, w: &World) -> String {
    let (_, path, target, _) = r;
    let fill = |v: &str| {
        let mut p = path.to_string();
        for k in ["{id}", "{sha256}", "{code}", "{seal}"] {
            p = p.replace(k, v);
        }
        p
    };
    match target {
        Target::None => match *path {
            routes::LOG_CONSISTENCY => format!("{path}?from=1"),
            _ => path.to_string(),
        },
        Target::Record => fill(&w.record.id().to_hex()),
        Target::Commission => fill(&w.commission.id().to_hex()),
        Target::Media => fill(&w.media.to_hex()),
        Target::Tag => fill(w.tag.as_str()),
        Target::BadSeal => fill("NOT-A-SEAL"),
        Target::Login => fill("0000000000000000"),
        Target::Project => fill(demo::PROJECT),
    }
}

fn matches(cell: &str, status: u16) -> bool {
    match cell {
        "O" => status != 401 && status != 403,
        n => n.parse::<u16>().is_ok_and(|n| n == status),
    }
}

async fn the_api_authorisation_matrix_covers_every_route_and_holds(b: Backend) {
    // Every route has a row, and every row is a route.
    for r in routes::ALL {
        assert!(
            MATRIX.iter().any(|(m, p, _, _)| *m == r.method && *p == r.path),
            "{} {} has no row in the API authorisation matrix: add one",
            r.method.as_str(),
            r.path
        );
    }
    for (m, p, _, cells) in MATRIX {
        assert!(routes::ALL.iter().any(|r| r.method == *m && r.path == *p), "{p}: not a route");
        assert_eq!(cells.split_whitespace().count(), CALLERS.len(), "{p}: one cell per caller");
    }

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let admin = server.admin();
    admin.add_org(org("ORG-LAB-X", OrgRole::Lab, None)).unwrap();
    admin.add_person(Person { id: id("P-LABX"), name: "P-LABX".into(), org: id("ORG-LAB-X") }).unwrap();
    let letter = (b"letter".as_slice(), "text/plain");
    admin
        .grant(id("G-LX"), id("P-LABX"), None, PersonRole::LabReceiver, letter, "id".into(), None, None)
        .unwrap();
    let token = admin.create_token("matrix").unwrap();

    // One sampling, witnessed and commissioned: the records the paths name.
    let mut sampler = enrolled(&server, 2, demo::SAMPLER).await;
    let mut witness = enrolled(&server, 3, demo::WITNESS).await;
    sampler.sync_time().await;
    witness.sync_time().await;
    let m = media(5, "sampler");
    let s = sampler.field_record(demo_sampling(5), 50.0, 60.0, &as_refs(&m));
    sampler.upload(&[&s]).await;
    upload_media(&sampler, &m).await;
    let wm = media(5, "witness");
    let w = witness.field_record(demo_witnessing(&s), 52.0, 61.0, &as_refs(&wm));
    witness.upload(&[&w]).await;
    let c = sampler.field_record(demo_commission(&[(&s, &w)]), 50.0, 60.0, &[]);
    sampler.upload(&[&c]).await;
    let world = World { record: s, commission: c, media: Hash::of(&m[1].1), tag: fixtures::tag(5) };

    let mut revoked = enrolled(&server, 9, demo::SAMPLER).await;
    revoked.sync_time().await;
    admin.revoke_device(revoked.key().public(), "lost".into()).unwrap();
    let lab = enrolled(&server, 4, demo::LAB_RECEIVER).await;
    let labx = enrolled(&server, 6, "P-LABX").await;
    let zq = enrolled(&server, 7, "P-ZHOUJIE").await;
    let xs = enrolled(&server, 8, "P-WUHAO").await;
    let phones: [Option<&Phone>; 9] =
        [None, Some(&revoked), Some(&sampler), Some(&lab), Some(&labx), Some(&zq), Some(&xs), None, None];

    let http = reqwest::Client::new();
    let mut wrong = Vec::new();
    let discover = std::env::var("MATRIX_DISCOVER").is_ok();
    for row in MATRIX {
        let path = path_of(row, &world);
        let method = reqwest::Method::from_bytes(row.0.as_str().as_bytes()).unwrap();
        let mut got = Vec::new();
        for (i, cell) in row.3.split_whitespace().enumerate() {
            let resp = match (CALLERS[i], phones[i]) {
                (_, Some(p)) => p.signed(method.clone(), &path, vec![]).await,
                ("admin", _) => http
                    .request(method.clone(), format!("{}{path}", server.url))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap(),
                ("badtoken", _) => http
                    .request(method.clone(), format!("{}{path}", server.url))
                    .bearer_auth("jzqy_not_a_token")
                    .send()
                    .await
                    .unwrap(),
                _ => http.request(method.clone(), format!("{}{path}", server.url)).send().await.unwrap(),
            };
            let status = resp.status().as_u16();
            got.push(status);
            if !matches(cell, status) {
                wrong.push(format!(
                    "{} {path} as {}: expected {cell}, got {status}",
                    row.0.as_str(),
                    CALLERS[i]
                ));
            }
        }
        if discover {
            println!("{} {path}: {got:?}", row.0.as_str());
        }
    }
    assert!(wrong.is_empty(), "the API authorisation matrix does not hold:\n{}", wrong.join("\n"));
    server.stop().await;
}

/// Bodies no route should take, each named for the failure message.
fn bad_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        ("malformed JSON", b"{\"records\": [".to_vec()),
        ("wrong types", br#"{"records": "all of them", "state": 7, "code": [1], "device": {}}"#.to_vec()),
        ("huge numbers", br#"{"records": [], "state": {"boot_id": "b", "mono_ms": 1e400, "tail": null}, "after": 99999999999999999999999999}"#.to_vec()),
        ("deep nesting", deep.into_bytes()),
        // Over the 64 KiB limit of every route but media chunks (those take
        // it and refuse it for what it is): the server answers before
        // reading far beyond its limit.
        ("oversized", vec![b'{'; 200 * 1024]),
        ("empty", Vec::new()),
        ("invalid UTF-8", vec![b'{', b'"', 0xff, 0xfe, 0xc3, 0x28, b'"', b':', b'1', b'}']),
        ("a JSON string", br#""records""#.to_vec()),
        ("null", b"null".to_vec()),
    ]
}

/// Path parameters no route should take.
const BAD_PARAMS: [&str; 5] = ["%ff%fe", "..%2f..%2fetc%2fpasswd", "0", "\u{1F600}", "A"];

async fn every_route_answers_bad_input_with_a_clear_4xx_and_stays_healthy(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let token = server.admin().create_token("sweep").unwrap();
    let mut phone = enrolled(&server, 2, demo::SAMPLER).await;
    phone.sync_time().await;
    let http = reqwest::Client::new();
    let mut wrong = Vec::new();
    let mut tried = 0;
    for r in routes::ALL {
        let method = reqwest::Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let mut calls: Vec<(String, String, Vec<u8>)> = Vec::new();
        let param = |v: &str| {
            let mut p = r.path.to_string();
            for k in ["{id}", "{sha256}", "{code}", "{seal}"] {
                p = p.replace(k, v);
            }
            p
        };
        if r.path.contains('{') {
            for v in BAD_PARAMS {
                calls.push((format!("path parameter {v}"), param(v), Vec::new()));
            }
        }
        if matches!(r.method, M::Post | M::Patch) {
            let path = param(&"0".repeat(64));
            for (what, body) in bad_bodies() {
                calls.push((what.to_owned(), path.clone(), body));
            }
        }
        if r.method == M::Get && !r.path.contains('{') {
            calls.push((
                "a query of wrong types".into(),
                format!("{}?after=-1&limit=abc&from=%ff", r.path),
                Vec::new(),
            ));
        }
        for (what, path, body) in calls {
            tried += 1;
            let resp = match r.caller {
                routes::Caller::Device => {
                    let signed_path = path.clone();
                    phone
                        .try_signed_to(
                            &server.url,
                            method.clone(),
                            &signed_path,
                            body,
                            phone.now(),
                            &random_nonce(),
                            &[],
                        )
                        .await
                }
                routes::Caller::Admin => {
                    http.request(method.clone(), format!("{}{path}", server.url))
                        .bearer_auth(&token)
                        .body(body)
                        .send()
                        .await
                }
                routes::Caller::Public => {
                    http.request(method.clone(), format!("{}{path}", server.url))
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                }
            };
            // An oversized body may be refused before it is all sent: the
            // server answers 413 and closes, and the client can lose the
            // answer while still writing. That is a refusal; anything else
            // failing to send is not. The server stays healthy either way.
            let resp = match resp {
                Ok(r) => r,
                Err(_) if what == "oversized" => continue,
                Err(e) => panic!("{} {} with {what}: {e}", r.method.as_str(), r.path),
            };
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            let shaped = serde_json::from_str::<custody_core::protocol::ApiError>(&text)
                .is_ok_and(|e| !e.message_zh.is_empty() && !e.message_en.is_empty() && !e.code.is_empty());
            // A GET that ignores a query it does not know may answer 200;
            // anything else must be a 4xx in the one shape.
            let ok = if (200..300).contains(&status) {
                r.method == M::Get && what.starts_with("a query")
            } else {
                (400..500).contains(&status) && shaped
            };
            if !ok {
                wrong.push(format!(
                    "{} {} with {what}: {status} {}",
                    r.method.as_str(),
                    r.path,
                    &text[..text.len().min(160)]
                ));
            }
        }
        // A method no route of this path takes: 405, before anything is
        // asked of the caller (not 401: the door does not exist).
        if !routes::ALL.iter().any(|o| o.path == r.path && o.method == M::Post) {
            let path = r
                .path
                .replace("{id}", "x")
                .replace("{sha256}", "x")
                .replace("{code}", "x")
                .replace("{seal}", "x");
            let resp = http.delete(format!("{}{path}", server.url)).send().await.unwrap();
            if resp.status() != 405 {
                wrong.push(format!("DELETE {} unauthenticated: {} (expected 405)", r.path, resp.status()));
            }
        }
        let health = http.get(format!("{}{}", server.url, routes::HEALTHZ)).send().await.unwrap();
        assert_eq!(health.status(), 200, "healthy after {}", r.path);
    }
    assert!(tried > 100, "the sweep ran ({tried} calls)");
    assert!(wrong.is_empty(), "bad input not answered with a clear 4xx:\n{}", wrong.join("\n"));
    server.stop().await;
}
