//! Active liveness: a head turn on request, over a short burst of frames.
//!
//! No passive-liveness model ships with a clean licence, so none is
//! pretended here. What this checks: the person turns their head the way
//! the app asked, at a moment the app chose (the challenge is drawn at
//! random, so a pre-recorded clip of one direction fails half the time), in
//! one continuous burst of 1–2 s with one face tracked throughout. A photo
//! held to the camera cannot do that; a replayed video of the right turn
//! can, which is why the face check is one piece of evidence among GPS,
//! trusted time, the witness's co-signature and photos, not a proof alone.
//!
//! Blink: the eye aspect ratio from the 68 landmarks drops and recovers
//! within the burst. Measured open-eye ratios on the test portraits:
//! 0.27–0.30; a blink takes it below half of that for 100–150 ms, so the
//! burst needs ~10 fps or more to see one (the app captures at camera rate).

use super::detect::Detection;
use super::quality::pose;

/// The head movement asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    TurnLeft,
    TurnRight,
    Blink,
}

impl Challenge {
    /// Pick a challenge from a random byte supplied by the caller (the app
    /// uses the OS random generator; the choice must not be predictable).
    pub fn from_random(byte: u8) -> Challenge {
        match byte % 3 {
            0 => Challenge::TurnLeft,
            1 => Challenge::TurnRight,
            _ => Challenge::Blink,
        }
    }
    /// The name recorded in custody-core's `Liveness.challenge`.
    pub fn name(self) -> &'static str {
        match self {
            Challenge::TurnLeft => "turn_left",
            Challenge::TurnRight => "turn_right",
            Challenge::Blink => "blink",
        }
    }
    pub fn prompt_zh(self) -> &'static str {
        match self {
            Challenge::TurnLeft => "请向左转头",
            Challenge::TurnRight => "请向右转头",
            Challenge::Blink => "请眨眼",
        }
    }
    pub fn prompt_en(self) -> &'static str {
        match self {
            Challenge::TurnLeft => "Turn your head to your left",
            Challenge::TurnRight => "Turn your head to your right",
            Challenge::Blink => "Blink",
        }
    }
}

/// Limits of a valid burst.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LivenessPolicy {
    pub min_frames: usize,
    /// The burst's frames must span at least this long (a turn takes time)…
    pub min_span_ms: u64,
    /// … and at most this long (the challenge is answered promptly).
    pub max_span_ms: u64,
    /// Frames count as frontal below this |yaw| (eye distances) …
    pub frontal_yaw: f32,
    /// … and as turned beyond this, in the asked direction.
    pub turned_yaw: f32,
    /// Consecutive faces must overlap this much (one face, tracked).
    pub min_track_iou: f32,
    /// A blink: the eye aspect ratio falls below this fraction of the
    /// burst's open-eye level (its 80th percentile) …
    pub blink_closed: f32,
    /// … and comes back above this fraction afterwards.
    pub blink_reopened: f32,
}

impl Default for LivenessPolicy {
    fn default() -> Self {
        LivenessPolicy {
            min_frames: 6,
            min_span_ms: 400,
            max_span_ms: 2500,
            frontal_yaw: 0.08,
            turned_yaw: 0.22,
            min_track_iou: 0.2,
            blink_closed: 0.6,
            blink_reopened: 0.85,
        }
    }
}

/// One frame of the burst as the detector saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub mono_ms: u64,
    /// Faces in the frame (exactly one is required).
    pub faces: usize,
    pub face: Option<Detection>,
    /// Eye aspect ratio from the landmarks (needed for the blink challenge).
    pub eye_aspect_ratio: Option<f32>,
}

/// Why a burst failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivenessFailure {
    TooFewFrames,
    TooShort,
    TooLong,
    NoFaceOrSeveral,
    LostTrack,
    NeverFrontal,
    NoTurn,
    WrongDirection,
    NoBlink,
    /// The frontal face of the burst is not the person of the face photo.
    DifferentPerson,
}

impl LivenessFailure {
    pub fn message_en(self) -> &'static str {
        match self {
            LivenessFailure::TooFewFrames | LivenessFailure::TooShort => "too short: turn your head slowly",
            LivenessFailure::TooLong => "took too long: try again",
            LivenessFailure::NoFaceOrSeveral => "keep exactly one face in view",
            LivenessFailure::LostTrack => "the face left the picture: try again",
            LivenessFailure::NeverFrontal => "start by looking straight at the camera",
            LivenessFailure::NoTurn => "no head turn seen: turn further",
            LivenessFailure::WrongDirection => "turned the wrong way",
            LivenessFailure::NoBlink => "no blink seen: blink once, clearly",
            LivenessFailure::DifferentPerson => "the person in the burst is not the person in the face photo",
        }
    }
    pub fn message_zh(self) -> &'static str {
        match self {
            LivenessFailure::TooFewFrames | LivenessFailure::TooShort => "时间太短，请缓慢转头",
            LivenessFailure::TooLong => "用时过长，请重试",
            LivenessFailure::NoFaceOrSeveral => "画面中须只有一张人脸",
            LivenessFailure::LostTrack => "人脸离开了画面，请重试",
            LivenessFailure::NeverFrontal => "请先正对摄像头",
            LivenessFailure::NoTurn => "未检测到转头，请转动幅度大一些",
            LivenessFailure::WrongDirection => "转头方向不对",
            LivenessFailure::NoBlink => "未检测到眨眼，请明显地眨一次眼",
            LivenessFailure::DifferentPerson => "转头的人与人脸照片不是同一人",
        }
    }
}

