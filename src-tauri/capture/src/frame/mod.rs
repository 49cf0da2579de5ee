//! Camera frames, whatever their source.
//!
//! Everything downstream (QR scanning, the face check, process photos) takes a
//! [`Frame`], so a frame from a USB camera on a lab workstation, one pushed in
//! from a phone's webview and one read from a file go through the same code.
//! That is also what makes the pipeline testable on a machine with no camera:
//! tests feed recorded frames through the same paths real devices use.
//!
//! Back ends:
//! * [`file`]: still images (PNG/JPEG/GIF) and video files in Y4M or MJPEG, the
//!   two video formats that need no system codec (see the module for why).
//! * [`push`]: frames pushed as bytes from the webview's `getUserMedia` over
//!   Tauri's binary IPC (Android and iOS, where nokhwa has no back end).
//! * `nokhwa` (cargo feature `camera-nokhwa`): desktop cameras.

pub mod file;
#[cfg(feature = "camera-nokhwa")]
pub mod nokhwa;
pub mod push;

use std::borrow::Cow;
use std::sync::Arc;

/// How the pixels of a [`Frame`] are laid out: 8 bits per sample, rows top
/// to bottom, no padding between rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// One luma (grey) byte per pixel: what QR decoders want, and what a
    /// camera's Y plane already is, so no conversion is paid for it.
    Luma8,
    /// Three bytes per pixel, R G B.
    Rgb8,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Luma8 => 1,
            PixelFormat::Rgb8 => 3,
        }
    }
}

/// One picture from a camera or a file.
///
/// Pixel data is reference counted: handing a frame to a decoder running on
/// another thread (see [`crate::qr`]) costs no copy.
#[derive(Clone)]
pub struct Frame {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: Arc<[u8]>,
    /// Device monotonic clock (ms since boot) when the frame was captured, if
    /// the source knows it. Evidence timing uses the monotonic clock, never
    /// the wall clock, which a person can set (R8).
    pub captured_mono_ms: Option<u64>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("captured_mono_ms", &self.captured_mono_ms)
            .finish_non_exhaustive()
    }
}

/// Why bytes could not become a frame, or a source could not give one.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame size {width}x{height} {format:?} needs {expected} bytes, got {actual}")]
    Size { width: u32, height: u32, format: PixelFormat, expected: usize, actual: usize },
    #[error("frame is empty ({width}x{height})")]
    Empty { width: u32, height: u32 },
    #[error("frame {width}x{height} is larger than the {max} pixels allowed")]
    TooLarge { width: u32, height: u32, max: u64 },
    #[error("cannot decode image: {0}")]
    Image(#[from] image::ImageError),
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("malformed {format} stream: {reason}")]
    Stream { format: &'static str, reason: String },
    #[error("camera error: {0}")]
    Camera(String),
    #[error("the frame source was closed")]
    Closed,
}

impl FrameError {
    /// The same message for a person reading Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            FrameError::Size { expected, actual, .. } => {
                format!("画面数据长度不对：应为{expected}字节，实际{actual}字节")
            }
            FrameError::Empty { .. } => "画面为空".into(),
            FrameError::TooLarge { width, height, .. } => format!("画面太大（{width}×{height}）"),
            FrameError::Image(e) => format!("无法解码图片：{e}"),
            FrameError::Io { path, source } => format!("无法读取 {path}：{source}"),
            FrameError::Stream { format, reason } => format!("{format} 视频流格式错误：{reason}"),
            FrameError::Camera(e) => format!("摄像头出错：{e}"),
            FrameError::Closed => "画面来源已关闭".into(),
        }
    }
}

/// Largest frame accepted: 8K (7680x4320) plus headroom. Anything bigger is
/// a malformed or hostile input, not a camera frame; refusing it bounds the
/// memory one pushed frame can claim.
pub const MAX_PIXELS: u64 = 40_000_000;

impl Frame {
    /// A frame from raw pixels; checks that the length matches the size.
    pub fn new(width: u32, height: u32, format: PixelFormat, data: Vec<u8>) -> Result<Frame, FrameError> {
        check_dimensions(width, height)?;
        let expected = width as usize * height as usize * format.bytes_per_pixel();
        if data.len() != expected {
            return Err(FrameError::Size { width, height, format, expected, actual: data.len() });
        }
        Ok(Frame { width, height, format, data: data.into(), captured_mono_ms: None })
    }

