//! The web console (issue 13) against a real server, on both storage back
//! ends: the authorisation matrix — every page and action of
//! `console::paths::ALL` × every kind of account × their own and another
//! jurisdiction or organisation — and the scoping of every list and export
//! (R18); the sign-in flows (setup link, password and one-time code with
//! lockout, the field app's QR with a phone's signed approval); CSRF and
//! origin checks; administration through the forms (R1, R21); face-photo
//! views in the audit log (PIPL).

// Each story reads top to bottom as what a person does at the console.
#![allow(clippy::too_many_lines)]

#[macro_use]
mod common;

use common::browser::{Answer, Browser, csrf_of, signed_in, text_of};
use common::*;
use custody_core::fixtures::id;
use custody_core::model::{OrgRole, Person, PersonRole};
use custody_core::protocol::*;
use custody_core::record::{MediaPurpose, Payload, SignedRecord};
use custody_core::{Hash, TagCode, routes};
use reqwest::Method;
use sync_server::console::paths::{self, Audience, Method as M};
use sync_server::console::totp;
use sync_server::demo;
use sync_server::testing::Backend;

on_each_backend!(
    r18_the_authorisation_matrix_covers_every_page_and_holds,
    r18_every_list_and_export_holds_the_scope,
    sign_in_with_a_setup_link_then_password_and_one_time_code,
    sign_in_by_scanning_the_console_qr_with_an_enrolled_phone,
    forms_refuse_other_origins_and_stale_tokens,
    r1_r21_administration_through_the_forms_is_checked_stored_and_audited,
);

/// The two projects of the demo: Zhanqian (210802) and Xishi (210804).
const A: &str = demo::PROJECT;
const B: &str = demo::PROJECT_XISHI;

/// What the world holds for the tests to point at.
struct Facts {
    record_a: SignedRecord,
    record_b: SignedRecord,
    process_a: Hash,
    process_b: Hash,
    face_a: Hash,
    letter_a: Hash,
    tag_a: TagCode,
    tag_b: TagCode,
}

/// The demo world (regulators at province, city and both districts), plus a
/// regulator of another city, a lab nobody commissioned, the owner's and the
/// tag supplier's people, a contractor working in Xishi, and one flagged
/// sampling in each project (taken outside its site: a violation regulators
/// see), each with a face photo and a process photo.
async fn world(b: Backend) -> (tempfile::TempDir, TestServer, Facts) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let admin = server.admin();
    admin.add_org(org("ORG-REG-PJ", OrgRole::Regulator, Some("211100"))).unwrap();
    admin.add_org(org("ORG-LAB-X", OrgRole::Lab, None)).unwrap();
    admin.add_org(org("ORG-CON-XS", OrgRole::Contractor, None)).unwrap();
    for (p, o) in [
        ("P-PJ", "ORG-REG-PJ"),
        ("P-LABX", "ORG-LAB-X"),
        ("P-XS-S", "ORG-CON-XS"),
        ("P-OWN-HX", "ORG-OWN-HX"),
        ("P-TAGS", "ORG-TAG-AF"),
    ] {
        admin.add_person(Person { id: id(p), name: p.into(), org: id(o) }).unwrap();
    }
    let letter = (b"letter".as_slice(), "text/plain");
    for (g, p, project, role) in [
        ("G-PJ", "P-PJ", None, PersonRole::Inspector),
        ("G-LX", "P-LABX", None, PersonRole::LabReceiver),
        ("G-XS-S", "P-XS-S", Some(B), PersonRole::Sampler),
    ] {
        admin.grant(id(g), id(p), project.map(id), role, letter, "id".into(), None, None).unwrap();
    }
    let letter_a = server
        .state
        .store
        .read(|tx| tx.grants_of(&id(demo::SAMPLER)))
        .unwrap()
        .into_iter()
        .find(|g| g.grant == id("G-ZW-S"))
        .unwrap()
        .letter;

    let mut sampler_a = enrolled(&server, 2, demo::SAMPLER).await;
    let mut sampler_b = enrolled(&server, 3, "P-XS-S").await;
    let tag_a = custody_core::fixtures::tag(101);
    let tag_b = TagCode::from_parts(310, 26, 2, 7).unwrap();
    let (record_a, process_a, face_a) =
        flagged_sampling(&mut sampler_a, sampling(tag_a.clone(), A, "UP-1", 1)).await;
    let (record_b, process_b, _) =
        flagged_sampling(&mut sampler_b, sampling(tag_b.clone(), B, "UP-XS-1", 2)).await;
    let facts = Facts { record_a, record_b, process_a, process_b, face_a, letter_a, tag_a, tag_b };
    (dir, server, facts)
}

fn face_bytes(n: u8) -> Vec<u8> {
    format!("face photo {n} (test)").into_bytes()
}

fn sampling(tag: TagCode, project: &str, unit: &str, face: u8) -> Payload {
    let mut p = custody_core::fixtures::sampling(tag);
    if let Payload::Sampling(s) = &mut p {
        s.project = id(project);
        s.unit_project = id(unit);
        s.face.photo = Hash::of(&face_bytes(face));
    }
    p
}

