//! The server the clients and the publisher speak to, and how its URLs are written: ours
//! (`/push/<ch>/<transport>`, `/api/channels/<ch>/events`) or Nchan (`/sub?id=<ch>` for
//! every transport, `/pub?id=<ch>` to publish).

use crate::wire::Technique;

#[derive(Clone, Debug)]
pub enum Peer {
    /// Our server. The token, when there is one, goes in `?token=` where a browser cannot
    /// set headers, and in `Authorization` when publishing.
    Ours {
        channel: String,
        token: Option<String>,
    },
    /// nginx with the Nchan module.
    Nchan { channel: String },
}

impl Peer {
    /// True when this server has the technique (Nchan has three of them).
    pub fn speaks(&self, technique: Technique) -> bool {
        match self {
            Peer::Ours { .. } => true,
            Peer::Nchan { .. } => nchan_speaks(technique),
        }
    }

    pub fn channel(&self) -> &str {
        match self {
            Peer::Ours { channel, .. } | Peer::Nchan { channel } => channel,
        }
    }

    /// Channel `n` of a run that spreads over `of` channels: this peer's channel itself when
    /// there is one, else the channel's name followed by `-<n>`.
    pub fn nth(&self, n: usize, of: usize) -> Peer {
        let mut peer = self.clone();
        if of > 1 {
            let name = format!("{}-{n}", self.channel());
            match &mut peer {
                Peer::Ours { channel, .. } | Peer::Nchan { channel } => *channel = name,
            }
        }
        peer
    }

    /// The token of our server, if any.
    pub fn token(&self) -> Option<&str> {
        match self {
            Peer::Ours { token, .. } => token.as_deref(),
            Peer::Nchan { .. } => None,
        }
    }

    /// The subscriber URL path of a push transport (`sse`, `ws`, `long-poll`, `iframe`,
    /// `multipart`, `script`) with its query: the pairs with a value, then the token.
    pub fn push(&self, transport: &str, pairs: &[(&str, &str)]) -> String {
        match self {
            Peer::Ours { channel, .. } => {
                format!("/push/{channel}/{transport}{}", self.query(pairs))
            }
            Peer::Nchan { channel } => format!("/sub?id={}", encode(channel)),
        }
    }

    /// Where events are published.
    pub fn publish(&self) -> String {
        match self {
            Peer::Ours { channel, .. } => format!("/api/channels/{channel}/events"),
            Peer::Nchan { channel } => format!("/pub?id={}", encode(channel)),
        }
    }

    /// True for the statuses that mean "stored": ours answers 201, Nchan 201 or 202.
    pub fn stored(&self, status: u16) -> bool {
        match self {
            Peer::Ours { .. } => status == 201,
            Peer::Nchan { .. } => matches!(status, 201 | 202),
        }
    }

    /// `?k=v&…` with the values percent-encoded, pairs without a value left out, plus
    /// `token=` when there is one; empty when nothing is left.
    pub fn query(&self, pairs: &[(&str, &str)]) -> String {
        let token = self.token().map(|t| ("token", t));
        let parts: Vec<String> = pairs
            .iter()
            .copied()
            .chain(token)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// The techniques Nchan has: Server-Sent Events, WebSocket and long polling.
pub fn nchan_speaks(technique: Technique) -> bool {
    matches!(
        technique,
        Technique::ServerSentEvents | Technique::WebSocket | Technique::LongPolling
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_like_encode_uri_component() {
        assert_eq!(encode("aB3-_.~"), "aB3-_.~");
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn urls_of_both_servers() {
        let ours = Peer::Ours {
            channel: "c".to_owned(),
            token: Some("t k".to_owned()),
        };
        assert_eq!(
            ours.push("sse", &[("since", "")]),
            "/push/c/sse?token=t%20k"
        );
        assert_eq!(
            ours.push("ws", &[("since", "a-1")]),
            "/push/c/ws?since=a-1&token=t%20k"
        );
        let nchan = Peer::Nchan {
            channel: "bench".to_owned(),
        };
        assert_eq!(nchan.push("long-poll", &[("since", "x")]), "/sub?id=bench");
        assert_eq!(nchan.publish(), "/pub?id=bench");
        assert!(nchan.stored(202) && !ours.stored(202));
        assert_eq!(nchan.nth(0, 1).publish(), "/pub?id=bench");
        assert_eq!(ours.nth(7, 10).publish(), "/api/channels/c-7/events");
    }
}
