//! Reports that count (R12, R13) through the real server on both storage
//! back ends: a whole chain from sampling to a report, the report QR's seal
//! for its lab only, the public check (JSON and page) valid → replaced, a
//! tampered or foreign seal refused, a report without a curve not sealed;
//! the report PDF the system issues (QR on every page, files attached,
//! byte-identical when rendered again, its hash on the check page); and the
//! commission form's QR opening a page (R10).

#[macro_use]
mod common;

use common::lab::*;
use common::*;
use custody_core::fixtures::{self, id};
use custody_core::model::{OrgRole, Person, PersonRole};
use custody_core::protocol::*;

use custody_core::record::{Measurement, MediaPurpose, Payload, ReportRevocation, TestData, TestReview};
use custody_core::report_seal::{ReportStatus, SignedSeal};
use custody_core::{Hash, routes};
use sync_server::demo;
use sync_server::testing::{Backend, TestServer};

on_each_backend!(
    r13_a_whole_chain_gets_a_seal_anyone_can_check_and_a_replacement_is_shown,
    r13_no_seal_without_a_curve_or_for_another_organisation,
    r13_a_revocation_by_its_own_lab_is_shown_with_its_reason_and_anyone_elses_changes_nothing,
    r12_r13_a_value_the_curve_does_not_give_is_flagged_and_not_sealed,
    r12_r20_a_second_person_approves_each_test_and_corrections_say_why,
    r10_the_commission_forms_qr_opens_a_page,
    r12_a_concrete_group_is_three_cubes_and_a_copied_cube_curve_is_flagged,
    r11_r13_the_lab_desk_shows_each_specimens_stage_and_the_curve_with_its_marks,
    r13_the_issued_pdf_carries_the_qr_on_every_page_and_the_files_unaltered,
    r13_without_its_font_the_pdf_is_refused_in_both_languages_and_the_seal_still_issued,
);

