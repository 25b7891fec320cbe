//! Access control: who may publish and subscribe where, how much one client may send and
//! hold, and which web pages may act on this site.
//!
//! - **Tokens** ([`token`]): JWTs signed with `[auth] secret`, carried as
//!   `Authorization: Bearer <jwt>` or, where a browser cannot set headers, `?token=<jwt>`.
//! - **Policy**: channels matching `[auth] public_publish` / `public_subscribe` need no
//!   token; `private-…` channels always need one that covers them; everything else too.
//! - **Limits** ([`rate`], [`slots`]): publishes per second and held connections per client.
//! - **Origins** ([`origin`]).
//! - **Audience** ([`audience`]): who listens on which channel, recorded by the guards.
//!
//! Every route checks through the request guards of [`guard`]; nothing here is per handler.

pub mod audience;
pub mod client;
pub mod cors;
pub mod guard;
pub mod origin;
pub mod pattern;
pub mod rate;
pub mod settings;
pub mod slots;
pub mod token;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::request::Request;

use crate::config::{self, PushConfig};
use crate::error::AppError;
use crate::hub::Channel;
use origin::Origins;
use pattern::Patterns;
use rate::{PublishRates, Publisher};
use settings::{AuthConfig, ClientsConfig, SiteConfig};
use slots::{Full, HeldSlots, Slot};
use token::{Grant, Keys};

pub use guard::{Endpoint, Listener, Operator, PublishRight, Reader, SameSite, Writer};

/// How often idle rate-limit keys are forgotten.
const SWEEP: Duration = Duration::from_secs(10);
/// What `Retry-After` suggests when a connection limit is reached, in seconds.
const HELD_RETRY: u64 = 2;

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Publish,
    Subscribe,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
        }
    }
}

/// Who is asking: the address limits count by, and what their token allows, if they sent one.
#[derive(Debug, Clone)]
pub struct Caller {
    pub address: IpAddr,
    pub grant: Option<Grant>,
}

impl Caller {
    /// Who this caller's publishes are counted against.
    pub fn publisher(&self) -> Publisher {
        match &self.grant {
            Some(grant) => Publisher::Holder(grant.holder.clone()),
            None => Publisher::Anonymous(self.address),
        }
    }
}

#[derive(Debug)]
struct Inner {
    keys: Option<Keys>,
    public_publish: Patterns,
    public_subscribe: Patterns,
    rates: PublishRates,
    slots: HeldSlots,
    trusted: Vec<IpNet>,
    origins: Origins,
}

/// The access rules of this server, shared by every guard (cheap to clone).
#[derive(Debug, Clone)]
pub struct Access(Arc<Inner>);

impl Access {
    /// Reads `[auth]`, `[clients]`, `[site]` and `push.allowed_origins`.
    pub fn from_figment(figment: &Figment) -> Result<Access, String> {
        let auth = config::read::<AuthConfig>(figment)?;
        let clients = config::read::<ClientsConfig>(figment)?;
        let site = config::read::<SiteConfig>(figment)?;
        let push = config::read::<PushConfig>(figment)?;
        let keys = auth.secret.as_deref().map(Keys::new).transpose()?;
        let patterns = |key: &str, list: &[String]| {
            Patterns::parse(list).map_err(|e| format!("auth.{key}: {e}"))
        };
        let rate = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Ok(Access(Arc::new(Inner {
            keys,
            public_publish: patterns("public_publish", &auth.public_publish)?,
            public_subscribe: patterns("public_subscribe", &auth.public_subscribe)?,
            rates: PublishRates::new(
                rate(clients.publish_per_ip),
                rate(clients.publish_per_token),
            ),
            slots: HeldSlots::new(clients.held_per_ip, clients.held_max),
            trusted: client::parse_proxies(&clients.trusted_proxies)?,
            origins: Origins::new(&site.origins, &push.allowed_origins)?,
        })))
    }

    /// Whether tokens can be checked (an `[auth] secret` is set).
    pub fn has_secret(&self) -> bool {
        self.0.keys.is_some()
    }

    /// Who sent `request`: its address and its verified token. A token that is present but
    /// cannot be verified is a 401, even on a public channel.
    pub fn caller(&self, request: &Request<'_>) -> Result<Caller, AppError> {
        let address = client::client_address(request, &self.0.trusted);
        let Some(token) = bearer(request)? else {
            return Ok(Caller {
                address,
                grant: None,
            });
        };
        let Some(keys) = &self.0.keys else {
            return Err(AppError::Unauthorized(
                "this server cannot check tokens: it has no [auth] secret (set `secret` under \
                 [default.auth] in Rocket.toml, or ROCKET_AUTH='{secret=\"…\"}')"
                    .into(),
            ));
        };
        let grant = keys.verify(token).map_err(AppError::Unauthorized)?;
        Ok(Caller {
            address,
            grant: Some(grant),
        })
    }

