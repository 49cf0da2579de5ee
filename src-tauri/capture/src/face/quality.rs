//! Is this face photo good enough to judge? Size, light, focus and pose,
//! measured on the detection and the aligned chip. A check on a poor photo
//! gives a score that means nothing either way; better to ask for another
//! photo than to record a false mismatch (or a false match).

use super::detect::Detection;

/// Measured properties of one face capture.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quality {
    /// Distance between the eye centres in frame pixels.
    pub eye_distance_px: f32,
    /// Mean luma (0–255) of the central face region of the chip.
    pub brightness: f32,
    /// Variance of the Laplacian of the chip's luma: low = blurred.
    pub sharpness: f32,
    /// Nose offset from the eye midpoint along the eye line, in eye
    /// distances: 0 frontal; positive when the nose is towards the image's
    /// right (the subject turned to their left, in an unmirrored frame).
    pub yaw: f32,
    /// Tilt of the eye line, degrees.
    pub roll_deg: f32,
    /// Nose below the eyes as a fraction of the mouth's distance below them:
    /// about 0.5 frontal, smaller looking up, larger looking down.
    pub pitch: f32,
}

/// Limits for a usable face photo. Defaults and why:
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct QualityPolicy {
    /// The chip puts the eyes 53 px apart; below 28 px in the frame the chip
    /// is mostly interpolation.
    pub min_eye_distance_px: f32,
    /// A face in deep shadow or burnt out by sun has lost the detail the
    /// descriptor uses.
    pub min_brightness: f32,
    pub max_brightness: f32,
    /// Measured on the four test portraits (eyes ~120 px apart): sharp
    /// 227–643; after a Gaussian blur of sigma 1: 93–216, sigma 2: 29–66,
    /// sigma 3: 13–28. The descriptor itself survives sigma 4 (distance to
    /// the same person's sharp photo stays <= 0.41), so the limit refuses
    /// only photos a person could not use either.
    pub min_sharpness: f32,
    /// Nose offset in eye distances (about 0.25 = 25° of yaw). Measured: a
    /// photo at 0.22 still matched its person at distance 0.40–0.48; past
    /// this the keypoints (and the alignment) degrade fast.
    pub max_abs_yaw: f32,
    pub max_abs_roll_deg: f32,
    pub pitch_range: (f32, f32),
}

impl Default for QualityPolicy {
    fn default() -> Self {
        QualityPolicy {
            min_eye_distance_px: 28.0,
            min_brightness: 45.0,
            max_brightness: 215.0,
            min_sharpness: 25.0,
            max_abs_yaw: 0.25,
            max_abs_roll_deg: 30.0,
            pitch_range: (0.2, 0.8),
        }
    }
}

/// What is wrong with a face photo, for the person taking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityIssue {
    TooSmall,
    TooDark,
    TooBright,
    Blurred,
    TurnedAway,
    Tilted,
    LookingUpOrDown,
}

impl QualityIssue {
    pub fn message_en(self) -> &'static str {
        match self {
            QualityIssue::TooSmall => "face too small: come closer to the camera",
            QualityIssue::TooDark => "face too dark: move into the light",
            QualityIssue::TooBright => "face overexposed: move out of direct sunlight",
            QualityIssue::Blurred => "photo blurred: hold the phone still",
            QualityIssue::TurnedAway => "face turned away: look straight at the camera",
            QualityIssue::Tilted => "head tilted: hold your head upright",
            QualityIssue::LookingUpOrDown => "look straight ahead, not up or down",
        }
    }
    pub fn message_zh(self) -> &'static str {
        match self {
            QualityIssue::TooSmall => "人脸太小，请靠近摄像头",
            QualityIssue::TooDark => "光线太暗，请到明亮处",
            QualityIssue::TooBright => "曝光过度，请避开强光直射",
            QualityIssue::Blurred => "照片模糊，请拿稳手机",
            QualityIssue::TurnedAway => "请正对摄像头",
            QualityIssue::Tilted => "请保持头部端正",
            QualityIssue::LookingUpOrDown => "请平视摄像头，不要抬头或低头",
        }
    }
}