async fn r13_a_whole_chain_gets_a_seal_anyone_can_check_and_a_replacement_is_shown(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 11).await;
    tested_and_reviewed(&mut chain, 11).await;
    let (first, pdf) = report(&mut chain, &[11], "YK-BG-2026-0001", None).await;

    let r = seal_of(&chain.lab, &first).await;
    assert_eq!(r.status(), 200);
    let sealed: ReportSealResponse = r.json().await.unwrap();
    assert_eq!(sealed.qr, format!("{}{}", server.url, routes::report_check(&sealed.seal)));
    // Offline: the seal verifies with the system's public key alone.
    let offline = SignedSeal::decode(&sealed.qr).unwrap();
    let s = offline.verify(&[server.state.key.public()]).unwrap();
    assert_eq!((s.report, s.document, s.report_no.as_str()), (first.id(), Hash::of(&pdf), "YK-BG-2026-0001"));
    // Printed at level Q it stays a QR a phone reads from paper.
    let qr = qrcode::QrCode::with_error_correction_level(sealed.qr.as_bytes(), qrcode::EcLevel::Q).unwrap();
    let qrcode::Version::Normal(version) = qr.version() else { panic!("micro QR") };
    println!("report QR: {} characters, version {version} at level Q", sealed.qr.len());
    assert!(version <= 15, "version {version}");
    // The same report always gets the same seal (nothing stored).
    let again: ReportSealResponse = seal_of(&chain.lab, &first).await.json().await.unwrap();
    assert_eq!(again.seal, sealed.seal);

    // Online: anyone checks it; the answer is valid and carries no personal data.
    let (status, text) = check(&server, &sealed.seal).await;
    assert_eq!(status, 200, "{text}");
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    assert_eq!(view.status, ReportStatus::Valid);
    assert_eq!(view.document_sha256, Hash::of(&pdf));
    assert_eq!(view.tests, vec!["concrete_cube_strength GB/T 50081-2019".to_owned()]);
    assert_eq!(view.specimens.len(), 1);
    assert!(view.specimens[0].ok, "{:?}", view.specimens[0].checks);
    // R12: the system's own strength from the raw curve, and nothing to flag.
    let result = &view.specimens[0].results[0];
    assert_eq!(result.curve, Some(Hash::of(&curve_file(11))));
    let f = result.figures.iter().find(|f| f.name == "f_cu").expect("f_cu recomputed");
    assert!(f.value > 30.0 && f.value < 50.0, "{f:?}");
    assert!(result.flags.is_empty(), "{:?}", result.flags);
    assert_eq!(view.specimens[0].stage, "reported");
    for personal in ["张伟", "李娜", "王强", demo::SAMPLER, demo::WITNESS, demo::LAB_RECEIVER, "\"lat\""]
    {
        assert!(!text.contains(personal), "{personal} must not be public: {text}");
    }
    let (status, html) = page(&server, &routes::report_check(&sealed.seal)).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-status="valid""#), "{html}");
    assert!(html.contains(&format!(r#"data-figure="f_cu" data-value="{}""#, f.value)), "{html}");
    assert!(html.contains(&Hash::of(&pdf).to_hex()));
    for personal in ["张伟", "李娜", "王强"] {
        assert!(!html.contains(personal), "{personal} on the public page");
    }
    // The page's file comparison script is served from the console itself (CSP 'self').
    assert!(html.contains("/console/assets/check.js"));
    assert_eq!(page(&server, "/console/assets/check.js").await.0, 200);
    // A lower-cased URL (some scanners) still checks.
    assert_eq!(check(&server, &sealed.seal.to_lowercase()).await.0, 200);

    // Tampered: one character changed → refused, said plainly, never a 500.
    let mut chars: Vec<char> = sealed.seal.chars().collect();
    chars[100] = if chars[100] == 'A' { 'B' } else { 'A' };
    let forged: String = chars.into_iter().collect();
    let (status, text) = check(&server, &forged).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(serde_json::from_str::<ApiError>(&text).unwrap().code, "seal_invalid");
    let (status, html) = page(&server, &routes::report_check(&forged)).await;
    assert_eq!(status, 400);
    assert!(html.contains(r#"data-status="invalid""#) && html.contains("伪造"), "{html}");
    assert_eq!(check(&server, "not-a-seal").await.0, 400);
    // A seal signed by another key (another system, or a forger's).
    let other = custody_core::SigningKey::from_seed(&[42; 32]).unwrap();
    let foreign = offline.seal.clone().sign(&other).unwrap().encode().unwrap();
    let (status, text) = check(&server, &foreign).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("不是本系统"), "{text}");

    // Replaced: a corrected report amends the first; the first's QR keeps
    // answering "replaced by", with a link to the new one's check.
    let (second, _) = report(&mut chain, &[11], "YK-BG-2026-0001-R1", Some(first.id())).await;
    let second_seal: ReportSealResponse = seal_of(&chain.lab, &second).await.json().await.unwrap();
    let (_, text) = check(&server, &sealed.seal).await;
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    assert!(
        matches!(&view.status, ReportStatus::ReplacedBy { report, report_no, .. } if *report == second.id() && report_no == "YK-BG-2026-0001-R1"),
        "{:?}",
        view.status
    );
    assert_eq!(view.replaced_by_url.as_deref(), Some(second_seal.qr.as_str()));
    let (_, html) = page(&server, &routes::report_check(&sealed.seal)).await;
    assert!(html.contains(r#"data-status="replaced""#) && html.contains(r#"data-testid="replaced-by""#));
    let (_, text) = check(&server, &second_seal.seal).await;
    assert_eq!(serde_json::from_str::<PublicReportView>(&text).unwrap().status, ReportStatus::Valid);
    drop((chain.sampler, chain.witness, chain.commission));
    server.stop().await;
}

async fn r13_no_seal_without_a_curve_or_for_another_organisation(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 12).await;
    tested(&mut chain, 12, false).await;
    let (rep, _) = report(&mut chain, &[12], "YK-BG-2026-0002", None).await;
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 409);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, "report_not_issuable");
    assert!(e.message_zh.contains("曲线"), "{}", e.message_zh);
    let gaps = e.detail.unwrap()["gaps"].clone();
    assert_eq!(gaps[0]["gap"], "no_curve", "{gaps}");
    // The sampler's organisation did not issue it: no seal, whatever its state.
    let r = seal_of(&chain.sampler, &rep).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "not_your_report");
    // Not a report at all.
    let r = seal_of(&chain.lab, &chain.commission).await;
    assert_eq!(r.status(), 404);
    server.stop().await;
}

async fn r10_the_commission_forms_qr_opens_a_page(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let chain = received(&server, 13).await;
    let c = chain.commission.id();
    let (status, html) = page(&server, &routes::record_page(&c)).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-testid="witness-cosigned" data-value="true""#), "{html}");
    assert!(html.contains(&fixtures::tag(13).printed()));
    for personal in ["张伟", "李娜", demo::SAMPLER, demo::WITNESS] {
        assert!(!html.contains(personal), "{personal} on the public page");
    }
    // Forms printed before the page existed carry the JSON address: a
    // browser opening it is sent to the page; programs still get JSON.
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirect
        .get(format!("{}{}", server.url, routes::public_record(&c)))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], routes::record_page(&c).as_str());
    let r = reqwest::get(format!("{}{}", server.url, routes::public_record(&c))).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(page(&server, "/r/nothex").await.0, 400);
    assert_eq!(page(&server, &routes::record_page(&Hash::of(b"none"))).await.0, 404);
    server.stop().await;
}

