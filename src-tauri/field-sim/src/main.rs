//! `field-sim`: the field engine without a screen. For admins rehearsing a
//! deployment, for tests and for load: enroll simulated devices, run whole
//! sampling → witness → commission → lab flows against a real server, and
//! print what happened.
//!
//! Sensors go through the same code paths a phone uses: fixes through the
//! capture pipeline's collector (from a recorded track, or a simulated GNSS
//! receiver near the site), faces through the real face check on image files.

use capture::face::step::ReferenceCache;
use capture::face::{FaceChecker, FaceConfig, FaceModels};
use capture::frame::{Frame, PixelFormat};
use capture::gps::{CollectPolicy, JsonTrack};
use clap::{Parser, Subcommand};
use custody_core::model::Id;
use custody_core::place::{Fix, FixProvider, LatLon};
use custody_core::protocol::DeviceProfile;
use custody_core::record::*;
use custody_core::verify::Lang;
use custody_core::{Hash, TagCode};
use field_engine::clock::{DeviceClock, SystemClock};
use field_engine::vault::{FileSecretStore, Vault};
use field_engine::{
    CommissionInput, Engine, EngineError, FieldEvidence, ReceiptInput, ReportInput, SamplingInput,
    TestDataInput, WitnessInput,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

mod lab;
mod machine;
mod plan_cmd;
mod station_cmd;

#[derive(Parser)]
#[command(
    name = "field-sim",
    about = "见证取样 field engine without a screen: simulate devices, rehearse flows, load-test"
)]
struct Cli {
    /// This simulated device's data directory.
    #[arg(long, global = true, default_value = "field-sim-data")]
    data: PathBuf,
    /// Messages in English instead of Chinese.
    #[arg(long, global = true)]
    en: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Sensors {
    /// Where the device is: "lat,lon" (WGS-84). Default: the centre of the unit project's site.
    #[arg(long)]
    at: Option<String>,
    /// A recorded track (NMEA log or JSON lines of fixes) instead of a simulated receiver.
    #[arg(long)]
    track: Option<PathBuf>,
    /// The person's reference face photo (enrollment) and the photo taken now.
    #[arg(long)]
    face_ref: Option<PathBuf>,
    #[arg(long)]
    face: Option<PathBuf>,
    /// Process photos (repeatable). Default: one synthetic frame, labelled as such.
    #[arg(long)]
    photo: Vec<PathBuf>,
    /// Accept warnings (outside the site, late …) as a person would after reading them.
    #[arg(long)]
    confirm: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Enroll with an enrollment QR's text (or @FILE holding it).
    Enroll { offer: String },
    /// Sync state, pending records, alarms.
    Status,
    /// One sync pass.
    Sync,
    /// Take a sample: bind a tag (R6-R7).
    Sample {
        #[arg(long)]
        tag: String,
        #[arg(long, default_value = "UP-1")]
        unit: String,
        #[arg(long, default_value = "concrete_cube")]
        kind: String,
        #[command(flatten)]
        sensors: Sensors,
    },
    /// Print the handshake QR text for one of this device's samplings.
    Handshake { record: String },
    /// Witness a sampling (R8): from a handshake QR text, or a synced record id.
    Witness {
        #[arg(long)]
        handshake: Option<String>,
        #[arg(long)]
        record: Option<String>,
        #[arg(long)]
        tag: String,
        #[command(flatten)]
        sensors: Sensors,
    },
    /// Issue a commission form (R10): items are SAMPLING_ID:WITNESSING_ID.
    Commission {
        #[arg(long)]
        lab: String,
        #[arg(long)]
        witness: String,
        #[arg(long = "item", required = true)]
        items: Vec<String>,
        #[arg(long, default_value = "SIM-0001")]
        form_no: String,
    },
    /// Co-sign a commission form as its witness (R10).
    Cosign { record: String },
    /// The server's verdict on a tag (R11, lab receivers).
    Verify { tag: String },
    /// Sign in to the web console: show who asks (QR text from the console's
    /// sign-in page, or @FILE), and with --approve approve it.
    Console {
        qr: String,
        #[arg(long)]
        approve: bool,
    },
    /// Receive (or reject) a specimen at the lab (R11).
    Receipt {
        #[arg(long)]
        tag: String,
        #[arg(long)]
        commission: String,
        /// Reject with this reason: tag_damaged, tag_mismatch, form_mismatch, specimen_damaged, seal_broken, out_of_scope, other.
        #[arg(long)]
        reject: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Test data for a received specimen (R12), with the machine's curve file
    /// stored unaltered.
    Test {
        #[arg(long)]
        tag: String,
        /// The machine's curve file (CSV/TXT as the machine wrote it).
        #[arg(long)]
        curve: Option<PathBuf>,
        #[arg(long, default_value = "concrete_cube_strength")]
        test: String,
        #[arg(long, default_value = "GB/T 50081-2019")]
        standard: String,
        /// Values typed by hand instead of captured from the machine.
        #[arg(long)]
        manual: bool,
        /// Correct earlier test data of this tag and test (its record id), with --reason.
        #[arg(long)]
        revises: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Issue a report (R13) on tested specimens, with its document.
    Report {
        #[arg(long = "tag", required = true)]
        tags: Vec<String>,
        #[arg(long)]
        no: String,
        #[arg(long)]
        conclusion: String,
        /// The report document (PDF).
        #[arg(long)]
        document: PathBuf,
        /// The report this one corrects.
        #[arg(long)]
        amends: Option<String>,
    },
    /// The report QR for one of this lab's reports (online): prints its text.
    Seal { report: String },
    /// Review a test's data as a second person of the lab (R12): approve, or
    /// --return with a --note.
    Review {
        test_data: String,
        #[arg(long)]
        tag: String,
        #[arg(long = "return")]
        returned: bool,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Revoke one of this lab's reports (R13), with the reason the public check shows.
    Revoke {
        report: String,
        #[arg(long)]
        reason: String,
    },
    /// Records on this device.
    History,
    /// Samplings waiting for a witness, with countdowns.
    Open,
    /// Make records as fast as possible (crash-consistency testing): prints each committed seq.
    Stress {
        #[arg(long)]
        start: u32,
        #[arg(long, default_value_t = 1_000_000)]
        count: u32,
    },
    /// Write a photo of a demo tag (supplier 310, 2026, batch 1) as a camera
    /// would see it, for frame-file tests of the app; prints the tag's digits.
    TagPhoto {
        #[arg(long)]
        serial: u32,
        #[arg(long)]
        out: PathBuf,
        /// A saturated highlight off-centre, as on a wet tag in sunlight.
        #[arg(long)]
        glare: bool,
    },
    /// Be a testing machine (R12): write curve files into a watched folder,
    /// one per specimen, each appearing whole (temporary name, then rename).
    Machine(machine::MachineArgs),
    /// The lab station (R12): capture the curve files a testing machine
    /// exports into a folder as signed test data, and upload them.
    Station(station_cmd::StationArgs),
    /// The sampling plan (R4): draft a version, approve it, list the items in force.
    #[command(subcommand)]
    Plan(plan_cmd::PlanCmd),
    /// Rehearse whole flows with fresh simulated phones from the demo's enrollment files.
    Rehearse {
        /// Directory with P-ZHANGWEI.txt, P-LINA.txt, P-WANGQIANG.txt, P-LIUYANG.txt (sync-server demo writes them).
        #[arg(long)]
        offers: PathBuf,
        /// Face photos: reference and probe per person (default: .models/faces).
        #[arg(long)]
        faces: Option<PathBuf>,
        /// First tag serial to use.
        #[arg(long, default_value_t = 1)]
        tag: u32,
        /// Stop once the cubes' test data is signed: the review, the report
        /// and its revocation are left to the console's lab desk.
        #[arg(long)]
        until_tested: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = if cli.en { Lang::En } else { Lang::ZhCn };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} / {}", e.message(Lang::ZhCn), e.message(Lang::En));
            let _ = lang;
            ExitCode::FAILURE
        }
    }
}

/// A 1280x720 JPEG of a tag on concrete, through the capture pipeline's own
/// scene synthesiser and photo encoder.
fn tag_photo(serial: u32, out: &Path, glare: bool) -> Result<(), EngineError> {
    use capture::qr::synth::{Condition, Placement, scene};
    let tag = TagCode::from_parts(310, 26, 1, serial)
        .ok_or_else(|| bad("标签序号无效", format!("serial {serial}")))?;
    let condition = if glare { Condition::Glare(0.25) } else { Condition::Clean };
    let grey = scene(&tag.qr_payload(), Placement::centred(1280, 720, 360.0), condition, u64::from(serial));
    let frame = Frame::new(grey.width as u32, grey.height as u32, PixelFormat::Luma8, grey.data)
        .map_err(|e| bad(&e.message_zh(), e))?;
    let photo =
        capture::photo::capture_frame(&frame, MediaPurpose::Tag).map_err(|e| bad(&e.message_zh(), e))?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| bad("无法写入", e))?;
    }
    std::fs::write(out, &photo.bytes).map_err(|e| bad("无法写入", e))?;
    println!("{}", tag.as_str());
    Ok(())
}

