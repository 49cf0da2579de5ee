//! `custody-verify <bag> [--trust <server key>]… [--seen <file or bag>]… [--json]`
//!
//! Checks an archive exported by `sync-server admin export` from the bytes
//! up and prints what it proved, in zh-CN and English. Exit status: 0 the
//! archive is whole, 1 a flaw was found (each named), 2 it could not be
//! read or the command line is wrong.

use custody_verify::{Options, verify_bag};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "用法 / usage: custody-verify <包目录 bag directory> [--trust <服务器公钥 server key (base64)>]… [--seen <检查点文件或另一包 checkpoint file or another bag>]… [--json]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut bag = None;
    let mut opts = Options::default();
    let mut json = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--trust" => match args.next().map(|k| k.parse()) {
                Some(Ok(k)) => opts.trusted.push(k),
                _ => return usage("--trust 需要一个 base64 公钥 / --trust needs a base64 public key"),
            },
            "--seen" => match args.next() {
                Some(p) => opts.seen.push(PathBuf::from(p)),
                None => return usage("--seen 需要一个路径 / --seen needs a path"),
            },
            "--json" => json = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if bag.is_none() && !a.starts_with("--") => bag = Some(PathBuf::from(a)),
            _ => return usage(&format!("不认识的参数 / unknown argument: {a}")),
        }
    }
    let Some(bag) = bag else { return usage("缺少包目录 / the bag directory is missing") };
    match verify_bag(&bag, &opts) {
        Ok(answer) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            } else {
                print!("{}", custody_core::archive::check::render(&answer));
            }
            if answer.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => {
            eprintln!("无法读取 / cannot read: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("{why}\n{USAGE}");
    ExitCode::from(2)
}
