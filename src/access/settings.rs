//! The configuration sections of access control: `[auth]`, `[clients]` and `[site]`.
//!
//! The limits live in `[clients]`, not `[limits]`: Rocket 0.5 owns `[limits]` (request body
//! sizes, where every value must be a byte count), so a list such as `trusted_proxies`
//! cannot go there.

use serde::Deserialize;

use crate::config::Section;
use crate::wire::visitor;

/// `[auth]`: tokens and what needs none.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The HS256 secret tokens are signed with; without one, only the public patterns work.
    pub secret: Option<String>,
    /// Channels anyone may publish on (rate-limited per client address).
    pub public_publish: Vec<String>,
    /// Channels anyone may subscribe to. `private-…` channels never are.
    pub public_subscribe: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            secret: None,
            public_publish: vec![visitor::SHARED.into(), format!("{}*", visitor::PREFIX)],
            public_subscribe: vec!["*".into()],
        }
    }
}

impl Section for AuthConfig {
    const NAME: &'static str = "auth";
}

/// `[clients]`: what one client, and all of them, may hold or send.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientsConfig {
    /// Anonymous publishes per second per client address (bursts of twice as many).
    pub publish_per_ip: u32,
    /// Publishes per second per token holder (bursts of twice as many).
    pub publish_per_token: u32,
    /// Streams, long polls and WebSockets one client address may hold at once.
    pub held_per_ip: u32,
    /// Streams, long polls and WebSockets the server holds at once.
    pub held_max: u32,
    /// Proxies whose `X-Forwarded-For` is believed: addresses or networks.
    pub trusted_proxies: Vec<String>,
}

impl Default for ClientsConfig {
    fn default() -> Self {
        ClientsConfig {
            publish_per_ip: 20,
            publish_per_token: 1000,
            held_per_ip: 100,
            held_max: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Section for ClientsConfig {
    const NAME: &'static str = "clients";

    /// Rejects limits of 0, which would refuse everyone.
    fn check(self) -> Result<Self, String> {
        if self.publish_per_ip == 0
            || self.publish_per_token == 0
            || self.held_per_ip == 0
            || self.held_max == 0
        {
            return Err(
                "clients.publish_per_ip, publish_per_token, held_per_ip and held_max \
                        must be > 0"
                    .into(),
            );
        }
        Ok(self)
    }
}

/// `[site]`: how the world reaches this site.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// The origins pages of this site are served from (`https://push.example.org`). Empty:
    /// `http://127.0.0.1:<port>`, `http://localhost:<port>` and `http://[::1]:<port>`.
    pub origins: Vec<String>,
}

impl Section for SiteConfig {
    const NAME: &'static str = "site";
}