/// Upload a sampling taken a kilometre from its site, with its photos.
async fn flagged_sampling(phone: &mut Phone, payload: Payload) -> (SignedRecord, Hash, Hash) {
    phone.sync_time().await;
    let face = match &payload {
        Payload::Sampling(s) => s.face.photo,
        _ => unreachable!("a sampling"),
    };
    let n = if face == Hash::of(&face_bytes(1)) { 1 } else { 2 };
    let m = vec![
        (MediaPurpose::Face, face_bytes(n)),
        (MediaPurpose::Process, process_photo(u32::from(n), "sampler")),
    ];
    let s = phone.field_record(payload, 1_000.0, 60.0, &as_refs(&m));
    let r = phone.upload(&[&s]).await;
    assert_eq!(r.results[0].status, RecordStatus::Accepted, "{:?}", r.results[0].findings);
    assert!(r.results[0].findings.iter().any(|f| f.code == "outside_site"), "{:?}", r.results[0].findings);
    upload_media(phone, &m).await;
    (s, Hash::of(&m[1].1), face)
}

// ---------------------------------------------------------------- who

/// Every kind of account, with the projects it may see (A, B).
struct Role {
    name: &'static str,
    /// Console login and directory person (`None`: an administrator);
    /// `""` is nobody signed in.
    login: &'static str,
    person: Option<&'static str>,
}

const ROLES: [Role; 12] = [
    Role { name: "anonymous", login: "", person: None },
    Role { name: "admin", login: "admin", person: None },
    Role { name: "province 21", login: "sunli", person: Some("P-SUNLI") },
    Role { name: "city 2108", login: "zhaomin", person: Some(demo::INSPECTOR) },
    Role { name: "county 210802", login: "zhoujie", person: Some("P-ZHOUJIE") },
    Role { name: "county 210804", login: "wuhao", person: Some("P-WUHAO") },
    Role { name: "another city 2111", login: "pj-inspector", person: Some("P-PJ") },
    Role { name: "owner of A", login: "owner-hx", person: Some("P-OWN-HX") },
    Role { name: "contractor on A (the sampler)", login: "zhangwei", person: Some(demo::SAMPLER) },
    Role { name: "lab commissioned on A and B", login: "wangqiang", person: Some(demo::LAB_RECEIVER) },
    Role { name: "lab commissioned nowhere", login: "labx", person: Some("P-LABX") },
    Role { name: "tag supplier of A and B", login: "tags", person: Some("P-TAGS") },
];

// ---------------------------------------------------------------- the matrix

/// What a request is made against.
#[derive(Clone, Copy, Debug)]
enum Target {
    None,
    Css,
    UnknownLogin,
    ProjectA,
    ProjectB,
    RecordA,
    RecordB,
    ProcessA,
    ProcessB,
    FaceA,
    LetterA,
    TagA,
    TagB,
    Person,
    Nothing,
}

