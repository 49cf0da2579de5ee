//! Measures every decoder x pre-processing on the ZXing QR sets, image by
//! image, and proposes a cascade greedily (most new decodes per millisecond
//! first). This is how `Strategy::STILL` was chosen; re-run it when a
//! decoder is upgraded:
//!
//! ```sh
//! cargo run --profile bench -p capture --example strategy_matrix [DIR…] > matrix.tsv
//! ```
//!
//! (The bench profile is the release optimisation and shares the build of
//! `cargo bench -p capture --bench scan`.)
//!
//! Without arguments it reads the ZXing sets; with arguments, each DIR is a
//! folder in the same layout (N.png + N.txt; no .txt = must read nothing).
//!
//! The per-image matrix goes to stdout (TSV), the summary to stderr.

use capture::frame::file::read_image;
use capture::qr::blackbox::{ZXING_FALSE_POSITIVES, ZXING_QR_SETS, load_dir, matches};
use capture::qr::{ScanConfig, Scanner, Strategy};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench-data/qr-zxing");
    let mut dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        dirs = ZXING_QR_SETS.iter().chain([&ZXING_FALSE_POSITIVES]).map(|s| root.join(s)).collect();
    }
    let mut cases = Vec::new();
    for dir in &dirs {
        cases.extend(load_dir(dir).expect("read set"));
    }
    let frames: Vec<_> = cases.iter().map(|c| read_image(&c.image).expect("decode image")).collect();
    let strategies = Strategy::all();
    // ok[s] = set of case indices strategy s reads correctly; cost[s] = total ms
    let mut ok: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); strategies.len()];
    let mut cost = vec![0f64; strategies.len()];
    let mut time_of = vec![vec![0f64; cases.len()]; strategies.len()];
    let mut wrong = vec![0usize; strategies.len()];
    let mut false_pos = vec![0usize; strategies.len()];
    println!("image\tstrategy\tresult\tms");
    for (si, st) in strategies.iter().enumerate() {
        let scanner = Scanner::new(ScanConfig::only(*st, Duration::from_secs(10)));
        let mut times = Vec::new();
        for (ci, (case, frame)) in cases.iter().zip(&frames).enumerate() {
            let out = scanner.scan(frame);
            let ms = out.elapsed.as_secs_f64() * 1e3;
            times.push(ms);
            cost[si] += ms;
            time_of[si][ci] = ms;
            let result = match (&case.expected, out.codes.first()) {
                (_, None) if !out.incidents.is_empty() => format!("incident:{:?}", out.incidents[0].error),
                (_, None) => "-".to_owned(),
                (Some(e), Some(d)) if matches(e, &d.text) => {
                    ok[si].insert(ci);
                    "ok".to_owned()
                }
                (Some(_), Some(_)) => {
                    wrong[si] += 1;
                    "WRONG".to_owned()
                }
                (None, Some(_)) => {
                    false_pos[si] += 1;
                    "FALSE-READ".to_owned()
                }
            };
            println!("{}\t{}\t{}\t{:.2}", case.image.display(), st.name(), result, ms);
        }
        times.sort_by(f64::total_cmp);
        eprintln!(
            "{:28} ok {:3} other text {:2} false reads {:2} median {:7.2} ms p95 {:7.2} ms total {:8.0} ms",
            st.name(),
            ok[si].len(),
            wrong[si],
            false_pos[si],
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            cost[si]
        );
    }
    let union: BTreeSet<usize> = ok.iter().flatten().copied().collect();
    eprintln!(
        "union of all strategies: {} of {} coded images",
        union.len(),
        cases.iter().filter(|c| c.expected.is_some()).count()
    );
    // Cost of a strategy placed next in the cascade: its time on the images
    // the cascade has not read yet (it stops at the first success).
    let rest = |s: usize, covered: &BTreeSet<usize>| -> f64 {
        (0..cases.len()).filter(|c| !covered.contains(c)).map(|c| time_of[s][c]).sum::<f64>() + 1e-3
    };
    let mut covered = BTreeSet::new();
    let mut chosen = Vec::new();
    loop {
        let best = (0..strategies.len())
            .filter(|s| !chosen.contains(s) && false_pos[*s] == 0)
            .map(|s| (s, ok[s].difference(&covered).count()))
            .filter(|(_, gain)| *gain > 0)
            .max_by(|a, b| (a.1 as f64 / rest(a.0, &covered)).total_cmp(&(b.1 as f64 / rest(b.0, &covered))));
        let Some((s, gain)) = best else { break };
        covered.extend(ok[s].iter().copied());
        chosen.push(s);
        eprintln!("greedy: + {:28} gains {:2} -> {}", strategies[s].name(), gain, covered.len());
    }
    for c in union.difference(&covered) {
        eprintln!("only via a strategy with false reads in code-free photos: {}", cases[*c].image.display());
    }
}
