//! Walk one specimen through its custody with the reference verifier and
//! print what the rules say at each step, in Chinese and English.
//!
//! `cargo run -p custody-core --features fixtures --example walkthrough`

use custody_core::Hash;
use custody_core::fixtures::{self, MIN, World};
use custody_core::record::ReceiptDecision;
use custody_core::verify::{Lang, Verdict};

fn show(step: &str, v: &Verdict) {
    let state = v.custody.first().map(|(_, s)| s.stage.name_zh()).unwrap_or("-");
    println!("▶ {step}: {}  [{state}]", if v.applies() { "生效 applied" } else { "未生效 not applied" });
    if let Some(w) = &v.window {
        println!("    20 分钟规则 / 20-minute rule: {w:?}");
    }
    for x in &v.violations {
        println!(
            "    {:?} {:?} {}: {} / {}",
            x.disposition(),
            x.rule(),
            x.code(),
            x.message(Lang::ZhCn),
            x.message(Lang::En)
        );
    }
}

fn main() {
    let (mut w, mut s, mut wd, mut lab) = World::yingkou();
    println!("项目 PRJ-1 · 单位工程 UP-1 (1#楼) · 营口\n");

    w.sync(&mut s);
    w.advance(MIN);
    let rec = s.field_record(
        fixtures::sampling(fixtures::tag(1)),
        Hash::of(b"face"),
        fixtures::site_point(60.0, 80.0),
        w.now,
    );
    w.advance(MIN);
    show("取样 sampling (tag 1)", &w.submit(&rec));

    w.sync(&mut wd);
    w.advance(6 * MIN);
    let wrec = wd.field_record(
        fixtures::witnessing(&rec),
        Hash::of(b"face"),
        fixtures::site_point(62.0, 79.0),
        w.now,
    );
    w.advance(MIN);
    show("见证 witnessing, 8 min later", &w.submit(&wrec));

    let again = s.field_record(
        fixtures::sampling(fixtures::tag(1)),
        Hash::of(b"face"),
        fixtures::site_point(60.0, 80.0),
        w.now,
    );
    show("取样 again with the same tag", &w.submit(&again));

    let body = s.body(fixtures::commission(&[(&rec, &wrec)]), vec![], vec![], w.now);
    let mut c = s.sign(body);
    c.cosign(&wd.key, fixtures::id("P-WITNESS"));
    show("委托 commission form, co-signed", &w.submit(&c));

    let body = lab.body(
        fixtures::receipt(fixtures::tag(1), c.id(), ReceiptDecision::Accepted),
        vec![],
        vec![],
        w.now,
    );
    show("收样 lab receipt", &w.submit(&lab.sign(body)));

    // A second specimen whose witness turns up 45 minutes late, from far away.
    w.sync(&mut s);
    let rec2 = s.field_record(
        fixtures::sampling(fixtures::tag(2)),
        Hash::of(b"face"),
        fixtures::site_point(60.0, 80.0),
        w.now,
    );
    w.advance(MIN);
    show("取样 sampling (tag 2)", &w.submit(&rec2));
    w.advance(44 * MIN);
    w.sync(&mut wd);
    let office = fixtures::site_point(2500.0, 0.0);
    let wrec2 = wd.field_record(fixtures::witnessing(&rec2), Hash::of(b"face"), office, w.now);
    w.advance(MIN);
    show("见证 witnessing, 45 min later, 2.5 km away", &w.submit(&wrec2));
}
