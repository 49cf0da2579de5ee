//! R12: the checks that look at more than one test at a time.
//!
//! * [`check_group`]: a concrete specimen group is three cubes (GB/T
//!   50081-2019); its strength is not any one cube's but the group value
//!   (mean, or median when one cube strays more than 15 %, or void when
//!   both do), converted by the size factor. The lab's machine writes one
//!   curve per cube, so a tag's group is its current
//!   `concrete_cube_strength` tests, one curve each; the system recomputes
//!   the group value from the three raw curves and puts it beside the value
//!   the lab reports as the representative value (代表值).
//! * [`near_identical_between`]: the same machine curve passed off for
//!   another specimen — not byte-identical (that is [`TestFlag::CurveReused`])
//!   but a copy, perhaps re-timed or re-saved. Each curve is reduced to its
//!   shape by the lab signal `near_identical_curves`
//!   ([`crate::oversight::lab`], thresholds from the deployment's
//!   configuration), so the console's lab warning and the report's flag are
//!   one rule.

use super::check::{Figure, TestCheck, TestFlag, canonical_name};
use super::concrete::{self, ConcreteGrade};
use super::{Agreement, compare_reported};
use crate::curve::{self, MachineCurve};
use crate::oversight::lab::{Curve, LabThresholds, near_identical_curves};
use crate::record::Measurement;

/// The test code the group check stands under in a report's results.
pub const GROUP_TEST: &str = "concrete_cube_group";
/// The standard's name for the group value.
pub const GROUP_FIGURE: &str = "f_cu_group";

/// One cube of a group: its curve (when named and arrived) and what the lab
/// reported with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cube<'a> {
    /// The raw curve file; `None` while it has not arrived (or is not named).
    pub curve: Option<&'a [u8]>,
    pub reported: &'a [Measurement],
}

