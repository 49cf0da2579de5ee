//! `admin backup` and `admin restore-drill`, as the packaged timer and the
//! operator run them (issue 20; keys sealed or left out, issue 18).

use super::fail;
use std::path::PathBuf;
use std::process::ExitCode;
use sync_server::AppState;
use sync_server::admin::AdminError;
use sync_server::config::Config;

/// `admin backup`: into `--to`, or a dated directory in `backup.dir` with rotation.
pub(super) fn backup_cmd(state: &AppState, to: Option<PathBuf>) -> Result<String, AdminError> {
    let c = &state.config;
    let key = state.key.public();
    let passphrase = backup_passphrase(c).map_err(|e| AdminError::invalid(e.message_zh(), e.to_string()))?;
    let live = sync_server::backup::Live { store: &state.store, blobs: &state.blobs, faces: &state.faces };
    let (dir, m, removed) = match to {
        Some(to) => {
            let m = sync_server::backup::make(
                &live,
                (&c.keys_dir(), passphrase.as_deref()),
                &key,
                &to,
                None,
                state.now(),
            )?;
            (to, m, vec![])
        }
        None if c.backup.dir.as_os_str().is_empty() => {
            return Err(AdminError::invalid(
                "未配置备份目录：请设置 backup.dir 或使用 --to",
                "no backup directory: set backup.dir (JZQY_BACKUP__DIR) or give --to",
            ));
        }
        None => {
            let s = sync_server::backup::scheduled(
                &live,
                (&c.keys_dir(), passphrase.as_deref()),
                &key,
                &c.backup.dir,
                c.backup.keep,
                state.now(),
            )?;
            (s.dir, s.manifest, s.removed)
        }
    };
    if !m.verified {
        return Err(AdminError::invalid(
            "备份未通过校验",
            format!("the backup in {} did not verify:\n{}", dir.display(), m.problems.join("\n")),
        ));
    }
    let mut msg = format!(
        "备份完成并已校验 / backed up and verified: {}\n  {} records (checkpoint {}), {} media files ({:.1} MB, {} linked from the previous backup), database {:.1} MB\n  {} face photos, all sealed ({} opened and matched)\n  copy {:.1} s, verify {:.1} s",
        dir.display(),
        m.records,
        m.checkpoint_size,
        m.media_files,
        m.media_bytes as f64 / 1e6,
        m.media_linked,
        m.database_bytes as f64 / 1e6,
        m.face_photos_sealed,
        m.face_photos_opened,
        m.copy_seconds,
        m.verify_seconds
    );
    for r in removed {
        msg.push_str(&format!("\n  removed (retention) / 已按保留策略删除: {}", r.display()));
    }
    Ok(msg)
}

/// The passphrase that seals backups' private keys, if one is configured.
fn backup_passphrase(c: &Config) -> Result<Option<String>, sync_server::key_custody::CustodyError> {
    let file = &c.backup.key_passphrase_file;
    if file.as_os_str().is_empty() {
        return Ok(None);
    }
    sync_server::key_custody::read_passphrase(file).map(Some)
}

/// `admin restore-drill`: restore into scratch, verify, report, clean up.
pub(super) fn restore_drill(
    config: &Config,
    from: Option<PathBuf>,
    scratch: Option<PathBuf>,
    keep: bool,
) -> ExitCode {
    let from = match from {
        Some(f) => f,
        None => match sync_server::backup::list(&config.backup.dir).map(|mut l| l.pop()) {
            Ok(Some((p, _))) => p,
            Ok(None) => {
                return fail(
                    "没有可演练的备份（backup.dir 中没有通过校验的备份；或用 --from 指定）",
                    format!("no verified backup in {:?}; give --from", config.backup.dir),
                );
            }
            Err(e) => return fail("无法读取备份目录", e),
        },
    };
    let scratch = scratch.unwrap_or_else(|| {
        let base = if config.backup.dir.as_os_str().is_empty() {
            std::env::temp_dir()
        } else {
            config.backup.dir.clone()
        };
        base.join(format!(".drill-{}", std::process::id()))
    });
    let passphrase = match backup_passphrase(config) {
        Ok(p) => p,
        Err(e) => return fail(&e.message_zh(), e),
    };
    let out = sync_server::backup::drill(&from, &scratch, passphrase.as_deref());
    if !keep {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    match out {
        Ok(d) if d.problems.is_empty() => {
            println!(
                "恢复演练通过 / restore drill passed: {}\n  {} records, {} device chains, {} media files verified; restored {:.1} MB in {:.1} s, verified in {:.1} s{}",
                d.backup.display(),
                d.records,
                d.devices,
                d.media,
                d.restored_bytes as f64 / 1e6,
                d.restore_seconds,
                d.verify_seconds,
                if keep { format!("\n  kept in {}", scratch.display()) } else { String::new() }
            );
            println!(
                "  人脸照片 {} 张，均为密文；{} 张已用备份中的密钥解开并核对 / {} face photos, all sealed; {} opened with the backup's own key and matched{}",
                d.faces_sealed,
                d.faces_opened,
                d.faces_sealed,
                d.faces_opened,
                if d.faces_opened < d.faces_sealed {
                    " (the others checked by their sealed bytes' hash: no passphrase)"
                } else {
                    ""
                }
            );
            println!(
                "  {}",
                match d.key_opened {
                    Some(true) =>
                        "密封的私钥已用口令打开，与备份所属服务器一致 / the sealed private key opens with the passphrase and is this server's",
                    Some(false) => "密封的私钥无法打开 / the sealed private key does not open",
                    None =>
                        "未试开私钥（备份未密封私钥，或未配置口令文件）/ no private key tried (none sealed, or no passphrase file configured)",
                }
            );
            ExitCode::SUCCESS
        }
        Ok(d) => fail(
            &format!("恢复演练发现 {} 个问题", d.problems.len()),
            format!(
                "restore drill of {}: {} problem(s):\n{}",
                d.backup.display(),
                d.problems.len(),
                d.problems.join("\n")
            ),
        ),
        Err(e) => fail("恢复演练失败", e),
    }
}
