//! `field-sim station`: the lab PC's station beside a testing machine (R12).
//! Watches the folder the machine exports curve files into, captures each
//! finished file as signed test data (the engine's `capture_folder`), and
//! uploads; prints one line per file captured or refused. With `--listen`
//! it also receives machines that send each test over a connection
//! (`field_engine::station_stream`) into the same folder.

use field_engine::{Engine, EngineError, StationOptions, StationPass};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct StationArgs {
    /// The folder the testing machine exports its curve files into.
    #[arg(long)]
    dir: PathBuf,
    /// One pass and one sync, then exit (fails if the sync fails).
    #[arg(long)]
    once: bool,
    /// Pause between passes.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// A file unmodified this long is taken as finished even on the first pass.
    #[arg(long, default_value_t = 3000)]
    settle_ms: u64,
    /// Also receive tests that machines send over TCP (one connection per
    /// test) at this address, e.g. 0.0.0.0:5020; a serial port joins through
    /// a serial-to-Ethernet converter or `socat` (docs/operations.md).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

/// One line per file: tab-separated, for people and scripts alike.
fn print(pass: &StationPass) {
    let mut out = std::io::stdout().lock();
    for (file, id) in &pass.captured {
        let _ = writeln!(out, "captured\t{}\t{id}", file.display());
    }
    for (file, zh, en) in &pass.failed {
        let _ = writeln!(out, "failed\t{}\t{zh} / {en}", file.display());
    }
    let _ = out.flush();
}

fn io(e: std::io::Error) -> EngineError {
    EngineError::Media(field_engine::media::MediaError::Io(e))
}

pub async fn run(engine: &Engine, args: StationArgs) -> Result<(), EngineError> {
    let opts = StationOptions { settle: Duration::from_millis(args.settle_ms), ..Default::default() };
    if let Some(addr) = args.listen {
        use field_engine::station_stream::{self, Received};
        for kept in station_stream::recover(&args.dir).map_err(io)? {
            println!("failed\t{}\tthe station stopped while receiving / 接收中断", kept.display());
        }
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(io)?;
        eprintln!("station: receiving machines' tests on {}", listener.local_addr().map_err(io)?);
        tokio::spawn(station_stream::listen(listener, args.dir.clone(), |r| match r {
            Ok(Received::Ready(p)) => println!("received\t{}", p.display()),
            Ok(Received::Broken(p)) => println!("failed\t{}\tincomplete / 数据不完整", p.display()),
            Ok(Received::Empty) => {}
            Err(e) => eprintln!("station: receiving: {e}"),
        }));
    }
    if args.once {
        print(&engine.capture_folder(&args.dir, &opts)?);
        engine.sync_once().await?;
        return Ok(());
    }
    loop {
        // A station keeps running through a bad moment (a full disk, the
        // server away): files stay where they are until a pass succeeds.
        match engine.capture_folder(&args.dir, &opts) {
            Ok(pass) => print(&pass),
            Err(e) => eprintln!("station: {} / {e}", e.message(custody_core::verify::Lang::ZhCn)),
        }
        if let Err(e) = engine.sync_once().await {
            eprintln!("sync: {} / {e}", e.message(custody_core::verify::Lang::ZhCn));
        }
        tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
    }
}