async fn r13_a_revocation_by_its_own_lab_is_shown_with_its_reason_and_anyone_elses_changes_nothing(
    b: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    // Another lab with a report issuer of its own.
    let mut stranger = another_lab(&server).await;
    let mut chain = received(&server, 14).await;
    tested_and_reviewed(&mut chain, 14).await;
    let (rep, _) = report(&mut chain, &[14], "YK-BG-2026-0003", None).await;
    let sealed: ReportSealResponse = seal_of(&chain.lab, &rep).await.json().await.unwrap();
    let revocation = |reason: &str, tags: Vec<u32>| {
        Payload::ReportRevoked(ReportRevocation {
            report: rep.id(),
            tags: tags.into_iter().map(fixtures::tag).collect(),
            reason: reason.into(),
        })
    };

    // Another lab cannot withdraw it: its revocation is kept but counts for nothing.
    let r = stranger.field_record(revocation("我们撤销", vec![14]), 0.0, 0.0, &[]);
    stranger.upload(&[&r]).await;
    let (_, text) = check(&server, &sealed.seal).await;
    assert_eq!(serde_json::from_str::<PublicReportView>(&text).unwrap().status, ReportStatus::Valid);

    // Without a reason, or naming other tags: refused, with the rule.
    for (reason, tags, code) in [("  ", vec![14], "no_reason"), ("数据录入错误", vec![15], "tags_differ")]
    {
        let r = chain.lab.field_record(revocation(reason, tags), 0.0, 0.0, &[]);
        let resp = chain.lab.upload(&[&r]).await;
        assert_eq!(resp.results[0].status, RecordStatus::Refused, "{:?}", resp.results[0].findings);
        assert!(
            resp.results[0]
                .findings
                .iter()
                .any(|f| f.code == "revocation_invalid" && f.message_en.contains("R13")),
            "{code}: {:?}",
            resp.results[0].findings
        );
    }
    let (_, text) = check(&server, &sealed.seal).await;
    assert_eq!(serde_json::from_str::<PublicReportView>(&text).unwrap().status, ReportStatus::Valid);

    // Its own lab withdraws it: the QR answers "revoked", with the reason and date, forever.
    let r = chain.lab.field_record(revocation("试验机标定过期，数据作废", vec![14]), 0.0, 0.0, &[]);
    accepted(&mut chain.lab, &r).await;
    let (status, text) = check(&server, &sealed.seal).await;
    assert_eq!(status, 200);
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    assert!(
        matches!(&view.status, ReportStatus::Revoked { reason, .. } if reason == "试验机标定过期，数据作废"),
        "{:?}",
        view.status
    );
    let (_, html) = page(&server, &routes::report_check(&sealed.seal)).await;
    assert!(html.contains(r#"data-status="revoked""#) && html.contains("试验机标定过期"), "{html}");
    server.stop().await;
}

async fn r12_r13_a_value_the_curve_does_not_give_is_flagged_and_not_sealed(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 16).await;
    // The lab's software says 3 MPa more than its own machine's curve gives.
    let curve = custody_core::curve::parse(&curve_file(16)).unwrap();
    let honest = custody_core::results::concrete::cube_strength(&curve).unwrap().strength_mpa.rounded;
    let nudged = vec![Measurement {
        name: "抗压强度".into(),
        value_milli: ((honest + 3.0) * 1000.0).round() as i64,
        unit: "MPa".into(),
    }];
    tested_reporting(&mut chain, 16, true, nudged).await;
    let (rep, _) = report(&mut chain, &[16], "YK-BG-2026-0004", None).await;
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 409);
    let e: ApiError = r.json().await.unwrap();
    assert!(
        e.message_zh.contains("不符") && e.message_en.contains("f_cu"),
        "{} / {}",
        e.message_zh,
        e.message_en
    );
    assert_eq!(e.detail.unwrap()["gaps"][0]["gap"], "result_mismatch");
    // A reused curve: the same file for a second specimen is flagged on both.
    let mut second = received_again(chain, 17).await;
    let t = TestData {
        tag: fixtures::tag(17),
        receipt: second.receipt.id(),
        test: "concrete_cube_strength".into(),
        standard: "GB/T 50081-2019".into(),
        results: vec![],
        curve: Some(Hash::of(&curve_file(16))),
        automatic: true,
        equipment: None,
        revises: None,
        reason: None,
    };
    let file = curve_file(16);
    let rec = second.lab.field_record(
        Payload::TestData(t),
        0.0,
        0.0,
        &[(MediaPurpose::TestCurve, file.as_slice())],
    );
    accepted(&mut second.lab, &rec).await;
    assert_eq!(review(&mut second, &rec, true, "").await.status, RecordStatus::Accepted);
    let (rep17, _) = report(&mut second, &[17], "YK-BG-2026-0005", None).await;
    let r = seal_of(&second.lab, &rep17).await;
    assert_eq!(r.status(), 200, "the reuse is a flag for a person, not a refusal");
    let sealed: ReportSealResponse = r.json().await.unwrap();
    let (_, text) = check(&server, &sealed.seal).await;
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    let flags = &view.specimens[0].results[0].flags;
    assert!(
        flags.iter().any(|f| f.code == "curve_reused" && f.message_zh.contains(&fixtures::tag(16).printed())),
        "{flags:?}"
    );
    server.stop().await;
}

