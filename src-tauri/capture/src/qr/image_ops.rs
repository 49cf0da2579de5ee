//! Grey-image operations the scanner applies before handing a picture to a
//! decoder again. Each one answers a failure seen on real photos: a picture
//! too large and noisy for the binariser (downscale), a code too small
//! (upscale), faded or glared print (contrast stretch), soft focus (sharpen),
//! uneven light across a curved tag (local threshold).

/// A grey image, one byte per pixel, rows without padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grey {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Grey {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Grey {
        assert_eq!(data.len(), width * height, "grey image size");
        Grey { width, height, data }
    }

    /// Box-filter downscale by an integer factor (averaging suppresses noise
    /// and JPEG artefacts, which is why it helps rather than only speeds up).
    pub fn downscale(&self, factor: usize) -> Grey {
        let f = factor.max(1);
        let (w, h) = (self.width / f, self.height / f);
        if w == 0 || h == 0 {
            return self.clone();
        }
        let mut out = vec![0u8; w * h];
        let area = (f * f) as u32;
        let mut acc = vec![0u32; w];
        for oy in 0..h {
            acc.fill(0);
            for y in oy * f..oy * f + f {
                let row = &self.data[y * self.width..y * self.width + w * f];
                for (ox, chunk) in row.chunks_exact(f).enumerate() {
                    acc[ox] += chunk.iter().map(|&p| u32::from(p)).sum::<u32>();
                }
            }
            for (o, a) in out[oy * w..oy * w + w].iter_mut().zip(&acc) {
                *o = ((a + area / 2) / area) as u8;
            }
        }
        Grey::new(w, h, out)
    }

    /// Bilinear upscale by 2 (small codes: modules of ~1.5 px become 3 px,
    /// enough for the finder-pattern ratio tests).
    pub fn upscale2(&self) -> Grey {
        let (w, h) = (self.width * 2, self.height * 2);
        let mut out = vec![0u8; w * h];
        let src = |x: usize, y: usize| {
            u32::from(self.data[y.min(self.height - 1) * self.width + x.min(self.width - 1)])
        };
        for y in 0..h {
            let (sy, fy) = (y / 2, (y % 2) as u32);
            for x in 0..w {
                let (sx, fx) = (x / 2, (x % 2) as u32);
                let a = src(sx, sy) * (2 - fx) + src(sx + 1, sy) * fx;
                let b = src(sx, sy + 1) * (2 - fx) + src(sx + 1, sy + 1) * fx;
                out[y * w + x] = ((a * (2 - fy) + b * fy + 2) / 4) as u8;
            }
        }
        Grey::new(w, h, out)
    }

    /// Stretch the 1st..99th percentile of grey levels to the full range:
    /// faded print and glare-washed tags keep their structure but lose
    /// contrast, and binarisers with fixed minimum-contrast rules give up.
    pub fn stretch_contrast(&self) -> Grey {
        let mut hist = [0usize; 256];
        for &p in &self.data {
            hist[usize::from(p)] += 1;
        }
        let n = self.data.len();
        let (lo, hi) = (percentile(&hist, n / 100), percentile(&hist, n - n / 100 - 1));
        if hi <= lo {
            return self.clone();
        }
        let span = f32::from(hi - lo);
        let lut: Vec<u8> = (0..=255u8)
            .map(|v| ((f32::from(v.saturating_sub(lo)) / span) * 255.0).round().clamp(0.0, 255.0) as u8)
            .collect();
        Grey::new(self.width, self.height, self.data.iter().map(|&p| lut[usize::from(p)]).collect())
    }

    /// Unsharp mask with a 3x3 box blur (amount 1): restores module edges
    /// softened by focus or motion.
    pub fn sharpen(&self) -> Grey {
        let blur = self.box_blur3();
        let data = self
            .data
            .iter()
            .zip(&blur.data)
            .map(|(&p, &b)| (2 * i16::from(p) - i16::from(b)).clamp(0, 255) as u8)
            .collect();
        Grey::new(self.width, self.height, data)
    }

    /// 3x3 box blur (edges replicate).
    pub fn box_blur3(&self) -> Grey {
        let (w, h) = (self.width, self.height);
        let mut tmp = vec![0u16; w * h];
        for y in 0..h {
            let row = &self.data[y * w..(y + 1) * w];
            for x in 0..w {
                let l = row[x.saturating_sub(1)];
                let r = row[(x + 1).min(w - 1)];
                tmp[y * w + x] = u16::from(l) + u16::from(row[x]) + u16::from(r);
            }
        }
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            let (a, c) = (y.saturating_sub(1), (y + 1).min(h - 1));
            for x in 0..w {
                let s = tmp[a * w + x] + tmp[y * w + x] + tmp[c * w + x];
                out[y * w + x] = ((s + 4) / 9) as u8;
            }
        }
        Grey::new(w, h, out)
    }

    /// Binarise against the local mean over a window of `radius` pixels
    /// (integral image, so the cost does not depend on the radius): a pixel
    /// is black when darker than its neighbourhood by `bias` levels. Handles
    /// light falling off across a curved or shadowed tag, where one global
    /// threshold cannot separate black from white everywhere.
    pub fn local_threshold(&self, radius: usize, bias: i32) -> Grey {
        let (w, h) = (self.width, self.height);
        let mut integral = vec![0u64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row_sum = 0u64;
            for x in 0..w {
                row_sum += u64::from(self.data[y * w + x]);
                integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row_sum;
            }
        }
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
                let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                    - integral[y0 * (w + 1) + x1]
                    - integral[y1 * (w + 1) + x0];
                let mean = (sum / ((x1 - x0) * (y1 - y0)) as u64) as i32;
                out[y * w + x] = if i32::from(self.data[y * w + x]) < mean - bias { 0 } else { 255 };
            }
        }
        Grey::new(w, h, out)
    }

    /// Rotate by a quarter turn clockwise (some detectors are strongest on
    /// axis-aligned codes; a tag on a rebar can be at any angle).
    pub fn rotate90(&self) -> Grey {
        let (w, h) = (self.width, self.height);
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                out[x * h + (h - 1 - y)] = self.data[y * w + x];
            }
        }
        Grey::new(h, w, out)
    }
}

