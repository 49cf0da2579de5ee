//! Everything the engine can refuse or fail at, each with a stable code for
//! the screens and a message for the person holding the phone.

use crate::client::ClientError;
use crate::db;
use crate::media::MediaError;
use crate::vault::VaultError;
use custody_core::model::PersonRole;
use custody_core::protocol::Finding;
use custody_core::verify::Lang;

/// Everything that can go wrong, each with a message for the person holding
/// the phone, in Chinese and English.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("this device is not enrolled yet: scan the enrollment QR")]
    NotEnrolled,
    #[error("this device is already enrolled")]
    AlreadyEnrolled,
    #[error(
        "not authorised as {role:?} on this project (letter of authorisation / real-name check missing, expired or revoked, R1)"
    )]
    NotAuthorised { role: PersonRole, project: Option<String> },
    #[error("tag {0} is not registered for any project you work on (R16)")]
    UnknownTag(String),
    #[error("tag {tag} is already bound to a specimen (R6)")]
    TagAlreadyUsed { tag: String },
    #[error("the rules refuse this record: {}", .0.iter().map(|f| f.message_en.clone()).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Finding>),
    #[error("please confirm: {}", .0.iter().map(|f| f.message_en.clone()).collect::<Vec<_>>().join("; "))]
    NeedsConfirmation(Vec<Finding>),
    #[error("{en}")]
    Invalid { zh: String, en: String },
    #[error(transparent)]
    Network(#[from] ClientError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> EngineError {
        EngineError::Db(db::DbError::Sqlite(e))
    }
}

impl EngineError {
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> EngineError {
        EngineError::Invalid { zh: zh.into(), en: en.into() }
    }

    /// A stable code for the UI to match on.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotEnrolled => "not_enrolled",
            EngineError::AlreadyEnrolled => "already_enrolled",
            EngineError::NotAuthorised { .. } => "not_authorised",
            EngineError::UnknownTag(_) => "unknown_tag",
            EngineError::TagAlreadyUsed { .. } => "tag_already_used",
            EngineError::Refused(_) => "refused",
            EngineError::NeedsConfirmation(_) => "needs_confirmation",
            EngineError::Invalid { .. } => "invalid",
            EngineError::Network(ClientError::Network(_)) => "offline",
            EngineError::Network(_) => "server",
            EngineError::Db(_) => "storage",
            EngineError::Media(_) => "media",
            EngineError::Vault(_) => "keys",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            EngineError::NotEnrolled => "本机尚未注册：请扫描注册二维码".into(),
            EngineError::AlreadyEnrolled => "本机已注册".into(),
            EngineError::NotAuthorised { role, .. } => {
                let r = match role {
                    PersonRole::Sampler => "取样员",
                    PersonRole::Witness => "见证员",
                    PersonRole::LabReceiver => "收样员",
                    _ => "该角色",
                };
                format!("您在本项目没有有效的{r}授权（授权书或实名认证缺失、过期或已撤销，R1）")
            }
            EngineError::UnknownTag(t) => format!("标识 {t} 未在您参与的项目中登记（R16）"),
            EngineError::TagAlreadyUsed { tag } => format!("标识 {tag} 已绑定过样品，不能重复使用（R6）"),
            EngineError::Refused(f) => format!(
                "不符合规定：{}",
                f.iter().map(|x| x.message_zh.clone()).collect::<Vec<_>>().join("；")
            ),
            EngineError::NeedsConfirmation(f) => {
                format!("请确认：{}", f.iter().map(|x| x.message_zh.clone()).collect::<Vec<_>>().join("；"))
            }
            EngineError::Invalid { zh, .. } => zh.clone(),
            EngineError::Network(e) => e.message_zh(),
            EngineError::Db(e) => format!("本机数据库错误：{e}"),
            EngineError::Media(e) => format!("照片/视频文件错误：{e}"),
            EngineError::Vault(e) => format!("密钥错误：{e}"),
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;
