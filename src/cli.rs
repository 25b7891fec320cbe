//! The command line: `reverse-ajax` serves the site; `reverse-ajax token …` prints a signed
//! token made with the configured `[auth] secret`; `reverse-ajax experiment …` measures every
//! technique (see [`crate::experiment`]).

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::access::pattern::Patterns;
use crate::access::settings::AuthConfig;
use crate::access::token::{ChannelClaims, Claims, Keys, expiry};
use crate::config;

/// Every Reverse Ajax technique, live and side by side, on one Rocket server.
#[derive(Debug, Parser)]
#[command(name = "reverse-ajax", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default). Configuration: Rocket.toml and ROCKET_* variables.
    Serve {
        /// Exit when standard input closes: the process that started this one (and holds the
        /// other end of the pipe) is gone. `reverse-ajax experiment` starts its server so.
        #[arg(long)]
        with_parent: bool,
    },
    /// Print a token signed with [auth] secret (from Rocket.toml or ROCKET_AUTH).
    Token {
        /// A channel or prefix (`team-*`) the holder may publish on; repeat for more.
        #[arg(long, value_name = "PATTERN")]
        publish: Vec<String>,
        /// A channel or prefix the holder may subscribe to; repeat for more.
        #[arg(long, value_name = "PATTERN")]
        subscribe: Vec<String>,
        /// How long the token is valid, such as `90s`, `30m`, `1h` or `7d`.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// Who holds it (the `sub` claim); publish rates are counted per holder.
        #[arg(long)]
        sub: Option<String>,
    },
    /// Measure every technique under the same load: requests, bytes, latency, server CPU.
    Experiment(crate::experiment::command::ExperimentArgs),
}

/// Ends this process once standard input reaches its end or fails: with `serve
/// --with-parent`, the other end of that pipe belongs to the parent, and the kernel closes it
/// when the parent ends in any way (SIGKILL and the OOM killer included).
pub fn exit_with_parent() {
    std::thread::spawn(|| {
        // Whatever ended the read (the end of the pipe or an error), the parent cannot be
        // reached any more.
        let _read = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        eprintln!("reverse-ajax: standard input closed (the parent process is gone); exiting");
        std::process::exit(1);
    });
}

/// Makes the token `command` asks for, with the secret of the configuration in force.
pub fn token(
    publish: Vec<String>,
    subscribe: Vec<String>,
    ttl: Duration,
    sub: Option<String>,
) -> Result<String, String> {
    if publish.is_empty() && subscribe.is_empty() {
        return Err("give at least one --publish or --subscribe pattern".into());
    }
    Patterns::parse(&publish)?;
    Patterns::parse(&subscribe)?;
    let auth = config::read::<AuthConfig>(&rocket::Config::figment())?;
    let secret = auth.secret.ok_or(
        "no [auth] secret is configured: set `secret` under [default.auth] in Rocket.toml, or \
         ROCKET_AUTH='{secret=\"…\"}' (at least 32 bytes, e.g. from `openssl rand -hex 32`)",
    )?;
    let claims = Claims {
        exp: expiry(ttl),
        sub,
        channels: ChannelClaims { publish, subscribe },
    };
    Keys::new(&secret)?.issue(&claims)
}