    pub fn with_mono_ms(mut self, mono_ms: Option<u64>) -> Frame {
        self.captured_mono_ms = mono_ms;
        self
    }

    /// Decode an encoded image (PNG, JPEG, GIF) into a frame, upright: a
    /// phone stores a portrait photo as landscape pixels plus an EXIF
    /// orientation tag, and a face lying on its side is not detected. Grey
    /// images stay grey (no conversion to RGB and back for the QR scanner).
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        use image::ImageDecoder;
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| FrameError::Image(image::ImageError::IoError(e)))?;
        let mut decoder = reader.into_decoder()?;
        let orientation = decoder.orientation()?;
        let mut img = image::DynamicImage::from_decoder(decoder)?;
        img.apply_orientation(orientation);
        Frame::from_image(img)
    }

    /// A frame from an `image` crate picture.
    pub fn from_image(img: image::DynamicImage) -> Result<Frame, FrameError> {
        let (w, h) = (img.width(), img.height());
        check_dimensions(w, h)?;
        match img {
            image::DynamicImage::ImageLuma8(g) => Frame::new(w, h, PixelFormat::Luma8, g.into_raw()),
            other if !other.color().has_color() => {
                Frame::new(w, h, PixelFormat::Luma8, other.into_luma8().into_raw())
            }
            other => Frame::new(w, h, PixelFormat::Rgb8, other.into_rgb8().into_raw()),
        }
    }

    /// A frame from RGBA pixels (what a canvas `getImageData` yields); alpha
    /// is dropped, camera frames are opaque.
    pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Frame, FrameError> {
        check_dimensions(width, height)?;
        let expected = width as usize * height as usize * 4;
        if rgba.len() != expected {
            return Err(FrameError::Size {
                width,
                height,
                format: PixelFormat::Rgb8,
                expected,
                actual: rgba.len(),
            });
        }
        let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        Frame::new(width, height, PixelFormat::Rgb8, rgb)
    }

    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    /// The stored pixel bytes, in [`Frame::format`].
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// The stored pixel bytes, shared (no copy).
    pub fn shared_data(&self) -> Arc<[u8]> {
        Arc::clone(&self.data)
    }

    /// Luma, one byte per pixel (ITU-R BT.601 weights, as JPEG and camera Y
    /// planes use). Borrowed when the frame is already grey.
    pub fn luma(&self) -> Cow<'_, [u8]> {
        match self.format {
            PixelFormat::Luma8 => Cow::Borrowed(&self.data),
            PixelFormat::Rgb8 => {
                Cow::Owned(self.data.chunks_exact(3).map(|p| rgb_to_luma(p[0], p[1], p[2])).collect())
            }
        }
    }

    /// Luma as a shared buffer: free for grey frames, one conversion otherwise.
    pub fn shared_luma(&self) -> Arc<[u8]> {
        match self.format {
            PixelFormat::Luma8 => self.shared_data(),
            PixelFormat::Rgb8 => self.luma().into_owned().into(),
        }
    }

    /// RGB, three bytes per pixel. Borrowed when the frame is already RGB.
    pub fn rgb(&self) -> Cow<'_, [u8]> {
        match self.format {
            PixelFormat::Rgb8 => Cow::Borrowed(&self.data),
            PixelFormat::Luma8 => Cow::Owned(self.data.iter().flat_map(|&y| [y, y, y]).collect()),
        }
    }

    /// The frame as an `image` RGB picture (for encoding and drawing).
    pub fn to_rgb_image(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width, self.height, self.rgb().into_owned())
            .expect("length checked when the frame was made")
    }
}

/// BT.601 luma in fixed point (weights x 2^16, rounded; they sum to 2^16).
pub fn rgb_to_luma(r: u8, g: u8, b: u8) -> u8 {
    ((19595 * u32::from(r) + 38470 * u32::from(g) + 7471 * u32::from(b) + 32768) >> 16) as u8
}

fn check_dimensions(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::Empty { width, height });
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(FrameError::TooLarge { width, height, max: MAX_PIXELS });
    }
    Ok(())
}

