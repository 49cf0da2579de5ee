//! "Double random, one public" (双随机、一公开) spot checks (R20): which
//! projects or labs are inspected, and by whom, drawn so that anyone can
//! recompute the draw and nobody could have steered it.
//!
//! A regulator's draw is only worth something if the people drawn (and the
//! people not drawn) can trust it was not arranged. So the draw is a pure
//! function of two published inputs:
//!
//! - the **spec** ([`DrawSpec`]): the candidate targets with their weights
//!   (1 + open early warnings, so targets with warnings are inspected more
//!   often), the inspector pool, and how many to draw;
//! - the **beacon**: bytes nobody knew when the spec was fixed. The server
//!   uses a transparency-log checkpoint signed *after* the draw was announced.
//!
//! What the caller must publish for the draw to be verifiable: the spec (or
//! its canonical bytes, [`DrawSpec::canonical_bytes`]) and its SHA-256
//! *before* the beacon exists (e.g. as a record in the log, so the beacon's
//! checkpoint covers it); the rule naming which checkpoint is the beacon,
//! fixed in advance (e.g. "the first checkpoint covering the announcement")
//! and the checkpoint's bytes; and the [`DrawResult`]. Without the first, a
//! server could try many specs (a changed title is enough) against a known
//! beacon and keep the result it likes; without the second it could pick
//! among several checkpoints. A checkpoint is still the server's own output:
//! a server willing to delay or reshape its log could try a few. Where that
//! matters, the caller appends a value from outside (a public lottery draw
//! announced in advance) to the beacon bytes; this module takes any bytes.
//! Ids in the spec are opaque (no names, no phone numbers), so all of this
//! can be published as it is.
//!
//! # The algorithm (version 1), exactly
//!
//! Other implementations (`tests/draw/recompute.py` at the repository root is
//! one, written from this text) must follow it to the byte.
//!
//! 1. The spec is checked ([`DrawSpec::check`]); an invalid spec draws nothing.
//! 2. `spec_bytes` = the spec as RFC 8785 canonical JSON ([`crate::canonical`]):
//!    members sorted by name, no whitespace, strings as UTF-8 with only `"`,
//!    `\` and control characters escaped (`\b \t \n \f \r`, others `\u00xx`
//!    in lowercase hex), integers in plain decimal. For this spec (ASCII
//!    member names, integers only) that is exactly Python's
//!    `json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")`.
//!    Sorting by name rather than by struct field order means a refactor of
//!    this file cannot silently change old draws' seeds.
//! 3. `seed = SHA-256("jzqy-draw-v1\n" || spec_bytes || "\n" || beacon)`.
//! 4. Random stream: block `i` = `SHA-256(seed || i)` with `i` as a u64
//!    big-endian, `i` = 0, 1, 2, …; each block is four u64 words (big-endian
//!    8-byte chunks, in order), consumed one at a time, never reused.
//! 5. `uniform(n)` for `n >= 1`: `limit = (2^64 - 1) - ((2^64 - 1) mod n)`;
//!    take the next word `x`; if `x >= limit` discard it and take another;
//!    return `x mod n`. (`limit` is a multiple of `n`, so every result is
//!    equally likely.) A word is consumed even when `n = 1`.
//! 6. Targets, weighted, without replacement: `remaining` = the spec's targets
//!    in the spec's order. `target_count` times: `total` = sum of the
//!    remaining weights; `r = uniform(total)`; walk `remaining` in order
//!    keeping a running sum of weights and pick the first target whose
//!    running sum exceeds `r`; remove it from `remaining` (the others keep
//!    their order).
//! 7. Inspectors, after all targets are drawn: for each picked target in pick
//!    order, `pool` = a fresh copy of the spec's inspectors in the spec's
//!    order; `inspectors_per_target` times: `j = uniform(len(pool))`, take
//!    `pool[j]` and remove it. An inspector can thus be drawn for several
//!    targets, but only once per target. Lists keep draw order.
//! 8. Result: `seed_hex` (64 lowercase hex digits) and the picks in order.

