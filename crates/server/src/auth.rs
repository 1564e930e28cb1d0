//! Credentials and secrets: argon2id password hashes, random session ids and API tokens (stored
//! only as SHA-256 hashes), and CSRF tokens derived with HMAC from the cookie they protect.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use marquee_domain::Password;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "marquee_session";
/// Holds a random value for signed-out visitors, so sign-in and sign-up forms have a CSRF token.
pub const ANON_COOKIE: &str = "marquee_csrf";
pub const SESSION_DAYS: i64 = 30;
pub const TOKEN_PREFIX: &str = "mq_";

fn argon2() -> Argon2<'static> {
    // OWASP's recommended argon2id settings: 19 MiB, 2 passes, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("static params"),
    )
}

/// Hashes a new password. Slow on purpose: call it from a blocking task.
pub fn hash_password(password: &Password) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify_password(stored: &str, candidate: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| argon2().verify_password(candidate.as_bytes(), &h).is_ok())
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a session id or API token.
pub fn hash_secret(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// The server's keys, shared by every instance through the database.
#[derive(Clone)]
pub struct Keys {
    csrf: [u8; 32],
    /// Signs devices' stream URLs (`signed_urls`). Derived from the stored secret rather than
    /// reusing the CSRF key, so a value signed for one purpose is never valid for the other.
    stream: [u8; 32],
}

impl Keys {
    pub fn new(csrf: &[u8]) -> anyhow::Result<Self> {
        let csrf: [u8; 32] = csrf
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored CSRF key is not 32 bytes"))?;
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(&csrf).expect("any key length");
        derive.update(b"marquee stream-url signing key v1");
        let stream = derive.finalize().into_bytes().into();
        Ok(Self { csrf, stream })
    }

    /// The key for signed stream URLs.
    pub fn stream_key(&self) -> &[u8; 32] {
        &self.stream
    }

    pub fn generate_secret() -> [u8; 32] {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        k
    }

    /// The CSRF token for forms sent with the given cookie: HMAC(key, kind ‖ cookie value).
    /// Bound to the cookie, so a token from one session is useless in another.
    pub fn csrf_token(&self, cookie_name: &str, cookie_value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf).expect("any key length");
        mac.update(cookie_name.as_bytes());
        mac.update(b"\0");
        mac.update(cookie_value.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn csrf_matches(&self, cookie_name: &str, cookie_value: &str, provided: &str) -> bool {
        let expected = self.csrf_token(cookie_name, cookie_value);
        expected.as_bytes().ct_eq(provided.as_bytes()).into()
    }
}

/// Finds a cookie's value in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then_some(v)
    })
}

/// A `Set-Cookie` value with the flags every Marquee cookie carries.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_the_right_one() {
        let p = Password::parse("correct horse battery").unwrap();
        let h = hash_password(&p).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_cookie() {
        let keys = Keys::new(&[7; 32]).unwrap();
        let t = keys.csrf_token(SESSION_COOKIE, "abc");
        assert!(keys.csrf_matches(SESSION_COOKIE, "abc", &t));
        assert!(!keys.csrf_matches(SESSION_COOKIE, "abd", &t));
        assert!(!keys.csrf_matches(ANON_COOKIE, "abc", &t));
        assert!(!keys.csrf_matches(SESSION_COOKIE, "abc", ""));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; marquee_session=xyz; marquee_session_old=no";
        assert_eq!(cookie(h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(h, "b"), None);
    }

    #[test]
    fn session_tokens_carry_256_random_bits() {
        let t = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, random_token());
    }
}
