//! The face step of a custody record (R7, R8): the photo's 1:1 check
//! against the person's enrolled reference, with the liveness challenge's
//! burst when one ran, in the form the record takes. With no reference
//! enrolled there is nothing to compare with, and the result says so.
//! The reference's template is computed once per reference photo.

use super::liveness::Challenge;
use super::{FaceChecker, FaceError, Template};
use crate::frame::Frame;
use custody_core::crypto::Hash;
use custody_core::record::FaceCheck;
use std::sync::Mutex;

/// The person's reference template, kept with the hash of the photo it was
/// computed from (a new reference photo replaces it).
#[derive(Default)]
pub struct ReferenceCache(Mutex<Option<(Hash, Template)>>);

impl ReferenceCache {
    /// The template of the reference photo `bytes`, computed unless kept.
    pub fn template(&self, checker: &FaceChecker, bytes: &[u8]) -> Result<Template, FaceError> {
        let photo = Hash::of(bytes);
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((h, t)) = kept
            && h == photo
        {
            return Ok(t);
        }
        let frame = Frame::decode(bytes).map_err(|e| FaceError::Photo(e.to_string()))?;
        let template = checker.enroll(&frame)?;
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((photo, template.clone()));
        Ok(template)
    }
}

/// The frames of a liveness challenge, as the person performed it.
pub struct Burst<'a> {
    pub challenge: Challenge,
    pub frames: &'a [Frame],
}

impl FaceChecker {
    /// The face check a record carries for the face photo taken from
    /// `frame`, whose original hashes to `photo`: against `reference` (the
    /// photo enrolled with the real-name check) when there is one, with the
    /// liveness challenge judged on its burst when one ran.
    pub fn check_for_record(
        &self,
        frame: &Frame,
        photo: Hash,
        reference: Option<&[u8]>,
        cache: &ReferenceCache,
        burst: Option<Burst<'_>>,
    ) -> Result<FaceCheck, FaceError> {
        let template = reference.map(|bytes| cache.template(self, bytes)).transpose()?;
        let liveness = match burst {
            Some(b) if !b.frames.is_empty() => Some(self.liveness(b.challenge, b.frames, None)?),
            _ => None,
        };
        Ok(match &template {
            Some(t) => self.check(t, frame, photo, liveness.as_ref())?.0,
            None => FaceCheck {
                photo,
                model: format!("{} (no reference enrolled)", self.models().id()),
                score_milli: 0,
                threshold_milli: (self.config().threshold * 1000.0).round() as i32,
                matched: false,
                liveness: liveness.map(|l| l.to_record()),
            },
        })
    }
}