use crate::canonical::{self, CanonicalError, MAX_SAFE_INTEGER};
use crate::crypto::Hash;
use crate::verify::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Domain separation for the seed: version 1 of the algorithm above.
pub const SEED_DOMAIN: &[u8] = b"jzqy-draw-v1\n";

/// Longest id (draw, target or inspector), in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// Everything a draw depends on besides the beacon. Published before the
/// beacon exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawSpec {
    pub draw_id: String,
    /// What people read (e.g. the quarter and the kind of check); any text.
    pub title: String,
    /// When the draw was announced (ms since the Unix epoch), before the beacon.
    pub announced_ms: i64,
    pub targets: Vec<DrawTarget>,
    /// Inspector ids, never names: the spec is published.
    pub inspectors: Vec<String>,
    pub target_count: u32,
    pub inspectors_per_target: u32,
}

/// A project or lab that may be drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawTarget {
    pub id: String,
    /// 1 + the number of open early warnings (decided by the caller).
    pub weight: u32,
    /// What people read (a project or lab name); any text.
    pub label: String,
}

/// The outcome, published next to the spec and the beacon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawResult {
    pub seed_hex: String,
    pub picks: Vec<DrawPick>,
}

/// One drawn target and the inspectors drawn for it, in draw order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawPick {
    pub target: String,
    pub inspectors: Vec<String>,
}

/// Which id a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Draw,
    Target,
    Inspector,
}

impl IdKind {
    fn zh(self) -> &'static str {
        match self {
            IdKind::Draw => "抽查",
            IdKind::Target => "抽查对象",
            IdKind::Inspector => "检查人员",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Draw => "draw",
            IdKind::Target => "target",
            IdKind::Inspector => "inspector",
        })
    }
}

/// Why a spec cannot be drawn. `position` counts from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("the draw has no targets")]
    NoTargets,
    #[error("the draw has no inspectors")]
    NoInspectors,
    #[error("target_count must be between 1 and the number of targets ({targets}), not {count}")]
    TargetCount { count: u32, targets: usize },
    #[error("inspectors_per_target must be between 1 and the size of the pool ({pool}), not {count}")]
    InspectorsPerTarget { count: u32, pool: usize },
    #[error("target {id:?} has weight 0 (weight is 1 + open warnings, so at least 1)")]
    ZeroWeight { id: String },
    #[error("the targets' weights add up to more than 2^64 - 1")]
    TotalWeightOverflow,
    #[error("{kind} id {id:?} appears more than once")]
    DuplicateId { kind: IdKind, id: String },
    #[error("{kind} id number {n} is empty", n = .position + 1)]
    EmptyId { kind: IdKind, position: usize },
    #[error("{kind} id {id:?} is longer than {MAX_ID_BYTES} bytes")]
    IdTooLong { kind: IdKind, id: String },
    #[error("{kind} id {id:?} may contain only printable ASCII without spaces")]
    IdNotPrintable { kind: IdKind, id: String },
    #[error("announced_ms {0} is outside +-(2^53 - 1)")]
    AnnouncedOutOfRange(i64),
    #[error("the spec cannot be encoded: {0}")]
    Encoding(#[from] CanonicalError),
}

impl DrawError {
    /// What a person reads about this error, in their language.
    pub fn message(&self, lang: Lang) -> String {
        use DrawError as E;
        if lang == Lang::En {
            return match self {
                E::EmptyId { kind: IdKind::Draw, .. } => "the draw id is empty (R20)".to_owned(),
                _ => format!("{self} (R20)"),
            };
        }
        let text = match self {
            E::NoTargets => "抽查对象名单为空".to_owned(),
            E::NoInspectors => "检查人员名单为空".to_owned(),
            E::TargetCount { count, targets } => {
                format!("抽取对象数应在 1 到 {targets}（对象总数）之间，现为 {count}")
            }
            E::InspectorsPerTarget { count, pool } => {
                format!("每个对象的检查人员数应在 1 到 {pool}（人员总数）之间，现为 {count}")
            }
            E::ZeroWeight { id } => {
                format!("抽查对象 {id} 的权重为 0（权重 = 1 + 未处理预警数，至少为 1）")
            }
            E::TotalWeightOverflow => "抽查对象的权重合计超出上限".to_owned(),
            E::DuplicateId { kind, id } => format!("{}编号 {id} 重复出现", kind.zh()),
            E::EmptyId { kind: IdKind::Draw, .. } => "抽查编号为空".to_owned(),
            E::EmptyId { kind, position } => format!("第 {} 个{}的编号为空", position + 1, kind.zh()),
            E::IdTooLong { kind, id } => {
                format!("{}编号 {id:?} 超过 {MAX_ID_BYTES} 字节", kind.zh())
            }
            E::IdNotPrintable { kind, id } => {
                format!("{}编号 {id:?} 只能包含可打印的 ASCII 字符（不含空格）", kind.zh())
            }
            E::AnnouncedOutOfRange(ms) => format!("公布时间 {ms} 超出允许范围 ±(2^53 - 1)"),
            E::Encoding(e) => format!("抽查方案无法编码：{e}"),
        };
        format!("{text}（R20）")
    }
}

