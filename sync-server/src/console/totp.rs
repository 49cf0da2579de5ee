//! Time-based one-time passwords (RFC 6238, HMAC-SHA-1, 30 s, 6 digits):
//! the second factor of office accounts, readable by every authenticator
//! app people already have (and by the domestic ones).

use ring::hmac;

/// Seconds per step.
pub const STEP_S: i64 = 30;
/// Steps either side of now that are still accepted (clock drift).
pub const WINDOW: i64 = 1;

/// The 6-digit code for `secret` at step `counter` (RFC 4226).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let d = mac.as_ref();
    let off = (d[19] & 0x0f) as usize;
    let bin = (u32::from(d[off]) & 0x7f) << 24
        | u32::from(d[off + 1]) << 16
        | u32::from(d[off + 2]) << 8
        | u32::from(d[off + 3]);
    bin % 1_000_000
}

/// The step a time (ms since the epoch) falls in.
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000).div_euclid(STEP_S)
}

/// Whether `code` is valid at `now_ms` and newer than `last_step` (a code
/// is used once). Returns the step it matched.
pub fn check(secret: &[u8], code: &str, now_ms: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let now = step_of(now_ms);
    (now - WINDOW..=now + WINDOW)
        .filter(|s| *s >= 0 && last_step.is_none_or(|l| *s > l))
        .find(|s| hotp(secret, *s as u64) == want)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding: how authenticator apps take a secret.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(BASE32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The secret an authenticator app was given as base32 (spaces and case
/// ignored, as the apps do); `None` if it is not base32.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = BASE32.iter().position(|x| *x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
        buf &= (1 << bits) - 1;
    }
    Some(out)
}

/// The code an authenticator app shows at `now_ms`.
pub fn code_at(secret: &[u8], now_ms: i64) -> String {
    format!("{:06}", hotp(secret, step_of(now_ms).max(0) as u64))
}

/// The `otpauth://` URI an authenticator app scans.
pub fn uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_S}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B (SHA-1 rows), last six digits.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59i64, 94287082u32),
            (1_111_111_109, 7081804),
            (1_111_111_111, 14050471),
            (1_234_567_890, 89005924),
            (2_000_000_000, 69279037),
        ] {
            assert_eq!(hotp(secret, step_of(t * 1000) as u64), code % 1_000_000, "t={t}");
        }
    }

    #[test]
    fn codes_are_checked_once_and_within_a_step_of_now() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890_000;
        let code = format!("{:06}", hotp(secret, step_of(now) as u64));
        let step = check(secret, &code, now, None).unwrap();
        assert_eq!(check(secret, &code, now, Some(step)), None, "a used code is refused");
        assert!(check(secret, &code, now + 30_000, None).is_some(), "a step late is fine");
        assert_eq!(check(secret, &code, now + 120_000, None), None, "four steps late is not");
        assert_eq!(check(secret, "12345", now, None), None);
        assert_eq!(check(secret, "abcdef", now, None), None);
    }

    #[test]
    fn base32_and_uri() {
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32(b"f"), "MY");
        for bytes in [&b"12345678901234567890"[..], b"f", b"", &[0xff; 20]] {
            assert_eq!(from_base32(&base32(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(from_base32("gezd gnbv").as_deref(), Some(&b"12345"[..]));
        assert_eq!(from_base32("not base32!"), None);
        let u = uri(b"12345678901234567890", "见证取样", "admin");
        assert!(u.starts_with("otpauth://totp/%E8%A7%81"), "{u}");
        assert!(u.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
    }
}
