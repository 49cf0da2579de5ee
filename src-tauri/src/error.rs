//! The one error shape the screens receive (see app/src/api.ts `CmdError`).

use custody_core::protocol::Finding;
use custody_core::verify::Lang;
use field_engine::EngineError;
use serde::Serialize;

/// Why a command failed. `code` is stable: not_enrolled, already_enrolled,
/// not_authorised, unknown_tag, tag_already_used, refused (see findings),
/// needs_confirmation (see findings; call again with confirm = true after
/// the person agrees), invalid, offline, server, storage, media, keys,
/// camera, location, face, internal.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CmdError {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    pub findings: Vec<Finding>,
}

impl CmdError {
    pub fn new(code: &str, zh: impl Into<String>, en: impl Into<String>) -> CmdError {
        CmdError { code: code.into(), message_zh: zh.into(), message_en: en.into(), findings: vec![] }
    }
}

impl From<EngineError> for CmdError {
    fn from(e: EngineError) -> CmdError {
        let findings = match &e {
            EngineError::Refused(f) | EngineError::NeedsConfirmation(f) => f.clone(),
            _ => vec![],
        };
        CmdError {
            code: e.code().into(),
            message_zh: e.message(Lang::ZhCn),
            message_en: e.message(Lang::En),
            findings,
        }
    }
}

impl From<crate::pdf::FormError> for CmdError {
    fn from(e: crate::pdf::FormError) -> CmdError {
        use crate::pdf::FormError as F;
        match e {
            F::Engine(e) => e.into(),
            F::NoSuchForm => CmdError::new("invalid", "没有这张委托单", "no such commission form"),
            F::NotAForm => CmdError::new("invalid", "这不是委托单", "not a commission form"),
            F::NoFont => CmdError::new(
                "media",
                "缺少中文字体，无法生成委托单",
                "the Chinese font is missing: cannot render the form",
            ),
            F::Render(e) => CmdError::new("media", "委托单生成失败", e.to_string()),
            F::Save(e) => CmdError::new("storage", "无法保存委托单", e.to_string()),
            F::Internal(e) => CmdError::new("internal", "内部错误", e),
        }
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message_en, self.code)
    }
}

pub type CmdResult<T> = Result<T, CmdError>;