fn check_id(kind: IdKind, position: usize, id: &str) -> Result<(), DrawError> {
    if id.is_empty() {
        Err(DrawError::EmptyId { kind, position })
    } else if id.len() > MAX_ID_BYTES {
        Err(DrawError::IdTooLong { kind, id: id.to_owned() })
    } else if !id.bytes().all(|b| b.is_ascii_graphic()) {
        Err(DrawError::IdNotPrintable { kind, id: id.to_owned() })
    } else {
        Ok(())
    }
}

/// Each id well-formed and none twice.
fn check_ids<'a>(kind: IdKind, ids: impl Iterator<Item = &'a str>) -> Result<(), DrawError> {
    let mut seen = BTreeSet::new();
    for (position, id) in ids.enumerate() {
        check_id(kind, position, id)?;
        if !seen.insert(id) {
            return Err(DrawError::DuplicateId { kind, id: id.to_owned() });
        }
    }
    Ok(())
}

impl DrawSpec {
    /// Whether this spec can be drawn; the first problem found if not.
    pub fn check(&self) -> Result<(), DrawError> {
        check_id(IdKind::Draw, 0, &self.draw_id)?;
        if self.announced_ms.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(DrawError::AnnouncedOutOfRange(self.announced_ms));
        }
        if self.targets.is_empty() {
            return Err(DrawError::NoTargets);
        }
        if self.inspectors.is_empty() {
            return Err(DrawError::NoInspectors);
        }
        check_ids(IdKind::Target, self.targets.iter().map(|t| t.id.as_str()))?;
        check_ids(IdKind::Inspector, self.inspectors.iter().map(String::as_str))?;
        let mut total: u64 = 0;
        for t in &self.targets {
            if t.weight == 0 {
                return Err(DrawError::ZeroWeight { id: t.id.clone() });
            }
            total = total.checked_add(u64::from(t.weight)).ok_or(DrawError::TotalWeightOverflow)?;
        }
        if self.target_count == 0 || self.target_count as usize > self.targets.len() {
            return Err(DrawError::TargetCount { count: self.target_count, targets: self.targets.len() });
        }
        if self.inspectors_per_target == 0 || self.inspectors_per_target as usize > self.inspectors.len() {
            return Err(DrawError::InspectorsPerTarget {
                count: self.inspectors_per_target,
                pool: self.inspectors.len(),
            });
        }
        Ok(())
    }

    /// The bytes the seed commits to (RFC 8785 canonical JSON). Publish them,
    /// or their SHA-256, before the beacon exists.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, DrawError> {
        Ok(canonical::to_canonical(self)?)
    }
}

/// `SHA-256("jzqy-draw-v1\n" || canonical spec || "\n" || beacon)`.
pub fn seed(spec: &DrawSpec, beacon: &[u8]) -> Result<Hash, DrawError> {
    let spec_bytes = spec.canonical_bytes()?;
    let mut input = Vec::with_capacity(SEED_DOMAIN.len() + spec_bytes.len() + 1 + beacon.len());
    input.extend_from_slice(SEED_DOMAIN);
    input.extend_from_slice(&spec_bytes);
    input.push(b'\n');
    input.extend_from_slice(beacon);
    Ok(Hash::of(&input))
}