/// The expected answers, one per role of [`ROLES`] in order:
/// `L` sign in first (a page read is redirected to the sign-in page, an
/// action answered 401), `O` allowed (not 401/403, not sent to sign in),
/// `F` 403 forbidden, or an exact status.
type Row = (M, &'static str, Target, &'static str);

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                                                        anon adm  prov city zq   xs   oc   own  con  lab  labx sup
    (M::Get,  paths::ASSET,             Target::Css,          "200  200  200  200  200  200  200  200  200  200  200  200"),
    (M::Get,  paths::LOGIN,             Target::None,         "200  200  200  200  200  200  200  200  200  200  200  200"),
    (M::Post, paths::LOGIN,             Target::None,         "401  401  401  401  401  401  401  401  401  401  401  401"),
    (M::Get,  paths::LOGIN_QR,          Target::UnknownLogin, "200  200  200  200  200  200  200  200  200  200  200  200"),
    (M::Get,  paths::LANG,              Target::None,         "303  303  303  303  303  303  303  303  303  303  303  303"),
    (M::Get,  paths::SETUP,             Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Post, paths::SETUP,             Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::HOME,              Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::ACCOUNT,           Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::PROJECTS,          Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::RECORDS,           Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::RECORDS,           Target::ProjectA,     "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::RECORDS,           Target::ProjectB,     "L    O    O    O    F    O    F    F    F    O    F    O"),
    (M::Get,  paths::RECORDS_CSV,       Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::RECORDS_CSV,       Target::ProjectA,     "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::RECORDS_CSV,       Target::ProjectB,     "L    O    O    O    F    O    F    F    F    O    F    O"),
    (M::Get,  paths::VIOLATIONS,        Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    // Oversight (issue 16): scoped like the violations it is counted from.
    (M::Get,  paths::OVERSIGHT,         Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::OVERSIGHT_CSV,     Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::OVERSIGHT_EVENTS,  Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Get,  paths::OVERSIGHT_PROJECT, Target::ProjectA,     "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::OVERSIGHT_PROJECT, Target::ProjectB,     "L    O    O    O    F    O    F    F    F    O    F    O"),
    // Spot checks (R20): regulators' inspectors and admins; the published draw is public.
    // The lab desk (R11-R13): a lab's own staff and the administrators; a
    // record that is not test data is not found for those who may look.
    (M::Get,  paths::LAB_DESK,          Target::None,         "L    O    F    F    F    F    F    F    F    O    O    F"),
    (M::Get,  paths::LAB_TEST,          Target::RecordA,      "L    404  F    F    F    F    F    F    F    404  404  F"),
    (M::Get,  paths::DRAWS,             Target::None,         "L    O    O    O    O    O    O    F    F    F    F    F"),
    (M::Post, paths::DRAWS,             Target::None,         "L    O    O    O    O    O    O    F    F    F    F    F"),
    (M::Get,  paths::DRAW_PUBLIC,       Target::Nothing,      "404  404  404  404  404  404  404  404  404  404  404  404"),
    (M::Get,  paths::DRAW_JSON,         Target::Nothing,      "404  404  404  404  404  404  404  404  404  404  404  404"),
    (M::Get,  paths::REPORT_CHECK,      Target::Nothing,      "400  400  400  400  400  400  400  400  400  400  400  400"),
    (M::Get,  paths::RECORD_PAGE,       Target::RecordA,      "200  200  200  200  200  200  200  200  200  200  200  200"),
    (M::Get,  paths::RECORD_PAGE,       Target::Nothing,      "400  400  400  400  400  400  400  400  400  400  400  400"),
    (M::Get,  paths::PROJECT,           Target::ProjectA,     "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::PROJECT,           Target::ProjectB,     "L    O    O    O    F    O    F    F    F    O    F    O"),
    // Before work starts (issue 15): whoever sees the project reads it; a
    // form is judged only for those who may sign it (422 for the rest).
    (M::Get,  paths::PROJECT_PLANS,     Target::ProjectA,     "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::PROJECT_PLANS,     Target::ProjectB,     "L    O    O    O    F    O    F    F    F    O    F    O"),
    (M::Post, paths::PROJECT_PLANS_DRAFT, Target::ProjectA,   "L    422  422  422  422  F    F    422  422  422  F    422"),
    (M::Post, paths::PROJECT_PLANS_DRAFT, Target::ProjectB,   "L    422  422  422  F    422  F    F    F    422  F    422"),
    (M::Get,  paths::RECORD,            Target::RecordA,      "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::RECORD,            Target::RecordB,      "L    O    O    O    F    O    F    F    F    O    F    O"),
    (M::Get,  paths::TAG,               Target::TagA,         "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::TAG,               Target::TagB,         "L    O    O    O    F    O    F    F    F    O    F    O"),
    (M::Get,  paths::MEDIA,             Target::ProcessA,     "L    O    O    O    O    F    F    O    O    O    F    O"),
    (M::Get,  paths::MEDIA,             Target::ProcessB,     "L    O    O    O    F    O    F    F    F    O    F    O"),
    // Faces: the person and admins only (PIPL); letters of authorisation: admins (R1, R21).
    (M::Get,  paths::MEDIA,             Target::FaceA,        "L    O    F    F    F    F    F    F    O    F    F    F"),
    (M::Get,  paths::MEDIA,             Target::LetterA,      "L    O    F    F    F    F    F    F    F    F    F    F"),
    // The lab registry (R3): a lab's own people ask, administrators decide.
    (M::Get,  paths::REGISTRY,          Target::None,         "L    O    F    F    F    F    F    F    F    O    O    F"),
    (M::Post, paths::REGISTRY_QUEUE,    Target::None,         "L    F    F    F    F    F    F    F    F    O    O    F"),
    (M::Get,  paths::REGISTRY_QUEUE,    Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::REGISTRY_APPROVE,  Target::Nothing,      "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::REGISTRY_REFUSE,   Target::Nothing,      "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_ORGS,        Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_ORGS,        Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_PEOPLE,      Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_PEOPLE,      Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_PERSON,      Target::Person,       "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_GRANTS,      Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_GRANT_REVOKE, Target::Nothing,     "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_ENROLL,      Target::Nothing,      "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_DEVICES,     Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_DEVICE_REVOKE, Target::Nothing,    "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_PROJECTS,    Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_PROJECTS,    Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_UNITS,       Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_TAGS,        Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_LABS,        Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_ACCOUNTS,    Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_ACCOUNTS,    Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_ACCOUNT_RESET, Target::Nothing,    "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Post, paths::ADMIN_ACCOUNT_DISABLE, Target::Nothing,  "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_AUDIT,       Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_AUDIT_CSV,   Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_FACE_READS_CSV, Target::None,      "L    O    F    F    F    F    F    F    F    F    F    F"),
    (M::Get,  paths::ADMIN_STATUS,      Target::None,         "L    O    F    F    F    F    F    F    F    F    F    F"),
    // Last: they end the session.
    (M::Post, paths::LOGOUT_ALL,        Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
    (M::Post, paths::LOGOUT,            Target::None,         "L    O    O    O    O    O    O    O    O    O    O    O"),
];

fn target_path(path: &str, t: Target, f: &Facts) -> String {
    let fill = |v: &str| paths::fill(path, v);
    match t {
        Target::None => match path {
            paths::LANG => format!("{path}?to=en"),
            // One poll and close (a live stream never ends).
            paths::OVERSIGHT_EVENTS => format!("{path}?once=1&after=0"),
            _ => path.to_owned(),
        },
        Target::Css => fill("console.css"),
        Target::UnknownLogin => fill("0000000000000000"),
        Target::ProjectA | Target::ProjectB => {
            let p = if matches!(t, Target::ProjectA) { A } else { B };
            if path.contains('{') { fill(p) } else { format!("{path}?project={p}") }
        }
        Target::RecordA => fill(&f.record_a.id().to_hex()),
        Target::RecordB => fill(&f.record_b.id().to_hex()),
        Target::ProcessA => fill(&f.process_a.to_hex()),
        Target::ProcessB => fill(&f.process_b.to_hex()),
        Target::FaceA => fill(&f.face_a.to_hex()),
        Target::LetterA => fill(&f.letter_a.to_hex()),
        Target::TagA => fill(f.tag_a.as_str()),
        Target::TagB => fill(f.tag_b.as_str()),
        Target::Person => fill(demo::SAMPLER),
        Target::Nothing => fill("NOTHING-HERE"),
    }
}

fn matches(expect: &str, method: M, a: &Answer) -> bool {
    match expect {
        "L" if method == M::Get => a.to_sign_in(),
        "L" => a.status == 401,
        "F" => a.status == 403,
        "O" => a.status != 401 && a.status != 403 && !(method == M::Get && a.to_sign_in()),
        n => n.parse::<u16>().is_ok_and(|n| n == a.status),
    }
}

async fn r18_the_authorisation_matrix_covers_every_page_and_holds(b: Backend) {
    // Every page and action has a row, and every row is a page or action.
    for page in paths::ALL {
        assert!(
            MATRIX.iter().any(|(m, p, _, _)| *m == page.method && *p == page.path),
            "{:?} {} has no row in the authorisation matrix: add one",
            page.method,
            page.path
        );
        let rows = MATRIX.iter().filter(|(m, p, _, _)| *m == page.method && *p == page.path);
        for (_, _, _, expect) in rows {
            let first = expect.split_whitespace().next().unwrap();
            // Anonymous readers get exactly what the page's audience says.
            match page.audience {
                Audience::Public => {
                    assert!(first.parse::<u16>().is_ok(), "{}: public, so an exact status", page.path)
                }
                _ => assert_eq!(first, "L", "{}: not public, so sign in first", page.path),
            }
        }
    }
    for (m, p, _, expect) in MATRIX {
        assert!(paths::ALL.iter().any(|x| x.method == *m && x.path == *p), "{p}: a row for no page");
        assert_eq!(expect.split_whitespace().count(), ROLES.len(), "{p}: one answer per role");
    }

    let (_dir, server, facts) = world(b).await;
    let mut failures = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        let mut browser = if role.login.is_empty() {
            Browser::new(&server.url)
        } else {
            signed_in(&server, role.login, role.person)
        };
        for (method, path, target, expect) in MATRIX {
            let expect = expect.split_whitespace().nth(i).unwrap();
            // Signing out ends the session: each gets one of its own.
            if matches!(*path, paths::LOGOUT | paths::LOGOUT_ALL) && !role.login.is_empty() {
                browser = signed_in(&server, role.login, role.person);
            }
            let url = target_path(path, *target, &facts);
            let answer = match method {
                M::Get => browser.get(&url).await,
                M::Post if *path == paths::LOGIN => {
                    browser
                        .post(
                            &url,
                            &[("login", "nobody"), ("password", "wrong password"), ("code", "000000")],
                        )
                        .await
                }
                M::Post => {
                    let csrf = if role.login.is_empty() { "none".to_owned() } else { browser.csrf().await };
                    browser.post(&url, &[("csrf", &csrf)]).await
                }
            };
            if !matches(expect, *method, &answer) {
                failures.push(format!(
                    "{} {method:?} {url}: expected {expect}, got {} {:?}",
                    role.name, answer.status, answer.location
                ));
            }
        }
    }
    assert!(failures.is_empty(), "the authorisation matrix does not hold:\n{}", failures.join("\n"));
    server.stop().await;
}

// ---------------------------------------------------------------- lists and exports

/// Which projects' rows each signed-in role finds in every list and export.
async fn r18_every_list_and_export_holds_the_scope(b: Backend) {
    let (_dir, server, facts) = world(b).await;
    let (ra, rb) = (facts.record_a.id().to_hex(), facts.record_b.id().to_hex());
    let sees: [(&str, bool, bool); 11] = [
        ("admin", true, true),
        ("sunli", true, true),
        ("zhaomin", true, true),
        ("zhoujie", true, false),
        ("wuhao", false, true),
        ("pj-inspector", false, false),
        ("owner-hx", true, false),
        ("zhangwei", true, false),
        ("wangqiang", true, true),
        ("labx", false, false),
        ("tags", true, true),
    ];
    for (login, a, bb) in sees {
        let role = ROLES.iter().find(|r| r.login == login).unwrap();
        let mut browser = signed_in(&server, login, role.person);
        let want: Vec<&str> = [(a, A), (bb, B)].iter().filter(|(s, _)| *s).map(|(_, p)| *p).collect();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v
        };
        let projects = browser.get(paths::PROJECTS).await;
        assert_eq!(sorted(projects.attrs("project-row", "data-project")), want, "{login}: projects");
        for page in [paths::HOME, paths::RECORDS] {
            let list = browser.get(page).await;
            let mut got = sorted(list.attrs("record-row", "data-project"));
            // Administrators also see the records of no project (the directory's).
            if login == "admin" {
                got.retain(|p| !p.is_empty());
            }
            assert_eq!(got, want, "{login}: {page}");
            assert_eq!(list.body.contains(&ra), a, "{login}: {page} and A's record");
            assert_eq!(list.body.contains(&rb), bb, "{login}: {page} and B's record");
        }
        let csv = browser.get(paths::RECORDS_CSV).await;
        assert_eq!(csv.status, 200);
        assert_eq!(csv.body.contains(&ra), a, "{login}: the export and A's record");
        assert_eq!(csv.body.contains(&rb), bb, "{login}: the export and B's record");
        let violations = browser.get(paths::VIOLATIONS).await;
        assert_eq!(sorted(violations.attrs("violation-row", "data-project")), want, "{login}: violations");
        let oversight = browser.get(paths::OVERSIGHT).await;
        let listed = sorted(oversight.attrs("oversight-row", "data-project"));
        assert_eq!(listed.contains(&A.to_owned()), a, "{login}: oversight lists A");
        assert_eq!(listed.contains(&B.to_owned()), bb, "{login}: oversight lists B");
        let exported = browser.get(paths::OVERSIGHT_CSV).await;
        assert_eq!((exported.body.contains(A), exported.body.contains(B)), (a, bb), "{login}: oversight CSV");
        for (visible, id) in [(a, &ra), (bb, &rb)] {
            let record = browser.get(&paths::fill(paths::RECORD, id)).await;
            assert_eq!(record.status == 200, visible, "{login}: record {id}");
        }
    }
    // A face is shown as withheld to a regulator, opened by its own person.
    let mut city = signed_in(&server, "zhaomin", Some(demo::INSPECTOR));
    let record = city.get(&paths::fill(paths::RECORD, &ra)).await;
    let open: Vec<(String, String)> = record
        .attrs("record-media", "data-purpose")
        .into_iter()
        .zip(record.attrs("record-media", "data-open"))
        .collect();
    assert!(
        open.contains(&("face".into(), "false".into())) && open.contains(&("process".into(), "true".into())),
        "{open:?}"
    );
    let mut sampler = signed_in(&server, "zhangwei", Some(demo::SAMPLER));
    let face = sampler.get(&paths::fill(paths::MEDIA, &facts.face_a.to_hex())).await;
    assert_eq!(face.status, 200);
    assert_eq!(face.headers["content-type"], "image/jpeg");
    // Every face view is in the face-read log the audit page shows: who,
    // whose, by which path, from where (issue 18) — once each, not also
    // as an audit action.
    let mut admin = signed_in(&server, "admin", None);
    assert_eq!(admin.get(&paths::fill(paths::MEDIA, &facts.face_a.to_hex())).await.status, 200);
    let audit = admin.get(paths::ADMIN_AUDIT).await;
    let reads = audit.attrs("face-read-row", "data-subject");
    assert_eq!(reads, [demo::SAMPLER, demo::SAMPLER], "{}", audit.body);
    assert_eq!(audit.attrs("face-read-row", "data-via"), ["console", "console"]);
    assert!(!audit.attrs("audit-row", "data-action").iter().any(|a| a == "view_face"));
    let csv = admin.get(paths::ADMIN_FACE_READS_CSV).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.body.matches(&facts.face_a.to_hex()).count(), 2, "the face-read export: {}", csv.body);
    assert!(csv.body.contains("zhangwei") && csv.body.contains("admin"), "{}", csv.body);
    // The sampler sees who opened their face photo.
    let mine = sampler.get(paths::ACCOUNT).await;
    assert_eq!(mine.attrs("my-face-read", "data-via").len(), 2, "{}", mine.body);
    // Older pages: everything logged before a position, newest first.
    let b_index = server.state.store.read(|tx| tx.record(&facts.record_b.id())).unwrap().unwrap().log_index;
    let older = admin.get(&format!("{}?before={b_index}", paths::RECORDS)).await;
    assert!(older.body.contains(&ra) && !older.body.contains(&rb), "the page before B's record");
    server.stop().await;
}

// ---------------------------------------------------------------- sign-in

/// Open a setup link and finish it; returns the authenticator secret.
async fn set_up(browser: &mut Browser, link: &str, password: &str, now: i64) -> Vec<u8> {
    let opened = browser.get(link).await;
    assert_eq!((opened.status, opened.location.as_deref()), (303, Some(paths::SETUP)), "{opened:?}");
    let page = browser.get(paths::SETUP).await;
    assert_eq!(page.status, 200);
    let secret = totp::from_base32(&text_of(&page.body, "setup-secret").unwrap()).unwrap();
    let csrf = csrf_of(&page.body).unwrap();
    let code = totp::code_at(&secret, now);
    let done = browser
        .post(
            paths::SETUP,
            &[("csrf", &csrf), ("password", password), ("password2", password), ("code", &code)],
        )
        .await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some(paths::HOME)), "{}", done.body);
    secret
}

async fn sign_in(browser: &mut Browser, login: &str, password: &str, code: &str) -> Answer {
    browser
        .post(
            paths::LOGIN,
            &[("login", login), ("password", password), ("code", code), ("next", paths::PROJECTS)],
        )
        .await
}

async fn sign_in_with_a_setup_link_then_password_and_one_time_code(b: Backend) {
    let (_dir, server, _facts) = world(b).await;
    let now = || {
        use sync_server::Clock;
        server.clock.now_ms()
    };
    let path = sync_server::console::ensure_account(&server.state, "admin", "管理员", None, "test")
        .unwrap()
        .unwrap();
    let mut browser = Browser::new(&server.url);
    // A setup session can do nothing but finish setting up.
    let opened = browser.get(&path).await;
    assert_eq!(opened.status, 303);
    assert_eq!(browser.get(paths::PROJECTS).await.location.as_deref(), Some(paths::SETUP));
    // Bad passwords and codes are refused with a reason, and nothing is set.
    let page = browser.get(paths::SETUP).await;
    let csrf = csrf_of(&page.body).unwrap();
    for (p1, p2, code, why) in [
        ("Aa1!aaaaaaaa", "Aa1!aaaaaaab", "000000", "两次输入的密码不一致"),
        ("short", "short", "000000", "10"),
        ("Yingkou-2026-ok", "Yingkou-2026-ok", "000000", "动态验证码不正确"),
    ] {
        let r = browser
            .post(paths::SETUP, &[("csrf", &csrf), ("password", p1), ("password2", p2), ("code", code)])
            .await;
        assert_eq!(r.status, 200);
        assert!(text_of(&r.body, "setup-error").is_some_and(|e| e.contains(why)), "{why}: {}", r.body);
    }
    let account = server.state.store.read(|tx| tx.console_account_by_login("admin")).unwrap().unwrap();
    assert!(account.password_hash.is_none());
    // The link's second use finds nothing: it is spent once setup completes.
    let secret = set_up(&mut browser, &path, "Yingkou-2026-ok", now()).await;
    assert_eq!(browser.get(paths::ADMIN_STATUS).await.status, 200, "signed in as the admin");
    assert_eq!(Browser::new(&server.url).get(&path).await.status, 400, "a used setup link");

    // Password and a fresh code: in; the same code again: refused.
    server.clock.advance(31_000);
    let mut office = Browser::new(&server.url);
    let code = totp::code_at(&secret, now());
    let ok = sign_in(&mut office, "admin", "Yingkou-2026-ok", &code).await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some(paths::PROJECTS)), "{}", ok.body);
    let cookie = ok.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert_eq!(sign_in(&mut Browser::new(&server.url), "admin", "Yingkou-2026-ok", &code).await.status, 401);
    // Five wrong attempts lock the account, even against the right code.
    for _ in 0..5 {
        let r = sign_in(&mut Browser::new(&server.url), "admin", "wrong-password-1", "123456").await;
        assert_eq!(r.status, 401);
        assert!(r.has("login-error"));
    }
    server.clock.advance(31_000);
    let code = totp::code_at(&secret, now());
    assert_eq!(
        sign_in(&mut Browser::new(&server.url), "admin", "Yingkou-2026-ok", &code).await.status,
        401,
        "locked"
    );
    server.clock.advance(16 * 60_000);
    let code = totp::code_at(&secret, now());
    let mut later = Browser::new(&server.url);
    assert_eq!(
        sign_in(&mut later, "admin", "Yingkou-2026-ok", &code).await.status,
        303,
        "unlocked after 15 minutes"
    );

    // Sessions end when idle, and everywhere at once on request.
    server.clock.advance(31 * 60_000);
    assert!(later.get(paths::HOME).await.to_sign_in(), "idle for 31 minutes");
    let code = totp::code_at(&secret, now());
    let mut one = Browser::new(&server.url);
    assert_eq!(sign_in(&mut one, "admin", "Yingkou-2026-ok", &code).await.status, 303);
    let mut two = signed_in(&server, "admin", None);
    assert_eq!(two.get(paths::HOME).await.status, 200);
    let csrf = one.csrf().await;
    let out = one.post(paths::LOGOUT_ALL, &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some(paths::LOGIN));
    assert!(two.get(paths::HOME).await.to_sign_in(), "the other session ended too");
    // A disabled account cannot sign in.
    let mut admin2 = signed_in(&server, "admin2", None);
    let csrf = admin2.csrf().await;
    let id = account.id.clone();
    let r = admin2.post(&paths::fill(paths::ADMIN_ACCOUNT_DISABLE, &id), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    server.clock.advance(31_000);
    let code = totp::code_at(&secret, now());
    assert_eq!(sign_in(&mut Browser::new(&server.url), "admin", "Yingkou-2026-ok", &code).await.status, 401);
    let audit = admin2.get(paths::ADMIN_AUDIT).await.attrs("audit-row", "data-action");
    for action in ["setup", "sign_in", "sign_in_failed", "sign_out_everywhere", "disable_account"] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
    server.stop().await;
}

async fn sign_in_by_scanning_the_console_qr_with_an_enrolled_phone(b: Backend) {
    let (_dir, server, _facts) = world(b).await;
    let phone = enrolled(&server, 7, "P-ZHOUJIE").await;
    let mut browser = Browser::new(&server.url);
    let login = browser.get(&format!("{}?next={}", paths::LOGIN, paths::PROJECTS)).await;
    let qr = text_of(&login.body, "login-qr-text").unwrap();
    let offer = ConsoleLoginOffer::from_qr(&qr).unwrap();
    assert_eq!(offer.server_url, server.url, "the QR names this server");
    let wait = format!("{}?next={}", paths::fill(paths::LOGIN_QR, &offer.id), paths::PROJECTS);
    assert!(browser.get(&wait).await.body.contains("pending"), "waiting for the phone");
    // The phone sees where the request comes from before approving.
    let info: ConsoleLoginInfo = phone.get_json(&routes::console_login(&offer.id)).await;
    assert!(info.pending && info.ip == "127.0.0.1", "{info:?}");
    let approve = |secret: &str| serde_json::to_vec(&ConsoleApproval { secret: secret.into() }).unwrap();
    let wrong = phone.signed(Method::POST, &routes::console_login(&offer.id), approve("guessed")).await;
    assert_eq!(wrong.status(), 403);
    let r = phone.signed(Method::POST, &routes::console_login(&offer.id), approve(&offer.secret)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Another browser that learnt the id cannot take the sign-in.
    let mut thief = Browser::new(&server.url);
    let stolen = thief.get(&wait).await;
    assert!(stolen.body.contains("expired") && !thief.cookies.contains_key("jzqy_console"));
    // The browser that asked is signed in as the phone's person, once.
    let polled = browser.get_with(&wait, &[("hx-request", "true")]).await;
    assert_eq!(polled.headers["hx-redirect"], paths::PROJECTS);
    let projects = browser.get(paths::PROJECTS).await;
    assert_eq!(projects.attrs("project-row", "data-project"), [A], "a Zhanqian inspector sees Zhanqian");
    let mut again = Browser::new(&server.url);
    again.cookies.clone_from(&browser.cookies);
    again.cookies.remove("jzqy_console");
    assert!(!again.get(&wait).await.headers.contains_key("set-cookie"), "used once");
    let twice = phone.signed(Method::POST, &routes::console_login(&offer.id), approve(&offer.secret)).await;
    assert_eq!(twice.status(), 400);

    // A QR goes stale after five minutes.
    let mut late = Browser::new(&server.url);
    let qr = text_of(&late.get(paths::LOGIN).await.body, "login-qr-text").unwrap();
    let offer = ConsoleLoginOffer::from_qr(&qr).unwrap();
    server.clock.advance(6 * 60_000);
    let r = phone.signed(Method::POST, &routes::console_login(&offer.id), approve(&offer.secret)).await;
    assert_eq!(r.status(), 400);
    // A person whose authorisation is withdrawn cannot approve (R1).
    let jur_grant = "G-ZHOUJIE-I-JUR";
    server.admin().revoke_grant(id(jur_grant), "调离".into()).unwrap();
    let mut after = Browser::new(&server.url);
    let qr = text_of(&after.get(paths::LOGIN).await.body, "login-qr-text").unwrap();
    let offer = ConsoleLoginOffer::from_qr(&qr).unwrap();
    let r = phone.signed(Method::POST, &routes::console_login(&offer.id), approve(&offer.secret)).await;
    assert_eq!(r.status(), 403);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, "not_authorised");
    // An unsigned request is not a device.
    let plain = reqwest::Client::new()
        .get(format!("{}{}", server.url, routes::console_login(&offer.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    server.stop().await;
}

// ---------------------------------------------------------------- forms

async fn forms_refuse_other_origins_and_stale_tokens(b: Backend) {
    let (_dir, server, _facts) = world(b).await;
    let mut admin = signed_in(&server, "admin", None);
    let csrf = admin.csrf().await;
    let org = [
        ("csrf", csrf.as_str()),
        ("id", "ORG-NEW"),
        ("name", "新单位"),
        ("role", "owner"),
        ("credit_code", ""),
        ("jurisdiction", ""),
    ];
    // Without the session's token.
    let mut stale = org;
    stale[0].1 = "stale";
    assert_eq!(admin.post(paths::ADMIN_ORGS, &stale).await.status, 403);
    // From another site's page (the browser says where the form came from).
    admin.origin = Some("http://evil.example".into());
    assert_eq!(admin.post(paths::ADMIN_ORGS, &org).await.status, 403);
    admin.origin = None;
    assert_eq!(admin.post(paths::ADMIN_ORGS, &org).await.status, 403, "no origin, no referer");
    admin.origin = Some(server.url.clone());
    assert!(server.state.store.read(|tx| tx.org(&id("ORG-NEW"))).unwrap().is_none(), "nothing stored");
    let ok = admin.post(paths::ADMIN_ORGS, &org).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(server.state.store.read(|tx| tx.org(&id("ORG-NEW"))).unwrap().is_some());
    // Every answer is locked down.
    let page = admin.get(paths::HOME).await;
    for (h, v) in
        [("x-frame-options", "DENY"), ("x-content-type-options", "nosniff"), ("cache-control", "no-store")]
    {
        assert_eq!(page.headers[h], v, "{h}");
    }
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    // English on request, Chinese by default.
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    admin.get(&format!("{}?to=en", paths::LANG)).await;
    assert!(admin.get(paths::HOME).await.body.contains("<html lang=\"en\">"));
    server.stop().await;
}

/// A minimal PDF's first bytes: what the letter upload checks.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

async fn r1_r21_administration_through_the_forms_is_checked_stored_and_audited(b: Backend) {
    let (_dir, server, _facts) = world(b).await;
    let mut admin = signed_in(&server, "admin", None);
    let csrf = admin.csrf().await;
    // A project in Zhanqian with its site drawn on a GCJ-02 map.
    let r = admin
        .post(
            paths::ADMIN_PROJECTS,
            &[
                ("csrf", &csrf),
                ("id", "PRJ-NEW"),
                ("name", "新项目"),
                ("owner", "ORG-OWN-HX"),
                ("jurisdiction", "210802"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let square = r#"{"type":"Polygon","coordinates":[[[122.240,40.667],[122.241,40.667],[122.241,40.668],[122.240,40.668],[122.240,40.667]]]}"#;
    let r = admin
        .post(
            paths::ADMIN_UNITS,
            &[
                ("csrf", &csrf),
                ("id", "UP-NEW"),
                ("project", "PRJ-NEW"),
                ("name", "3#楼"),
                ("datum", "gcj02"),
                ("geojson", square),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let unit = server.state.store.read(|tx| tx.unit_project(&id("UP-NEW"))).unwrap().unwrap();
    let (lat, lon) = (unit.boundary.exterior[0].lat(), unit.boundary.exterior[0].lon());
    assert!(
        (lat - 40.667).abs() < 0.01 && (lon - 122.240).abs() < 0.01 && (lon - 122.240).abs() > 1e-5,
        "converted to WGS-84: {lat},{lon}"
    );
    // A bad boundary is refused with its reason, nothing stored.
    let r = admin
        .post(
            paths::ADMIN_UNITS,
            &[
                ("csrf", &csrf),
                ("id", "UP-BAD"),
                ("project", "PRJ-NEW"),
                ("name", "x"),
                ("datum", "wgs84"),
                ("geojson", "{\"type\":\"Point\"}"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.has("form-error"), "{}", r.body);
    assert!(server.state.store.read(|tx| tx.unit_project(&id("UP-BAD"))).unwrap().is_none());
    // A person, then a grant with a letter: a PDF is taken, an HTML page is not.
    let r = admin
        .post(
            paths::ADMIN_PEOPLE,
            &[("csrf", &csrf), ("id", "P-NEW"), ("name", "刘洋"), ("org", "ORG-CON-ZJ")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let fields = [
        ("csrf", csrf.as_str()),
        ("person", "P-NEW"),
        ("grant", "G-NEW"),
        ("role", "sampler"),
        ("project", "PRJ-NEW"),
        ("real_name", "居民身份证"),
        ("until", ""),
    ];
    let r = admin
        .post_multipart(
            paths::ADMIN_GRANTS,
            &fields,
            &[("letter", "letter.pdf", "application/pdf", b"<html><script>alert(1)</script>")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.has("form-error"), "{}", r.body);
    assert!(
        server.state.store.read(|tx| tx.grants_of(&id("P-NEW"))).unwrap().is_empty(),
        "nothing half-written"
    );
    let r = admin
        .post_multipart(paths::ADMIN_GRANTS, &fields, &[("letter", "授权书.pdf", "application/pdf", PDF)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let grants = server.state.store.read(|tx| tx.grants_of(&id("P-NEW"))).unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(server.state.blobs.read(&grants[0].letter).unwrap(), PDF);
    // The person's phone gets the grant, then its revocation on the next sync.
    let mut phone = enrolled(&server, 9, "P-NEW").await;
    assert!(
        phone
            .profile
            .as_ref()
            .unwrap()
            .grants
            .iter()
            .any(|g| g.grant == id("G-NEW") && g.revoked_at_ms.is_none())
    );
    let person = paths::fill(paths::ADMIN_PERSON, "P-NEW");
    let r = admin
        .post(
            &paths::fill(paths::ADMIN_GRANT_REVOKE, "G-NEW"),
            &[("csrf", &csrf), ("reason", "调离本项目"), ("back", "P-NEW")],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some(person.as_str()));
    let page = admin.get(&person).await;
    assert_eq!(page.attrs("grant-row", "data-revoked"), ["true"]);
    assert!(page.body.contains("调离本项目") && page.body.contains("admin"), "who revoked it and why");
    phone.sync_time().await;
    let profile: DeviceProfile = phone.get_json(routes::PROFILE).await;
    assert!(
        profile.grants.iter().any(|g| g.grant == id("G-NEW") && g.revoked_at_ms.is_some()),
        "{:?}",
        profile.grants
    );
    // A lost phone is revoked from the devices page.
    let key = phone.key().public().to_b64();
    let r = admin
        .post(
            &paths::fill(paths::ADMIN_DEVICE_REVOKE, &key),
            &[("csrf", &csrf), ("reason", "丢失"), ("back", "P-NEW")],
        )
        .await;
    assert!(r.status == 303, "{}", r.body);
    assert_eq!(phone.signed(Method::GET, routes::PROFILE, vec![]).await.status(), 403);
    // Tags and a lab for the new project; an overlapping batch is refused.
    let tags = [
        ("csrf", csrf.as_str()),
        ("supplier_org", "ORG-TAG-AF"),
        ("project", "PRJ-NEW"),
        ("supplier", "310"),
        ("year", "26"),
        ("batch", "9"),
        ("ranges", "1-100"),
    ];
    assert_eq!(admin.post(paths::ADMIN_TAGS, &tags).await.status, 303);
    let again = admin.post(paths::ADMIN_TAGS, &tags).await;
    assert!(again.status == 200 && again.has("form-error"), "{}", again.body);
    let lab = [
        ("csrf", csrf.as_str()),
        ("project", "PRJ-NEW"),
        ("unit", "UP-NEW"),
        ("lab", demo::LAB_ORG),
        ("kinds", "concrete_cube"),
        ("kinds", "rebar"),
    ];
    assert_eq!(admin.post(paths::ADMIN_LABS, &lab).await.status, 303);
    // An account for an office regulator: a one-time link, shown once.
    let r = admin
        .post(
            paths::ADMIN_ACCOUNTS,
            &[("csrf", &csrf), ("login", "li.jian"), ("name", "李建"), ("person", "P-SUNLI")],
        )
        .await;
    assert!(r.has("setup-link"), "{}", r.body);
    // The audit log has every action, and exports.
    let audit = admin.get(paths::ADMIN_AUDIT).await.attrs("audit-row", "data-action");
    for action in [
        "add_project",
        "add_unit",
        "add_person",
        "grant",
        "revoke_grant",
        "revoke_device",
        "register_tags",
        "assign_lab",
        "create_account",
    ] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
    let status = admin.get(paths::ADMIN_STATUS).await;
    assert!(status.has("status"));
    let units = admin.get(paths::ADMIN_PROJECTS).await;
    assert!(units.body.contains("UP-NEW"));
    let project = admin.get(&paths::fill(paths::PROJECT, "PRJ-NEW")).await;
    assert!(project.body.contains("3#楼") && project.body.contains("<svg"), "the site on a map");
    server.stop().await;
}

/// A deployment with a tile server gets tiles under its maps, and the pages
/// may load them; without one (every other test) maps need no network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maps_draw_configured_tiles_and_the_page_policy_allows_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.console.map_tiles = "https://tiles.example.cn/{z}/{x}/{y}.png".into();
    c.console.map_tiles_datum = "gcj02".into();
    let server = TestServer::start_with(c, None).await;
    server.seed();
    let mut admin = signed_in(&server, "admin", None);
    let page = admin.get(&paths::fill(paths::PROJECT, A)).await;
    assert!(page.body.contains(r#"<image class="tile" href="https://tiles.example.cn/"#), "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("img-src 'self' data: https://tiles.example.cn;"), "{csp}");
    server.stop().await;
    let plain = tempfile::tempdir().unwrap();
    let server = TestServer::start(plain.path()).await;
    server.seed();
    let page = signed_in(&server, "admin", None).get(&paths::fill(paths::PROJECT, A)).await;
    assert!(page.body.contains("<svg") && !page.body.contains("<image"));
    server.stop().await;
}