/// The verdict on a burst.
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessOutcome {
    pub challenge: Challenge,
    pub frames: u32,
    pub failure: Option<LivenessFailure>,
    /// Largest yaw reached in the asked direction.
    pub peak_yaw: f32,
    /// Index of the most frontal frame (compared with the face photo).
    pub frontal_frame: Option<usize>,
}

impl LivenessOutcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
    /// custody-core's evidence form.
    pub fn to_record(&self) -> custody_core::record::Liveness {
        custody_core::record::Liveness {
            challenge: self.challenge.name().to_owned(),
            passed: self.passed(),
            frames: self.frames,
        }
    }
}

/// Judge a burst of observations (pure: the detector ran before).
pub fn judge(challenge: Challenge, obs: &[Observation], p: &LivenessPolicy) -> LivenessOutcome {
    let mut out = LivenessOutcome {
        challenge,
        frames: obs.len() as u32,
        failure: None,
        peak_yaw: 0.0,
        frontal_frame: None,
    };
    let fail = |mut o: LivenessOutcome, f| {
        o.failure = Some(f);
        o
    };
    if obs.len() < p.min_frames {
        return fail(out, LivenessFailure::TooFewFrames);
    }
    let span = obs.last().map(|o| o.mono_ms).unwrap_or(0).saturating_sub(obs[0].mono_ms);
    if span < p.min_span_ms {
        return fail(out, LivenessFailure::TooShort);
    }
    if span > p.max_span_ms {
        return fail(out, LivenessFailure::TooLong);
    }
    let mut faces = Vec::with_capacity(obs.len());
    for o in obs {
        match (&o.face, o.faces) {
            (Some(f), 1) => faces.push(f),
            _ => return fail(out, LivenessFailure::NoFaceOrSeveral),
        }
    }
    if faces.windows(2).any(|w| w[0].iou(w[1]) < p.min_track_iou) {
        return fail(out, LivenessFailure::LostTrack);
    }
    if challenge == Challenge::Blink {
        return judge_blink(out, obs, p);
    }
    // Sign: positive yaw = nose towards the image's right = the subject's
    // left in an unmirrored frame.
    let sign = if challenge == Challenge::TurnLeft { 1.0 } else { -1.0 };
    let yaws: Vec<f32> = faces.iter().map(|f| pose(f).0).collect();
    let frontal = yaws
        .iter()
        .enumerate()
        .filter(|(_, y)| y.abs() <= p.frontal_yaw)
        .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, _)| i);
    out.frontal_frame = frontal;
    out.peak_yaw = yaws.iter().map(|y| y * sign).fold(f32::MIN, f32::max);
    let Some(first_frontal) = yaws.iter().position(|y| y.abs() <= p.frontal_yaw) else {
        return fail(out, LivenessFailure::NeverFrontal);
    };
    let after = &yaws[first_frontal..];
    let turned = after.iter().any(|y| y * sign >= p.turned_yaw);
    let wrong = after.iter().any(|y| -y * sign >= p.turned_yaw);
    if wrong && !turned {
        return fail(out, LivenessFailure::WrongDirection);
    }
    if !turned {
        return fail(out, LivenessFailure::NoTurn);
    }
    out
}

