//! Frames from files: still images, and video in Y4M or MJPEG.
//!
//! Why these two video formats: both are read here with no system codec
//! (no ffmpeg, no GStreamer, nothing a phone or a CI machine may lack).
//! * **Y4M** (YUV4MPEG2) is raw planar YUV with a one-line header: what test
//!   tools and `ffmpeg -f yuv4mpegpipe` write losslessly, so recorded frames
//!   reach the pipeline bit for bit.
//! * **MJPEG** (concatenated JPEG pictures) is what USB cameras deliver and a
//!   compact way to keep a short process video whose every frame is a photo.
//!
//! H.264/HEVC from a phone's `MediaRecorder` is stored as an original (bytes
//! and hash, see [`crate::photo`]) without being decoded here.

use super::{Frame, FrameError, FrameSource, PixelFormat, SourceKind};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Still images from files, one frame per file, in order.
pub struct ImageFiles {
    paths: std::vec::IntoIter<PathBuf>,
}

impl ImageFiles {
    pub fn new(paths: impl IntoIterator<Item = PathBuf>) -> ImageFiles {
        ImageFiles { paths: paths.into_iter().collect::<Vec<_>>().into_iter() }
    }
}

/// Read one image file as a frame.
pub fn read_image(path: &Path) -> Result<Frame, FrameError> {
    let bytes =
        std::fs::read(path).map_err(|source| FrameError::Io { path: path.display().to_string(), source })?;
    Frame::decode(&bytes)
}

impl FrameSource for ImageFiles {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        match self.paths.next() {
            None => Ok(None),
            Some(p) => read_image(&p).map(Some),
        }
    }
    fn kind(&self) -> SourceKind {
        SourceKind::File
    }
}

/// Open a video file by its extension: `.y4m` or `.mjpeg`/`.mjpg`.
pub fn open_video(path: &Path) -> Result<Box<dyn FrameSource + Send>, FrameError> {
    let file = std::fs::File::open(path)
        .map_err(|source| FrameError::Io { path: path.display().to_string(), source })?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "y4m" => Ok(Box::new(Y4mReader::new(BufReader::new(file))?)),
        "mjpeg" | "mjpg" => Ok(Box::new(MjpegReader::new(BufReader::new(file)))),
        other => Err(FrameError::Stream {
            format: "video",
            reason: format!("unsupported video file type {other:?} (use .y4m or .mjpeg)"),
        }),
    }
}

/// Chroma layouts of Y4M we read. Luma is all the QR scanner needs; colour
/// is converted only when someone asks for RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chroma {
    /// 4:2:0 (C420, C420jpeg, C420paldv, C420mpeg2: same plane sizes).
    C420,
    C422,
    C444,
    /// Grey only.
    Mono,
}

/// A Y4M (YUV4MPEG2) reader.
pub struct Y4mReader<R> {
    input: R,
    width: u32,
    height: u32,
    chroma: Chroma,
    frame_period_ms: Option<f64>,
    index: u64,
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads and checks the stream header.
    pub fn new(mut input: R) -> Result<Y4mReader<R>, FrameError> {
        let header =
            read_line(&mut input, 1024)?.ok_or_else(|| y4m_err("empty stream: no YUV4MPEG2 header"))?;
        let mut words = header.split(' ');
        if words.next() != Some("YUV4MPEG2") {
            return Err(y4m_err("missing YUV4MPEG2 signature"));
        }
        let (mut width, mut height, mut chroma, mut period) = (0u32, 0u32, Chroma::C420, None);
        for w in words {
            let (tag, value) = w.split_at(1.min(w.len()));
            match tag {
                "W" => width = value.parse().map_err(|_| y4m_err(format!("bad width {value:?}")))?,
                "H" => height = value.parse().map_err(|_| y4m_err(format!("bad height {value:?}")))?,
                "F" => {
                    let (n, d) = value.split_once(':').ok_or_else(|| y4m_err("bad frame rate"))?;
                    let (n, d): (f64, f64) = (
                        n.parse().map_err(|_| y4m_err("bad frame rate"))?,
                        d.parse().map_err(|_| y4m_err("bad frame rate"))?,
                    );
                    if n > 0.0 && d > 0.0 {
                        period = Some(1000.0 * d / n);
                    }
                }
                "C" => {
                    chroma = match value {
                        v if v.starts_with("420") => Chroma::C420,
                        "422" => Chroma::C422,
                        "444" => Chroma::C444,
                        "mono" => Chroma::Mono,
                        other => return Err(y4m_err(format!("unsupported colour space C{other}"))),
                    }
                }
                _ => {} // interlacing, aspect, comments: irrelevant for stills
            }
        }
        super::check_dimensions(width, height)?;
        Ok(Y4mReader { input, width, height, chroma, frame_period_ms: period, index: 0 })
    }

    fn plane_sizes(&self) -> (usize, usize) {
        let (w, h) = (self.width as usize, self.height as usize);
        let c = match self.chroma {
            Chroma::C420 => w.div_ceil(2) * h.div_ceil(2),
            Chroma::C422 => w.div_ceil(2) * h,
            Chroma::C444 => w * h,
            Chroma::Mono => 0,
        };
        (w * h, c)
    }
}

