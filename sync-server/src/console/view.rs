//! What every page shares: the client (address, browser, language), the
//! layout's data ([`Chrome`]), refusals as pages ([`Deny`]), and small
//! formatting helpers the templates call.

use super::paths;
use super::session::{LANG_COOKIE, User, set_cookie};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use custody_core::access::Denied;
use custody_core::verify::Lang;
use std::net::SocketAddr;

/// Who is asking, as far as the request tells.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: String,
    pub agent: String,
    pub lang: Lang,
    /// Served over TLS: cookies are `Secure`.
    pub secure: bool,
}

/// The page language: the visitor's choice (cookie), else the browser's
/// first preference if it is English, else Chinese.
pub fn lang_of_headers(h: &HeaderMap) -> Lang {
    let from_cookie = h.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == LANG_COOKIE).then(|| Lang::parse(v))
        })
    });
    from_cookie.unwrap_or_else(|| {
        let accept = h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if accept.trim_start().to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::ZhCn }
    })
}

impl Client {
    pub fn from_parts(parts: &Parts, state: &AppState) -> Client {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let (ip, forwarded_https) = client_behind_proxies(peer, &parts.headers, &state.config);
        let ip = ip.map_or_else(|| "-".into(), |ip| ip.to_string());
        let agent: String = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        Client {
            ip,
            agent,
            lang: lang_of_headers(&parts.headers),
            secure: state.config.tls_enabled() || forwarded_https,
        }
    }
}

/// The real client behind trusted reverse proxies (`server.trusted_proxies`),
/// and whether the proxy says the client came over HTTPS. Only a request
/// arriving from a trusted proxy has its forwarding headers read; then
/// `X-Forwarded-For` is walked from the right past further trusted hops, so
/// an address a client wrote into the header itself is never believed.
pub fn client_behind_proxies(
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    config: &crate::config::Config,
) -> (Option<std::net::IpAddr>, bool) {
    let proxies = config.proxies().unwrap_or_default();
    let trusted = |ip: std::net::IpAddr| proxies.iter().any(|n| n.contains(ip));
    let Some(peer) = peer else { return (None, false) };
    if !trusted(peer) {
        return (Some(peer), false);
    }
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    let client =
        hops.iter().rev().copied().find(|ip| !trusted(*ip)).or(hops.first().copied()).unwrap_or(peer);
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    (Some(client), https)
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Client::from_parts(parts, state))
    }
}

/// One navigation link of the layout.
pub struct Nav {
    pub href: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// The layout's data: language, title, who is signed in, their navigation
/// and form token, and a message to show once.
pub struct Chrome {
    pub lang: Lang,
    pub title_zh: String,
    pub title_en: String,
    pub user_name: Option<String>,
    pub is_admin: bool,
    pub csrf: String,
    pub nav: Vec<Nav>,
    pub notice: Option<(String, String)>,
}

impl Chrome {
    /// For a signed-in user.
    pub fn for_user(u: &User, title_zh: impl Into<String>, title_en: impl Into<String>) -> Chrome {
        let mut nav = vec![
            Nav { href: paths::HOME, zh: "首页", en: "Home" },
            Nav { href: paths::PROJECTS, zh: "项目", en: "Projects" },
            Nav { href: paths::RECORDS, zh: "记录", en: "Records" },
            Nav { href: paths::VIOLATIONS, zh: "违规", en: "Violations" },
            Nav { href: paths::OVERSIGHT, zh: "监管预警", en: "Oversight" },
        ];
        // Grants as of this request (the session is touched on every one).
        if u.viewer.org_role == custody_core::model::OrgRole::Lab || u.viewer.is_admin {
            nav.push(Nav { href: paths::LAB_DESK, zh: "检测工作台", en: "Lab desk" });
        }
        if custody_core::access::spot_checks(&u.viewer, u.session.last_seen_ms).is_ok() {
            nav.push(Nav { href: paths::DRAWS, zh: "双随机抽查", en: "Spot checks" });
        }
        if u.viewer.org_role == custody_core::model::OrgRole::Lab || u.viewer.is_admin {
            nav.push(Nav { href: paths::REGISTRY, zh: "资质登记", en: "Registry" });
        }
        if u.viewer.is_admin {
            nav.extend([
                Nav { href: paths::REGISTRY_QUEUE, zh: "登记审核", en: "Registry requests" },
                Nav { href: paths::ADMIN_PEOPLE, zh: "人员与授权", en: "People" },
                Nav { href: paths::ADMIN_ORGS, zh: "单位", en: "Organisations" },
                Nav { href: paths::ADMIN_PROJECTS, zh: "项目登记", en: "Sites" },
                Nav { href: paths::ADMIN_DEVICES, zh: "设备", en: "Devices" },
                Nav { href: paths::ADMIN_ACCOUNTS, zh: "账号", en: "Accounts" },
                Nav { href: paths::ADMIN_AUDIT, zh: "审计日志", en: "Audit log" },
                Nav { href: paths::ADMIN_STATUS, zh: "系统状态", en: "Status" },
            ]);
        }
        Chrome {
            lang: u.client.lang,
            title_zh: title_zh.into(),
            title_en: title_en.into(),
            user_name: Some(u.account.display_name.clone()),
            is_admin: u.viewer.is_admin,
            csrf: u.session.csrf.clone(),
            nav,
            notice: None,
        }
    }

    /// For a page anyone may see.
    pub fn public(lang: Lang, title_zh: impl Into<String>, title_en: impl Into<String>) -> Chrome {
        Chrome {
            lang,
            title_zh: title_zh.into(),
            title_en: title_en.into(),
            user_name: None,
            is_admin: false,
            csrf: String::new(),
            nav: vec![],
            notice: None,
        }
    }

