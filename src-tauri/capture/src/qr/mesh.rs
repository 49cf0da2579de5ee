//! Reading a code on a curved, crumpled or glared label by fitting a
//! deformable module grid to the picture (our own sampler; rxing decodes
//! the module matrix, so error correction and text decoding are rxing's).
//!
//! Every other decoder in the cascade samples a code through one
//! perspective transform (zxing-cpp: one per alignment-pattern cell, and
//! versions 1-6 have at most one). That is exact for a flat label and wrong
//! for one wrapped round a bar, stuck on a creased bag or crumpled: the
//! module grid bends, a straight grid drifts off it by a module somewhere,
//! and that is more damage than the error correction repairs. Eight of the
//! ten ZXing photos the cascade missed were such labels (qrcode-4: stickers
//! on cloth, crumpled paper); this reader reads all eight.
//!
//! It keeps rxing's finder-pattern search (on its hybrid binarisation) and
//! replaces the sampling:
//!
//! 1. First guess: a perspective through the three finder centres and the
//!    alignment pattern (found near where the finders put it), or an affine
//!    grid through the finders when there is none.
//! 2. A mesh of control points, one every [`CELL`] modules, is fitted to
//!    the picture. In a QR code brightness changes only at module
//!    boundaries, so along a row of modules the edges sit at whole module
//!    coordinates when the grid is right. Round each control point, the
//!    edges (weighted by strength) give the grid's phase error as a
//!    circular mean, in u and in v, and the point moves by it. Points are
//!    fitted from the patterns the first guess went through outward, each
//!    starting from its fitted neighbours' correction extrapolated, so the
//!    fit follows a bend step by step and never has to jump half a module
//!    (a phase cannot tell a shift of one module from none).
//! 3. Each module is sampled at its fitted centre and judged against the
//!    modules round it ([`threshold`]: uneven light, then glare).
//!
//! The result is a plain module matrix: it reads only if the format
//! information and Reed-Solomon checks accept it, as any other read; on
//! the ZXing code-free photos it reads nothing.

use rxing::common::{BitMatrix, HybridBinarizer};
use rxing::qrcode::cpp_port::detector::{
    EstimateModuleSize, FindFinderPatterns, FinderPatternSet, GenerateFinderPatternSets,
    LocateAlignmentPattern, Mod2Pix,
};
use rxing::{BinaryBitmap, Luma8LuminanceSource};

/// Modules between two control points of the mesh: fine enough to follow
/// a crease, coarse enough that each point sees a few dozen edges.
const CELL: f32 = 4.0;
/// Least difference (grey levels) between the dark and light modules of a
/// 3x3 neighbourhood for it to set a module's threshold (see [`threshold`]).
const MIN_CONTRAST: f32 = 24.0;
/// Largest version read (see [`Finders::candidate_dimensions`]).
const MAX_VERSION: usize = 6;
/// Finder-pattern triples tried per picture (most plausible first).
const MAX_SETS: usize = 3;
/// Samples per module along a row when measuring edge phase (4 give the
/// lattice frequency's phase exactly; 6 read no more codes and cost half
/// as much again).
const STEPS_PER_MODULE: usize = 4;
/// Most passes over the mesh (the first one propagates from the finders);
/// fitting stops earlier once no point moves by [`SETTLED`] modules.
const PASSES: usize = 4;
/// Largest move (modules) in a pass below which the mesh counts as fitted.
const SETTLED: f32 = 0.1;
/// Cells round a node whose fitted corrections predict its own.
const PREDICT_REACH: usize = 2;
/// Least agreement of the edges round a control point on one phase (the
/// length of their mean phase vector, 0 = edges anywhere, 1 = all on one
/// lattice) for the point to move: below it the area is blank or blurred.
const MIN_LATTICE: f32 = 0.15;

