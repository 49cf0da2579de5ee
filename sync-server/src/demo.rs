//! A realistic demo project, so a newcomer's first run shows a working
//! system: a residential project in Yingkou with its owner, contractor,
//! supervisor, lab, tag supplier and regulator; a sampler, a witness and a
//! lab receiver with letters of authorisation; two buildings with site
//! boundaries (one drawn on a GCJ-02 map, as most Chinese site plans are); a
//! batch of 2000 tags; and one-time enrollment codes for each person.
//!
//! For the console (issue 13, R18) a ladder of regulators: the province
//! (21 Liaoning), the city (2108 Yingkou) and two of its districts (210802
//! Zhanqian, 210804 Xishi), with a second project in Xishi, so what each
//! regulator sees — its jurisdiction and below, never a sibling's — shows.

use crate::admin::{Admin, AdminError, OPERATOR};
use custody_core::model::{
    Id, OrgRole, Organisation, Person, PersonRole, Project, SpecimenKind, UnitProject,
};
use custody_core::place::{Datum, SiteBoundary, to_wgs84};
use custody_core::protocol::EnrollmentOffer;
use custody_core::record::LabAssignment;
use custody_core::tag::{BatchKey, SerialRange, TagBatch};

pub const PROJECT: &str = "PRJ-YK-2026-001";
pub const SAMPLER: &str = "P-ZHANGWEI";
pub const WITNESS: &str = "P-LINA";
pub const LAB_RECEIVER: &str = "P-WANGQIANG";
/// The lab's reviewer (审核人): a second person, so no tester approves
/// their own data (R12).
pub const LAB_REVIEWER: &str = "P-LIUYANG";
pub const INSPECTOR: &str = "P-ZHAOMIN";
pub const LAB_ORG: &str = "ORG-LAB-YKJC";
/// The second project, in another district (Xishi, 210804).
pub const PROJECT_XISHI: &str = "PRJ-YK-2026-002";
/// The regulators' inspectors: (person, name, organisation, its name, division code).
pub const REGULATORS: [(&str, &str, &str, &str, &str); 4] = [
    ("P-SUNLI", "孙丽", "ORG-REG-LN", "辽宁省建设工程质量安全监督总站", "210000"),
    (INSPECTOR, "赵敏", "ORG-REG-YK", "营口市建设工程质量监督站", "210800"),
    ("P-ZHOUJIE", "周杰", "ORG-REG-ZQ", "营口市站前区建设工程质量监督站", "210802"),
    ("P-WUHAO", "吴昊", "ORG-REG-XS", "营口市西市区建设工程质量监督站", "210804"),
];
/// The people who answer for the plans before work starts (issue 15):
/// (person, name, organisation, role, console login).
pub const PLAN_PEOPLE: [(&str, &str, &str, PersonRole, &str); 3] = [
    ("P-CHENJING", "陈静", "ORG-OWN-HX", PersonRole::OwnerRepresentative, "chenjing"),
    ("P-HUANGLEI", "黄磊", "ORG-CON-ZJ", PersonRole::ContractorEngineer, "huanglei"),
    ("P-XUFANG", "徐芳", "ORG-SUP-YJ", PersonRole::SupervisingEngineer, "xufang"),
];
/// Console sign-in names of the demo's regulators, beside their persons.
pub const REGULATOR_LOGINS: [(&str, &str); 4] =
    [("sunli", "P-SUNLI"), ("zhaomin", INSPECTOR), ("zhoujie", "P-ZHOUJIE"), ("wuhao", "P-WUHAO")];

/// Whether the demo may seed this store: it is empty, or the demo made it.
/// Never a real archive — the demo's people, accounts and setup links
/// would stay in its append-only log for good.
pub fn may_seed(store: &crate::store::Store) -> Result<bool, crate::store::StoreError> {
    store.read(|tx| Ok(tx.project(&id(PROJECT))?.is_some() || tx.log_size()? == 0))
}

fn id(s: &str) -> Id {
    Id::new(s).expect("demo ids are valid")
}

