//! Signed tokens: JWTs signed with HMAC-SHA256 under `[auth] secret`, checked by the
//! `jsonwebtoken` crate. `exp` is required. The `channels` claim lists what the holder may
//! do: `{"publish": [patterns], "subscribe": [patterns]}` (see [`super::pattern`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::pattern::Patterns;

/// The claims of a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// When the token expires, in seconds since 1970.
    pub exp: u64,
    /// Who holds it; publish rates are counted per `sub` (or per token without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default)]
    pub channels: ChannelClaims,
}

/// The `channels` claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelClaims {
    #[serde(default)]
    pub publish: Vec<String>,
    #[serde(default)]
    pub subscribe: Vec<String>,
}

/// What a verified token allows.
#[derive(Debug, Clone)]
pub struct Grant {
    pub publish: Patterns,
    pub subscribe: Patterns,
    /// The key its publishes are counted under.
    pub holder: String,
    /// Its `exp`, in seconds since 1970.
    pub expires: u64,
}

/// Seconds past `exp` a token still counts, for clocks that disagree a little.
pub const LEEWAY: u64 = 30;

/// Why a connection admitted with a token ends or refuses a message once it has expired.
pub const EXPIRED: &str = "the token has expired: reconnect with a fresh one";

/// The moment a token that expires at `exp` (seconds since 1970) stops counting: the first
/// whole second past `exp` plus the leeway, when verification starts refusing it too.
pub fn deadline(exp: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(exp.saturating_add(LEEWAY).saturating_add(1))
}

/// Whether a token that expires at `exp` (seconds since 1970) has expired by now.
pub fn expired(exp: u64) -> bool {
    SystemTime::now() >= deadline(exp)
}

/// The keys made from the secret.
pub struct Keys {
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// The shortest secret accepted, in bytes: HS256 keys should be at least as long as the hash.
pub const MIN_SECRET: usize = 32;

impl Keys {
    pub fn new(secret: &str) -> Result<Keys, String> {
        if secret.len() < MIN_SECRET {
            return Err(format!(
                "auth.secret must be at least {MIN_SECRET} bytes (for example the output of \
                 `openssl rand -hex 32`)"
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = LEEWAY;
        let bad = |e: jsonwebtoken::errors::Error| format!("auth.secret cannot be used: {e}");
        Ok(Keys {
            decoding: DecodingKey::from_secret(secret.as_bytes()).map_err(bad)?,
            encoding: EncodingKey::from_secret(secret.as_bytes()).map_err(bad)?,
            validation,
        })
    }

    /// Checks a token's signature, algorithm and expiry; the error is one line for the client
    /// and never repeats the token.
    pub fn verify(&self, token: &str) -> Result<Grant, String> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidSignature => "the token's signature does not match",
                    ErrorKind::MissingRequiredClaim(_) => "the token has no `exp` claim",
                    ErrorKind::InvalidAlgorithm => "the token must be signed with HS256",
                    _ => "the token is not a well-formed JWT with the claims this server reads",
                }
                .to_owned()
            })?;
        let claims = data.claims;
        let holder = claims.sub.clone().unwrap_or_else(|| {
            // Without a subject, the token itself (its signature part) is the holder.
            token.rsplit('.').next().unwrap_or(token).to_owned()
        });
        let patterns = |list: &[String]| {
            Patterns::parse(list).map_err(|e| format!("the token's channels claim: {e}"))
        };
        Ok(Grant {
            publish: patterns(&claims.channels.publish)?,
            subscribe: patterns(&claims.channels.subscribe)?,
            holder,
            expires: claims.exp,
        })
    }

    /// Signs `claims`.
    pub fn issue(&self, claims: &Claims) -> Result<String, String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| format!("the token could not be signed: {e}"))
    }
}

/// Seconds since 1970, `ttl` from now.
pub fn expiry(ttl: Duration) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(ttl)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn claims(exp: u64) -> Claims {
        Claims {
            exp,
            sub: None,
            channels: ChannelClaims {
                publish: vec!["team-*".into()],
                subscribe: vec!["private-a".into()],
            },
        }
    }

    #[test]
    fn a_signed_token_round_trips() {
        let keys = Keys::new(SECRET).unwrap();
        let grant = keys
            .verify(
                &keys
                    .issue(&claims(expiry(Duration::from_secs(60))))
                    .unwrap(),
            )
            .unwrap();
        assert!(grant.publish.matches("team-x") && grant.subscribe.matches("private-a"));
        assert!(!grant.subscribe.matches("private-b"));
    }

    #[test]
    fn bad_tokens_are_refused_with_a_reason() {
        let keys = Keys::new(SECRET).unwrap();
        let expired = keys.issue(&claims(expiry(Duration::ZERO) - 120)).unwrap();
        assert_eq!(keys.verify(&expired).unwrap_err(), "the token has expired");
        let other = Keys::new(&SECRET.replace('0', "1")).unwrap();
        let forged = other
            .issue(&claims(expiry(Duration::from_secs(60))))
            .unwrap();
        assert!(keys.verify(&forged).unwrap_err().contains("signature"));
        assert!(keys.verify("not.a.jwt").is_err());
        assert!(Keys::new("short").is_err());
    }
}