/// A simulated sampling of `tag`, as field-sim's sampler always records it
/// (typed tag digits, the simulated concrete cube group).
fn sim_sampling(
    tag: TagCode,
    project: Id,
    unit_project: Id,
    face: FaceCheck,
    evidence: FieldEvidence,
) -> SamplingInput {
    SamplingInput {
        tag,
        tag_read: TagRead { method: TagReadMethod::Manual, decoder: None },
        seal: None,
        project,
        unit_project,
        specimen: sim_specimen(),
        face,
        evidence,
    }
}

/// A concrete cube group, as a sampler would describe it.
fn sim_specimen() -> Specimen {
    Specimen {
        kind: custody_core::model::SpecimenKind::ConcreteCube,
        part: "3层 柱（模拟）".into(),
        grade: "C30".into(),
        batch_no: "SIM-1".into(),
        quantity: 1,
        unit: "组".into(),
        tests: vec!["抗压强度".into()],
        plan_item: None,
    }
}

fn open(data: &Path) -> Result<Arc<Engine>, EngineError> {
    let vault = Vault::new(Box::new(FileSecretStore::new(&data.join("secrets"))?));
    Ok(Arc::new(Engine::open(&data.join("engine"), &vault, Arc::new(SystemClock::default()))?))
}

fn bad(zh: &str, en: impl std::fmt::Display) -> EngineError {
    EngineError::invalid(zh, en.to_string())
}

