//! Every face in some pictures: detection, quality, and the score of every
//! pair. For calibrating the match threshold on your own photos (known
//! same-person and different-person pairs):
//!
//! ```sh
//! cargo run -p capture --example face_probe -- [--crops DIR] IMAGE…
//! ```
//!
//! With `--crops DIR`, writes each aligned 150x150 chip as a PNG there;
//! `--align bf4` aligns on BlazeFace's keypoints instead of dlib's 68-point
//! fit (to compare the two).

use capture::face::align::{chip_transform, chip_transform_68, extract_chip};
use capture::face::embed::CHIP_SIZE;
use capture::face::quality::measure;
use capture::face::{FaceModels, default_models_dir};
use capture::frame::file::read_image;
use std::path::PathBuf;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let crops = args.iter().position(|a| a == "--crops").map(|i| {
        let d = PathBuf::from(args.remove(i + 1));
        args.remove(i);
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let bf4 = args.iter().position(|a| a == "--align").map(|i| {
        let v = args.remove(i + 1);
        args.remove(i);
        v == "bf4"
    }) == Some(true);
    let models = FaceModels::load(&default_models_dir()).unwrap_or_else(|e| panic!("{e}"));
    let mut faces = Vec::new();
    for file in &args {
        let frame = read_image(std::path::Path::new(file)).unwrap();
        let dets = models.detector().detect(&frame).unwrap();
        for (i, d) in dets.iter().enumerate() {
            let rgb = frame.rgb();
            let (w, h) = (frame.width() as usize, frame.height() as usize);
            let marks = models.landmark_net().landmarks(&rgb, w, h, d).unwrap();
            let t = if bf4 { chip_transform(d) } else { chip_transform_68(&marks.0) };
            let chip = extract_chip(&rgb, w, h, &t);
            let q = measure(d, &chip);
            let desc = models.embedder().embed(&chip).unwrap();
            let norm: f32 = desc.0.iter().map(|v| v * v).sum::<f32>().sqrt();
            let name = format!("{}#{i}", std::path::Path::new(file).file_stem().unwrap().to_string_lossy());
            println!(
                "{name}\tscore {:.2}\tbox {:.0},{:.0} {:.0}x{:.0}\teyes {:.0}px\tbright {:.0}\tsharp {:.0}\tyaw {:.2}\troll {:.0}\tpitch {:.2}\tEAR {:.2}\t|d| {:.3}",
                d.score,
                d.x,
                d.y,
                d.w,
                d.h,
                q.eye_distance_px,
                q.brightness,
                q.sharpness,
                q.yaw,
                q.roll_deg,
                q.pitch,
                marks.eye_aspect_ratio(),
                norm
            );
            if let Some(dir) = &crops {
                image::RgbImage::from_raw(CHIP_SIZE as u32, CHIP_SIZE as u32, chip)
                    .unwrap()
                    .save(dir.join(format!("{name}.png")))
                    .unwrap();
            }
            faces.push((name, desc));
        }
    }
    println!("\npairwise distance (score = 1 - d/2):");
    for (i, (a, da)) in faces.iter().enumerate() {
        for (b, db) in faces.iter().skip(i + 1) {
            println!("{a}\t{b}\t{:.3}", da.distance(db));
        }
    }
}
