//! Process photos and videos (R7–R9): originals stay byte-exact and hashed;
//! the watermarked copy shows Chinese text and never replaces the original.
//! Needs the CJK font from the install step (scripts/lib/models.sh, run by
//! scripts/test): a missing font fails the test.

use capture::face::default_models_dir;
use capture::frame::file::{MjpegReader, Y4mReader};
use capture::frame::{Frame, FrameSource, PixelFormat};
use capture::photo::{FONT_FILE, WatermarkText, Watermarker, capture_frame, keep_original, record_mjpeg};
use custody_core::crypto::Hash;
use custody_core::record::MediaPurpose;

fn watermarker() -> Watermarker {
    let path = default_models_dir().join(FONT_FILE);
    Watermarker::from_font_file(&path).unwrap_or_else(|e| {
        panic!("{e}: run `source scripts/lib/models.sh && setup_models` (scripts/test does)")
    })
}

fn text() -> WatermarkText {
    WatermarkText {
        time: "2026-03-01 09:30:12 +08:00".into(),
        place: "40.66560°N 122.23610°E ±4 m".into(),
        project: "营口市站前区 3号楼".into(),
        tag: "0310 26 0001 0004242 7".into(),
        person: "张伟（见证员）".into(),
    }
}

fn photo(w: u32, h: u32) -> Frame {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 160]);
        }
    }
    Frame::new(w, h, PixelFormat::Rgb8, rgb).unwrap()
}

#[test]
fn r9_watermark_draws_chinese_text_and_leaves_the_original_alone() {
    let wm = watermarker();
    let original = capture_frame(&photo(800, 600), MediaPurpose::Process).unwrap();
    let before = original.bytes.clone();
    let copy = wm.render(&original, &text()).unwrap();
    assert_eq!(original.bytes, before, "the original is never touched");
    assert_eq!(original.media.sha256, Hash::of(&before));
    assert_eq!(copy.derived_from, original.media.sha256);
    assert_ne!(Hash::of(&copy.jpeg), original.media.sha256);

    // The band at the bottom is darkened and carries bright glyph pixels;
    // the top of the picture is unchanged (within JPEG noise).
    let out = image::load_from_memory(&copy.jpeg).unwrap().into_rgb8();
    let orig = image::load_from_memory(&original.bytes).unwrap().into_rgb8();
    assert_eq!(out.dimensions(), (800, 600));
    let top_diff: u64 =
        (0..800).map(|x| u64::from(out.get_pixel(x, 10)[2].abs_diff(orig.get_pixel(x, 10)[2]))).sum();
    assert!(top_diff / 800 < 6, "top changed by {}", top_diff / 800);
    let bright_in_band = (450..600)
        .flat_map(|y| (0..800).map(move |x| (x, y)))
        .filter(|&(x, y)| out.get_pixel(x, y).0.iter().all(|&c| c > 230))
        .count();
    if let Some(dir) = std::env::var_os("CAPTURE_TEST_OUT") {
        out.save(std::path::Path::new(&dir).join("watermarked.png")).unwrap();
    }
    assert!(bright_in_band > 1000, "white text pixels in the band: {bright_in_band}");
    // Chinese glyphs exist in the font (a Latin-only font is refused).
    assert!(Watermarker::from_font_bytes(Vec::new()).is_err());
}

#[test]
fn r9_watermark_wraps_long_lines_on_a_narrow_photo() {
    let wm = watermarker();
    let mut img = image::RgbImage::from_pixel(240, 320, image::Rgb([200, 200, 200]));
    let lines = text().lines();
    wm.draw(&mut img, &lines);
    // Text stays inside the picture: the leftmost and rightmost columns are
    // band background (darkened grey), never glyph white.
    for y in 0..320 {
        assert!(img.get_pixel(0, y)[0] < 230 || y < 100);
        assert!(img.get_pixel(239, y)[0] < 230 || y < 100);
    }
}

#[test]
fn r7_videos_keep_their_bytes_and_get_a_watermarked_poster() {
    let wm = watermarker();
    // A two-frame MJPEG "video".
    let mut mjpeg = Vec::new();
    for shade in [40u8, 200] {
        let img = image::RgbImage::from_pixel(320, 240, image::Rgb([shade, shade, shade]));
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut mjpeg, 85).encode_image(&img).unwrap();
    }
    let original = keep_original(mjpeg.clone(), MediaPurpose::Process, Some(9)).unwrap();
    assert_eq!(original.media.media_type, "video/x-motion-jpeg");
    assert_eq!(original.bytes, mjpeg);
    let mut r = MjpegReader::new(std::io::Cursor::new(mjpeg));
    assert!(r.next_frame().unwrap().is_some() && r.next_frame().unwrap().is_some());
    let poster = wm.render_video_poster(&original, &text()).unwrap();
    let img = image::load_from_memory(&poster.jpeg).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (320, 240));
    assert!(img.get_pixel(5, 5)[0] < 60, "poster is the first (dark) frame");

    // A video recorded from live frames (desktop camera) is MJPEG, with the
    // first frame's capture time.
    let frames: Vec<Frame> = (0..3).map(|i| photo(64, 48).with_mono_ms(Some(500 + 40 * i))).collect();
    let video = record_mjpeg(&frames, MediaPurpose::Process).unwrap();
    assert_eq!(video.media.media_type, "video/x-motion-jpeg");
    assert_eq!(video.media.captured_mono_ms, Some(500));
    let mut r = MjpegReader::new(std::io::Cursor::new(video.bytes.clone()));
    let mut n = 0;
    while r.next_frame().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 3);
    assert!(record_mjpeg(&[], MediaPurpose::Process).is_err());

    // A Y4M video too.
    let mut y4m = b"YUV4MPEG2 W32 H16 F10:1 C420jpeg\n".to_vec();
    y4m.extend_from_slice(b"FRAME\n");
    y4m.extend(std::iter::repeat_n(100u8, 32 * 16 + 2 * 16 * 8));
    let original = keep_original(y4m.clone(), MediaPurpose::Process, None).unwrap();
    assert_eq!(original.media.media_type, "video/x-yuv4mpeg");
    assert!(Y4mReader::new(std::io::Cursor::new(y4m)).unwrap().next_frame().unwrap().is_some());
    wm.render_video_poster(&original, &text()).unwrap();
}