fn parse_hash(s: &str) -> Result<Hash, EngineError> {
    s.trim().parse().map_err(|_| bad("记录编号格式错误", format!("not a record id: {s}")))
}

fn parse_tag(s: &str) -> Result<TagCode, EngineError> {
    TagCode::parse(s).map_err(|e| bad(&e.message_zh(), e))
}

fn read_arg(s: &str) -> Result<String, EngineError> {
    match s.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map(|t| t.trim().to_owned()).map_err(|e| bad("无法读取文件", e))
        }
        None => Ok(s.to_owned()),
    }
}

fn say(f: &[custody_core::protocol::Finding]) {
    for x in f {
        println!("    {:?} {}: {} / {}", x.disposition, x.code, x.message_zh, x.message_en);
    }
}

/// Where the device stands: `--at`, else the centre of the unit project's site.
fn position(profile: &DeviceProfile, unit: &str, at: &Option<String>) -> Result<LatLon, EngineError> {
    if let Some(a) = at {
        let (lat, lon) =
            a.split_once(',').ok_or_else(|| bad("位置格式应为 纬度,经度", "--at must be lat,lon"))?;
        let (lat, lon) = (lat.trim().parse::<f64>(), lon.trim().parse::<f64>());
        let (Ok(lat), Ok(lon)) = (lat, lon) else {
            return Err(bad("位置格式应为 纬度,经度", "--at must be lat,lon"));
        };
        return LatLon::from_degrees(lat, lon).map_err(|e| bad("位置无效", e));
    }
    let up = profile
        .projects
        .iter()
        .flat_map(|p| p.unit_projects.iter())
        .find(|u| u.id.as_str() == unit)
        .ok_or_else(|| bad("没有这个单位工程", format!("no unit project {unit}")))?;
    let n = up.boundary.exterior.len() as f64;
    let lat = up.boundary.exterior.iter().map(LatLon::lat).sum::<f64>() / n;
    let lon = up.boundary.exterior.iter().map(LatLon::lon).sum::<f64>() / n;
    LatLon::from_degrees(lat, lon).map_err(|e| bad("位置无效", e))
}