/// The draw's random numbers: SHA-256 in counter mode over the seed.
struct RandomStream {
    seed: Hash,
    next_block: u64,
    block: [u8; 32],
    /// Words of `block` already consumed (4 = none left).
    used: usize,
}

impl RandomStream {
    fn new(seed: Hash) -> Self {
        RandomStream { seed, next_block: 0, block: [0; 32], used: 4 }
    }

    fn next_u64(&mut self) -> u64 {
        if self.used == 4 {
            let mut input = [0u8; 40];
            input[..32].copy_from_slice(self.seed.as_bytes());
            input[32..].copy_from_slice(&self.next_block.to_be_bytes());
            self.block = *Hash::of(&input).as_bytes();
            self.next_block += 1;
            self.used = 0;
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.block[self.used * 8..self.used * 8 + 8]);
        self.used += 1;
        u64::from_be_bytes(word)
    }

    /// Uniform in `[0, n)`, `n >= 1`, by rejection (step 5 of the module doc).
    fn uniform(&mut self, n: u64) -> u64 {
        debug_assert!(n >= 1);
        let limit = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < limit {
                return x % n;
            }
        }
    }
}

/// Step 6: `count` distinct targets, each with probability proportional to
/// its weight among those not yet drawn.
fn pick_targets<'a>(targets: &'a [DrawTarget], count: u32, stream: &mut RandomStream) -> Vec<&'a DrawTarget> {
    let mut remaining: Vec<&DrawTarget> = targets.iter().collect();
    let mut picked = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let total: u64 = remaining.iter().map(|t| u64::from(t.weight)).sum();
        let r = stream.uniform(total);
        let mut running: u64 = 0;
        let index = remaining
            .iter()
            .position(|t| {
                running += u64::from(t.weight);
                r < running
            })
            // r < total, so some running sum exceeds it.
            .unwrap_or(remaining.len() - 1);
        picked.push(remaining.remove(index));
    }
    picked
}

/// Step 7 for one target: `count` distinct inspectors, uniformly.
fn pick_inspectors(pool: &[String], count: u32, stream: &mut RandomStream) -> Vec<String> {
    let mut remaining: Vec<&String> = pool.iter().collect();
    (0..count)
        .map(|_| {
            let index = stream.uniform(remaining.len() as u64) as usize;
            remaining.remove(index).clone()
        })
        .collect()
}

/// Draw the targets and their inspectors from `spec`, seeded by `beacon`
/// (the bytes of a checkpoint signed after the spec was published).
pub fn draw(spec: &DrawSpec, beacon: &[u8]) -> Result<DrawResult, DrawError> {
    spec.check()?;
    let seed = seed(spec, beacon)?;
    let mut stream = RandomStream::new(seed);
    let targets = pick_targets(&spec.targets, spec.target_count, &mut stream);
    let picks = targets
        .into_iter()
        .map(|t| DrawPick {
            target: t.id.clone(),
            inspectors: pick_inspectors(&spec.inspectors, spec.inspectors_per_target, &mut stream),
        })
        .collect();
    Ok(DrawResult { seed_hex: seed.to_hex(), picks })
}

// ---------------------------------------------------------------- who is in a draw

/// A target's weight: 1, plus one for each open early warning, so targets
/// with warnings are drawn more often and none is never drawn (R20: "aimed
/// at the listed problems", still random).
pub fn target_weight(open_warnings: usize) -> u32 {
    u32::try_from(open_warnings).unwrap_or(u32::MAX - 1).saturating_add(1)
}

/// A person who might be in a draw's inspector pool.
#[derive(Debug, Clone, Copy)]
pub struct InspectorFacts<'a> {
    pub person: &'a str,
    /// The division code of the person's organisation, if it is a regulator.
    pub regulator_jurisdiction: Option<&'a str>,
    pub grants: &'a [crate::verify::context::Grant],
}

