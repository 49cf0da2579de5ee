//! Passwords of office accounts: Argon2id (OWASP's first choice), salted
//! per password, stored as a PHC string; and what a password must be.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hash a password for storage.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| "randomness".to_owned())?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` is the one `stored` was made from.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// What a new password must be, said in both languages when it is not.
pub fn acceptable(password: &str, login: &str) -> Result<(), (String, String)> {
    let n = password.chars().count();
    if n < 10 {
        return Err(("密码至少 10 个字符".into(), "a password needs at least 10 characters".into()));
    }
    if n > 200 {
        return Err(("密码过长".into(), "the password is too long".into()));
    }
    if password.to_lowercase().contains(&login.to_lowercase()) {
        return Err(("密码不能包含登录名".into(), "the password may not contain the login name".into()));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err((
            "密码须包含小写字母、大写字母、数字、符号中的至少三类".into(),
            "use at least three of: lower case, upper case, digits, symbols".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("Correct-horse-9").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Correct-horse-9", &h));
        assert!(!verify("correct-horse-9", &h));
        assert!(!verify("Correct-horse-9", "not a hash"));
        assert_ne!(hash("Correct-horse-9").unwrap(), h, "salted");
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(acceptable("short1A!", "ops").is_err());
        assert!(acceptable("alllowercaseletters", "ops").is_err());
        assert!(acceptable("Ops-admin-2026", "admin").is_err());
        assert!(acceptable("Tower-crane-42", "admin").is_ok());
    }
}