/// Fixes through the capture pipeline's collector: a recorded track, or a
/// simulated receiver reporting one fix a second near `at`.
fn fixes(
    profile: &DeviceProfile,
    clock: &dyn DeviceClock,
    at: LatLon,
    track: &Option<PathBuf>,
) -> Result<Vec<Fix>, EngineError> {
    let start = clock.mono_ms();
    let policy = CollectPolicy::from_policy(&profile.policy);
    let mut source: Box<dyn capture::gps::LocationSource> = match track {
        Some(p) => capture::gps::open_track(p, start).map_err(|e| bad(&e.message_zh(), e))?,
        None => {
            let lines: String = (0..6)
                .map(|i| {
                    let f = Fix {
                        pos: LatLon { lat_e7: at.lat_e7 + (i % 3) * 3, lon_e7: at.lon_e7 - (i % 2) * 4 },
                        accuracy_cm: 350 + (i as u32) * 10,
                        provider: FixProvider::Gnss,
                        mono_ms: start + 1000 * i as u64,
                        gnss_time_ms: None,
                        satellites: Some(11),
                        mock: false,
                    };
                    serde_json::to_string(&f).expect("fix serialises") + "\n"
                })
                .collect();
            Box::new(JsonTrack::new(std::io::Cursor::new(lines.into_bytes())))
        }
    };
    match capture::gps::collect(source.as_mut(), policy, start, true) {
        Ok(Ok(c)) => Ok(c.fixes),
        Ok(Err(e)) => Err(bad(&e.message_zh(), e)),
        Err(e) => Err(bad(&e.message_zh(), e)),
    }
}

/// The real face check (models from `.models`, or CAPTURE_MODELS).
fn face(
    engine: &Engine,
    profile: &DeviceProfile,
    reference: &Path,
    probe: &Path,
) -> Result<(FaceCheck, MediaRef), EngineError> {
    let models = FaceModels::load(&capture::face::default_models_dir())
        .map_err(|e| bad("人脸模型未安装（运行 scripts/test 或 scripts/lib/models.sh）", e))?;
    let checker = FaceChecker::new(Arc::new(models), FaceConfig::from_policy(&profile.policy));
    let read = |p: &Path| std::fs::read(p).map_err(|e| bad(&format!("无法读取 {}", p.display()), e));
    let reference = read(reference)?;
    let bytes = read(probe)?;
    let frame = Frame::decode(&bytes).map_err(|e| bad(&e.message_zh(), e))?;
    let media_type = capture::photo::sniff_media_type(&bytes).unwrap_or("image/jpeg");
    let media = engine.store_media(&bytes, MediaPurpose::Face, media_type)?;
    let check = checker
        .check_for_record(&frame, media.sha256, Some(&reference), &ReferenceCache::default(), None)
        .map_err(|e| bad(&e.message_zh(), e))?;
    Ok((check, media))
}

/// Process photos from files, or one synthetic frame (labelled as such by its hash-stable content).
fn photos(engine: &Engine, files: &[PathBuf], label: &str) -> Result<Vec<MediaRef>, EngineError> {
    if files.is_empty() {
        let (w, h) = (320u32, 240u32);
        let seed = custody_core::Hash::of(label.as_bytes());
        let data: Vec<u8> = (0..w * h * 3).map(|i| seed.0[(i % 32) as usize] ^ (i / 960) as u8).collect();
        let frame = Frame::new(w, h, PixelFormat::Rgb8, data).map_err(|e| bad(&e.message_zh(), e))?;
        let orig = capture::photo::capture_frame(&frame, MediaPurpose::Process)
            .map_err(|e| bad(&e.message_zh(), e))?;
        return Ok(vec![engine.store_media(&orig.bytes, MediaPurpose::Process, &orig.media.media_type)?]);
    }
    files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|e| bad(&format!("无法读取 {}", p.display()), e))?;
            let ty = capture::photo::sniff_media_type(&bytes).unwrap_or("application/octet-stream");
            engine.store_media(&bytes, MediaPurpose::Process, ty)
        })
        .collect()
}

fn default_faces(sensors: &Sensors, faces_dir: &Path, reference: &str, probe: &str) -> (PathBuf, PathBuf) {
    (
        sensors.face_ref.clone().unwrap_or_else(|| faces_dir.join(reference)),
        sensors.face.clone().unwrap_or_else(|| faces_dir.join(probe)),
    )
}

fn faces_dir() -> PathBuf {
    capture::face::default_models_dir()
        .parent()
        .map(|p| p.join(".models/faces"))
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from(".models/faces"))
}

fn evidence(
    engine: &Engine,
    profile: &DeviceProfile,
    unit: &str,
    s: &Sensors,
    label: &str,
    who: (&str, &str),
) -> Result<(FieldEvidence, FaceCheck), EngineError> {
    let at = position(profile, unit, &s.at)?;
    let clock = SystemClock::default();
    let fixes = fixes(profile, &clock, at, &s.track)?;
    let (reference, probe) = default_faces(s, &faces_dir(), who.0, who.1);
    let (check, face_media) = face(engine, profile, &reference, &probe)?;
    let mut media = vec![face_media];
    media.extend(photos(engine, &s.photo, label)?);
    Ok((FieldEvidence { media, fixes }, check))
}