/// R12 (GB/T 50081-2019): the group value of a tag's cubes, recomputed from
/// their curves. `None` when there is nothing to say: no cubes, a curve
/// still on its way, or a single cube (a tag may carry one cube, the group
/// then being three tags — judged cube by cube, as [`super::check`] does). Cubes whose curves cannot be read are flagged
/// on their own test ([`super::check::check_test`]); then the group has no
/// value and says why.
pub fn check_group(grade: Option<&str>, cubes: &[Cube<'_>]) -> Option<TestCheck> {
    if cubes.len() < 2 || cubes.iter().any(|c| c.curve.is_none()) {
        return None;
    }
    let mut flags = Vec::new();
    let mut recomputed = Vec::new();
    if cubes.len() != 3 {
        flags.push(TestFlag::GroupIncomplete { cubes: cubes.len() });
    } else {
        let parsed: Result<Vec<MachineCurve>, _> =
            cubes.iter().filter_map(|c| c.curve).map(curve::parse).collect();
        let grade = grade.map(|g| ConcreteGrade::parse(g.split_whitespace().next().unwrap_or("")));
        match (parsed, grade) {
            (Ok(curves), Some(Ok(grade))) => match concrete::group_from_curves(&curves, grade) {
                Ok((_, group)) => match group.value_mpa {
                    Some(v) => {
                        recomputed.push(Figure { name: GROUP_FIGURE.into(), unit: "MPa".into(), value: v })
                    }
                    None => flags.push(TestFlag::GroupVoid { values_mpa: group.values_mpa }),
                },
                Err(e) => flags.push(TestFlag::NotRecomputable {
                    message_zh: e.message(crate::verify::Lang::ZhCn),
                    message_en: e.to_string(),
                }),
            },
            (Ok(_), Some(Err(e))) => flags.push(TestFlag::NotRecomputable {
                message_zh: e.message(crate::verify::Lang::ZhCn),
                message_en: e.to_string(),
            }),
            (Ok(_), None) => flags.push(TestFlag::NotRecomputable {
                message_zh: "没有强度等级，无法确定尺寸换算系数".into(),
                message_en: "no strength grade: the size factor cannot be chosen".into(),
            }),
            // An unreadable cube is already flagged on its own test.
            (Err(_), _) => {}
        }
    }
    // The representative value, under whichever cube's test the lab put it.
    let reported: Vec<(&str, f64)> = cubes
        .iter()
        .flat_map(|c| c.reported.iter())
        .filter_map(|m| {
            (canonical_name(&m.name) == Some(GROUP_FIGURE))
                .then_some((GROUP_FIGURE, m.value_milli as f64 / 1000.0))
        })
        .collect();
    let pairs: Vec<(&str, super::Rounded)> = recomputed.iter().map(|f| (f.name.as_str(), f.value)).collect();
    let comparisons = if pairs.is_empty() { vec![] } else { compare_reported(&pairs, &reported, None) };
    for c in &comparisons {
        if let (Agreement::Mismatch, Some(r), Some(v)) = (c.agreement, c.reported, c.recomputed) {
            flags.push(TestFlag::Mismatch {
                name: c.name.clone(),
                reported: r,
                recomputed: v,
                tolerance: c.tolerance,
            });
        }
    }
    // A group declared void but reported with a value anyway.
    if flags.iter().any(|f| matches!(f, TestFlag::GroupVoid { .. })) && !reported.is_empty() {
        flags.push(TestFlag::VoidGroupReported { reported: reported[0].1 });
    }
    Some(TestCheck { recomputed, comparisons, flags })
}

/// R12: which of a lab's curves are near-identical copies of another.
/// `curves` are raw curve files (unreadable ones are skipped: they are
/// flagged elsewhere); a tag's own cubes are compared with each other too
/// (one cube tested, its file copied for the other two). Answer, per input
/// index: the indexes of the curves too alike, with the largest difference
/// of the normalised shapes (share of the peak), in index order.
pub fn near_identical_between(curves: &[&[u8]], t: &LabThresholds) -> Vec<Vec<(usize, f64)>> {
    const LAB: &str = "lab";
    let shapes: Vec<Curve> = curves
        .iter()
        .enumerate()
        .filter_map(|(i, bytes)| {
            let c = curve::parse(bytes).ok()?;
            Some(Curve {
                id: i.to_string(),
                lab: LAB.into(),
                points: c.samples.iter().map(|s| (s.t_s, s.force_kn)).collect(),
            })
        })
        .collect();
    let mut out = vec![Vec::new(); curves.len()];
    for w in near_identical_curves(LAB, &shapes, t) {
        let idx: Vec<usize> = w.evidence.iter().filter_map(|e| e.parse().ok()).collect();
        if let [a, b] = idx[..] {
            out[a].push((b, w.measured));
            out[b].push((a, w.measured));
        }
    }
    for v in &mut out {
        v.sort_by_key(|a| a.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::sim::{self, CubeParams};
    use crate::curve::{FileStyle, to_file};
    use crate::verify::Lang;

    fn cube(strength: f64, seed: u64) -> Vec<u8> {
        let mut p = CubeParams::new(150.0, 30, seed);
        p.strength_mpa = strength;
        to_file(&sim::cube(&p), FileStyle::GbkChinese)
    }

    fn value(c: &TestCheck) -> f64 {
        c.recomputed.iter().find(|f| f.name == GROUP_FIGURE).expect("a group value").value.rounded
    }

    fn strengths(files: &[Vec<u8>]) -> Vec<f64> {
        files
            .iter()
            .map(|f| concrete::cube_strength(&curve::parse(f).unwrap()).unwrap().strength_mpa.raw)
            .collect()
    }

    fn cubes<'a>(files: &'a [Vec<u8>], reported: &'a [Measurement]) -> Vec<Cube<'a>> {
        files
            .iter()
            .enumerate()
            .map(|(i, f)| Cube { curve: Some(f), reported: if i == 0 { reported } else { &[] } })
            .collect()
    }

    #[test]
    fn r12_three_close_cubes_give_their_mean_and_an_honest_representative_value_matches() {
        let files = vec![cube(36.0, 1), cube(37.0, 2), cube(38.5, 3)];
        let s = strengths(&files);
        let mean = (s[0] + s[1] + s[2]) / 3.0;
        let c = check_group(Some("C30"), &cubes(&files, &[])).unwrap();
        assert!(c.flags.is_empty(), "{:?}", c.flags);
        assert!((value(&c) - mean).abs() <= 0.05 + 1e-9, "{} vs mean {mean}", value(&c));
        let honest = [Measurement {
            name: "强度代表值".into(),
            value_milli: (value(&c) * 1000.0).round() as i64,
            unit: "MPa".into(),
        }];
        let c2 = check_group(Some("C30"), &cubes(&files, &honest)).unwrap();
        assert!(!c2.has_mismatch(), "{:?}", c2.flags);
        // The lab's representative value raised by 3 MPa is a mismatch, named.
        let raised = [Measurement {
            name: "代表值".into(),
            value_milli: ((value(&c) + 3.0) * 1000.0).round() as i64,
            unit: "MPa".into(),
        }];
        let c3 = check_group(Some("C30"), &cubes(&files, &raised)).unwrap();
        assert!(c3.has_mismatch(), "{:?}", c3.flags);
        assert!(c3.flags.iter().any(|f| f.message(Lang::ZhCn).contains(GROUP_FIGURE)));
    }

    #[test]
    fn r12_one_stray_cube_gives_the_median_and_two_give_a_void_group() {
        let files = vec![cube(30.0, 4), cube(36.0, 5), cube(37.0, 6)];
        let s = strengths(&files);
        let c = check_group(Some("C30 P6"), &cubes(&files, &[])).unwrap();
        assert!((value(&c) - s[1]).abs() <= 0.05 + 1e-9, "median {} got {}", s[1], value(&c));
        let files = vec![cube(28.0, 7), cube(36.0, 8), cube(44.0, 9)];
        let reported = [Measurement { name: "代表值".into(), value_milli: 36_000, unit: "MPa".into() }];
        let c = check_group(Some("C30"), &cubes(&files, &reported)).unwrap();
        assert!(c.recomputed.is_empty());
        let codes: Vec<_> = c.flags.iter().map(|f| f.code()).collect();
        assert_eq!(codes, ["group_void", "void_group_reported"], "{:?}", c.flags);
        assert!(c.flags[0].message(Lang::ZhCn).contains("不作为评定依据"));
    }

    #[test]
    fn r12_a_group_waits_for_its_curves_and_counts_its_cubes() {
        let files = vec![cube(36.0, 1), cube(37.0, 2)];
        assert_eq!(check_group(Some("C30"), &[]), None);
        assert_eq!(check_group(Some("C30"), &cubes(&files[..1], &[])), None, "one cube per tag");
        let mut pending = cubes(&files, &[]);
        pending.push(Cube { curve: None, reported: &[] });
        assert_eq!(check_group(Some("C30"), &pending), None, "a curve on its way: nothing to say yet");
        let c = check_group(Some("C30"), &cubes(&files, &[])).unwrap();
        assert_eq!(c.flags, vec![TestFlag::GroupIncomplete { cubes: 2 }]);
        let files = vec![cube(36.0, 1), cube(37.0, 2), cube(38.0, 3)];
        let c = check_group(None, &cubes(&files, &[])).unwrap();
        assert_eq!(c.flags[0].code(), "not_recomputable", "no grade, no size factor");
    }

    #[test]
    fn r12_a_copied_curve_is_near_identical_and_honest_cubes_are_not() {
        let t = LabThresholds::default();
        let a = cube(36.0, 11);
        // Re-saved in the machine's other file style: other bytes, same curve.
        let copy = to_file(&curve::parse(&a).unwrap(), FileStyle::Utf8English);
        assert_ne!(a, copy);
        let honest: Vec<Vec<u8>> = (0..12).map(|i| cube(34.0 + i as f64 * 0.01, 100 + i)).collect();
        let mut all: Vec<&[u8]> = vec![&a, &copy];
        all.extend(honest.iter().map(|h| h.as_slice()));
        let found = near_identical_between(&all, &t);
        assert_eq!(found[0].len(), 1, "{found:?}");
        assert_eq!(found[0][0].0, 1);
        assert_eq!(found[1][0].0, 0);
        assert!(found[0][0].1 < t.curve_tolerance);
        assert!(found[2..].iter().all(|v| v.is_empty()), "honest cubes of near-equal strength: {found:?}");
        // Garbage is skipped, not a panic.
        assert_eq!(near_identical_between(&[b"not a curve"], &t), vec![vec![]]);
    }
}