/// Read the codes this sampler finds in a grey picture.
pub fn read(luma: &[u8], width: usize, height: usize) -> Vec<String> {
    let Some(bits) = binarise(luma, width, height) else { return Vec::new() };
    let mut patterns = FindFinderPatterns(&bits, true, 1);
    if patterns.len() < 3 {
        return Vec::new();
    }
    let sets = GenerateFinderPatternSets(&mut patterns);
    let img = Image { data: luma, width, height };
    for set in sets.iter().take(MAX_SETS) {
        let finders = Finders::from_set(&bits, set);
        for dim in finders.candidate_dimensions() {
            let mut mesh = start(&bits, &finders, dim);
            mesh.fit(&img);
            let grey = mesh.module_greys(&img);
            for glare in [false, true] {
                let Some(matrix) = threshold(&grey, dim, glare) else { continue };
                if let Ok(r) = rxing::qrcode::decoder::qrcode_decoder::decode_bitmatrix(&matrix) {
                    return vec![r.getText().to_owned()];
                }
            }
        }
    }
    Vec::new()
}

/// The first guess of the grid: through the three finders and the
/// alignment pattern when one is found near where the finders put it
/// (perspective), else through the finders alone (affine). Measured on the
/// 145 ZXing photos: 121 read from this start, 110 from the affine one
/// alone (perspective that the fit would have to grow from the finders).
fn start(bits: &BitMatrix, f: &Finders, dim: usize) -> Mesh {
    let affine = Mesh::affine(f, dim);
    if dim > 21 {
        let guess = affine.map(dim as f32 - 6.5, dim as f32 - 6.5);
        let found = LocateAlignmentPattern(bits, f.module.round() as i32, rxing::point(guess[0], guess[1]));
        if let Some(br) = found {
            let p = |c: [f32; 2]| rxing::point(c[0], c[1]);
            let quad = rxing::common::Quadrilateral::from([p(f.tl), p(f.tr), br, p(f.bl)]);
            if let Ok(t) = Mod2Pix(dim as i32, rxing::point(3.0, 3.0), quad) {
                let mut mesh = Mesh::new(dim, |u, v| {
                    let q = t.transform_point(rxing::point(u, v));
                    [q.x, q.y]
                });
                mesh.anchors.push([dim as f32 - 6.5, dim as f32 - 6.5]);
                return mesh;
            }
        }
    }
    affine
}

fn binarise(luma: &[u8], width: usize, height: usize) -> Option<BitMatrix> {
    let source = Luma8LuminanceSource::new(luma.to_vec(), width as u32, height as u32).ok()?;
    let bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    Some(bitmap.get_black_matrix().clone())
}

/// Grey picture with bilinear sampling.
struct Image<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
}

