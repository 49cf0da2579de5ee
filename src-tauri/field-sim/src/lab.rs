//! The lab's part of the rehearsal (R12-R13): the testing machine's curves
//! of a group of three cubes captured as test data, the report, and its QR
//! from the system.

use custody_core::TagCode;
use custody_core::record::MediaPurpose;
use field_engine::{Engine, EngineError, ReportInput, TestDataInput};

/// Step 8 of the rehearsal: the compression machine's curves of one group
/// of three cubes captured as test data (R12) and uploaded; their ids.
pub async fn tested_rehearsal(lab: &Engine, tag: &TagCode) -> Result<Vec<custody_core::Hash>, EngineError> {
    use custody_core::curve::{FileStyle, sim, to_file};
    println!("8. the compression machine writes the group's three cube curves; each is signed as test data");
    let mut tests = Vec::new();
    for cube_no in 0..3u64 {
        // One group, three cubes: each its own strength and noise (GB/T 50081).
        let mut cube = sim::CubeParams::new(150.0, 30, u64::from(tag.serial()) * 3 + cube_no);
        cube.labels.specimen = Some(tag.printed());
        cube.labels.machine = Some("YJ-2000-01".into());
        let file = to_file(&sim::cube(&cube), FileStyle::GbkChinese);
        let curve = lab.store_media(&file, MediaPurpose::TestCurve, "text/csv")?;
        let t = lab.create_test_data(
            TestDataInput {
                tag: tag.clone(),
                test: "concrete_cube_strength".into(),
                standard: "GB/T 50081-2019".into(),
                results: vec![],
                curve: Some(curve),
                automatic: true,
                equipment: None,
                revises: None,
                reason: None,
            },
            true,
        )?;
        println!(
            "   cube {}: test data {} ({} bytes of curve, kept unaltered)",
            cube_no + 1,
            t.id.to_hex(),
            file.len()
        );
        tests.push(t.id);
    }
    lab.sync_once().await?;
    Ok(tests)
}

/// Steps 8-9 of the rehearsal: the cubes tested ([`tested_rehearsal`]),
/// each test reviewed by a second person, the report (R13), and its QR
/// from the server once the chain is whole. Returns the check URL the QR
/// carries.
pub async fn report_rehearsal(lab: &Engine, reviewer: &Engine, tag: TagCode) -> Result<String, EngineError> {
    let tests = tested_rehearsal(lab, &tag).await?;
    for t in tests {
        let r = reviewer.create_review(t, tag.clone(), true, "", true)?;
        println!("   reviewed and approved by a second person: {}", &r.id.to_hex()[..12]);
    }
    reviewer.sync_once().await?;
    println!("9. the report, then its anti-counterfeit QR from the system");
    let no = format!("REH-BG-{}", tag.serial());
    let tag_printed = tag.printed();
    let pdf = report_pdf(&[
        "Yingkou construction testing - test report (rehearsal)",
        &format!("Report no. {no}"),
        &format!("Specimen tag {}", tag.printed()),
        "Concrete cube compressive strength, GB/T 50081-2019",
        "Conclusion: meets C30",
    ]);
    let document = lab.store_media(&pdf, MediaPurpose::ReportDocument, "application/pdf")?;
    let rep = lab.create_report(
        ReportInput {
            report_no: no,
            tags: vec![tag],
            conclusion: "所检项目符合 C30 要求".into(),
            document,
            amends: None,
        },
        true,
    )?;
    lab.sync_once().await?;
    let seal = lab.report_seal(&rep.id).await?;
    println!("   report {} of {} sealed; QR: {}", rep.id, tag_printed, seal.qr);
    Ok(seal.qr)
}

/// A one-page PDF with lines of ASCII text (a stand-in for the lab's own
/// report document; the system vouches for its hash, whatever it holds).
fn report_pdf(lines: &[&str]) -> Vec<u8> {
    let mut text = String::from("BT /F1 12 Tf 56 780 Td 16 TL\n");
    for l in lines {
        let safe: String = l.chars().filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\')).collect();
        text.push_str(&format!("({safe}) '\n"));
    }
    text.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}endstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}