    /// Whether `caller` may do `action` on `channel`: 401 without a token where one is
    /// needed, 403 with one that does not cover the channel.
    pub fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        channel: &Channel,
    ) -> Result<(), AppError> {
        let name = channel.as_str();
        let public = match action {
            Action::Publish => &self.0.public_publish,
            Action::Subscribe => &self.0.public_subscribe,
        };
        let open = !name.starts_with("private-") && public.matches(name);
        let verb = action.verb();
        match &caller.grant {
            _ if open => Ok(()),
            Some(grant) => {
                let covered = match action {
                    Action::Publish => &grant.publish,
                    Action::Subscribe => &grant.subscribe,
                };
                if covered.matches(name) {
                    Ok(())
                } else {
                    Err(AppError::Forbidden(format!(
                        "this token may not {verb} on `{name}`"
                    )))
                }
            }
            None if self.has_secret() => Err(AppError::Unauthorized(format!(
                "to {verb} on `{name}` you need a token: send `Authorization: Bearer <jwt>` \
                 or `?token=<jwt>`"
            ))),
            None => Err(AppError::Unauthorized(format!(
                "`{name}` is not public, and this server has no [auth] secret to check tokens \
                 (set `secret` under [default.auth] in Rocket.toml, or \
                 ROCKET_AUTH='{{secret=\"…\"}}')"
            ))),
        }
    }

    /// Counts one publish by `publisher`: 429 with `Retry-After` past the limit.
    pub fn count_publish(&self, publisher: &Publisher) -> Result<(), AppError> {
        self.count_publishes(publisher, NonZeroU32::MIN)
    }

    /// Counts `n` publishes by `publisher` at once (all or none): 429 with `Retry-After` past
    /// the limit.
    pub fn count_publishes(&self, publisher: &Publisher, n: NonZeroU32) -> Result<(), AppError> {
        self.0.rates.check_n(publisher, n).map_err(|wait| {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            AppError::TooManyRequests(
                "too many publishes from this client: wait and send again".into(),
                seconds,
            )
        })
    }

    /// Takes a held-connection place for `caller`: 503 with `Retry-After` past a limit.
    pub fn hold(&self, caller: &Caller) -> Result<Slot, AppError> {
        self.0.slots.take(caller.address).map_err(|full| {
            let message = match full {
                Full::Client(n) => format!(
                    "this client already holds {n} streams, long polls and WebSockets (the \
                     limit of [clients] held_per_ip): close one and try again"
                ),
                Full::Server(n) => format!(
                    "the server holds its limit of {n} streams, long polls and WebSockets \
                     ([clients] held_max): try again shortly"
                ),
            };
            AppError::Busy(message, HELD_RETRY)
        })
    }

    /// Refuses a request made by another site's page.
    pub fn check_origin(&self, request: &Request<'_>) -> Result<(), AppError> {
        self.0.origins.check(request)
    }

    /// Whether a page served from `origin` is this site's, when the server listens on `port`.
    pub fn origin_allowed(&self, origin: &str, port: u16) -> bool {
        self.0.origins.allows(origin, port)
    }
}

/// What the launch log says about a server others can reach without a secret, if anything.
pub fn exposure(address: IpAddr, has_secret: bool) -> Option<String> {
    (!address.is_loopback() && !has_secret).then(|| {
        format!(
            "listening on {address} without an [auth] secret: anyone who can reach it may \
             publish on the [auth] public_publish channels (rate-limited per client) and read \
             every public_subscribe channel except private-…; nothing else works until a \
             secret is set"
        )
    })
}

/// The token a request carries: `Authorization: Bearer <jwt>`, else `?token=<jwt>`.
fn bearer<'r>(request: &'r Request<'_>) -> Result<Option<&'r str>, AppError> {
    if let Some(header) = request.headers().get_one("Authorization") {
        return match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Some(token.trim()))
            }
            _ => Err(AppError::Unauthorized(
                "send the token as `Authorization: Bearer <jwt>`".into(),
            )),
        };
    }
    match request.query_value::<&str>("token") {
        Some(Ok(token)) if !token.is_empty() => Ok(Some(token)),
        _ => Ok(None),
    }
}

/// Reads the access configuration, manages [`Access`], forgets idle rate-limit keys every
/// few seconds, and warns at launch when a non-loopback address has no secret.
pub fn stage() -> AdHoc {
    config::stage("Access", Access::from_figment, |rocket, access| {
        let sweeper = access.clone();
        rocket
            .manage(access)
            .attach(cors::SiblingReads)
            .attach(AdHoc::on_liftoff("Access sweeps", move |rocket| {
                let shutdown = rocket.shutdown();
                if let Some(warning) = exposure(rocket.config().address, sweeper.has_secret()) {
                    rocket::warn!("{warning}");
                }
                Box::pin(async move {
                    rocket::tokio::spawn(async move {
                        let mut every = rocket::tokio::time::interval(SWEEP);
                        loop {
                            rocket::tokio::select! {
                                _ = every.tick() => sweeper.0.rates.sweep(),
                                () = shutdown.clone() => break,
                            }
                        }
                    });
                })
            }))
    })
}

#[cfg(test)]
mod tests {
    use super::exposure;

    #[test]
    fn only_a_reachable_server_without_a_secret_is_warned_about() {
        let any = "0.0.0.0".parse().unwrap();
        assert!(exposure(any, false).is_some_and(|w| w.contains("anyone who can reach it")));
        assert_eq!(exposure(any, true), None);
        assert_eq!(exposure("127.0.0.1".parse().unwrap(), false), None);
        assert_eq!(exposure("::1".parse().unwrap(), false), None);
    }
}
