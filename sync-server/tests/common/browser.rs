//! A browser as the console sees one: cookies kept and sent back, no
//! redirects followed (the tests look at them), every POST from the
//! console's own origin unless a test says otherwise. Pages are read by
//! their `data-testid` attributes, as the headless-Chromium tests do.

use std::collections::BTreeMap;
use sync_server::console::session::{self, COOKIE};
use sync_server::store::console::{SessionRow, SessionScope};
use sync_server::testing::TestServer;

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    /// The `Origin` a POST carries (the console's own, unless changed).
    pub origin: Option<String>,
}

/// One answer: status, where a redirect goes, the body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    /// A redirect to the sign-in page (what an anonymous page read gets).
    pub fn to_sign_in(&self) -> bool {
        self.status == 303 && self.location.as_deref().is_some_and(|l| l.starts_with("/console/login"))
    }
    /// The values of `attr` on every element with this `data-testid`.
    pub fn attrs(&self, testid: &str, attr: &str) -> Vec<String> {
        attrs(&self.body, testid, attr)
    }
    pub fn has(&self, testid: &str) -> bool {
        self.body.contains(&format!("data-testid=\"{testid}\""))
    }
}

/// The values of `attr` on every element with `data-testid="testid"`.
pub fn attrs(html: &str, testid: &str, attr: &str) -> Vec<String> {
    let mark = format!("data-testid=\"{testid}\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&mark) {
        let start = rest[..i].rfind('<').unwrap_or(0);
        let end = i + rest[i..].find('>').unwrap_or(rest.len() - i);
        let tag = &rest[start..end];
        let key = format!(" {attr}=\"");
        if let Some(a) = tag.find(&key) {
            let v = &tag[a + key.len()..];
            out.push(v[..v.find('"').unwrap_or(v.len())].to_owned());
        }
        rest = &rest[end..];
    }
    out
}

/// The text inside the first element with this `data-testid`.
pub fn text_of(html: &str, testid: &str) -> Option<String> {
    let i = html.find(&format!("data-testid=\"{testid}\""))?;
    let open = i + html[i..].find('>')? + 1;
    let close = open + html[open..].find('<')?;
    Some(html[open..close].trim().to_owned())
}

/// The page's form token.
pub fn csrf_of(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[i..i + html[i..].find('"')?].to_owned())
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        crate::common::crypto();
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            origin: Some(base.to_owned()),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn read(&mut self, r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for c in headers.get_all(reqwest::header::SET_COOKIE) {
            let c = c.to_str().expect("ascii cookie");
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').expect("name=value");
            if attrs.contains("Max-Age=0") || v.is_empty() {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().to_owned(), v.to_owned());
            }
        }
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(|l| l.replace(&self.base, ""));
        Answer { status, location, headers, body: r.text().await.expect("body") }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut rb =
            self.http.request(method.clone(), url).header(reqwest::header::COOKIE, self.cookie_header());
        if method == reqwest::Method::POST
            && let Some(o) = &self.origin
        {
            rb = rb.header(reqwest::header::ORIGIN, o);
        }
        rb
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let r = self.request(reqwest::Method::GET, path).send().await.expect("GET");
        self.read(r).await
    }

    /// GET with extra headers (htmx's `HX-Request`, `Accept-Language` …).
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut rb = self.request(reqwest::Method::GET, path);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.expect("GET");
        self.read(r).await
    }

    /// POST an urlencoded form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .request(reqwest::Method::POST, path)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        self.read(r).await
    }

    /// POST `multipart/form-data`: text fields, then files (name, filename, type, bytes).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Answer {
        let boundary = "----jzqyconsoletestboundary7d1";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    .as_bytes(),
            );
        }
        for (k, filename, ty, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{filename}\"\r\nContent-Type: {ty}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let r = self
            .request(reqwest::Method::POST, path)
            .header(reqwest::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("POST");
        self.read(r).await
    }

    /// This session's form token, from a page every account may open.
    pub async fn csrf(&mut self) -> String {
        let page = self.get(sync_server::console::paths::ACCOUNT).await;
        csrf_of(&page.body).unwrap_or_default()
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A browser signed in as a console account (made if missing: an
/// administrator without `person`, else that directory person's). The
/// session is written as the sign-in would write it; the sign-in flows
/// themselves have their own tests.
pub fn signed_in(server: &TestServer, login: &str, person: Option<&str>) -> Browser {
    let state = &server.state;
    let pid = person.map(custody_core::fixtures::id);
    sync_server::console::ensure_account(state, login, login, pid, "test").expect("account");
    let l = login.to_owned();
    let account = state
        .store
        .read(move |tx| tx.console_account_by_login(&l))
        .expect("read")
        .expect("the account exists");
    let token = session::random_token();
    let now = state.now();
    let row = SessionRow {
        token_hash: session::token_hash(&token),
        account: account.id,
        scope: SessionScope::Full,
        csrf: session::random_token(),
        created_ms: now,
        expires_ms: now + 3_600_000,
        last_seen_ms: now,
        revoked_ms: None,
        ip: "127.0.0.1".into(),
        agent: "test".into(),
    };
    state.store.write(move |tx| tx.insert_console_session(&row)).expect("session");
    let mut b = Browser::new(&server.url);
    b.cookies.insert(COOKIE.into(), token);
    b
}