impl Image<'_> {
    /// Grey level at a sub-pixel position (pixel centres at +0.5); outside
    /// the picture, the nearest edge pixel.
    fn at(&self, p: [f32; 2]) -> f32 {
        let x = (p[0] - 0.5).clamp(0.0, (self.width - 1) as f32);
        let y = (p[1] - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let g = |x: usize, y: usize| f32::from(self.data[y * self.width + x]);
        let top = g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx;
        let bottom = g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// The three finder centres of one candidate code, in pixels, and the
/// symbol's size in modules as measured along its top and left sides.
struct Finders {
    tl: [f32; 2],
    tr: [f32; 2],
    bl: [f32; 2],
    /// Module size in pixels (mean of the two sides).
    module: f32,
    /// Modules across the top and down the left side (not yet rounded).
    top: f32,
    left: f32,
}

impl Finders {
    /// The module size is read as zxing-cpp does: on the 1:1:3:1:1 pattern
    /// of each finder along the line to the other (under perspective the
    /// three finders differ in size, each side has its own scale).
    fn from_set(bits: &BitMatrix, set: &FinderPatternSet) -> Finders {
        let p = |c: rxing::Point| [c.x, c.y];
        let (tl, tr, bl) = (p(set.tl.p), p(set.tr.p), p(set.bl.p));
        let side = |a, b| {
            let (ma, mb) = (EstimateModuleSize(bits, a, b), EstimateModuleSize(bits, b, a));
            if ma > 0.0 && mb > 0.0 {
                (ma + mb) as f32 / 2.0
            } else {
                (a.size + b.size) as f32 / 14.0 // finder pattern: 7 modules
            }
        };
        let (mt, ml) = (side(set.tl, set.tr).max(1.0), side(set.tl, set.bl).max(1.0));
        Finders {
            tl,
            tr,
            bl,
            module: (mt + ml) / 2.0,
            top: dist(tl, tr) / mt + 7.0,
            left: dist(tl, bl) / ml + 7.0,
        }
    }

    /// Symbol sizes (4v + 17) to try: the nearest to each side's measure,
    /// the nearer to their mean first (on a bent label both are estimates).
    /// Versions 1-6 only: from version 7 on a code carries several
    /// alignment patterns, and rxing's own sampler already fits one
    /// transform per alignment cell, which follows a bend; there this
    /// reader would add the most time and nothing measured.
    fn candidate_dimensions(&self) -> Vec<usize> {
        let nearest = |m: f32| ((m - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize * 4 + 17;
        let mean = (self.top + self.left) / 2.0;
        let mut dims = vec![nearest(self.top), nearest(self.left)];
        dims.sort_by(|a, b| (*a as f32 - mean).abs().total_cmp(&(*b as f32 - mean).abs()));
        dims.dedup();
        dims.retain(|&d| d <= 17 + 4 * MAX_VERSION);
        dims
    }
}

fn det3(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Control points every [`CELL`] modules over the symbol; module
/// coordinate (u, v) maps to pixels by bilinear interpolation in its cell.
struct Mesh {
    dim: usize,
    /// Modules between control points.
    cell: f32,
    /// Control points per side.
    n: usize,
    nodes: Vec<[f32; 2]>,
    /// The first guess for each node, for propagating corrections.
    initial: Vec<[f32; 2]>,
    /// Module coordinates where the first guess was fixed on a pattern.
    anchors: Vec<[f32; 2]>,
}

impl Mesh {
    /// A mesh whose control points start on `start(u, v)`, about [`CELL`]
    /// modules apart, the last row and column on the symbol's far edges (a
    /// point beyond the symbol would see no module edges to fit to).
    fn new(dim: usize, start: impl Fn(f32, f32) -> [f32; 2]) -> Mesh {
        let cells = (dim as f32 / CELL).round().max(1.0) as usize;
        let cell = dim as f32 / cells as f32;
        let n = cells + 1;
        let mut nodes = Vec::with_capacity(n * n);
        for j in 0..n {
            for i in 0..n {
                nodes.push(start(i as f32 * cell, j as f32 * cell));
            }
        }
        let d = dim as f32;
        let anchors = vec![[3.5, 3.5], [d - 3.5, 3.5], [3.5, d - 3.5]];
        Mesh { dim, cell, n, initial: nodes.clone(), nodes, anchors }
    }

    /// Through the three finder centres (module 3.5 from the symbol's edges).
    fn affine(f: &Finders, dim: usize) -> Mesh {
        let span = dim as f32 - 7.0;
        let du = [(f.tr[0] - f.tl[0]) / span, (f.tr[1] - f.tl[1]) / span];
        let dv = [(f.bl[0] - f.tl[0]) / span, (f.bl[1] - f.tl[1]) / span];
        Mesh::new(dim, |u, v| {
            let (u, v) = (u - 3.5, v - 3.5);
            [f.tl[0] + u * du[0] + v * dv[0], f.tl[1] + u * du[1] + v * dv[1]]
        })
    }

    fn map(&self, u: f32, v: f32) -> [f32; 2] {
        let last = (self.n - 2) as f32;
        let (cu, cv) = ((u / self.cell).floor().clamp(0.0, last), (v / self.cell).floor().clamp(0.0, last));
        let (fu, fv) = (u / self.cell - cu, v / self.cell - cv);
        let (i, j) = (cu as usize, cv as usize);
        let p = |i: usize, j: usize| self.nodes[j * self.n + i];
        let (a, b, c, d) = (p(i, j), p(i + 1, j), p(i, j + 1), p(i + 1, j + 1));
        let mut out = [0.0; 2];
        for k in 0..2 {
            let top = a[k] + (b[k] - a[k]) * fu;
            let bottom = c[k] + (d[k] - c[k]) * fu;
            out[k] = top + (bottom - top) * fv;
        }
        out
    }

    /// Fit the control points to the module edges of the picture.
    fn fit(&mut self, img: &Image) {
        // Order: nearest to an anchor (a pattern the start went through) first.
        let node_uv = |k: usize| [(k % self.n) as f32 * self.cell, (k / self.n) as f32 * self.cell];
        let anchor_dist =
            |k: usize| self.anchors.iter().map(|f| dist(*f, node_uv(k))).fold(f32::MAX, f32::min);
        let mut order: Vec<(f32, usize)> = (0..self.n * self.n).map(|k| (anchor_dist(k), k)).collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut fitted = vec![false; self.n * self.n];
        for pass in 0..PASSES {
            let mut largest = 0.0f32;
            for &(near, k) in &order {
                let (i, j) = (k % self.n, k / self.n);
                // Next to an anchor the start is right by construction;
                // elsewhere the fitted neighbours know better.
                if pass == 0 && near > self.cell {
                    self.nodes[k] = self.predict(i, j, &fitted);
                }
                if let Some((du, dv)) = self.phase_error(img, i, j) {
                    let (ju, jv) = self.jacobian(i, j);
                    let node = &mut self.nodes[k];
                    node[0] += ju[0] * du + jv[0] * dv;
                    node[1] += ju[1] * du + jv[1] * dv;
                    largest = largest.max(du.abs()).max(dv.abs());
                }
                fitted[k] = true;
            }
            // Settled: the next pass would move no point by a visible amount.
            if pass > 0 && largest < SETTLED {
                break;
            }
        }
    }

    /// A node's first guess: its start position moved by the correction
    /// field of the nodes fitted so far, as a plane (constant + slope in u
    /// and v) fitted by least squares to the fitted nodes within
    /// [`PREDICT_REACH`] cells, weighted by inverse squared distance. The
    /// slope carries a bend or a perspective that grows across the label;
    /// the least squares keeps one noisy node from throwing the guess (a
    /// plain two-node extrapolation overshot where a bend turns back:
    /// measured on a sine-bent code, it slipped by several modules).
    /// With too few nodes for a slope, their weighted mean.
    fn predict(&self, i: usize, j: usize, fitted: &[bool]) -> [f32; 2] {
        let k = j * self.n + i;
        let reach = PREDICT_REACH as i32;
        // Normal equations of z = a + b x + c y, per coordinate of the shift.
        let mut m = [[0.0f64; 3]; 3];
        let mut rhs = [[0.0f64; 3]; 2];
        for dj in -reach..=reach {
            for di in -reach..=reach {
                let (ni, nj) = (i as i32 + di, j as i32 + dj);
                if (di, dj) == (0, 0) || ni < 0 || nj < 0 || ni >= self.n as i32 || nj >= self.n as i32 {
                    continue;
                }
                let nk = nj as usize * self.n + ni as usize;
                if !fitted[nk] {
                    continue;
                }
                let w = 1.0 / f64::from(di * di + dj * dj);
                let basis = [1.0, f64::from(di), f64::from(dj)];
                for r in 0..3 {
                    for c in 0..3 {
                        m[r][c] += w * basis[r] * basis[c];
                    }
                    for (axis, side) in rhs.iter_mut().enumerate() {
                        let shift = f64::from(self.nodes[nk][axis] - self.initial[nk][axis]);
                        side[r] += w * basis[r] * shift;
                    }
                }
            }
        }
        let mut out = self.initial[k];
        if m[0][0] == 0.0 {
            return out;
        }
        let det = det3(&m);
        for (axis, side) in rhs.iter().enumerate() {
            // Cramer's rule for the constant term; the mean if the nodes
            // are too few or in one line to give a slope.
            let a = if det.abs() > 1e-6 * m[0][0].powi(3) {
                let mut ma = m;
                for r in 0..3 {
                    ma[r][0] = side[r];
                }
                det3(&ma) / det
            } else {
                side[0] / m[0][0]
            };
            out[axis] += a as f32;
        }
        out
    }

    /// Pixels per module along u and along v at node (i, j).
    fn jacobian(&self, i: usize, j: usize) -> ([f32; 2], [f32; 2]) {
        let p = |i: usize, j: usize| self.nodes[j * self.n + i];
        let (i0, i1) = (i.saturating_sub(1), (i + 1).min(self.n - 1));
        let (j0, j1) = (j.saturating_sub(1), (j + 1).min(self.n - 1));
        let su = (i1 - i0) as f32 * self.cell;
        let sv = (j1 - j0) as f32 * self.cell;
        let ju = [(p(i1, j)[0] - p(i0, j)[0]) / su, (p(i1, j)[1] - p(i0, j)[1]) / su];
        let jv = [(p(i, j1)[0] - p(i, j0)[0]) / sv, (p(i, j1)[1] - p(i, j0)[1]) / sv];
        (ju, jv)
    }

    /// How far (in modules, u and v) the grid near node (i, j) is off the
    /// module edges in the picture: the circular mean of edge positions,
    /// each weighted by its strength and by the node's bilinear weight.
    /// `None` where the edges show no lattice (blank or blurred area).
    fn phase_error(&self, img: &Image, i: usize, j: usize) -> Option<(f32, f32)> {
        let (cu, cv) = (i as f32 * self.cell, j as f32 * self.cell);
        let dim = self.dim as f32;
        let h = 1.0 / STEPS_PER_MODULE as f32;
        // Samples start on whole modules, so the phase of sample m is m / STEPS.
        let phase: [(f32, f32); STEPS_PER_MODULE] = std::array::from_fn(|m| {
            let a = m as f32 * h * std::f32::consts::TAU;
            (a.cos(), a.sin())
        });
        let mut acc = [[0.0f32; 3]; 2]; // per axis: sum w cos, sum w sin, sum w
        let mut g = Vec::with_capacity(2 * self.cell as usize * STEPS_PER_MODULE + 1);
        // Rows (for u edges) and columns (for v edges) through module centres.
        let lo = |c: f32| (c - self.cell).max(0.0);
        let hi = |c: f32| (c + self.cell).min(dim);
        for (axis, sums) in acc.iter_mut().enumerate() {
            let (along_c, across_c) = if axis == 0 { (cu, cv) } else { (cv, cu) };
            // Whole modules, so that the phase of sample m is m / STEPS.
            let (start, end) = (lo(along_c).floor(), hi(along_c).ceil().min(dim));
            let count = ((end - start) * STEPS_PER_MODULE as f32).round() as usize;
            let mut across = lo(across_c).floor() + 0.5;
            while across < hi(across_c) {
                let w_across = 1.0 - (across - across_c).abs() / self.cell;
                g.clear();
                for m in 0..=count {
                    let t = start + m as f32 * h;
                    g.push(img.at(if axis == 0 { self.map(t, across) } else { self.map(across, t) }));
                }
                for m in 1..count {
                    let w_along = 1.0 - (start + m as f32 * h - along_c).abs() / self.cell;
                    let w = (g[m + 1] - g[m - 1]).abs() * w_along.max(0.0) * w_across.max(0.0);
                    let (cos, sin) = phase[m % STEPS_PER_MODULE];
                    sums[0] += w * cos;
                    sums[1] += w * sin;
                    sums[2] += w;
                }
                across += 1.0;
            }
        }
        let phase_of = |[c, s, w]: [f32; 3]| {
            (w > 0.0 && (c * c + s * s).sqrt() / w >= MIN_LATTICE).then(|| s.atan2(c) / std::f32::consts::TAU)
        };
        Some((phase_of(acc[0])?, phase_of(acc[1])?))
    }

    /// Each module's grey: the mean of five points round its fitted centre.
    fn module_greys(&self, img: &Image) -> Vec<f32> {
        let d = self.dim;
        let mut grey = vec![0.0f32; d * d];
        for y in 0..d {
            for x in 0..d {
                let (u, v) = (x as f32 + 0.5, y as f32 + 0.5);
                let s: f32 = [(0.0, 0.0), (-0.2, -0.2), (0.2, -0.2), (-0.2, 0.2), (0.2, 0.2)]
                    .iter()
                    .map(|(a, b)| img.at(self.map(u + a, v + b)))
                    .sum();
                grey[y * d + x] = s / 5.0;
            }
        }
        grey
    }
}

/// Dark and light levels (10th and 90th percentile) of the modules within
/// `reach` of module (x, y).
fn local_levels(
    grey: &[f32],
    d: usize,
    x: usize,
    y: usize,
    reach: usize,
    window: &mut Vec<f32>,
) -> (f32, f32) {
    window.clear();
    for yy in y.saturating_sub(reach)..(y + reach + 1).min(d) {
        window.extend_from_slice(&grey[yy * d + x.saturating_sub(reach)..yy * d + (x + reach + 1).min(d)]);
    }
    let (lo, hi) = (window.len() / 10, window.len() * 9 / 10);
    let dark = *window.select_nth_unstable_by(lo, f32::total_cmp).1;
    let light = *window.select_nth_unstable_by(hi, f32::total_cmp).1;
    (dark, light)
}

/// The module matrix from the module greys, dark = set.
///
/// Without `glare`: each module against the midpoint of the dark and light
/// levels of the 7x7 modules round it, so light falling off across a bent
/// label moves the threshold with it.
///
/// With `glare`: where a highlight lifts the dark modules to a light grey,
/// a 7x7 window still holds true black from outside the highlight and
/// calls them all white. So each module is judged in its 3x3 neighbourhood
/// when that shows contrast (at least [`MIN_CONTRAST`] grey levels), and in
/// the 7x7 one only where it does not (a saturated patch, a uniform area).
/// Tried second: on an evenly lit label the small window is noisier.
fn threshold(grey: &[f32], d: usize, glare: bool) -> Option<BitMatrix> {
    let mut m = BitMatrix::new(d as u32, d as u32).ok()?;
    let mut window = Vec::with_capacity(49);
    for y in 0..d {
        for x in 0..d {
            let (mut dark, mut light) = local_levels(grey, d, x, y, 3, &mut window);
            if glare {
                let (near_dark, near_light) = local_levels(grey, d, x, y, 1, &mut window);
                if near_light - near_dark >= MIN_CONTRAST {
                    (dark, light) = (near_dark, near_light);
                }
            }
            if grey[y * d + x] < (dark + light) / 2.0 {
                m.set(x as u32, y as u32);
            }
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::synth::modules;

    /// A tag payload rendered at `scale` pixels a module, its columns bent
    /// sideways by `bend` modules at mid-height (a label on a curved
    /// surface seen from the side): pixel (x, y) shows module
    /// (x / scale - bend * sin(pi * y / height), y / scale).
    fn bent(payload: &str, scale: f32, bend: f32) -> (Vec<u8>, usize, usize, Vec<Vec<bool>>) {
        let m = modules(payload);
        let size = m.len();
        let (w, h) = ((size as f32 * scale) as usize, (size as f32 * scale) as usize);
        let mut data = vec![0u8; w * h];
        for y in 0..h {
            let shift = bend * (std::f32::consts::PI * y as f32 / h as f32).sin();
            for x in 0..w {
                let u = (x as f32 + 0.5) / scale - shift;
                let v = (y as f32 + 0.5) / scale;
                let dark = u >= 0.0 && (u as usize) < size && m[v as usize][u as usize];
                data[y * w + x] = if dark { 30 } else { 220 };
            }
        }
        (data, w, h, m)
    }

    /// Where the module centre (u, v) of the symbol (quiet zone excluded)
    /// really is in the bent picture.
    fn truth(u: f32, v: f32, quiet: f32, scale: f32, bend: f32, h: usize) -> [f32; 2] {
        let y = (v + quiet) * scale;
        let shift = bend * (std::f32::consts::PI * y / h as f32).sin();
        [(u + quiet + shift) * scale, y]
    }

    #[test]
    fn the_fitted_grid_follows_a_bend_the_first_guess_misses() {
        let (scale, bend, quiet) = (5.0, 1.6, 4.0);
        let (data, w, h, m) = bent("JZ1:0000004242:EXAMPLE-TAG-PAYLOAD", scale, bend);
        let dim = m.len() - 8;
        let img = Image { data: &data, width: w, height: h };
        let at = |u, v| truth(u, v, quiet, scale, bend, h);
        let centre = |p: [f32; 2]| at(p[0], p[1]);
        let d = dim as f32;
        let f = Finders {
            tl: centre([3.5, 3.5]),
            tr: centre([d - 3.5, 3.5]),
            bl: centre([3.5, d - 3.5]),
            module: scale,
            top: d,
            left: d,
        };
        let worst = |mesh: &Mesh| {
            let mut worst = 0.0f32;
            for y in 0..dim {
                for x in 0..dim {
                    let (u, v) = (x as f32 + 0.5, y as f32 + 0.5);
                    worst = worst.max(dist(mesh.map(u, v), at(u, v)) / scale);
                }
            }
            worst
        };
        let mut mesh = Mesh::affine(&f, dim);
        let before = worst(&mesh);
        mesh.fit(&img);
        let after = worst(&mesh);
        // The straight grid is off by more than half a module somewhere
        // (it samples a neighbour); the fitted one stays inside every module.
        assert!(before > 0.5, "the bend must defeat a straight grid: {before}");
        assert!(after < 0.3, "fitted grid off by {after} modules (straight: {before})");
        // And the modules it samples are the code's.
        let matrix = threshold(&mesh.module_greys(&img), dim, false).unwrap();
        let wrong = (0..dim * dim)
            .filter(|k| matrix.get((k % dim) as u32, (k / dim) as u32) != m[k / dim + 4][k % dim + 4])
            .count();
        assert_eq!(wrong, 0);
    }

    #[test]
    fn a_bent_code_reads_end_to_end() {
        let payload = "JZ1:0000004242:EXAMPLE-TAG-PAYLOAD";
        let (data, w, h, _) = bent(payload, 5.0, 1.6);
        assert_eq!(read(&data, w, h), vec![payload.to_owned()]);
    }

    #[test]
    fn glare_threshold_keeps_dark_modules_a_highlight_lifted() {
        // 11x11 modules, a checkerboard: dark 30 / light 220, except a 5x5
        // patch a highlight lifted to dark 200 / light 255.
        let d = 11;
        let glared = |x: usize, y: usize| (3..8).contains(&x) && (3..8).contains(&y);
        let mut grey = vec![0.0f32; d * d];
        for y in 0..d {
            for x in 0..d {
                grey[y * d + x] = match ((x + y).is_multiple_of(2), glared(x, y)) {
                    (true, false) => 30.0,
                    (false, false) => 220.0,
                    (true, true) => 200.0,
                    (false, true) => 255.0,
                };
            }
        }
        let m = [threshold(&grey, d, false).unwrap(), threshold(&grey, d, true).unwrap()];
        let is_right =
            |m: &BitMatrix, x: usize, y: usize| m.get(x as u32, y as u32) == ((x + y).is_multiple_of(2));
        // The wide window calls the lifted dark modules white...
        assert!(!is_right(&m[0], 5, 5));
        // ... the glare variant reads every module whose 3x3 neighbourhood
        // is all in the highlight or all outside it (on its rim, the
        // neighbourhood mixes both lights and some modules stay wrong).
        for y in 1..d - 1 {
            for x in 1..d - 1 {
                let around = [(x - 1, y - 1), (x + 1, y - 1), (x - 1, y + 1), (x + 1, y + 1), (x, y)];
                let inside = around.iter().filter(|&&(a, b)| glared(a, b)).count();
                if inside == 0 || inside == around.len() {
                    assert!(is_right(&m[1], x, y), "module ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn blank_noise_and_tiny_pictures_read_nothing() {
        assert!(read(&[255u8; 64 * 64], 64, 64).is_empty());
        let mut rng = crate::qr::synth::Rng::new(5);
        let noise: Vec<u8> = (0..320 * 240).map(|_| (rng.unit() * 255.0) as u8).collect();
        assert!(read(&noise, 320, 240).is_empty());
        assert!(read(&[0u8; 4], 2, 2).is_empty());
    }
}
