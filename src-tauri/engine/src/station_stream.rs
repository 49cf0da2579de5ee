//! The lab station's stream input (R12): a testing machine that sends each
//! test's readings over a connection instead of exporting a file — over
//! TCP directly, or from its RS-232 port through a serial-to-Ethernet
//! converter or a `socat` bridge on the lab PC (see `docs/operations.md`).
//!
//! One connection is one test: the machine sends what it would have
//! written to its export file (the header, then the readings) and closes
//! the connection when the test ends. The bytes become a file in the
//! watched folder, and the folder's station ([`crate::station`]) captures
//! it like any exported file — one path for every curve, so one set of
//! rules (tag received by this lab, file parsed, raw bytes signed).
//!
//! # Nothing received is lost
//!
//! * While the test runs, the bytes go to `.stream-<n>.part` in the folder
//!   (a hidden, `.part` name the station leaves alone), written as they
//!   arrive.
//! * When the machine closes the connection, the file is flushed to disk
//!   and renamed to `stream-<UTC time>-<n>.txt`: ready for the station.
//! * When the connection breaks (reset, error, more than [`MAX_STREAM`]
//!   bytes), what arrived is kept in `failed/` with a note saying why in
//!   zh-CN and English: an incomplete test is evidence too, never a curve.
//! * A station killed mid-test leaves its `.part` file; the next start
//!   ([`recover`]) moves it to `failed/` with the same kind of note.
//! * An empty connection (a port scan, a probe) leaves nothing.

use crate::station::{FAILED_DIR, free_name, note_path, sync_dir};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The most one test may send: a 20,000-point rebar curve is under 1 MB.
pub const MAX_STREAM: u64 = 64 * 1024 * 1024;

/// What became of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A whole test, now a file in the folder for the station.
    Ready(PathBuf),
    /// Cut short: kept in `failed/` with its note.
    Broken(PathBuf),
    /// Nothing was sent.
    Empty,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn part_name() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(".stream-{ms}-{}.part", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `stream-YYYYMMDD-HHMMSS-<n>.txt` in China Standard Time (the lab's own
/// clock on its own files), `n` from the part's name.
fn ready_name(part: &str) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let (y, mo, d, h, mi, s) = custody_core::calendar::cst(ms);
    let n = part.rsplit('-').next().and_then(|s| s.strip_suffix(".part")).unwrap_or("0");
    format!("stream-{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}-{n}.txt")
}

/// Keep a cut-short stream in `failed/`, its reason beside it.
fn keep_broken(dir: &Path, part: &Path, bytes: u64, zh: &str, en: &str) -> std::io::Result<PathBuf> {
    let failed = dir.join(FAILED_DIR);
    std::fs::create_dir_all(&failed)?;
    let name = ready_name(part.file_name().and_then(|n| n.to_str()).unwrap_or(".stream-0.part"));
    let dest = free_name(&failed, &name, |p| p.exists() || note_path(p, ".error.txt").exists());
    let text = format!("{zh}\n{en}\n\n已收到 / received: {bytes} bytes\n");
    std::fs::write(note_path(&dest, ".error.txt"), text)?;
    std::fs::rename(part, &dest)?;
    sync_dir(&failed);
    Ok(dest)
}

/// Receive one test from `stream` into the watched folder `dir`.
pub async fn receive(mut stream: TcpStream, dir: &Path) -> std::io::Result<Received> {
    let part = dir.join(part_name());
    let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&part).await?;
    let (mut total, mut buf) = (0u64, vec![0u8; 64 * 1024]);
    let broke = loop {
        match stream.read(&mut buf).await {
            Ok(0) => break None,
            Ok(n) => {
                total += n as u64;
                if total > MAX_STREAM {
                    break Some((
                        format!("超过 {MAX_STREAM} 字节上限，连接已断开：不是一次试验的数据"),
                        format!(
                            "more than {MAX_STREAM} bytes: the connection was closed; not one test's readings"
                        ),
                    ));
                }
                file.write_all(&buf[..n]).await?;
            }
            Err(e) => {
                break Some((
                    format!("连接在试验结束前中断（{e}）：数据不完整，未作为曲线采集"),
                    format!(
                        "the connection broke before the test ended ({e}): incomplete, not captured as a curve"
                    ),
                ));
            }
        }
    };
    file.sync_all().await?;
    drop(file);
    if total == 0 && broke.is_none() {
        tokio::fs::remove_file(&part).await?;
        return Ok(Received::Empty);
    }
    let kept = total.min(MAX_STREAM);
    match broke {
        Some((zh, en)) => {
            let (dir, part) = (dir.to_owned(), part.clone());
            let dest = tokio::task::spawn_blocking(move || keep_broken(&dir, &part, kept, &zh, &en))
                .await
                .map_err(std::io::Error::other)??;
            Ok(Received::Broken(dest))
        }
        None => {
            let name = ready_name(part.file_name().and_then(|n| n.to_str()).unwrap_or(""));
            let dest = free_name(dir, &name, |p| p.exists());
            tokio::fs::rename(&part, &dest).await?;
            sync_dir(dir);
            Ok(Received::Ready(dest))
        }
    }
}

/// After a crash: every `.stream-*.part` left in `dir` was a test cut short
/// by the station itself; keep each in `failed/` with a note.
pub fn recover(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut kept = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(".stream-") && name.ends_with(".part") && path.is_file() {
            let bytes = std::fs::metadata(&path)?.len();
            kept.push(keep_broken(
                dir,
                &path,
                bytes,
                "检测工作站在接收试验数据时停止：数据不完整，未作为曲线采集",
                "the station stopped while receiving this test: incomplete, not captured as a curve",
            )?);
        }
    }
    Ok(kept)
}

/// Accept machines' connections on `listener` for ever, each received into
/// `dir`; `report` hears what became of each (for the station's log).
pub async fn listen(
    listener: TcpListener,
    dir: PathBuf,
    report: impl Fn(std::io::Result<Received>) + Send + Sync + 'static,
) {
    let report = std::sync::Arc::new(report);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (dir, report) = (dir.clone(), report.clone());
                tokio::spawn(async move { report(receive(stream, &dir).await) });
            }
            // A refused accept (too many open files …) is the host's
            // moment, not the machine's; try again shortly.
            Err(e) => {
                report(Err(e));
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
}
