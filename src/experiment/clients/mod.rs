//! The simulated browsers: one module per family of techniques, each speaking its technique
//! as the page's script in `static/js/techniques/` does (same URLs, cursor handling,
//! reconnections and back-off). This module holds what they share.

mod frames;
mod long_poll;
mod polling;
mod streams;
mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::sync::mpsc::UnboundedSender;

use super::Technique;
use super::http::{Body, Head};
use super::net::{Link, Meter};
use super::tally::Tally;

/// Warnings passed on per technique run; the rest are only counted.
const SHOWN_WARNINGS: usize = 5;

/// What every client of one technique run shares.
pub struct Ctx {
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    pub channel: String,
    /// Sent as `?token=` where a browser cannot set headers.
    pub token: Option<String>,
    pub interval: Duration,
    /// The cursor a page starts from (the head the server wrote into its `data-next`).
    pub start: String,
    pub meter: Arc<Meter>,
    pub warnings: UnboundedSender<String>,
    pub warned: AtomicUsize,
}

impl Ctx {
    /// Passes a client's trouble on, the first few times.
    pub fn warn(&self, what: &str) {
        let n = self.warned.fetch_add(1, Ordering::Relaxed);
        // The receiver is gone only once the run is over; nobody needs the warning then.
        let _ignored = if n < SHOWN_WARNINGS {
            self.warnings.send(what.to_owned())
        } else if n == SHOWN_WARNINGS {
            self.warnings
                .send("(more client errors not shown)".to_owned())
        } else {
            Ok(())
        };
    }

    /// `?k=v&…` with the values percent-encoded, plus `token=` when there is one.
    pub fn query(&self, pairs: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        if let Some(token) = &self.token {
            all.push(("token", token));
        }
        let parts: Vec<String> = all
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("?{}", parts.join("&"))
    }
}

/// Runs one client of `technique` until the caller stops polling the future.
pub async fn run(technique: Technique, ctx: &Ctx, tally: &mut Tally) {
    use Technique::*;
    match technique {
        Polling => polling::run(polling::Kind::Fetch, ctx, tally).await,
        JsonpPolling => polling::run(polling::Kind::Jsonp, ctx, tally).await,
        Piggyback => polling::run(polling::Kind::Piggyback, ctx, tally).await,
        ForeverIframe => streams::run(streams::Kind::Iframe, ctx, tally).await,
        MultipartStreaming => streams::run(streams::Kind::Multipart, ctx, tally).await,
        ServerSentEvents => streams::run(streams::Kind::Sse, ctx, tally).await,
        ScriptLongPolling => long_poll::run(long_poll::Kind::Script, ctx, tally).await,
        LongPolling => long_poll::run(long_poll::Kind::Fetch, ctx, tally).await,
        WebSocket => websocket::run(ctx, tally).await,
    }
}

/// Percent-encoding as `encodeURIComponent` does it.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out += &format!("%{byte:02X}");
        }
    }
    out
}

/// The whole body of an answer that must be a 200; `what` names the request in the error.
pub async fn ok_body(
    link: &mut Link,
    (head, body): (&Head, Body),
    what: &str,
) -> Result<Vec<u8>, String> {
    let body = link.body(head, body).await?;
    if head.status != 200 {
        return Err(format!(
            "{what} answered {}: {}",
            head.status,
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}

/// The argument of a JSONP answer `/**/name({…});` (leading spaces allowed).
pub fn jsonp_argument(body: &[u8]) -> Result<&[u8], String> {
    let open = body.iter().position(|&b| b == b'(');
    let close = body.iter().rposition(|&b| b == b')');
    match (open, close) {
        (Some(open), Some(close)) if open < close => Ok(&body[open + 1..close]),
        _ => Err("an answer that is not a JSONP call".to_owned()),
    }
}

/// A capped exponential back-off: 1 s doubling up to 30 s, each pause drawn between half and
/// all of its ceiling.
#[derive(Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn fail(&mut self) -> Duration {
        let ceiling = (1000u64 << self.failures.min(5)).min(30_000);
        self.failures += 1;
        Duration::from_millis(rand::thread_rng().gen_range(ceiling / 2..=ceiling))
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_like_encode_uri_component() {
        assert_eq!(encode("aB3-_.~"), "aB3-_.~");
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn the_argument_of_a_jsonp_call() {
        let body = b"  /**/ReverseAjax.jsonp.cb1({\"events\":[]});";
        assert_eq!(jsonp_argument(body), Ok(&b"{\"events\":[]}"[..]));
        assert!(jsonp_argument(b"{}").is_err());
    }

    #[test]
    fn back_off_doubles_up_to_thirty_seconds() {
        let mut backoff = Backoff::default();
        let first = backoff.fail();
        assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
        let last = (0..10).map(|_| backoff.fail()).last().unwrap();
        assert!(last >= Duration::from_secs(15) && last <= Duration::from_secs(30));
    }
}