fn percentile(hist: &[usize; 256], rank: usize) -> u8 {
    let mut seen = 0;
    for (v, &c) in hist.iter().enumerate() {
        seen += c;
        if seen > rank {
            return v as u8;
        }
    }
    255
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_averages_blocks() {
        let g = Grey::new(4, 2, vec![0, 2, 10, 10, 4, 6, 10, 10]);
        assert_eq!(g.downscale(2), Grey::new(2, 1, vec![3, 10]));
    }

    #[test]
    fn upscale_keeps_corners_and_interpolates() {
        let g = Grey::new(2, 1, vec![0, 100]);
        let u = g.upscale2();
        assert_eq!((u.width, u.height), (4, 2));
        assert_eq!(u.data[..4], [0, 50, 100, 100]);
    }

    #[test]
    fn stretch_maps_faded_range_to_full() {
        let data: Vec<u8> = (0..1000).map(|i| if i % 2 == 0 { 100 } else { 140 }).collect();
        let s = Grey::new(1000, 1, data).stretch_contrast();
        assert!(s.data.iter().all(|&p| p == 0 || p == 255));
    }

    #[test]
    fn local_threshold_survives_a_light_gradient() {
        // Dark stripes on a background that brightens from left to right:
        // the dark stripe on the right is brighter than the background on
        // the left, so no global threshold works; a local one does.
        let w = 200;
        let data: Vec<u8> = (0..w).map(|x| (40 + x) as u8 - if x % 20 < 10 { 0 } else { 30 }).collect();
        let mut rows = Vec::new();
        for _ in 0..5 {
            rows.extend_from_slice(&data);
        }
        let t = Grey::new(w, 5, rows).local_threshold(15, 5);
        for x in 20..180 {
            let expect_dark = x % 20 >= 10;
            let sure = (x % 10) > 1 && (x % 10) < 8;
            if sure {
                assert_eq!(t.data[2 * w + x] == 0, expect_dark, "x={x}");
            }
        }
    }

    #[test]
    fn rotate90_moves_top_left_to_top_right() {
        let g = Grey::new(3, 2, vec![1, 2, 3, 4, 5, 6]);
        let r = g.rotate90();
        assert_eq!((r.width, r.height), (2, 3));
        assert_eq!(r.data, vec![4, 1, 5, 2, 6, 3]);
    }
}