async fn r12_r20_a_second_person_approves_each_test_and_corrections_say_why(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 18).await;
    let test = tested(&mut chain, 18, true).await;
    // The tester reviewing their own data is refused (R12).
    let Payload::TestData(t) = &test.body().payload else { unreachable!() };
    let own = TestReview { test_data: test.id(), tag: t.tag.clone(), approved: true, note: String::new() };
    let rec = chain.lab.field_record(Payload::TestReviewed(own), 0.0, 0.0, &[]);
    let res = chain.lab.upload(&[&rec]).await.results.remove(0);
    assert_eq!(res.status, RecordStatus::Refused, "{:?}", res.findings);
    assert!(res.findings.iter().any(|f| f.code == "self_review"), "{:?}", res.findings);
    // Returned without a reason: refused; with one: accepted.
    let res = review(&mut chain, &test, false, " ").await;
    assert!(res.findings.iter().any(|f| f.code == "review_invalid"), "{:?}", res.findings);
    let res = review(&mut chain, &test, false, "曲线峰值后数据缺失，请复核").await;
    assert_eq!(res.status, RecordStatus::Accepted, "{:?}", res.findings);
    // The tester corrects it: without a reason, refused; with one, a new
    // record beside the old (who and when are its signature, R20).
    let corrected = |reason: Option<&str>| {
        let Payload::TestData(mut t) = test.body().payload.clone() else { unreachable!() };
        t.revises = Some(test.id());
        t.reason = reason.map(str::to_owned);
        t
    };
    let file = curve_file(18);
    let media = [(MediaPurpose::TestCurve, file.as_slice())];
    let bad = chain.lab.field_record(Payload::TestData(corrected(None)), 0.0, 0.0, &media);
    let res = chain.lab.upload(&[&bad]).await.results.remove(0);
    assert!(res.findings.iter().any(|f| f.code == "revision_invalid"), "{:?}", res.findings);
    let fixed =
        chain.lab.field_record(Payload::TestData(corrected(Some("补录峰值后数据"))), 0.0, 0.0, &media);
    let res = chain.lab.upload(&[&fixed]).await.results.remove(0);
    assert_eq!(res.status, RecordStatus::Accepted, "{:?}", res.findings);
    // Reported before the correction is approved: no seal, and the lab is told why.
    let (rep, _) = report(&mut chain, &[18], "YK-BG-2026-0006", None).await;
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 409);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.detail.unwrap()["gaps"][0]["gap"], "not_reviewed");
    // Approved by the second person: sealed; the old test no longer counts.
    assert_eq!(review(&mut chain, &fixed, true, "").await.status, RecordStatus::Accepted);
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 200);
    let sealed: ReportSealResponse = r.json().await.unwrap();
    let (_, text) = check(&server, &sealed.seal).await;
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    assert_eq!(view.specimens[0].results.len(), 1, "the superseded test is not shown as current");
    assert_eq!(view.specimens[0].results[0].correction.as_deref(), Some("补录峰值后数据"));
    let (_, html) = page(&server, &routes::report_check(&sealed.seal)).await;
    assert!(html.contains("补录峰值后数据"));
    server.stop().await;
}

