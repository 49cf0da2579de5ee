//! `field-sim station`: the lab PC's station beside a testing machine (R12).
//! Watches the folder the machine exports curve files into, captures each
//! finished file as signed test data (the engine's `capture_folder`), and
//! uploads; prints one line per file captured or refused.

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

pub async fn run(engine: &Engine, args: StationArgs) -> Result<(), EngineError> {
    let opts = StationOptions { settle: Duration::from_millis(args.settle_ms), ..Default::default() };
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