impl<R: BufRead> FrameSource for Y4mReader<R> {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some(line) = read_line(&mut self.input, 1024)? else { return Ok(None) };
        if !line.starts_with("FRAME") {
            return Err(y4m_err(format!("expected FRAME, found {:?}", truncate(&line))));
        }
        let (luma_len, chroma_len) = self.plane_sizes();
        let mut y = vec![0u8; luma_len];
        read_exact(&mut self.input, &mut y, "Y4M")?;
        let mut uv = vec![0u8; 2 * chroma_len];
        read_exact(&mut self.input, &mut uv, "Y4M")?;
        let (w, h) = (self.width, self.height);
        let frame = if self.chroma == Chroma::Mono {
            Frame::new(w, h, PixelFormat::Luma8, y)?
        } else {
            let (u, v) = uv.split_at(chroma_len);
            let (sx, sy) = match self.chroma {
                Chroma::C420 => (2, 2),
                Chroma::C422 => (2, 1),
                _ => (1, 1),
            };
            let cw = (w as usize).div_ceil(sx);
            let mut rgb = Vec::with_capacity(luma_len * 3);
            for row in 0..h as usize {
                for col in 0..w as usize {
                    let ci = (row / sy) * cw + col / sx;
                    rgb.extend_from_slice(&yuv_to_rgb(y[row * w as usize + col], u[ci], v[ci]));
                }
            }
            Frame::new(w, h, PixelFormat::Rgb8, rgb)?
        };
        let mono = self.frame_period_ms.map(|p| (self.index as f64 * p).round() as u64);
        self.index += 1;
        Ok(Some(frame.with_mono_ms(mono)))
    }
    fn kind(&self) -> SourceKind {
        SourceKind::File
    }
}

/// Full-range BT.601 YUV -> RGB (JFIF's equations; Y4M from cameras and
/// JPEG-derived streams use them).
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let (y, u, v) = (f32::from(y), f32::from(u) - 128.0, f32::from(v) - 128.0);
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    [clamp(y + 1.402 * v), clamp(y - 0.344_136 * u - 0.714_136 * v), clamp(y + 1.772 * u)]
}

/// Largest single JPEG picture accepted in an MJPEG stream.
const MAX_JPEG_BYTES: usize = 32 << 20;

/// An MJPEG reader: JPEG pictures one after another, as USB cameras send
/// them. Pictures are split by walking JPEG markers (not by searching for
/// the end marker, which also ends an embedded EXIF thumbnail).
pub struct MjpegReader<R> {
    input: R,
}

impl<R: BufRead> MjpegReader<R> {
    pub fn new(input: R) -> MjpegReader<R> {
        MjpegReader { input }
    }

    /// The next JPEG picture's bytes, unchanged (so a frame can be kept as a
    /// byte-exact original), or `None` at the end of the stream.
    pub fn next_jpeg(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        // Skip padding between pictures until the start-of-image marker.
        let mut b = [0u8; 1];
        let (mut skipped, mut after_ff) = (0usize, false);
        loop {
            if self.input.read(&mut b).map_err(io_err)? == 0 {
                return if skipped == 0 { Ok(None) } else { Err(mjpeg_err("no picture after padding")) };
            }
            if after_ff && b[0] == 0xD8 {
                break;
            }
            after_ff = b[0] == 0xFF;
            skipped += 1;
            if skipped > 4096 {
                return Err(mjpeg_err("no JPEG start marker found"));
            }
        }
        let mut out = vec![0xFF, 0xD8];
        let mut in_scan = false;
        loop {
            if out.len() > MAX_JPEG_BYTES {
                return Err(mjpeg_err("picture larger than 32 MiB"));
            }
            let byte = self.read_u8()?;
            if !in_scan || byte != 0xFF {
                if in_scan {
                    out.push(byte);
                    continue;
                }
                if byte != 0xFF {
                    return Err(mjpeg_err(format!("expected a marker, found byte {byte:#04x}")));
                }
            }
            // byte == 0xFF: a marker, stuffing, or fill bytes.
            let mut marker = self.read_u8()?;
            while marker == 0xFF {
                marker = self.read_u8()?;
            }
            if in_scan && (marker == 0x00 || (0xD0..=0xD7).contains(&marker)) {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            out.extend_from_slice(&[0xFF, marker]);
            match marker {
                0xD9 => return Ok(Some(out)),
                0xD0..=0xD7 | 0x01 => {}
                _ => {
                    let hi = self.read_u8()?;
                    let lo = self.read_u8()?;
                    let len = usize::from(u16::from_be_bytes([hi, lo]));
                    if len < 2 {
                        return Err(mjpeg_err("segment length below 2"));
                    }
                    out.extend_from_slice(&[hi, lo]);
                    let start = out.len();
                    out.resize(start + len - 2, 0);
                    read_exact(&mut self.input, &mut out[start..], "MJPEG")?;
                    in_scan = marker == 0xDA;
                }
            }
        }
    }

    fn read_u8(&mut self) -> Result<u8, FrameError> {
        let mut b = [0u8; 1];
        read_exact(&mut self.input, &mut b, "MJPEG")?;
        Ok(b[0])
    }
}

impl<R: BufRead> FrameSource for MjpegReader<R> {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        match self.next_jpeg()? {
            None => Ok(None),
            Some(jpeg) => Frame::decode(&jpeg).map(Some),
        }
    }
    fn kind(&self) -> SourceKind {
        SourceKind::File
    }
}