// One arm per subcommand: the command line's table of contents.
#[allow(clippy::too_many_lines)]
async fn run(cli: Cli) -> Result<(), EngineError> {
    if let Cmd::TagPhoto { serial, out, glare } = &cli.cmd {
        return tag_photo(*serial, out, *glare);
    }
    if let Cmd::Machine(args) = &cli.cmd {
        return machine::run(args).await;
    }
    let engine = open(&cli.data)?;
    match cli.cmd {
        Cmd::Enroll { offer } => {
            let p = engine.enroll(&read_arg(&offer)?, "field-sim", std::env::consts::OS).await?;
            println!(
                "enrolled: {} ({}), {} authorisation(s), {} project(s)",
                p.person.name,
                p.org.name,
                p.grants.len(),
                p.projects.len()
            );
        }
        Cmd::Status => println!("{}", serde_json::to_string_pretty(&engine.status()?).expect("serialises")),
        Cmd::Sync => {
            let r = engine.sync_once().await?;
            println!("{}", serde_json::to_string(&r).expect("serialises"));
        }
        Cmd::Sample { tag, unit, kind, sensors } => {
            let profile = engine.enrollment()?.ok_or(EngineError::NotEnrolled)?.profile;
            let tag = parse_tag(&tag)?;
            let (evidence, face) = evidence(
                &engine,
                &profile,
                &unit,
                &sensors,
                &format!("sampling {tag}"),
                ("obama.jpg", "obama2.jpg"),
            )?;
            let project = profile
                .projects
                .iter()
                .find(|p| p.unit_projects.iter().any(|u| u.id.as_str() == unit))
                .map(|p| p.project.id.clone())
                .ok_or_else(|| bad("没有这个单位工程", format!("no unit project {unit}")))?;
            let mut specimen = sim_specimen();
            specimen.kind = serde_json::from_value(serde_json::Value::String(kind.clone()))
                .map_err(|_| bad("样品类型无效", format!("unknown kind {kind}")))?;
            let created = engine.create_sampling(
                SamplingInput {
                    tag,
                    tag_read: TagRead { method: TagReadMethod::Manual, decoder: None },
                    seal: None,
                    project,
                    unit_project: Id::new(unit).map_err(|e| bad("编号格式错误", e))?,
                    specimen,
                    face,
                    evidence,
                },
                sensors.confirm,
            )?;
            println!("{}", created.id);
            say(&created.warnings);
            say(&created.notices);
        }
        Cmd::Handshake { record } => println!("{}", engine.handshake_qr(&parse_hash(&record)?)?),
        Cmd::Witness { handshake, record, tag, sensors } => {
            let profile = engine.enrollment()?.ok_or(EngineError::NotEnrolled)?.profile;
            let sampling = match (handshake, record) {
                (Some(h), _) => engine.receive_handshake(&read_arg(&h)?)?.record,
                (None, Some(r)) => parse_hash(&r)?,
                (None, None) => {
                    return Err(bad("需要 --handshake 或 --record", "give --handshake or --record"));
                }
            };
            let tag = parse_tag(&tag)?;
            let unit = "UP-1";
            let (evidence, face) = evidence(
                &engine,
                &profile,
                unit,
                &sensors,
                &format!("witness {tag}"),
                ("biden.jpg", "biden.jpg"),
            )?;
            let created = engine.create_witnessing(
                WitnessInput {
                    sampling,
                    tag,
                    tag_read: TagRead { method: TagReadMethod::Manual, decoder: None },
                    face,
                    hand_signature: None,
                    remarks: "field-sim".into(),
                    evidence,
                },
                sensors.confirm,
            )?;
            println!("{}", created.id);
            say(&created.warnings);
            say(&created.notices);
        }
        Cmd::Commission { lab, witness, items, form_no } => {
            let items = items
                .iter()
                .map(|i| {
                    let (s, w) = i
                        .split_once(':')
                        .ok_or_else(|| bad("格式应为 取样编号:见证编号", "items are SAMPLING:WITNESSING"))?;
                    Ok((parse_hash(s)?, parse_hash(w)?))
                })
                .collect::<Result<Vec<_>, EngineError>>()?;
            let id = |s: &str| Id::new(s).map_err(|e| bad("编号格式错误", e));
            let c = engine.create_commission(
                CommissionInput { form_no, lab: id(&lab)?, witness: id(&witness)?, items },
                false,
            )?;
            println!("{}", c.id);
            say(&c.notices);
        }
        Cmd::Cosign { record } => {
            engine.cosign(&parse_hash(&record)?)?;
            println!("co-signed; sent at the next sync");
        }
        Cmd::Console { qr, approve } => {
            let qr = read_arg(&qr)?;
            let info = if approve {
                engine.approve_console_login(&qr).await?
            } else {
                engine.console_login_info(&qr).await?
            };
            println!("{} {} {} pending={}", info.id, info.ip, info.agent, info.pending);
        }
        Cmd::Verify { tag } => {
            let t = engine.verify_tag(&tag).await?;
            println!(
                "{} [{}] {}",
                t.tag_printed,
                t.stage_zh,
                if cli.en { &t.summary_en } else { &t.summary_zh }
            );
            for c in &t.checks {
                println!(
                    "  {} {}",
                    if c.ok { "✓" } else { "✗" },
                    if cli.en { &c.message_en } else { &c.message_zh }
                );
            }
        }
        Cmd::Receipt { tag, commission, reject, note } => {
            let decision = match reject {
                Some(r) => ReceiptDecision::Rejected {
                    reason: serde_json::from_value(serde_json::Value::String(r.clone()))
                        .map_err(|_| bad("拒收原因无效", format!("unknown reason {r}")))?,
                    note,
                },
                None => ReceiptDecision::Accepted,
            };
            let c = engine.create_receipt(
                ReceiptInput {
                    tag: parse_tag(&tag)?,
                    tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
                    commission: parse_hash(&commission)?,
                    decision,
                },
                true,
            )?;
            println!("{}", c.id);
        }
        Cmd::Test { tag, curve, test, standard, manual, revises, reason } => {
            let curve = match curve {
                Some(p) => Some(engine.store_media_file(&p, MediaPurpose::TestCurve, "text/csv")?),
                None => None,
            };
            let c = engine.create_test_data(
                TestDataInput {
                    tag: parse_tag(&tag)?,
                    test,
                    standard,
                    results: vec![],
                    curve,
                    automatic: !manual,
                    equipment: None,
                    revises: revises.as_deref().map(parse_hash).transpose()?,
                    reason,
                },
                true,
            )?;
            println!("{}", c.id);
        }
        Cmd::Report { tags, no, conclusion, document, amends } => {
            let document =
                engine.store_media_file(&document, MediaPurpose::ReportDocument, "application/pdf")?;
            let c = engine.create_report(
                ReportInput {
                    report_no: no,
                    tags: tags.iter().map(|t| parse_tag(t)).collect::<Result<_, _>>()?,
                    conclusion,
                    document,
                    amends: amends.as_deref().map(parse_hash).transpose()?,
                },
                true,
            )?;
            println!("{}", c.id);
        }
        Cmd::Review { test_data, tag, returned, note } => {
            let c =
                engine.create_review(parse_hash(&test_data)?, parse_tag(&tag)?, !returned, &note, true)?;
            println!("{}", c.id);
        }
        Cmd::Revoke { report, reason } => {
            println!("{}", engine.revoke_report(&parse_hash(&report)?, &reason, true)?.id);
        }
        Cmd::Seal { report } => {
            println!("{}", engine.report_seal(&parse_hash(&report)?).await?.qr);
        }
        Cmd::History => {
            for r in engine.history(200)? {
                println!(
                    "{} {:<12} {:<9} {} {}",
                    r.id,
                    r.kind,
                    r.state,
                    r.tags.join(","),
                    if r.mine { "(mine)" } else { "" }
                );
                say(&r.findings);
            }
        }
        Cmd::Open => {
            for o in engine.open_samplings()? {
                println!(
                    "{} {} {} remaining {:.1} min ({})",
                    o.record,
                    o.tag_printed,
                    o.kind,
                    o.remaining_ms as f64 / 60_000.0,
                    o.source
                );
            }
        }
        Cmd::Stress { start, count } => stress(&engine, start, count)?,
        Cmd::Station(args) => station_cmd::run(&engine, args).await?,
        Cmd::Plan(cmd) => plan_cmd::run(&engine, cmd).await?,
        Cmd::Rehearse { offers, faces, tag, until_tested } => {
            rehearse(&cli.data, &offers, faces, tag, until_tested).await?
        }
        Cmd::TagPhoto { .. } | Cmd::Machine(_) => unreachable!("handled before the engine opens"),
    }
    Ok(())
}

