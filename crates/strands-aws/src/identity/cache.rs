//! What the identity client remembers between calls: access tokens until they expire, and the
//! consent sessions waiting for the user. Both are bounded.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{AccessToken, Secret};

/// Tokens kept at most; past it, expired ones go first, then the one expiring soonest.
pub(super) const MAX_TOKENS: usize = 1024;
/// Consent sessions remembered at most, and for how long (Python polls for 600 s).
pub(super) const MAX_PENDING: usize = 1024;
pub(super) const PENDING_LIFETIME: Duration = Duration::from_secs(600);
/// The largest JWT payload decoded to find `exp`.
const MAX_JWT_PAYLOAD: usize = 16 * 1024;

/// The `exp` claim of a JWT, if `token` is one; `None` for opaque tokens (not cached).
pub(super) fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    if payload.len() > MAX_JWT_PAYLOAD {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64().filter(|exp| *exp > 0.0)?;
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)
}

type Key = (String, String);

/// Access tokens per (principal, request), until `margin` before their expiry.
#[derive(Debug)]
pub(super) struct TokenCache {
    margin: Duration,
    tokens: Mutex<HashMap<Key, (Secret, SystemTime)>>,
}

impl TokenCache {
    pub(super) fn new(margin: Duration) -> Self {
        Self {
            margin,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    fn usable_until(&self, expires_at: SystemTime) -> Option<SystemTime> {
        expires_at.checked_sub(self.margin)
    }

    pub(super) fn get(&self, principal: &str, request: &str) -> Option<Secret> {
        let now = SystemTime::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (principal.to_owned(), request.to_owned());
        match tokens.get(&key) {
            Some((secret, until)) if *until > now => Some(secret.clone()),
            Some(_) => {
                tokens.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `token` if it says when it expires and is usable for a while yet.
    pub(super) fn put(&self, principal: &str, request: &str, token: &AccessToken) {
        let Some(until) = token.expires_at.and_then(|at| self.usable_until(at)) else {
            return;
        };
        let now = SystemTime::now();
        if until <= now {
            return;
        }
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if tokens.len() >= MAX_TOKENS {
            tokens.retain(|_, (_, until)| *until > now);
        }
        if tokens.len() >= MAX_TOKENS
            && let Some(soonest) = tokens
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(key, _)| key.clone())
        {
            tokens.remove(&soonest);
        }
        tokens.insert(
            (principal.to_owned(), request.to_owned()),
            (token.secret.clone(), until),
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Consent sessions waiting for the user, per (principal, request): the session URI to poll
/// with when the caller answers the interrupt.
#[derive(Debug, Default)]
pub(super) struct Pending {
    sessions: Mutex<HashMap<Key, (String, Instant)>>,
}

impl Pending {
    pub(super) fn put(&self, principal: &str, request: &str, session_uri: String) {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.len() >= MAX_PENDING {
            sessions.retain(|_, (_, at)| now.duration_since(*at) < PENDING_LIFETIME);
        }
        if sessions.len() >= MAX_PENDING
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(key, _)| key.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            (principal.to_owned(), request.to_owned()),
            (session_uri, now),
        );
    }

    /// The session URI, if one is waiting and not too old; it stays until [`Pending::done`], so
    /// an answer given too early can be given again.
    pub(super) fn get(&self, principal: &str, request: &str) -> Option<String> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let (uri, at) = sessions.get(&(principal.to_owned(), request.to_owned()))?;
        (at.elapsed() < PENDING_LIFETIME).then(|| uri.clone())
    }

    /// Forgets the session: its token arrived.
    pub(super) fn done(&self, principal: &str, request: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(principal.to_owned(), request.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    fn token(expires_in: i64) -> AccessToken {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let exp = now.saturating_add_signed(expires_in);
        let value = jwt(&format!(r#"{{"exp": {exp}}}"#));
        AccessToken {
            expires_at: jwt_expiry(&value),
            secret: Secret::new(value),
        }
    }

    #[test]
    fn the_expiry_is_read_from_a_jwt_and_opaque_tokens_have_none() {
        assert_eq!(
            jwt_expiry(&jwt(r#"{"exp": 2000000000}"#)),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert_eq!(jwt_expiry("opaque-token"), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"sub": "x"}"#)), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"exp": -5}"#)), None);
    }

    #[test]
    fn a_token_is_served_until_the_margin_before_it_expires() {
        let cache = TokenCache::new(Duration::from_secs(60));
        cache.put("user:a", "github", &token(3600));
        assert!(cache.get("user:a", "github").is_some());
        assert!(
            cache.get("user:b", "github").is_none(),
            "never another user's"
        );
        assert!(cache.get("user:a", "gitlab").is_none());

        cache.put("user:c", "github", &token(59));
        assert!(cache.get("user:c", "github").is_none(), "inside the margin");
        let opaque = AccessToken {
            secret: Secret::new("opaque"),
            expires_at: None,
        };
        cache.put("user:d", "github", &opaque);
        assert!(
            cache.get("user:d", "github").is_none(),
            "no expiry, no caching"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::new(Duration::ZERO);
        for i in 0..MAX_TOKENS + 10 {
            cache.put(&format!("user:{i}"), "github", &token(3600));
        }
        assert_eq!(cache.len(), MAX_TOKENS);
        assert!(
            cache
                .get(&format!("user:{}", MAX_TOKENS + 9), "github")
                .is_some()
        );
    }

    #[test]
    fn pending_sessions_stay_until_done_and_are_bounded() {
        let pending = Pending::default();
        for i in 0..MAX_PENDING + 5 {
            pending.put(&format!("user:{i}"), "github", format!("urn:{i}"));
        }
        assert_eq!(pending.sessions.lock().unwrap().len(), MAX_PENDING);
        let last = format!("user:{}", MAX_PENDING + 4);
        let uri = format!("urn:{}", MAX_PENDING + 4);
        assert_eq!(pending.get(&last, "github").as_deref(), Some(uri.as_str()));
        assert_eq!(pending.get(&last, "github").as_deref(), Some(uri.as_str()));
        pending.done(&last, "github");
        assert_eq!(pending.get(&last, "github"), None);
    }
}