/// What kind of source a frame came from; recorded so that evidence can say
/// whether a photo was taken live or imported (import is weaker evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A live camera on this machine (nokhwa).
    Camera,
    /// A live camera in the webview, frames pushed over IPC.
    Webview,
    /// A file: an imported photo, a recorded video, a test fixture.
    File,
}

/// Why a camera control could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("this frame source has no {control} control: {reason}")]
    Unsupported { control: &'static str, reason: &'static str, reason_zh: &'static str },
    #[error("the camera refused the {control} setting: {detail}")]
    Refused { control: &'static str, detail: String },
}

impl ControlError {
    pub fn message_zh(&self) -> String {
        match self {
            ControlError::Unsupported { reason_zh, .. } => format!("不支持此操作：{reason_zh}"),
            ControlError::Refused { detail, .. } => format!("摄像头拒绝了该设置：{detail}"),
        }
    }
}

/// A source of frames: a camera, the webview, a file.
///
/// `next_frame` blocks until a frame is there; `Ok(None)` means the stream
/// ended (a file was read to its end, the webview closed its side).
pub trait FrameSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError>;

    fn kind(&self) -> SourceKind;

    /// Switch the torch (flash LED) on or off, for tags in the dark. Only
    /// sources that drive a camera themselves can; the default says so.
    fn set_torch(&mut self, on: bool) -> Result<(), ControlError> {
        let _ = on;
        Err(ControlError::Unsupported {
            control: "torch",
            reason: "this source does not drive a camera",
            reason_zh: "此画面来源不控制摄像头",
        })
    }
}

impl<T: FrameSource + ?Sized> FrameSource for Box<T> {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        (**self).next_frame()
    }
    fn kind(&self) -> SourceKind {
        (**self).kind()
    }
    fn set_torch(&mut self, on: bool) -> Result<(), ControlError> {
        (**self).set_torch(on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_uses_bt601_weights_and_keeps_extremes() {
        assert_eq!(rgb_to_luma(0, 0, 0), 0);
        assert_eq!(rgb_to_luma(255, 255, 255), 255);
        assert_eq!(rgb_to_luma(255, 0, 0), 76);
        assert_eq!(rgb_to_luma(0, 255, 0), 150);
        assert_eq!(rgb_to_luma(0, 0, 255), 29);
    }

    #[test]
    fn bad_sizes_are_refused_with_both_languages() {
        let e = Frame::new(4, 4, PixelFormat::Rgb8, vec![0; 47]).unwrap_err();
        assert!(e.to_string().contains("48"), "{e}");
        assert!(e.message_zh().contains("48"));
        assert!(matches!(Frame::new(0, 4, PixelFormat::Luma8, vec![]), Err(FrameError::Empty { .. })));
        assert!(matches!(
            Frame::new(100_000, 100_000, PixelFormat::Luma8, vec![]),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 4x2 JPEG tagged "rotate 90° clockwise to display" (orientation 6),
        // as a phone saves a portrait photo.
        let img = image::RgbImage::from_pixel(4, 2, image::Rgb([200, 10, 10]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&img).unwrap();
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec(); // header, IFD at 8, one entry
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation = 6
        tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = (app1.len() + 2) as u16;
        let mut tagged = vec![0xFF, 0xD8, 0xFF, 0xE1];
        tagged.extend_from_slice(&len.to_be_bytes());
        tagged.extend_from_slice(&app1);
        tagged.extend_from_slice(&jpeg[2..]);
        let f = Frame::decode(&tagged).unwrap();
        assert_eq!((f.width(), f.height()), (2, 4));
        let plain = Frame::decode(&jpeg).unwrap();
        assert_eq!((plain.width(), plain.height()), (4, 2));
    }

    #[test]
    fn rgba_drops_alpha_and_luma_borrows_grey() {
        let f = Frame::from_rgba(2, 1, &[255, 0, 0, 9, 0, 0, 255, 9]).unwrap();
        assert_eq!(f.data(), &[255, 0, 0, 0, 0, 255]);
        assert_eq!(&*f.luma(), &[76, 29]);
        let g = Frame::new(2, 1, PixelFormat::Luma8, vec![1, 2]).unwrap();
        assert!(matches!(g.luma(), Cow::Borrowed(_)));
        assert_eq!(&*g.rgb(), &[1, 1, 1, 2, 2, 2]);
    }
}