/// Commit samplings as fast as possible and print each seq once durable:
/// a crash-consistency exerciser (the test kills it at random points). The
/// records carry no face check (none was run), and say so.
fn stress(engine: &Engine, start: u32, count: u32) -> Result<(), EngineError> {
    use std::io::Write;
    let profile = engine.enrollment()?.ok_or(EngineError::NotEnrolled)?.profile;
    let project = profile.projects.first().ok_or_else(|| bad("没有项目", "no project"))?;
    let unit = project.unit_projects.first().ok_or_else(|| bad("没有单位工程", "no unit project"))?;
    let at = position(&profile, unit.id.as_str(), &None)?;
    let clock = SystemClock::default();
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        let serial = start + i;
        let tag = TagCode::from_parts(
            project.tag_batches[0].key.supplier,
            project.tag_batches[0].key.year,
            project.tag_batches[0].key.batch,
            serial,
        )
        .ok_or_else(|| bad("标识号超出范围", "serial out of range"))?;
        let photo = format!("stress photo {serial}").into_bytes();
        let face_photo = engine.store_media(
            &format!("stress face {serial}").into_bytes(),
            MediaPurpose::Face,
            "image/jpeg",
        )?;
        let process = engine.store_media(&photo, MediaPurpose::Process, "image/jpeg")?;
        let mono = clock.mono_ms();
        let fix = Fix {
            pos: at,
            accuracy_cm: 400,
            provider: FixProvider::Gnss,
            mono_ms: mono,
            gnss_time_ms: None,
            satellites: Some(9),
            mock: false,
        };
        let face = FaceCheck {
            photo: face_photo.sha256,
            model: "none: stress test, no face check run".into(),
            score_milli: 0,
            threshold_milli: 700,
            matched: false,
            liveness: None,
        };
        let created = engine.create_sampling(
            sim_sampling(
                tag,
                project.project.id.clone(),
                unit.id.clone(),
                face,
                FieldEvidence { media: vec![face_photo, process], fixes: vec![fix] },
            ),
            true,
        );
        let created = match created {
            // Bound in an earlier run that was killed: move on.
            Err(EngineError::TagAlreadyUsed { .. }) => continue,
            other => other?,
        };
        writeln!(out, "{}", created.seq).map_err(|e| bad("输出失败", e))?;
        out.flush().map_err(|e| bad("输出失败", e))?;
    }
    Ok(())
}