fn org(i: &str, name: &str, role: OrgRole, jurisdiction: Option<&str>) -> Organisation {
    Organisation {
        id: id(i),
        name: name.into(),
        role,
        credit_code: None,
        jurisdiction: jurisdiction.map(Into::into),
    }
}

/// A rectangle of `w` x `h` metres with its south-west corner at (lat, lon) in `datum`.
fn rect(datum: Datum, lat: f64, lon: f64, w: f64, h: f64) -> SiteBoundary {
    let dlat = h / 111_195.0;
    let dlon = w / (111_195.0 * lat.to_radians().cos());
    let p = |a: f64, b: f64| to_wgs84(datum, a, b).expect("demo coordinates are valid");
    SiteBoundary {
        exterior: vec![p(lat, lon), p(lat, lon + dlon), p(lat + dlat, lon + dlon), p(lat + dlat, lon)],
        holes: vec![],
    }
}

/// Create the demo project unless it exists. Returns whether it was created.
pub fn seed(admin: &Admin<'_>) -> Result<bool, AdminError> {
    seed_with_faces(admin, None)
}

/// As [`seed`]; with `faces`, the sampler's and the witness's real-name
/// check carries a reference face photo (`obama.jpg`, `biden.jpg` from the
/// test faces the capture install step provides — public-domain photos), so
/// the app's on-device face check has something to compare with.
pub fn seed_with_faces(admin: &Admin<'_>, faces: Option<&std::path::Path>) -> Result<bool, AdminError> {
    let face = |name: &str| -> Option<Vec<u8>> { faces.and_then(|d| std::fs::read(d.join(name)).ok()) };
    let sampler_face = face("obama.jpg");
    let witness_face = face("biden.jpg");
    if admin.store.read(|tx| tx.project(&id(PROJECT)))?.is_some() {
        seed_jurisdictions(admin)?;
        seed_plan_people(admin)?;
        return Ok(false);
    }
    admin.add_org(org("ORG-OWN-HX", "营口华兴置业有限公司", OrgRole::Owner, None))?;
    admin.add_org(org("ORG-CON-ZJ", "中建某局第三建筑工程有限公司", OrgRole::Contractor, None))?;
    admin.add_org(org("ORG-SUP-YJ", "营口建科工程监理有限公司", OrgRole::Supervisor, None))?;
    admin.add_org(org(LAB_ORG, "营口市建设工程质量检测中心", OrgRole::Lab, None))?;
    admin.add_org(org("ORG-TAG-AF", "辽宁安防标识科技有限公司", OrgRole::TagSupplier, None))?;
    admin.add_org(org(REGULATORS[1].2, REGULATORS[1].3, OrgRole::Regulator, Some(REGULATORS[1].4)))?;
    admin.add_project(Project {
        id: id(PROJECT),
        name: "营口市站前区华兴·锦园住宅小区".into(),
        owner: id("ORG-OWN-HX"),
        jurisdiction: "210802".into(),
    })?;
    admin.add_unit_project(UnitProject {
        id: id("UP-1"),
        project: id(PROJECT),
        name: "1#住宅楼".into(),
        boundary: rect(Datum::Wgs84, 40.6650, 122.2350, 200.0, 150.0),
    })?;
    admin.add_unit_project(UnitProject {
        id: id("UP-2"),
        project: id(PROJECT),
        name: "2#住宅楼（高德地图绘制）".into(),
        boundary: rect(Datum::Gcj02, 40.6660, 122.2420, 120.0, 100.0),
    })?;
    for (pid, name, org) in [
        (SAMPLER, "张伟", "ORG-CON-ZJ"),
        (WITNESS, "李娜", "ORG-SUP-YJ"),
        (LAB_RECEIVER, "王强", LAB_ORG),
        (LAB_REVIEWER, "刘洋", LAB_ORG),
        (INSPECTOR, "赵敏", "ORG-REG-YK"),
    ] {
        admin.add_person(Person { id: id(pid), name: name.into(), org: id(org) })?;
    }
    grant_demo_people(admin, sampler_face.as_deref(), witness_face.as_deref())?;
    admin.register_tags(TagBatch {
        key: BatchKey { supplier: 310, year: 26, batch: 1 },
        supplier_org: id("ORG-TAG-AF"),
        project: id(PROJECT),
        ranges: vec![SerialRange { first: 1, last: 2000 }],
    })?;
    for up in ["UP-1", "UP-2"] {
        admin.assign_lab(LabAssignment {
            project: id(PROJECT),
            unit_project: id(up),
            lab: id(LAB_ORG),
            kinds: SpecimenKind::ALL.to_vec(),
        })?;
    }
    let _ = OPERATOR;
    seed_jurisdictions(admin)?;
    seed_plan_people(admin)?;
    Ok(true)
}