fn read_line<R: BufRead>(input: &mut R, max: usize) -> Result<Option<String>, FrameError> {
    let mut line = Vec::new();
    let n = input.take(max as u64 + 1).read_until(b'\n', &mut line).map_err(io_err)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(y4m_err("header line too long or truncated"));
    }
    line.pop();
    String::from_utf8(line).map(Some).map_err(|_| y4m_err("header is not text"))
}

fn read_exact<R: Read>(input: &mut R, buf: &mut [u8], format: &'static str) -> Result<(), FrameError> {
    input.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Stream { format, reason: "stream ends in the middle of a frame".into() }
        } else {
            io_err(e)
        }
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn io_err(source: std::io::Error) -> FrameError {
    FrameError::Io { path: "stream".into(), source }
}
fn y4m_err(reason: impl Into<String>) -> FrameError {
    FrameError::Stream { format: "Y4M", reason: reason.into() }
}
fn mjpeg_err(reason: impl Into<String>) -> FrameError {
    FrameError::Stream { format: "MJPEG", reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn y4m(w: u32, h: u32, frames: &[(u8, u8, u8)]) -> Vec<u8> {
        let mut out = format!("YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
        let (wc, hc) = (w.div_ceil(2), h.div_ceil(2));
        for &(y, u, v) in frames {
            out.extend_from_slice(b"FRAME\n");
            out.extend(std::iter::repeat_n(y, (w * h) as usize));
            out.extend(std::iter::repeat_n(u, (wc * hc) as usize));
            out.extend(std::iter::repeat_n(v, (wc * hc) as usize));
        }
        out
    }

    #[test]
    fn y4m_frames_come_out_with_their_time_and_colour() {
        let bytes = y4m(5, 3, &[(128, 128, 128), (76, 85, 255)]);
        let mut r = Y4mReader::new(Cursor::new(bytes)).unwrap();
        let a = r.next_frame().unwrap().unwrap();
        assert_eq!((a.width(), a.height(), a.captured_mono_ms), (5, 3, Some(0)));
        assert!(a.data().iter().all(|&b| b == 128));
        let b = r.next_frame().unwrap().unwrap();
        assert_eq!(b.captured_mono_ms, Some(40));
        let px = &b.data()[..3];
        assert!(px[0] > 250 && px[1] < 5 && px[2] < 5, "pure red expected, got {px:?}");
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn truncated_or_foreign_y4m_is_a_clear_error() {
        let mut bytes = y4m(4, 4, &[(1, 2, 3)]);
        bytes.truncate(bytes.len() - 1);
        let mut r = Y4mReader::new(Cursor::new(bytes)).unwrap();
        let e = r.next_frame().unwrap_err();
        assert!(e.to_string().contains("middle of a frame"), "{e}");
        assert!(Y4mReader::new(Cursor::new(b"RIFF....\n".to_vec())).is_err());
        assert!(Y4mReader::new(Cursor::new(b"YUV4MPEG2 W0 H4\n".to_vec())).is_err());
    }

    fn jpeg(w: u32, h: u32, grey: u8) -> Vec<u8> {
        let img = image::GrayImage::from_pixel(w, h, image::Luma([grey]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn mjpeg_splits_pictures_byte_exact() {
        let (a, b) = (jpeg(16, 8, 10), jpeg(8, 8, 200));
        let mut stream = a.clone();
        stream.extend_from_slice(&b);
        let mut r = MjpegReader::new(Cursor::new(stream.clone()));
        assert_eq!(r.next_jpeg().unwrap().unwrap(), a);
        assert_eq!(r.next_jpeg().unwrap().unwrap(), b);
        assert!(r.next_jpeg().unwrap().is_none());
        let mut r = MjpegReader::new(Cursor::new(stream));
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!((f.width(), f.height(), f.format()), (16, 8, PixelFormat::Luma8));
        assert!(f.data().iter().all(|&p| p.abs_diff(10) <= 2));
    }

    #[test]
    fn mjpeg_garbage_and_truncation_are_errors_not_hangs() {
        let mut r = MjpegReader::new(Cursor::new(vec![0x42; 10_000]));
        assert!(r.next_jpeg().is_err());
        let mut a = jpeg(8, 8, 1);
        a.truncate(a.len() - 3);
        let mut r = MjpegReader::new(Cursor::new(a));
        assert!(r.next_jpeg().is_err());
    }
}
