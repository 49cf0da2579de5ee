//! The one error shape the screens receive (see app/src/api.ts `CmdError`).

use custody_core::protocol::Finding;
use custody_core::verify::Lang;
use field_engine::EngineError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
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

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message_en, self.code)
    }
}

pub type CmdResult<T> = Result<T, CmdError>;