/// The owner's representative, the contractor's engineer and the
/// supervising engineer of the demo project (R2, R4, R5), and the tag
/// supplier's filed guide price (R15): what the plans before work starts
/// need. Added to older demo data directories too.
fn seed_plan_people(admin: &Admin<'_>) -> Result<(), AdminError> {
    if admin.store.read(|tx| tx.person(&id(PLAN_PEOPLE[0].0)))?.is_some() {
        return Ok(());
    }
    for (person, name, org, role, _) in PLAN_PEOPLE {
        admin.add_person(Person { id: id(person), name: name.into(), org: id(org) })?;
        let what = match role {
            PersonRole::OwnerRepresentative => "建设单位项目负责人",
            PersonRole::ContractorEngineer => "施工单位技术负责人",
            _ => "监理工程师",
        };
        let letter = format!(
            "授权书\n\n兹授权 {name} 为本单位在「营口市站前区华兴·锦园住宅小区」项目的{what}。\n（演示数据）\n"
        );
        admin.grant(
            id(&format!("G-{}-PLAN", person.trim_start_matches("P-"))),
            id(person),
            Some(id(PROJECT)),
            role,
            (letter.as_bytes(), "text/plain; charset=utf-8"),
            "居民身份证（演示）".into(),
            None,
            None,
        )?;
    }
    admin.file_guide_price(custody_core::plans::GuidePrice {
        supplier: id("ORG-TAG-AF"),
        year: 2026,
        price_fen: 150,
        filing: "营价备〔2026〕3号（演示）".into(),
    })?;
    Ok(())
}

/// The regulators' ladder and the Xishi project (added to older demo data
/// directories too: it checks what is already there).
fn seed_jurisdictions(admin: &Admin<'_>) -> Result<(), AdminError> {
    if admin.store.read(|tx| tx.project(&id(PROJECT_XISHI)))?.is_some() {
        return Ok(());
    }
    for (_, _, org_id, org_name, code) in REGULATORS {
        if admin.store.read(|tx| tx.org(&id(org_id)))?.is_none() {
            admin.add_org(org(org_id, org_name, OrgRole::Regulator, Some(code)))?;
        }
    }
    for (person, name, org_id, _, _) in REGULATORS {
        if admin.store.read(|tx| tx.person(&id(person)))?.is_none() {
            admin.add_person(Person { id: id(person), name: name.into(), org: id(org_id) })?;
        }
        // Inspectors oversee a jurisdiction, not one project: a grant of no project.
        let grant = format!("G-{}-I-JUR", person.trim_start_matches("P-"));
        let letter = format!(
            "授权书\n\n兹授权 {name} 为本单位监督员，负责本辖区建设工程质量检测监督。\n（演示数据）\n"
        );
        admin.grant(
            id(&grant),
            id(person),
            None,
            PersonRole::Inspector,
            (letter.as_bytes(), "text/plain; charset=utf-8"),
            "居民身份证（演示）".into(),
            None,
            None,
        )?;
    }
    admin.add_org(org("ORG-OWN-BH", "营口市西市区教育局", OrgRole::Owner, None))?;
    admin.add_project(Project {
        id: id(PROJECT_XISHI),
        name: "营口市西市区渤海小学教学楼".into(),
        owner: id("ORG-OWN-BH"),
        jurisdiction: "210804".into(),
    })?;
    admin.add_unit_project(UnitProject {
        id: id("UP-XS-1"),
        project: id(PROJECT_XISHI),
        name: "教学楼".into(),
        boundary: rect(Datum::Wgs84, 40.6595, 122.2170, 160.0, 90.0),
    })?;
    admin.register_tags(TagBatch {
        key: BatchKey { supplier: 310, year: 26, batch: 2 },
        supplier_org: id("ORG-TAG-AF"),
        project: id(PROJECT_XISHI),
        ranges: vec![SerialRange { first: 1, last: 500 }],
    })?;
    admin.assign_lab(LabAssignment {
        project: id(PROJECT_XISHI),
        unit_project: id("UP-XS-1"),
        lab: id(LAB_ORG),
        kinds: SpecimenKind::ALL.to_vec(),
    })?;
    Ok(())
}

