//! Desktop cameras through nokhwa (V4L2 on Linux, Media Foundation on
//! Windows, AVFoundation on macOS): lab workstations with a USB camera.
//!
//! Frames are taken in the camera's own format and converted here: MJPEG
//! (what most USB cameras send at 720p and above) through the same JPEG
//! decoder as files, YUYV by taking its luma directly (the QR scanner needs
//! nothing else) plus chroma for RGB, raw RGB and grey as they are.
//!
//! Torch: UVC webcams have no standard torch control; a camera that exposes
//! one under a name containing "torch", "flash" or "led" is driven, any other
//! reports [`ControlError::Unsupported`].

use super::{ControlError, Frame, FrameError, FrameSource, PixelFormat, SourceKind};
use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{CameraIndex, ControlValueSetter, FrameFormat, RequestedFormat, RequestedFormatType};
use std::time::Instant;

pub struct NokhwaCamera {
    camera: Camera,
    opened: Instant,
}

impl NokhwaCamera {
    /// Open camera `index` (0 = the first) at its highest frame rate.
    pub fn open(index: u32) -> Result<NokhwaCamera, FrameError> {
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera =
            Camera::new(CameraIndex::Index(index), format).map_err(|e| FrameError::Camera(e.to_string()))?;
        camera.open_stream().map_err(|e| FrameError::Camera(e.to_string()))?;
        Ok(NokhwaCamera { camera, opened: Instant::now() })
    }
}

impl FrameSource for NokhwaCamera {
    fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let buffer = self.camera.frame().map_err(|e| FrameError::Camera(e.to_string()))?;
        let res = buffer.resolution();
        let (w, h) = (res.width(), res.height());
        let data = buffer.buffer();
        let frame = match buffer.source_frame_format() {
            FrameFormat::MJPEG => Frame::decode(data)?,
            FrameFormat::GRAY => Frame::new(w, h, PixelFormat::Luma8, data.to_vec())?,
            FrameFormat::RAWRGB => Frame::new(w, h, PixelFormat::Rgb8, data.to_vec())?,
            FrameFormat::YUYV => {
                let expected = w as usize * h as usize * 2;
                if data.len() < expected {
                    return Err(FrameError::Size {
                        width: w,
                        height: h,
                        format: PixelFormat::Rgb8,
                        expected,
                        actual: data.len(),
                    });
                }
                let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
                for quad in data[..expected].chunks_exact(4) {
                    let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
                    rgb.extend_from_slice(&super::file::yuv_to_rgb(y0, u, v));
                    rgb.extend_from_slice(&super::file::yuv_to_rgb(y1, u, v));
                }
                Frame::new(w, h, PixelFormat::Rgb8, rgb)?
            }
            other => return Err(FrameError::Camera(format!("unsupported camera pixel format {other:?}"))),
        };
        // nokhwa gives no capture timestamp; the time since the stream opened
        // is this process's monotonic clock. The app re-stamps with the
        // device clock it records.
        Ok(Some(frame.with_mono_ms(Some(self.opened.elapsed().as_millis() as u64))))
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Camera
    }

    fn set_torch(&mut self, on: bool) -> Result<(), ControlError> {
        let controls = self
            .camera
            .camera_controls()
            .map_err(|e| ControlError::Refused { control: "torch", detail: e.to_string() })?;
        let torch = controls.into_iter().find(|c| {
            let name = c.name().to_ascii_lowercase();
            name.contains("torch") || name.contains("flash") || name.contains("led")
        });
        let Some(torch) = torch else {
            return Err(ControlError::Unsupported {
                control: "torch",
                reason: "this camera has no torch control",
                reason_zh: "此摄像头没有补光灯",
            });
        };
        self.camera
            .set_camera_control(torch.control(), ControlValueSetter::Boolean(on))
            .map_err(|e| ControlError::Refused { control: "torch", detail: e.to_string() })
    }
}