/// Another lab, with a device of its report issuer (P-LABX).
async fn another_lab(server: &TestServer) -> Phone {
    let admin = server.admin();
    admin.add_org(org("ORG-LAB-X", OrgRole::Lab, None)).unwrap();
    admin.add_person(Person { id: id("P-LABX"), name: "P-LABX".into(), org: id("ORG-LAB-X") }).unwrap();
    let letter = (b"letter".as_slice(), "text/plain");
    admin
        .grant(id("G-LX"), id("P-LABX"), None, PersonRole::LabReporter, letter, "id".into(), None, None)
        .unwrap();
    let mut phone = enrolled(server, 9, "P-LABX").await;
    phone.sync_time().await;
    phone
}

async fn get_pdf(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.headers().clone(), r.bytes().await.unwrap().to_vec())
}

async fn r13_the_issued_pdf_carries_the_qr_on_every_page_and_the_files_unaltered(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    // Three specimens in one report: more than one page.
    let serials = [21, 22, 23];
    let mut chain = received(&server, serials[0]).await;
    tested_and_reviewed(&mut chain, serials[0]).await;
    for s in &serials[1..] {
        chain = received_again(chain, *s).await;
        tested_and_reviewed(&mut chain, *s).await;
    }
    let (rep, document) = report(&mut chain, &serials, "YK-BG-2026-0021", None).await;
    // The lab fetches the seal: the PDF is issued with it (first issue).
    let sealed: ReportSealResponse = seal_of(&chain.lab, &rep).await.json().await.unwrap();
    let (_, text) = check(&server, &sealed.seal).await;
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    let issued = view.issued_pdf.clone().expect("issued with the seal");
    assert_eq!(issued.url, format!("{}{}", server.url, routes::public_report_pdf(&sealed.seal)));

    // The lab's devices download it.
    let r = chain.lab.signed(reqwest::Method::GET, &routes::lab_report_pdf(&rep.id()), vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("report-YK-BG-2026-0021.pdf"), "{disposition}");
    let pdf = r.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    // The check page's hash and size are this very file's.
    assert_eq!((issued.sha256, issued.size), (Hash::of(&pdf), pdf.len() as u64));
    // Anyone with the seal gets the same bytes, every time.
    let (status, headers, public) = get_pdf(&issued.url).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "application/pdf"));
    assert_eq!(public, pdf);
    assert_eq!(get_pdf(&issued.url).await.2, pdf);
    // Rendered again from the stored records and the same font: the same
    // bytes (no clock, no random id in the file).
    let state = &server.state;
    let checkpoint = sync_server::reports::checkpoint_now(&state.store, &state.key, state.now()).unwrap();
    let keys = [state.key.public()];
    let base = state.public_url(None);
    let media = state.media();
    let facts = state
        .store
        .read(|tx| {
            sync_server::reports::pdf_facts(
                tx,
                &media,
                &state.key,
                &keys,
                &sealed.seal,
                &base,
                &checkpoint,
                &state.config.oversight.lab,
            )
        })
        .unwrap()
        .unwrap_or_else(|r| panic!("{}", r.message(custody_core::verify::Lang::En)));
    let again = sync_server::report_pdf::render(&facts, &state.report_font().unwrap()).unwrap();
    assert!(again == pdf, "a second rendering differs ({} vs {} bytes)", again.len(), pdf.len());

    // What is in it: pages, each with the seal QR; the files, byte for byte.
    let parsed = common::pdf::Pdf::parse(&pdf);
    let pages = parsed.pages();
    assert_eq!(pages.len() as u64, parsed.page_count());
    assert!(pages.len() >= 2, "three specimens take more than a page: {}", pages.len());
    let images = parsed.images();
    assert_eq!(images.len(), 1, "one QR image, shared by the pages");
    let (qr, w, h, pixels) = images[0];
    assert_eq!(common::pdf::decode_qr(w, h, pixels), vec![sealed.qr.clone()]);
    for (n, page) in &pages {
        assert!(parsed.page_draws(page, qr), "page object {n} does not draw the QR");
    }
    let files = parsed.embedded_files();
    assert!(files.contains(&document.as_slice()), "the lab's signed document is attached unaltered");
    for s in serials {
        assert!(files.contains(&curve_file(s).as_slice()), "the curve of {s} is attached unaltered");
    }
    assert_eq!(files.len(), 1 + serials.len());
    // Archival: PDF/A-3b, declared in its metadata.
    let xmp = parsed.objects.values().find(|o| o.compact.contains("/Type/Metadata")).expect("XMP metadata");
    let xmp = String::from_utf8_lossy(xmp.stream.as_deref().unwrap()).into_owned();
    assert!(
        xmp.contains("<pdfaid:part>3</pdfaid:part>")
            && xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
        "{xmp}"
    );
    // Nothing personal of the field staff: everything printed comes from
    // these facts (the text on the pages is glyph ids, so they are checked).
    let printed = format!("{facts:?}");
    for personal in
        ["张伟", "李娜", "王强", demo::SAMPLER, demo::WITNESS, demo::LAB_RECEIVER, "lat_e7", "lon_e7"]
    {
        assert!(!printed.contains(personal), "{personal} in the report PDF");
    }

    // The check page names both files and compares against both.
    let (_, html) = page(&server, &routes::report_check(&sealed.seal)).await;
    assert!(html.contains(&format!(r#"data-pdf-sha="{}""#, Hash::of(&pdf).to_hex())), "{html}");
    assert!(html.contains(&format!(r#"data-doc-sha="{}""#, Hash::of(&document).to_hex())), "{html}");
    assert!(html.contains(r#"data-testid="pdf-download""#));

    // Refused: another lab's device; a seal of no stored report; not a seal.
    let stranger = another_lab(&server).await;
    let r = stranger.signed(reqwest::Method::GET, &routes::lab_report_pdf(&rep.id()), vec![]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, "not_your_report");
    let mut unknown = SignedSeal::decode(&sealed.seal).unwrap().seal;
    unknown.report = Hash::of(b"no such report");
    let unknown = unknown.sign(&server.state.key).unwrap().encode().unwrap();
    let (status, _, body) = get_pdf(&format!("{}{}", server.url, routes::public_report_pdf(&unknown))).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = get_pdf(&format!("{}{}", server.url, routes::public_report_pdf("not-a-seal"))).await;
    assert_eq!(status, 400);
    server.stop().await;
}

async fn r13_without_its_font_the_pdf_is_refused_in_both_languages_and_the_seal_still_issued(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = sync_server::testing::config_on(b, dir.path());
    config.reports.font_file = dir.path().join("no-such-font.ttc");
    let server = TestServer::start_with(config, None).await;
    server.seed();
    let mut chain = received(&server, 24).await;
    tested_and_reviewed(&mut chain, 24).await;
    let (rep, _) = report(&mut chain, &[24], "YK-BG-2026-0024", None).await;
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 200, "the seal does not wait for the PDF");
    let sealed: ReportSealResponse = r.json().await.unwrap();
    let r = chain.lab.signed(reqwest::Method::GET, &routes::lab_report_pdf(&rep.id()), vec![]).await;
    assert_eq!(r.status(), 503);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, "report_font_unavailable");
    assert!(e.message_zh.contains("字体") && e.message_zh.contains("no-such-font.ttc"), "{}", e.message_zh);
    assert!(e.message_en.contains("[reports] font_file"), "{}", e.message_en);
    let (status, _, _) = get_pdf(&format!("{}{}", server.url, routes::public_report_pdf(&sealed.seal))).await;
    assert_eq!(status, 503);
    // The check still answers, saying no PDF has been issued.
    let (status, text) = check(&server, &sealed.seal).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<PublicReportView>(&text).unwrap().issued_pdf.is_none());
    server.stop().await;
}

async fn r12_a_concrete_group_is_three_cubes_and_a_copied_cube_curve_is_flagged(b: Backend) {
    use custody_core::results::concrete;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 30).await;
    let files = [cube_file(30, 36.0, 300), cube_file(30, 37.0, 301), cube_file(30, 38.5, 302)];
    let curves: Vec<_> = files.iter().map(|f| custody_core::curve::parse(f).unwrap()).collect();
    let grade = concrete::ConcreteGrade::parse("C30").unwrap();
    let group = concrete::group_from_curves(&curves, grade).unwrap().1.value_mpa.unwrap().rounded;
    // The lab reports the representative value with its first cube.
    let representative = vec![Measurement {
        name: "强度代表值".into(),
        value_milli: (group * 1000.0).round() as i64,
        unit: "MPa".into(),
    }];
    cube_tested_and_reviewed(&mut chain, 30, &files[0], representative).await;
    for f in &files[1..] {
        cube_tested_and_reviewed(&mut chain, 30, f, vec![]).await;
    }
    let (rep, _) = report(&mut chain, &[30], "YK-BG-2026-0030", None).await;
    let r = seal_of(&chain.lab, &rep).await;
    assert_eq!(r.status(), 200);
    let sealed: ReportSealResponse = r.json().await.unwrap();
    let (_, text) = check(&server, &sealed.seal).await;
    let view: PublicReportView = serde_json::from_str(&text).unwrap();
    let results = &view.specimens[0].results;
    assert_eq!(results.len(), 4, "three cubes and their group: {results:?}");
    let g = results.iter().find(|r| r.test == "concrete_cube_group").expect("the group's result");
    assert_eq!(g.figures[0].name, "f_cu_group");
    assert_eq!((g.figures[0].value, g.figures[0].reported), (group, Some(group)));
    assert!(results.iter().all(|r| r.flags.is_empty()), "{results:?}");

    // The next specimen: one cube tested, its file re-saved as the third
    // cube's (other bytes, the same curve) and its value raised by the lab.
    let mut second = received_again(chain, 31).await;
    let first = cube_file(31, 36.0, 310);
    let copy = custody_core::curve::to_file(
        &custody_core::curve::parse(&first).unwrap(),
        custody_core::curve::FileStyle::Utf8English,
    );
    let raised = vec![Measurement { name: "代表值".into(), value_milli: 45_000, unit: "MPa".into() }];
    cube_tested_and_reviewed(&mut second, 31, &first, raised).await;
    cube_tested_and_reviewed(&mut second, 31, &cube_file(31, 37.0, 311), vec![]).await;
    cube_tested_and_reviewed(&mut second, 31, &copy, vec![]).await;
    let (rep, _) = report(&mut second, &[31], "YK-BG-2026-0031", None).await;
    let r = seal_of(&second.lab, &rep).await;
    assert_eq!(r.status(), 409, "the raised representative value is a mismatch");
    let e: ApiError = r.json().await.unwrap();
    assert!(e.message_en.contains("f_cu_group"), "{}", e.message_en);
    // The lab's own view of the same facts: the copy is named on both cubes.
    let view = server
        .state
        .store
        .write(|tx| {
            let key = server.state.key.clone();
            let c = sync_server::logtree::checkpoint(tx, &key, server.state.now())?;
            let seal = custody_core::report_seal::ReportSeal {
                report: rep.id(),
                lab: id(demo::LAB_ORG),
                report_no: "YK-BG-2026-0031".into(),
                document: match &rep.body().payload {
                    Payload::Report(r) => r.document,
                    _ => unreachable!(),
                },
                issued_ms: tx.record(&rep.id())?.unwrap().first_seen_ms,
            }
            .sign(&key)
            .unwrap()
            .encode()
            .unwrap();
            sync_server::reports::check(
                tx,
                &server.state.media(),
                &key,
                &[key.public()],
                &seal,
                &server.url,
                &c,
                &server.state.config.oversight.lab,
            )
        })
        .unwrap()
        .unwrap();
    let near: Vec<_> = view.specimens[0]
        .results
        .iter()
        .filter(|r| r.flags.iter().any(|f| f.code == "curve_near_identical"))
        .map(|r| r.curve)
        .collect();
    assert_eq!(near, [Some(Hash::of(&first)), Some(Hash::of(&copy))], "{:?}", view.specimens[0].results);
    server.stop().await;
}

async fn r11_r13_the_lab_desk_shows_each_specimens_stage_and_the_curve_with_its_marks(b: Backend) {
    use sync_server::console::paths;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(b, dir.path()).await;
    server.seed();
    let mut chain = received(&server, 40).await;
    // 40: tested, not yet reviewed. 41: received only. 42: tested, returned.
    let test40 = tested(&mut chain, 40, true).await;
    let chain = received_again(chain, 41).await;
    let mut chain = received_again(chain, 42).await;
    let test42 = tested(&mut chain, 42, true).await;
    assert_eq!(
        review(&mut chain, &test42, false, "龄期记录不全，请补充").await.status,
        RecordStatus::Accepted
    );

    let mut lab = common::browser::signed_in(&server, "wangqiang", Some(demo::LAB_RECEIVER));
    let desk = lab.get(paths::LAB_DESK).await;
    assert_eq!(desk.status, 200, "{}", desk.body);
    for (serial, stage) in [(40, "awaiting_review"), (41, "awaiting_test"), (42, "returned")] {
        let line = format!(r#"data-tag="{}" data-stage="{stage}""#, fixtures::tag(serial).printed());
        assert!(desk.body.contains(&line), "{line} in {}", desk.body);
    }
    // One test: the curve drawn, the peak's f_cu marked at the peak force,
    // and the values table.
    let page = lab.get(&paths::fill(paths::LAB_TEST, &test40.id().to_hex())).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let curve = custody_core::curve::parse(&curve_file(40)).unwrap();
    let marks = custody_core::lab_desk::curve_marks("concrete_cube_strength", &curve);
    assert!(
        page.body.contains(r#"<svg xmlns="http://www.w3.org/2000/svg""#)
            && page.body.contains(r#"data-mark="f_cu""#)
    );
    assert!(page.body.contains(&format!("f_cu = {} MPa", marks[0].value)), "{}", page.body);
    let returned = lab.get(&paths::fill(paths::LAB_TEST, &test42.id().to_hex())).await;
    assert!(returned.body.contains("龄期记录不全"), "the reviewer's note is shown");
    // Another lab's person: not their desk, not their test.
    let admin = server.admin();
    admin
        .add_org(custody_core::model::Organisation {
            id: id("ORG-LAB-X"),
            name: "别的检测机构".into(),
            role: OrgRole::Lab,
            credit_code: None,
            jurisdiction: None,
        })
        .unwrap();
    admin.add_person(Person { id: id("P-LABX"), name: "P-LABX".into(), org: id("ORG-LAB-X") }).unwrap();
    let mut other = common::browser::signed_in(&server, "labx", Some("P-LABX"));
    let foreign = other.get(&paths::fill(paths::LAB_TEST, &test40.id().to_hex())).await;
    assert_eq!(foreign.status, 403);
    let empty = other.get(paths::LAB_DESK).await;
    assert!(!empty.body.contains(&fixtures::tag(40).printed()), "another lab's desk lists none of ours");
    // A contractor has no lab desk.
    let mut sampler = common::browser::signed_in(&server, "zhangwei", Some(demo::SAMPLER));
    assert_eq!(sampler.get(paths::LAB_DESK).await.status, 403);
    server.stop().await;
}