/// The demo people's letters of authorisation and real-name checks (R1).
fn grant_demo_people(
    admin: &Admin<'_>,
    sampler_face: Option<&[u8]>,
    witness_face: Option<&[u8]>,
) -> Result<(), AdminError> {
    let letter = |who: &str, role: &str| {
        format!(
            "授权书\n\n兹授权 {who} 为本单位在「营口市站前区华兴·锦园住宅小区」项目的{role}。\n（演示数据）\n"
        )
        .into_bytes()
    };
    let method = "居民身份证+人脸（演示）".to_string();
    let l = letter("张伟", "取样员");
    admin.grant(
        id("G-ZW-S"),
        id(SAMPLER),
        Some(id(PROJECT)),
        PersonRole::Sampler,
        (&l, "text/plain; charset=utf-8"),
        method.clone(),
        sampler_face.map(|b| (b, "image/jpeg")),
        None,
    )?;
    let l = letter("李娜", "见证员");
    admin.grant(
        id("G-LN-W"),
        id(WITNESS),
        Some(id(PROJECT)),
        PersonRole::Witness,
        (&l, "text/plain; charset=utf-8"),
        method.clone(),
        witness_face.map(|b| (b, "image/jpeg")),
        None,
    )?;
    for (g, role, what) in [
        ("G-WQ-R", PersonRole::LabReceiver, "收样员"),
        ("G-WQ-T", PersonRole::LabTester, "检测员"),
        ("G-WQ-P", PersonRole::LabReporter, "报告签发人"),
    ] {
        let l = letter("王强", what);
        admin.grant(
            id(g),
            id(LAB_RECEIVER),
            None,
            role,
            (&l, "text/plain; charset=utf-8"),
            method.clone(),
            None,
            None,
        )?;
    }
    let l = letter("刘洋", "审核人");
    admin.grant(
        id("G-LY-P"),
        id(LAB_REVIEWER),
        None,
        PersonRole::LabReporter,
        (&l, "text/plain; charset=utf-8"),
        method.clone(),
        None,
        None,
    )?;
    let l = letter("赵敏", "监督员");
    admin.grant(
        id("G-ZM-I"),
        id(INSPECTOR),
        Some(id(PROJECT)),
        PersonRole::Inspector,
        (&l, "text/plain; charset=utf-8"),
        method,
        None,
        None,
    )?;
    Ok(())
}

/// One-time enrollment offers for the demo people.
pub fn offers(
    admin: &Admin<'_>,
    server_url: &str,
    tls: Option<custody_core::Hash>,
) -> Result<Vec<(String, EnrollmentOffer)>, AdminError> {
    let week = 7 * 24 * 3_600_000;
    [SAMPLER, WITNESS, LAB_RECEIVER, LAB_REVIEWER, INSPECTOR, "P-ZHOUJIE"]
        .iter()
        .chain(PLAN_PEOPLE.iter().map(|p| &p.0))
        .map(|p| Ok((p.to_string(), admin.enrollment_offer(&id(p), week, server_url, tls)?)))
        .collect()
}

/// A QR code drawn with Unicode half blocks, for a terminal.
pub fn terminal_qr(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L) {
        Ok(code) => code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build(),
        Err(e) => format!("(QR too large to draw: {e})"),
    }
}