/// The inspectors a draw over `scope` (`None`: everywhere, an
/// administrator's) may draw at `now`: people of regulators within the
/// scope (R18) holding an inspector grant in force; sorted, so the pool
/// does not depend on the order the caller found them in.
pub fn inspector_pool(candidates: &[InspectorFacts<'_>], scope: Option<&str>, now: i64) -> Vec<String> {
    let mut out: Vec<String> = candidates
        .iter()
        .filter(|c| {
            c.regulator_jurisdiction
                .is_some_and(|j| scope.is_none_or(|p| crate::access::jurisdiction_covers(p, j)))
        })
        .filter(|c| c.grants.iter().any(|g| g.role == crate::model::PersonRole::Inspector && g.valid_at(now)))
        .map(|c| c.person.to_owned())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn spec(weights: &[u32], inspectors: usize, target_count: u32, per_target: u32) -> DrawSpec {
        DrawSpec {
            draw_id: "draw-2025-q3".into(),
            title: "营口市2025年第三季度检测机构抽查".into(),
            announced_ms: 1_751_328_000_000,
            targets: weights
                .iter()
                .enumerate()
                .map(|(i, &weight)| DrawTarget { id: format!("t{i}"), weight, label: format!("项目{i}") })
                .collect(),
            inspectors: (0..inspectors).map(|i| format!("p{i}")).collect(),
            target_count,
            inspectors_per_target: per_target,
        }
    }

    #[test]
    fn same_inputs_same_draw() {
        let s = spec(&[1, 3, 1, 2, 5], 6, 3, 2);
        let a = draw(&s, b"checkpoint").unwrap();
        let b = draw(&s.clone(), b"checkpoint").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.seed_hex.len(), 64);
    }

    #[test]
    fn different_beacons_different_draws() {
        // 10 ordered picks from 100 equal targets: two beacons agree with
        // probability 1 / (100 * 99 * ... * 91), about 1.6e-20.
        let s = spec(&[1; 100], 20, 10, 3);
        let a = draw(&s, b"checkpoint 1").unwrap();
        let b = draw(&s, b"checkpoint 2").unwrap();
        assert_ne!(a.seed_hex, b.seed_hex);
        let targets = |r: &DrawResult| r.picks.iter().map(|p| p.target.clone()).collect::<Vec<_>>();
        assert_ne!(targets(&a), targets(&b));
    }

    #[test]
    fn the_spec_is_part_of_the_seed() {
        let s = spec(&[1, 1, 1], 3, 1, 1);
        let mut retitled = s.clone();
        retitled.title.push('!');
        assert_ne!(seed(&s, b"x").unwrap(), seed(&retitled, b"x").unwrap());
    }

    #[test]
    fn seed_is_domain_spec_newline_beacon() {
        let s = spec(&[2, 1], 2, 1, 1);
        let mut input = b"jzqy-draw-v1\n".to_vec();
        input.extend_from_slice(&canonical::to_canonical(&s).unwrap());
        input.extend_from_slice(b"\n\x00\xff");
        assert_eq!(seed(&s, b"\x00\xff").unwrap(), Hash::of(&input));
        // Members sorted by name, no whitespace.
        let text = String::from_utf8(s.canonical_bytes().unwrap()).unwrap();
        assert!(text.starts_with(
            r#"{"announced_ms":1751328000000,"draw_id":"draw-2025-q3","inspectors":["p0","p1"],"#
        ));
        assert!(text.contains(r#""targets":[{"id":"t0","label":"项目0","weight":2},"#));
    }

    #[test]
    fn stream_is_sha256_counter_mode_and_rejects_the_biased_tail() {
        let seed = Hash::of(b"seed");
        let mut words = Vec::new();
        for i in 0u64..3 {
            let mut input = seed.as_bytes().to_vec();
            input.extend_from_slice(&i.to_be_bytes());
            let block = Hash::of(&input);
            for chunk in block.as_bytes().chunks(8) {
                words.push(u64::from_be_bytes(chunk.try_into().unwrap()));
            }
        }
        let mut stream = RandomStream::new(seed);
        assert_eq!((0..12).map(|_| stream.next_u64()).collect::<Vec<_>>(), words);
        // With n just above 2^63 about half the words are rejected.
        let n = (1u64 << 63) + 1;
        let limit = u64::MAX - u64::MAX % n;
        let expected: Vec<u64> = words.iter().filter(|&&x| x < limit).map(|x| x % n).collect();
        let mut stream = RandomStream::new(seed);
        let got: Vec<u64> = (0..expected.len()).map(|_| stream.uniform(n)).collect();
        assert_eq!(got, expected);
        assert!(expected.len() < 12, "no word was rejected: pick another seed");
    }

    #[test]
    fn invalid_specs_are_refused() {
        let ok = spec(&[1, 2, 3], 4, 2, 2);
        ok.check().unwrap();
        let refused = |edit: &dyn Fn(&mut DrawSpec)| {
            let mut s = ok.clone();
            edit(&mut s);
            draw(&s, b"b").unwrap_err()
        };
        assert_eq!(refused(&|s| s.targets.clear()), DrawError::NoTargets);
        assert_eq!(refused(&|s| s.inspectors.clear()), DrawError::NoInspectors);
        assert_eq!(refused(&|s| s.target_count = 0), DrawError::TargetCount { count: 0, targets: 3 });
        assert_eq!(refused(&|s| s.target_count = 4), DrawError::TargetCount { count: 4, targets: 3 });
        let per = |count| DrawError::InspectorsPerTarget { count, pool: 4 };
        assert_eq!(refused(&|s| s.inspectors_per_target = 0), per(0));
        assert_eq!(refused(&|s| s.inspectors_per_target = 5), per(5));
        assert_eq!(refused(&|s| s.targets[1].weight = 0), DrawError::ZeroWeight { id: "t1".into() });
        let dup = |kind, id: &str| DrawError::DuplicateId { kind, id: id.into() };
        assert_eq!(refused(&|s| s.targets[2].id = "t0".into()), dup(IdKind::Target, "t0"));
        assert_eq!(refused(&|s| s.inspectors[3] = "p1".into()), dup(IdKind::Inspector, "p1"));
        assert_eq!(
            refused(&|s| s.inspectors[2] = String::new()),
            DrawError::EmptyId { kind: IdKind::Inspector, position: 2 }
        );
        assert_eq!(
            refused(&|s| s.draw_id = String::new()),
            DrawError::EmptyId { kind: IdKind::Draw, position: 0 }
        );
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert_eq!(
            refused(&|s| s.targets[0].id = long.clone()),
            DrawError::IdTooLong { kind: IdKind::Target, id: long.clone() }
        );
        let mut longest = ok.clone();
        longest.targets[0].id = "x".repeat(MAX_ID_BYTES);
        longest.check().unwrap();
        for bad in ["a b", "张三", "a\n", "a\u{7f}"] {
            assert_eq!(
                refused(&|s| s.inspectors[0] = bad.into()),
                DrawError::IdNotPrintable { kind: IdKind::Inspector, id: bad.into() }
            );
        }
        assert_eq!(refused(&|s| s.announced_ms = i64::MIN), DrawError::AnnouncedOutOfRange(i64::MIN));
    }

    #[test]
    fn weights_may_add_up_past_u32() {
        // TotalWeightOverflow needs more than 2^32 targets, so it is not
        // tested; totals past u32 are, as the sum is kept in a u64.
        let s = spec(&[u32::MAX, u32::MAX, 1], 2, 3, 2);
        assert_eq!(draw(&s, b"b").unwrap().picks.len(), 3);
    }

    #[test]
    fn messages_in_both_languages() {
        let e = DrawError::TargetCount { count: 9, targets: 3 };
        assert_eq!(e.message(Lang::ZhCn), "抽取对象数应在 1 到 3（对象总数）之间，现为 9（R20）");
        assert!(e.message(Lang::En).contains("between 1 and the number of targets (3), not 9"));
        let e = DrawError::EmptyId { kind: IdKind::Target, position: 0 };
        assert_eq!(e.message(Lang::ZhCn), "第 1 个抽查对象的编号为空（R20）");
        assert_eq!(e.message(Lang::En), "target id number 1 is empty (R20)");
    }

    #[test]
    fn heavier_targets_are_drawn_more_often() {
        // One weight-9 target among nine weight-1 targets, one pick: the heavy
        // one is drawn with probability 9/18 (expected 1000 of 2000, s.d. 22),
        // each light one with 1/18 (expected 111).
        let mut weights = [1; 10];
        weights[4] = 9;
        let s = spec(&weights, 3, 1, 1);
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for i in 0u32..2000 {
            let r = draw(&s, &i.to_be_bytes()).unwrap();
            *counts.entry(r.picks[0].target.clone()).or_default() += 1;
        }
        let heavy = counts.get("t4").copied().unwrap_or(0);
        let lightest_max = counts.iter().filter(|(id, _)| *id != "t4").map(|(_, &n)| n).max().unwrap();
        assert!((850..=1150).contains(&heavy), "heavy target drawn {heavy} times of 2000");
        assert!((40..=200).contains(&lightest_max), "a light target drawn {lightest_max} times");
        assert_eq!(counts.len(), 10, "every target can be drawn: {counts:?}");
    }

    fn any_spec() -> impl Strategy<Value = (DrawSpec, Vec<u8>)> {
        (1usize..=12, 1usize..=8)
            .prop_flat_map(|(n, m)| {
                (
                    prop::collection::vec(1u32..=20, n),
                    1..=n as u32,
                    Just(m),
                    1..=m as u32,
                    prop::collection::vec(any::<u8>(), 0..48),
                )
            })
            .prop_map(|(weights, target_count, m, per_target, beacon)| {
                (spec(&weights, m, target_count, per_target), beacon)
            })
    }

    proptest! {
        #[test]
        fn every_draw_is_well_formed((s, beacon) in any_spec()) {
            let r = draw(&s, &beacon).unwrap();
            prop_assert_eq!(r.picks.len(), s.target_count as usize);
            let targets: BTreeSet<&str> = r.picks.iter().map(|p| p.target.as_str()).collect();
            prop_assert_eq!(targets.len(), r.picks.len(), "a target drawn twice");
            for p in &r.picks {
                prop_assert!(s.targets.iter().any(|t| t.id == p.target));
                prop_assert_eq!(p.inspectors.len(), s.inspectors_per_target as usize);
                let inspectors: BTreeSet<&String> = p.inspectors.iter().collect();
                prop_assert_eq!(inspectors.len(), p.inspectors.len(), "an inspector drawn twice for one target");
                prop_assert!(p.inspectors.iter().all(|i| s.inspectors.contains(i)));
            }
            prop_assert_eq!(draw(&s, &beacon).unwrap(), r);
        }
    }

    #[test]
    fn r20_r18_the_pool_is_the_inspectors_in_force_within_the_scope() {
        use crate::verify::context::Grant;
        let grant = |role, revoked: Option<i64>| Grant {
            grant: crate::Id::new("G").expect("id"),
            role,
            project: None,
            valid_from_ms: 0,
            valid_until_ms: None,
            revoked_at_ms: revoked,
            face_reference: None,
        };
        let inspector = [grant(crate::model::PersonRole::Inspector, None)];
        let revoked = [grant(crate::model::PersonRole::Inspector, Some(50))];
        let witness = [grant(crate::model::PersonRole::Witness, None)];
        let c = |person, j, grants| InspectorFacts { person, regulator_jurisdiction: j, grants };
        let people = [
            c("P-ZQ", Some("210802"), &inspector[..]),
            c("P-CITY", Some("2108"), &inspector[..]),
            c("P-PJ", Some("211100"), &inspector[..]),
            c("P-OLD", Some("210802"), &revoked[..]),
            c("P-W", Some("210802"), &witness[..]),
            c("P-LAB", None, &inspector[..]),
        ];
        assert_eq!(inspector_pool(&people, Some("2108"), 100), ["P-CITY", "P-ZQ"]);
        assert_eq!(inspector_pool(&people, None, 100), ["P-CITY", "P-PJ", "P-ZQ"]);
        assert_eq!(inspector_pool(&people, Some("210802"), 10), ["P-OLD", "P-ZQ"], "not yet revoked then");
        assert_eq!((target_weight(0), target_weight(3), target_weight(usize::MAX)), (1, 4, u32::MAX));
    }
}
