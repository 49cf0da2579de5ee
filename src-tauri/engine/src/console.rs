//! Signing in to the web console with this phone (issue 13): the console
//! shows a one-time QR; the person scans it here, sees which browser is
//! asking (its address and software, and when), and approves with a request
//! signed by the enrolled device key. The server refuses a person without an
//! authorisation in force (R1).
//!
//! The QR names the server it came from: a QR of any other server than the
//! one this phone is enrolled with is refused here, before anything is sent.

use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::protocol::{ConsoleApproval, ConsoleLoginInfo, ConsoleLoginOffer};
use custody_core::routes;

/// Same server: scheme, host and port equal, ignoring a trailing slash and case.
fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

impl Engine {
    /// Read a scanned console QR and check it belongs to our server.
    fn console_offer(&self, qr: &str) -> Result<ConsoleLoginOffer> {
        let offer = ConsoleLoginOffer::from_qr(qr).map_err(|_| {
            EngineError::invalid("这不是管理平台的登录二维码", "this is not a console sign-in QR code")
        })?;
        let e = self.enrolled()?;
        if !same_server(&offer.server_url, &e.server_url) {
            return Err(EngineError::invalid(
                format!(
                    "该二维码来自其他服务器（{}），本机登记在 {}，已拒绝",
                    offer.server_url, e.server_url
                ),
                format!(
                    "this QR comes from another server ({}); this phone is enrolled with {}: refused",
                    offer.server_url, e.server_url
                ),
            ));
        }
        Ok(offer)
    }

    /// What is asking to sign in: shown to the person before they approve.
    pub async fn console_login_info(&self, qr: &str) -> Result<ConsoleLoginInfo> {
        let offer = self.console_offer(qr)?;
        let e = self.enrolled()?;
        let client = self.client(&e);
        Ok(self.signed(&client, reqwest::Method::GET, &routes::console_login(&offer.id), vec![], &[]).await?)
    }

    /// Approve the console sign-in as this phone's person.
    pub async fn approve_console_login(&self, qr: &str) -> Result<ConsoleLoginInfo> {
        let offer = self.console_offer(qr)?;
        let e = self.enrolled()?;
        let client = self.client(&e);
        let body = serde_json::to_vec(&ConsoleApproval { secret: offer.secret })
            .map_err(|err| EngineError::invalid("内部错误", err.to_string()))?;
        Ok(self.signed(&client, reqwest::Method::POST, &routes::console_login(&offer.id), body, &[]).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::same_server;

    #[test]
    fn a_server_is_the_same_with_or_without_its_trailing_slash() {
        assert!(same_server("http://10.0.0.2:8080/", "http://10.0.0.2:8080"));
        assert!(same_server("https://JC.example.cn", "https://jc.example.cn/"));
        assert!(!same_server("http://10.0.0.2:8080", "http://10.0.0.3:8080"));
        assert!(!same_server("http://evil.example/jc.example.cn", "http://jc.example.cn"));
    }
}
