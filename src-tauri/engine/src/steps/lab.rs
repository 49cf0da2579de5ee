//! R12-R13: what the lab signs after receiving a specimen — its test data
//! with the machine's curve, and the report — and the report QR's seal the
//! server gives once the chain is whole.

use super::{Created, FieldEvidence};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::store::StationFile;
use custody_core::protocol::ReportSealResponse;
use custody_core::record::{
    LabReceipt, Measurement, MediaPurpose, MediaRef, Payload, ReceiptDecision, Report, ReportRevocation,
    TestData, TestReview,
};
use custody_core::report_seal::MAX_FIELD;
use custody_core::{Hash, TagCode, routes};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestDataInput {
    pub tag: TagCode,
    /// What was tested, e.g. `concrete_cube_strength`.
    pub test: String,
    /// The standard tested to, e.g. `GB/T 50081-2019`.
    pub standard: String,
    /// The values the lab reports (the server recomputes them from the curve).
    pub results: Vec<Measurement>,
    /// The machine's raw curve file, stored unaltered (purpose `test_curve`).
    pub curve: Option<MediaRef>,
    /// Captured from the testing machine (a watched folder), not typed (R12).
    pub automatic: bool,
    pub equipment: Option<custody_core::Id>,
    /// A correction after first entry: the earlier test data it corrects,
    /// and why (R12, R20). The earlier one stays; the review starts over.
    #[serde(default)]
    pub revises: Option<Hash>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportInput {
    pub report_no: String,
    pub tags: Vec<TagCode>,
    pub conclusion: String,
    /// The signed report document (purpose `report_document`).
    pub document: MediaRef,
    /// The report this one corrects.
    pub amends: Option<Hash>,
}

fn bad(zh: &str, en: &str) -> EngineError {
    EngineError::invalid(zh, en)
}

impl Engine {
    /// The receipt by which this lab took the specimen in (R11): its latest
    /// acceptance held on this device and not refused by the server.
    pub fn lab_receipt_of(&self, tag: &TagCode) -> Result<Option<Hash>> {
        let mut found = None;
        for held in self.store.records_naming_tag(tag.as_str())? {
            if matches!(held.state.as_str(), "refused" | "rejected") {
                continue;
            }
            if let Payload::LabReceipt(LabReceipt { decision: ReceiptDecision::Accepted, .. }) =
                &held.record.body().payload
            {
                found = Some(held.record.id());
            }
        }
        Ok(found)
    }

    /// R12: test data for one received specimen, with the machine's curve.
    pub fn create_test_data(&self, input: TestDataInput, confirm: bool) -> Result<Created> {
        self.create_test_data_with(input, confirm, None)
    }

    /// [`Self::create_test_data`] for the lab station: the machine file the
    /// record captures is noted in the record's own transaction.
    pub(crate) fn create_test_data_with(
        &self,
        input: TestDataInput,
        confirm: bool,
        station: Option<&StationFile>,
    ) -> Result<Created> {
        self.enrolled()?;
        if input.test.trim().is_empty() || input.standard.trim().is_empty() {
            return Err(bad("请填写检测项目和依据标准", "name the test and the standard it follows"));
        }
        if input.revises.is_some() && input.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(bad("更正检测数据时请说明原因", "say why the test data is corrected"));
        }
        let Some(receipt) = self.lab_receipt_of(&input.tag)? else {
            return Err(bad(
                &format!("试件 {} 未在本机收样，不能录入检测数据（R11）", input.tag.printed()),
                &format!(
                    "specimen {} was not received here: receive it before testing (R11)",
                    input.tag.printed()
                ),
            ));
        };
        let media: Vec<MediaRef> = input.curve.iter().cloned().collect();
        if media.iter().any(|m| m.purpose != MediaPurpose::TestCurve) {
            return Err(bad("曲线文件用途不对", "the curve file is not stored as a test curve"));
        }
        self.check_media_present(&media)?;
        let payload = Payload::TestData(TestData {
            tag: input.tag,
            receipt,
            test: input.test.trim().into(),
            standard: input.standard.trim().into(),
            results: input.results,
            curve: input.curve.map(|m| m.sha256),
            automatic: input.automatic,
            equipment: input.equipment,
            revises: input.revises,
            reason: input.reason,
        });
        let ev = FieldEvidence { media: media.clone(), fixes: vec![] };
        let judged = self.draft(payload.clone(), &ev)?.judge(vec![], &[], confirm)?;
        self.commit_with(payload, media, vec![], judged, station)
    }

    /// R13: the lab's report on tested specimens, with its signed document.
    pub fn create_report(&self, input: ReportInput, confirm: bool) -> Result<Created> {
        self.enrolled()?;
        let no = input.report_no.trim();
        if no.is_empty() || no.len() > MAX_FIELD {
            return Err(bad(
                &format!("报告编号应为 1 到 {MAX_FIELD} 个字节"),
                &format!("the report number must be 1 to {MAX_FIELD} bytes"),
            ));
        }
        if input.tags.is_empty() {
            return Err(bad("报告至少要包括一个试件", "a report covers at least one specimen"));
        }
        if input.conclusion.trim().is_empty() {
            return Err(bad("请填写检测结论", "write the report's conclusion"));
        }
        if input.document.purpose != MediaPurpose::ReportDocument {
            return Err(bad("报告文件用途不对", "the document is not stored as a report document"));
        }
        let media = vec![input.document.clone()];
        self.check_media_present(&media)?;
        let payload = Payload::Report(Report {
            report_no: no.into(),
            tags: input.tags,
            conclusion: input.conclusion.trim().into(),
            document: input.document.sha256,
            amends: input.amends,
        });
        let ev = FieldEvidence { media: media.clone(), fixes: vec![] };
        let amends: Vec<Hash> = input.amends.into_iter().collect();
        let judged = self.draft(payload.clone(), &ev)?.judge(vec![], &amends, confirm)?;
        self.commit(payload, media, vec![], judged)
    }

    /// R12: review a test's data as a second person of the lab: approve it,
    /// or return it with the reason. The server refuses a tester reviewing
    /// their own data; the test data need not be held here (the server
    /// checks it).
    pub fn create_review(
        &self,
        test_data: Hash,
        tag: TagCode,
        approved: bool,
        note: &str,
        confirm: bool,
    ) -> Result<Created> {
        self.enrolled()?;
        if !approved && note.trim().is_empty() {
            return Err(bad("退回检测数据时请说明原因", "say why the test data is returned"));
        }
        if let Some(held) = self.store.record(&test_data)?
            && held.record.body().author == self.enrolled()?.profile.person.id
        {
            return Err(bad(
                "不能审核自己录入的检测数据（R12）",
                "you may not review your own test data (R12)",
            ));
        }
        let payload =
            Payload::TestReviewed(TestReview { test_data, tag, approved, note: note.trim().into() });
        let judged =
            self.draft(payload.clone(), &FieldEvidence::default())?.judge(vec![], &[test_data], confirm)?;
        self.commit(payload, vec![], vec![], judged)
    }

    /// R13: withdraw one of this lab's reports, with the reason the public
    /// check will show. The report must be held here (its tags are copied
    /// from it).
    pub fn revoke_report(&self, report: &Hash, reason: &str, confirm: bool) -> Result<Created> {
        self.enrolled()?;
        if reason.trim().is_empty() {
            return Err(bad("撤销报告必须说明原因", "say why the report is revoked"));
        }
        let Some(held) = self.store.record(report)? else {
            return Err(bad("本机没有这份报告", "this device holds no such report"));
        };
        let Payload::Report(r) = &held.record.body().payload else {
            return Err(bad("这条记录不是检测报告", "this record is not a test report"));
        };
        let payload = Payload::ReportRevoked(ReportRevocation {
            report: *report,
            tags: r.tags.clone(),
            reason: reason.trim().into(),
        });
        let judged = self.draft(payload.clone(), &FieldEvidence::default())?.judge(vec![], &[], confirm)?;
        self.commit(payload, vec![], vec![], judged)
    }

    /// R13: the report QR for one of this lab's reports, from the server
    /// (online; the server gives it only when the chain is whole).
    pub async fn report_seal(&self, report: &Hash) -> Result<ReportSealResponse> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let seal: ReportSealResponse =
            self.signed(&client, reqwest::Method::GET, &routes::lab_report_seal(report), vec![], &[]).await?;
        // Check the system's signature ourselves, against the pinned keys.
        let signed = custody_core::report_seal::SignedSeal::decode(&seal.seal)
            .map_err(|err| bad(&err.message(custody_core::verify::Lang::ZhCn), &err.to_string()))?;
        let s = signed
            .verify(&e.profile.server_keys)
            .map_err(|err| bad(&err.message(custody_core::verify::Lang::ZhCn), &err.to_string()))?;
        if s.report != *report {
            return Err(bad("服务器返回的二维码不属于这份报告", "the server's seal is for another report"));
        }
        Ok(seal)
    }
}