    /// With a message shown at the top of the page.
    pub fn notice(mut self, zh: impl Into<String>, en: impl Into<String>) -> Chrome {
        self.notice = Some((zh.into(), en.into()));
        self
    }

    /// The text in the page's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.lang == Lang::En { en } else { zh }
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    pub fn html_lang(&self) -> &'static str {
        if self.lang == Lang::En { "en" } else { "zh-CN" }
    }

    pub fn title(&self) -> &str {
        if self.lang == Lang::En { &self.title_en } else { &self.title_zh }
    }
}

/// A page's answer: the template rendered, or an error page.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    c: Chrome,
    status: u16,
    zh: String,
    en: String,
}

/// A refusal: to the sign-in page (with where to come back), or a page
/// that says why, in the reader's language.
#[derive(Debug)]
pub enum Deny {
    Redirect(String),
    Page { status: StatusCode, lang: Lang, zh: String, en: String },
}

impl Deny {
    pub fn page(lang: Lang, status: StatusCode, zh: impl Into<String>, en: impl Into<String>) -> Deny {
        Deny::Page { status, lang, zh: zh.into(), en: en.into() }
    }
    pub fn redirect(to: &str) -> Deny {
        Deny::Redirect(to.to_owned())
    }
    /// Not signed in: a page read goes to the sign-in page and comes back.
    pub fn sign_in(lang: Lang, parts: &Parts) -> Deny {
        if parts.method == axum::http::Method::GET {
            let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(paths::HOME);
            Deny::Redirect(format!("{}?next={}", paths::LOGIN, urlencode(here)))
        } else {
            Deny::page(lang, StatusCode::UNAUTHORIZED, "请先登录", "please sign in first")
        }
    }
    pub fn forbidden(lang: Lang, d: Denied) -> Deny {
        Deny::page(lang, StatusCode::FORBIDDEN, d.message_zh, d.message_en)
    }
    pub fn not_found(lang: Lang) -> Deny {
        Deny::page(lang, StatusCode::NOT_FOUND, "没有找到", "not found")
    }
    pub fn bad(lang: Lang, zh: impl Into<String>, en: impl Into<String>) -> Deny {
        Deny::page(lang, StatusCode::BAD_REQUEST, zh, en)
    }
    pub fn csrf(lang: Lang) -> Deny {
        Deny::page(
            lang,
            StatusCode::FORBIDDEN,
            "表单已过期或不是本会话的，请刷新页面后重试",
            "the form expired or is not from this session: reload the page and try again",
        )
    }
    pub fn internal(lang: Lang, e: impl std::fmt::Display) -> Deny {
        tracing::error!(error = %e, "console error");
        Deny::page(
            lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "服务器内部错误，请稍后重试",
            "internal error; try again later",
        )
    }
}

impl IntoResponse for Deny {
    fn into_response(self) -> Response {
        match self {
            Deny::Redirect(to) => Redirect::to(&to).into_response(),
            Deny::Page { status, lang, zh, en } => {
                let c = Chrome::public(lang, "出错了", "Something went wrong");
                let mut r = render(&ErrorPage { c, status: status.as_u16(), zh, en });
                *r.status_mut() = status;
                r
            }
        }
    }
}

impl From<crate::store::StoreError> for Deny {
    fn from(e: crate::store::StoreError) -> Deny {
        Deny::internal(Lang::ZhCn, e)
    }
}

/// Percent-encode a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A time as people in China read it (UTC+8), to the second.
pub fn when(ms: i64) -> String {
    custody_core::calendar::cst_seconds(ms)
}

/// An optional time, or a dash.
pub fn when_opt(ms: Option<i64>) -> String {
    ms.map(when).unwrap_or_else(|| "—".into())
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    pub to: String,
    pub back: Option<String>,
}

/// Switch the page language (a link in every page's header).
pub async fn switch_lang(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = if Lang::parse(&q.to) == Lang::En { "en" } else { "zh-CN" };
    let back = q.back.filter(|b| b.starts_with("/console")).unwrap_or_else(|| paths::HOME.into());
    let cookie = set_cookie(LANG_COOKIE, lang, state.config.tls_enabled(), Some(365 * 86_400));
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

#[cfg(test)]
mod proxy_tests {
    use super::client_behind_proxies;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let mut config = crate::config::Config::default();
        config.server.trusted_proxies = vec!["10.0.0.0/24".into()];
        let ip = |s: &str| Some(s.parse().unwrap());
        let forged = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")]);
        // A client talking to the server directly cannot choose its address.
        assert_eq!(client_behind_proxies(ip("198.51.100.7"), &forged, &config), (ip("198.51.100.7"), false));
        // Through the proxy: the address the proxy appended, not one the client wrote.
        let through =
            headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7"), ("x-forwarded-proto", "https")]);
        assert_eq!(client_behind_proxies(ip("10.0.0.2"), &through, &config), (ip("198.51.100.7"), true));
        // Two trusted hops are walked past.
        let two = headers(&[("x-forwarded-for", "198.51.100.7, 10.0.0.3")]);
        assert_eq!(client_behind_proxies(ip("10.0.0.2"), &two, &config), (ip("198.51.100.7"), false));
        // No proxies configured: the headers mean nothing.
        config.server.trusted_proxies.clear();
        assert_eq!(client_behind_proxies(ip("10.0.0.2"), &through, &config), (ip("10.0.0.2"), false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_follow_the_choice_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(lang_of_headers(&h), Lang::ZhCn);
        h.insert(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9".parse().unwrap());
        assert_eq!(lang_of_headers(&h), Lang::En);
        h.insert(header::COOKIE, "jzqy_lang=zh-CN".parse().unwrap());
        assert_eq!(lang_of_headers(&h), Lang::ZhCn);
    }
}
