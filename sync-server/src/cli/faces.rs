//! `admin faces`: face photos encrypted at rest (issue 18, PIPL) — seal
//! what an existing deployment keeps in the clear, rotate the key that
//! wraps their data keys.

use clap::Subcommand;
use sync_server::AppState;
use sync_server::admin::AdminError;
use sync_server::faces::sweep;

#[derive(Subcommand)]
pub(super) enum FacesCmd {
    /// Seal every face photo stored in the clear (a deployment older than
    /// face encryption, or a sealing a stop interrupted). Each is written
    /// sealed, read back and opened before its copy in the clear is
    /// removed. Safe to re-run: a second run finds nothing to do.
    Seal,
    /// Rotate the key-encryption key: a new key re-wraps every face photo's
    /// data key (no photo is re-encrypted, no media object touched), the old
    /// key is retired (a key file holding it is refused from then on) and
    /// the new one replaces it in `storage.face_key_file`. Copy the new file
    /// to every other instance, and make a backup.
    RotateKey,
}

pub(super) fn faces_cmd(state: &AppState, cmd: FacesCmd) -> Result<String, AdminError> {
    let fail = |e: sync_server::faces::FaceError| AdminError::invalid(e.message_zh(), e.to_string());
    match cmd {
        FacesCmd::Seal => {
            let r = sweep::seal_all(&state.faces, &state.store, &state.blobs, state.now()).map_err(fail)?;
            let mut msg = format!(
                "人脸照片加密：新加密 {} 张，已加密 {} 张，缺文件 {} 张，失败 {} 张 / face photos: {} sealed now, {} sealed already, {} never arrived, {} failed",
                r.sealed,
                r.already,
                r.missing.len(),
                r.failed.len(),
                r.sealed,
                r.already,
                r.missing.len(),
                r.failed.len()
            );
            for sha in &r.missing {
                msg.push_str(&format!("\n  missing / 缺文件: {sha}"));
            }
            if !r.failed.is_empty() {
                let lines: Vec<String> = r.failed.iter().map(|(sha, why)| format!("{sha}: {why}")).collect();
                return Err(AdminError::invalid(
                    format!("{} 张人脸照片未能加密（仍为明文，未丢失）", r.failed.len()),
                    format!(
                        "{msg}\n{} not sealed (still in the clear, nothing lost):\n{}",
                        r.failed.len(),
                        lines.join("\n")
                    ),
                ));
            }
            Ok(msg)
        }
        FacesCmd::RotateKey => {
            let r = sweep::rotate(&state.faces, &state.store).map_err(fail)?;
            Ok(format!(
                "人脸密钥已轮换：{} 个数据密钥已重新封装，照片未重新加密；旧密钥 {} 已停用，新密钥 {} / face key rotated: {} data keys re-wrapped, no photo re-encrypted; retired {}, now {}\n请将新的密钥文件复制到其他实例并做一次备份 / copy the new key file to every other instance and make a backup",
                r.rewrapped,
                r.old.join(", "),
                r.new,
                r.rewrapped,
                r.old.join(", "),
                r.new
            ))
        }
    }
}
