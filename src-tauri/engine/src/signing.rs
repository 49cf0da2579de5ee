//! From draft to signed record, the path every custody step takes: the draft
//! is checked with the shared rules (`verify::check_draft`) on the context
//! the phone holds, the findings are sorted into what must not be signed,
//! what needs the person's confirmation and what is only worth showing;
//! then the record is signed as the next in the device's chain and
//! committed with its media and outbox entry in one transaction.

use crate::context;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::steps::{Created, FieldEvidence};
use crate::store::StationFile;
use custody_core::Hash;
use custody_core::custody;
use custody_core::place::Fix;
use custody_core::protocol::Finding;
use custody_core::record::{
    Evidence, FORMAT_VERSION, MediaPurpose, MediaRef, Payload, RecordBody, SignedRecord,
};
use custody_core::verify::{self, Disposition, VerifyContext, Violation};

/// A record not signed yet, and the context its rules run on.
pub(crate) struct Draft {
    pub body: RecordBody,
    pub context: VerifyContext,
}

impl Engine {
    /// Draft a record of `payload` with its evidence (its place in the chain
    /// is only known when it is committed), with its verification context.
    pub(crate) fn draft(&self, payload: Payload, ev: &FieldEvidence) -> Result<Draft> {
        let profile = self.enrolled()?;
        let body = RecordBody {
            v: FORMAT_VERSION,
            device: self.key.public(),
            author: profile.profile.person.id.clone(),
            seq: 0,
            prev: None,
            payload,
            evidence: Evidence {
                media: ev.media.clone(),
                fixes: ev.fixes.clone(),
                time: self.time_evidence()?,
            },
        };
        let context = context::draft_context(&self.store, &body)?;
        Ok(Draft { body, context })
    }

    /// Every media file a step names must be on this device already.
    pub(crate) fn check_media_present(&self, media: &[MediaRef]) -> Result<()> {
        for m in media {
            if !self.media.exists(&m.sha256, m.purpose == MediaPurpose::Face) {
                return Err(EngineError::invalid(
                    "照片或视频未保存到本机，请重新拍摄",
                    format!(
                        "media {} is not stored on this device: capture it again",
                        &m.sha256.to_hex()[..12]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Sign the next record in this device's chain and commit it with its
    /// media and outbox entry, in one transaction; wake the sync.
    pub(crate) fn commit(
        &self,
        payload: Payload,
        media: Vec<MediaRef>,
        fixes: Vec<Fix>,
        judged: Judged,
    ) -> Result<Created> {
        self.commit_with(payload, media, fixes, judged, None)
    }

    /// [`Self::commit`], noting in the same transaction the lab station's
    /// machine file the record captures (R12).
    pub(crate) fn commit_with(
        &self,
        payload: Payload,
        media: Vec<MediaRef>,
        fixes: Vec<Fix>,
        judged: Judged,
        station: Option<&StationFile>,
    ) -> Result<Created> {
        let time = self.time_evidence()?;
        let author = self.enrolled()?.profile.person.id.clone();
        let rec = self.store.append_own_record_with(
            |seq, prev| {
                let body = RecordBody {
                    v: FORMAT_VERSION,
                    device: self.key.public(),
                    author,
                    seq,
                    prev,
                    payload,
                    evidence: Evidence { media, fixes, time },
                };
                SignedRecord::sign(body, &self.key).expect("the device key signs its own records")
            },
            station,
        )?;
        self.wake.notify_one();
        Ok(Created {
            id: rec.id(),
            seq: rec.body().seq,
            kind: rec.body().kind().as_str().into(),
            warnings: judged.warnings,
            notices: judged.notices,
        })
    }
}

/// What the rules said of a draft that may be signed.
pub(crate) struct Judged {
    /// Flags the person confirmed.
    pub warnings: Vec<Finding>,
    pub notices: Vec<Finding>,
}

impl Draft {
    /// Run the shared rules on the draft and judge the verdict: typed errors
    /// for what must not be signed, the findings that need the person's
    /// confirmation (with `extra_warnings` the step found itself), and
    /// notices. References in `ignore_missing` may be absent offline (the
    /// server checks them).
    pub(crate) fn judge(
        &self,
        extra_warnings: Vec<Finding>,
        ignore_missing: &[Hash],
        confirm: bool,
    ) -> Result<Judged> {
        let verdict = verify::check_draft(&self.body, &self.context);
        let mut errors = Vec::new();
        let mut warnings = extra_warnings;
        let mut notices = Vec::new();
        for v in &verdict.violations {
            if let Violation::MissingReference { record } = v
                && ignore_missing.contains(record)
            {
                continue;
            }
            match v {
                Violation::NotAuthorised { role, project } => {
                    return Err(EngineError::NotAuthorised {
                        role: *role,
                        project: project.as_ref().map(|p| p.to_string()),
                    });
                }
                Violation::OrgCannotHoldRole { role, .. } => {
                    return Err(EngineError::NotAuthorised { role: *role, project: None });
                }
                Violation::AuthorisationInvalidAtTime { .. } => {
                    return Err(EngineError::Refused(vec![Finding::from(v)]));
                }
                Violation::TagUnknown { tag } => return Err(EngineError::UnknownTag(tag.printed())),
                Violation::Custody { tag, error: custody::CustodyError::TagAlreadyBound { .. } } => {
                    return Err(EngineError::TagAlreadyUsed { tag: tag.printed() });
                }
                _ => {}
            }
            // The phone's own clock findings: the record's time comes from
            // anchors, so these never block signing. The person is told (so
            // the clock gets fixed) and the server records them.
            let about_this_clock = matches!(
                v,
                Violation::ClockSkew { .. }
                    | Violation::GnssMismatch { .. }
                    | Violation::ClaimOutsideProven { .. }
                    | Violation::AnchorInvalid
                    | Violation::MonotonicInconsistent
            );
            match v.disposition() {
                _ if about_this_clock => notices.push(Finding::from(v)),
                Disposition::Reject | Disposition::Refuse | Disposition::Defer => {
                    errors.push(Finding::from(v))
                }
                Disposition::Flag => warnings.push(Finding::from(v)),
                Disposition::Notice => notices.push(Finding::from(v)),
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Refused(errors));
        }
        if !warnings.is_empty() && !confirm {
            return Err(EngineError::NeedsConfirmation(warnings));
        }
        Ok(Judged { warnings, notices })
    }
}