/// Pose from the detection's keypoints (no extra model).
pub fn pose(d: &Detection) -> (f32, f32, f32) {
    let (ex, ey) = (d.left_eye.x - d.right_eye.x, d.left_eye.y - d.right_eye.y);
    let iod = (ex * ex + ey * ey).sqrt().max(1e-3);
    let (ux, uy) = (ex / iod, ey / iod); // along the eye line
    let mid = ((d.left_eye.x + d.right_eye.x) / 2.0, (d.left_eye.y + d.right_eye.y) / 2.0);
    let along = |px: f32, py: f32| ((px - mid.0) * ux + (py - mid.1) * uy) / iod;
    let across = |px: f32, py: f32| ((px - mid.0) * -uy + (py - mid.1) * ux) / iod;
    let yaw = along(d.nose.x, d.nose.y);
    let roll = uy.atan2(ux).to_degrees();
    let mouth_down = across(d.mouth.x, d.mouth.y).max(1e-3);
    let pitch = across(d.nose.x, d.nose.y) / mouth_down;
    (yaw, roll, pitch)
}

/// Measure a capture: `chip` is the aligned 150x150 RGB chip.
pub fn measure(d: &Detection, chip: &[u8]) -> Quality {
    let size = super::embed::CHIP_SIZE;
    let luma: Vec<f32> =
        chip.chunks_exact(3).map(|p| f32::from(crate::frame::rgb_to_luma(p[0], p[1], p[2]))).collect();
    // Central region: eyes to mouth, inside the cheeks (chip pixels 40..110).
    let (mut sum, mut n) = (0f32, 0f32);
    for y in 40..110 {
        for x in 40..110 {
            sum += luma[y * size + x];
            n += 1.0;
        }
    }
    let mut lap = Vec::with_capacity(size * size);
    for y in 1..size - 1 {
        for x in 1..size - 1 {
            let c = luma[y * size + x];
            lap.push(
                luma[(y - 1) * size + x]
                    + luma[(y + 1) * size + x]
                    + luma[y * size + x - 1]
                    + luma[y * size + x + 1]
                    - 4.0 * c,
            );
        }
    }
    let mean = lap.iter().sum::<f32>() / lap.len() as f32;
    let var = lap.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / lap.len() as f32;
    let (yaw, roll_deg, pitch) = pose(d);
    Quality { eye_distance_px: d.eye_distance(), brightness: sum / n, sharpness: var, yaw, roll_deg, pitch }
}

/// Every issue with a capture (empty = good).
pub fn issues(q: &Quality, p: &QualityPolicy) -> Vec<QualityIssue> {
    let mut out = Vec::new();
    if q.eye_distance_px < p.min_eye_distance_px {
        out.push(QualityIssue::TooSmall);
    }
    if q.brightness < p.min_brightness {
        out.push(QualityIssue::TooDark);
    }
    if q.brightness > p.max_brightness {
        out.push(QualityIssue::TooBright);
    }
    if q.sharpness < p.min_sharpness {
        out.push(QualityIssue::Blurred);
    }
    if q.yaw.abs() > p.max_abs_yaw {
        out.push(QualityIssue::TurnedAway);
    }
    if q.roll_deg.abs() > p.max_abs_roll_deg {
        out.push(QualityIssue::Tilted);
    }
    if q.pitch < p.pitch_range.0 || q.pitch > p.pitch_range.1 {
        out.push(QualityIssue::LookingUpOrDown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::detect::Point;

    fn det(nose_x: f32) -> Detection {
        let p = |x, y| Point { x, y };
        Detection {
            score: 0.9,
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 100.0,
            right_eye: p(30.0, 40.0),
            left_eye: p(70.0, 40.0),
            nose: p(nose_x, 60.0),
            mouth: p(50.0, 80.0),
            right_ear: p(10.0, 45.0),
            left_ear: p(90.0, 45.0),
        }
    }

    #[test]
    fn pose_reads_yaw_roll_and_pitch_from_keypoints() {
        let (yaw, roll, pitch) = pose(&det(50.0));
        assert!(yaw.abs() < 1e-5 && roll.abs() < 1e-3 && (pitch - 0.5).abs() < 1e-5);
        let (yaw, _, _) = pose(&det(62.0));
        assert!((yaw - 0.3).abs() < 1e-5, "nose towards image right: positive yaw");
    }

    #[test]
    fn issues_name_every_problem() {
        let q = Quality {
            eye_distance_px: 10.0,
            brightness: 20.0,
            sharpness: 5.0,
            yaw: 0.5,
            roll_deg: 40.0,
            pitch: 0.9,
        };
        let i = issues(&q, &QualityPolicy::default());
        assert_eq!(i.len(), 6);
        assert!(i.iter().all(|x| !x.message_zh().is_empty() && !x.message_en().is_empty()));
        let good = Quality {
            eye_distance_px: 60.0,
            brightness: 120.0,
            sharpness: 300.0,
            yaw: 0.0,
            roll_deg: 2.0,
            pitch: 0.5,
        };
        assert!(issues(&good, &QualityPolicy::default()).is_empty());
    }
}