fn judge_blink(mut out: LivenessOutcome, obs: &[Observation], p: &LivenessPolicy) -> LivenessOutcome {
    let Some(ears) = obs.iter().map(|o| o.eye_aspect_ratio).collect::<Option<Vec<f32>>>() else {
        out.failure = Some(LivenessFailure::NoFaceOrSeveral);
        return out;
    };
    let mut sorted = ears.clone();
    sorted.sort_by(f32::total_cmp);
    let open = sorted[sorted.len() * 4 / 5];
    // The most open frame is the one compared with the face photo.
    out.frontal_frame = ears.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
    let closed_at = ears.iter().position(|&e| e < p.blink_closed * open);
    let reopened = closed_at.is_some_and(|i| ears[i..].iter().any(|&e| e > p.blink_reopened * open));
    if !reopened {
        out.failure = Some(LivenessFailure::NoBlink);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::detect::Point;

    /// A face whose nose sits `yaw` eye distances off-centre.
    fn face(yaw: f32) -> Detection {
        let p = |x, y| Point { x, y };
        Detection {
            score: 0.9,
            x: 100.0,
            y: 100.0,
            w: 200.0,
            h: 200.0,
            right_eye: p(150.0, 170.0),
            left_eye: p(250.0, 170.0),
            nose: p(200.0 + 100.0 * yaw, 220.0),
            mouth: p(200.0, 270.0),
            right_ear: p(110.0, 180.0),
            left_ear: p(290.0, 180.0),
        }
    }

    fn burst(yaws: &[f32], dt: u64) -> Vec<Observation> {
        yaws.iter()
            .enumerate()
            .map(|(i, &y)| Observation {
                mono_ms: 1000 + i as u64 * dt,
                faces: 1,
                face: Some(face(y)),
                eye_aspect_ratio: Some(0.28),
            })
            .collect()
    }

    #[test]
    fn r1_a_real_turn_in_the_asked_direction_passes() {
        let b = burst(&[0.0, 0.02, 0.1, 0.2, 0.3, 0.35, 0.3, 0.1], 150);
        let o = judge(Challenge::TurnLeft, &b, &LivenessPolicy::default());
        assert!(o.passed(), "{o:?}");
        assert_eq!(
            o.to_record(),
            custody_core::record::Liveness { challenge: "turn_left".into(), passed: true, frames: 8 }
        );
        assert_eq!(o.frontal_frame, Some(0));
    }

    #[test]
    fn r1_a_blink_passes_and_open_or_closed_eyes_throughout_fail() {
        let p = LivenessPolicy::default();
        let with_ears = |ears: &[f32]| -> Vec<Observation> {
            let mut b = burst(&vec![0.0; ears.len()], 120);
            for (o, &e) in b.iter_mut().zip(ears) {
                o.eye_aspect_ratio = Some(e);
            }
            b
        };
        let blink = with_ears(&[0.29, 0.28, 0.30, 0.12, 0.08, 0.20, 0.28, 0.29, 0.29]);
        let o = judge(Challenge::Blink, &blink, &p);
        assert!(o.passed(), "{o:?}");
        assert_eq!(o.to_record().challenge, "blink");
        let open = with_ears(&[0.29, 0.28, 0.30, 0.27, 0.28, 0.29, 0.28, 0.29]);
        assert_eq!(judge(Challenge::Blink, &open, &p).failure, Some(LivenessFailure::NoBlink));
        let shut_at_end = with_ears(&[0.29, 0.28, 0.30, 0.27, 0.28, 0.29, 0.10, 0.08]);
        assert_eq!(judge(Challenge::Blink, &shut_at_end, &p).failure, Some(LivenessFailure::NoBlink));
        assert_eq!(Challenge::from_random(2), Challenge::Blink);
    }

    #[test]
    fn r1_a_still_photo_wrong_turn_or_bad_burst_fails() {
        let p = LivenessPolicy::default();
        let still = burst(&[0.01; 10], 150);
        assert_eq!(judge(Challenge::TurnLeft, &still, &p).failure, Some(LivenessFailure::NoTurn));
        let right = burst(&[0.0, -0.1, -0.25, -0.3, -0.2, 0.0], 150);
        assert_eq!(judge(Challenge::TurnLeft, &right, &p).failure, Some(LivenessFailure::WrongDirection));
        assert!(judge(Challenge::TurnRight, &right, &p).passed());
        let fast = burst(&[0.0, 0.1, 0.3, 0.3, 0.1, 0.0], 10);
        assert_eq!(judge(Challenge::TurnLeft, &fast, &p).failure, Some(LivenessFailure::TooShort));
        let slow = burst(&[0.0, 0.1, 0.3, 0.3, 0.1, 0.0], 1000);
        assert_eq!(judge(Challenge::TurnLeft, &slow, &p).failure, Some(LivenessFailure::TooLong));
        let turned_only = burst(&[0.3; 8], 150);
        assert_eq!(judge(Challenge::TurnLeft, &turned_only, &p).failure, Some(LivenessFailure::NeverFrontal));
        let mut two = burst(&[0.0, 0.1, 0.2, 0.3, 0.3, 0.3], 150);
        two[3].faces = 2;
        assert_eq!(judge(Challenge::TurnLeft, &two, &p).failure, Some(LivenessFailure::NoFaceOrSeveral));
        let mut jump = burst(&[0.0, 0.1, 0.2, 0.3, 0.3, 0.3], 150);
        if let Some(f) = jump[4].face.as_mut() {
            f.x += 1000.0;
        }
        assert_eq!(judge(Challenge::TurnLeft, &jump, &p).failure, Some(LivenessFailure::LostTrack));
    }
}