// The rehearsal reads top to bottom as the morning on site it plays.
#[allow(clippy::too_many_lines)]
async fn rehearse(
    work: &Path,
    offers: &Path,
    faces: Option<PathBuf>,
    first_tag: u32,
    until_tested: bool,
) -> Result<(), EngineError> {
    let faces = faces.unwrap_or_else(faces_dir);
    let offer = |p: &str| {
        std::fs::read_to_string(offers.join(format!("{p}.txt")))
            .map(|s| s.trim().to_owned())
            .map_err(|e| bad("找不到注册码文件", e))
    };
    let phone = |name: &str| open(&work.join(name));
    let sampler = phone("sampler")?;
    let witness = phone("witness")?;
    let lab = phone("lab")?;
    let reviewer = phone("reviewer")?;
    println!("1. enroll four phones");
    for (e, p) in
        [(&sampler, "P-ZHANGWEI"), (&witness, "P-LINA"), (&lab, "P-WANGQIANG"), (&reviewer, "P-LIUYANG")]
    {
        if e.enrollment()?.is_none() {
            let prof = e.enroll(&offer(p)?, "rehearsal", "field-sim").await?;
            println!("   {} — {}", prof.person.name, prof.org.name);
        } else {
            // A phone of an earlier rehearsal, in a new process: a fresh
            // anchor for this run's clock readings, as the app takes one
            // before a sampling when a network is there (R8's 20 minutes
            // must be provable).
            e.refresh_time().await?;
        }
    }
    let sensors = |reference: &str, probe: &str| Sensors {
        at: None,
        track: None,
        face_ref: Some(faces.join(reference)),
        face: Some(faces.join(probe)),
        photo: vec![],
        confirm: false,
    };
    let profile = sampler.enrollment()?.ok_or(EngineError::NotEnrolled)?.profile;
    let project = profile.projects[0].project.id.clone();
    let tag =
        |n: u32| TagCode::from_parts(profile.projects[0].tag_batches[0].key.supplier, 26, 1, n).expect("tag");

    println!(
        "2. sampling tag {} (face check on {}, fixes near the site)",
        tag(first_tag).printed(),
        faces.display()
    );
    let (ev, face) = evidence(
        &sampler,
        &profile,
        "UP-1",
        &sensors("obama.jpg", "obama2.jpg"),
        "rehearsal sampling",
        ("", ""),
    )?;
    println!(
        "   face score {:.3} (threshold {:.3})",
        f64::from(face.score_milli) / 1000.0,
        f64::from(face.threshold_milli) / 1000.0
    );
    let s = sampler.create_sampling(
        sim_sampling(tag(first_tag), project.clone(), Id::new("UP-1").expect("id"), face, ev),
        false,
    )?;
    println!("   signed {} (notices: {})", &s.id.to_hex()[..12], s.notices.len());
    println!("3. the same tag again → refused before signing");
    let (ev, face) = evidence(
        &sampler,
        &profile,
        "UP-1",
        &sensors("obama.jpg", "obama2.jpg"),
        "rehearsal again",
        ("", ""),
    )?;
    let again = sampler.create_sampling(
        sim_sampling(tag(first_tag), project.clone(), Id::new("UP-1").expect("id"), face, ev),
        false,
    );
    match again {
        Err(e) => println!("   {}", e.message(Lang::ZhCn)),
        Ok(_) => return Err(bad("重复标识没有被拒绝", "the reused tag was not refused")),
    }
    println!("4. handshake QR to the witness's phone, offline; wrong tag refused, right tag witnessed");
    let qr = sampler.handshake_qr(&s.id)?;
    witness.receive_handshake(&qr)?;
    let wprofile = witness.enrollment()?.ok_or(EngineError::NotEnrolled)?.profile;
    let (ev, face) = evidence(
        &witness,
        &wprofile,
        "UP-1",
        &sensors("biden.jpg", "biden.jpg"),
        "rehearsal witness",
        ("", ""),
    )?;
    let wrong = witness.create_witnessing(
        WitnessInput {
            sampling: s.id,
            tag: tag(first_tag + 1),
            tag_read: TagRead { method: TagReadMethod::Manual, decoder: None },
            face: face.clone(),
            hand_signature: None,
            remarks: String::new(),
            evidence: ev.clone(),
        },
        false,
    );
    if let Err(e) = wrong {
        println!("   wrong tag: {}", e.message(Lang::ZhCn));
    }
    let w = witness.create_witnessing(
        WitnessInput {
            sampling: s.id,
            tag: tag(first_tag),
            tag_read: TagRead { method: TagReadMethod::Manual, decoder: None },
            face,
            hand_signature: None,
            remarks: String::new(),
            evidence: ev,
        },
        false,
    )?;
    println!("   witnessed {}", &w.id.to_hex()[..12]);
    println!("5. sync both phones");
    for (n, e) in [("witness", &witness), ("sampler", &sampler), ("witness", &witness)] {
        let r = e.sync_once().await?;
        println!(
            "   {n}: uploaded {} (accepted {}, deferred {}), media {} KB, received {}",
            r.uploaded,
            r.accepted,
            r.deferred,
            r.media_bytes / 1024,
            r.received
        );
    }
    println!("6. commission form, co-signed by the witness");
    let lab_org = lab.enrollment()?.ok_or(EngineError::NotEnrolled)?.profile.org.id;
    let c = sampler.create_commission(
        CommissionInput {
            form_no: "REH-0001".into(),
            lab: lab_org,
            witness: wprofile.person.id.clone(),
            items: vec![(s.id, w.id)],
        },
        false,
    )?;
    sampler.sync_once().await?;
    witness.sync_once().await?;
    witness.cosign(&c.id)?;
    witness.sync_once().await?;
    println!("7. the lab scans the tag");
    let t = lab.verify_tag(&tag(first_tag).qr_payload()).await?;
    println!("   {} [{}] {}", t.tag_printed, t.stage_zh, t.summary_zh);
    for chk in &t.checks {
        println!("     {} {}", if chk.ok { "✓" } else { "✗" }, chk.message_zh);
    }
    let r = lab.create_receipt(
        ReceiptInput {
            tag: tag(first_tag),
            tag_read: TagRead { method: TagReadMethod::Scanner, decoder: None },
            commission: c.id,
            decision: ReceiptDecision::Accepted,
        },
        true,
    )?;
    lab.sync_once().await?;
    println!("   received: {}", lab.record(&r.id)?.map(|v| v.state).unwrap_or_default());
    if until_tested {
        lab::tested_rehearsal(&lab, &tag(first_tag)).await?;
        println!("done: tested {}, awaiting review", tag(first_tag).printed());
        return Ok(());
    }
    let check = lab::report_rehearsal(&lab, &reviewer, tag(first_tag)).await?;
    println!("done: {}", if t.ok { "clean trail, accepted" } else { "trail had problems (see above)" });
    println!("report check: {check}");
    Ok(())
}
