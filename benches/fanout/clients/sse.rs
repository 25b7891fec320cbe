//! The Server-Sent Events subscriber, for both servers: one streamed GET whose chunked body
//! is split into lines and events. It keeps the last `id:` and, when the stream ends,
//! reconnects with `Last-Event-ID`.

use super::{Shared, again, first, get, text};
use crate::conn::{Conn, Stamp};
use crate::http::Body;
use crate::servers::Kind;
use crate::tally::Tally;

/// Reads events until the run stops it.
pub async fn run(sh: &Shared, tally: &mut Tally) {
    let Some(mut stream) = first(sh, tally, || open(sh, None)).await else {
        return;
    };
    let mut parser = Parser::default();
    let mut decoded = Vec::with_capacity(16 * 1024);
    loop {
        let (conn, body) = &mut stream;
        let ended = conn
            .stream_body(body, &mut decoded, |data, stamp| {
                parser.take(data, stamp, tally);
            })
            .await;
        if let Err(e) = ended {
            sh.error(&format!("SSE stream: {e}"));
        }
        decoded.clear();
        parser.partial = None;
        let last = (!parser.last_id.is_empty()).then(|| text(&parser.last_id));
        stream = again(sh, tally, || open(sh, last.clone())).await;
    }
}

async fn open(sh: &Shared, last_id: Option<String>) -> Result<(Conn, Body), String> {
    let target = match sh.server {
        Kind::Ours => "/push/bench/sse",
        Kind::Nchan => "/sub?id=bench",
    };
    let mut extra = String::from("Accept: text/event-stream\r\n");
    if let Some(id) = last_id {
        extra += &format!("Last-Event-ID: {id}\r\n");
    }
    let (conn, head) = get(sh.addr, target, &extra).await?;
    Ok((conn, Body::for_head(&head)?))
}

/// The event-stream parser; it keeps what it needs between reads.
#[derive(Default)]
struct Parser {
    /// The id of the last event dispatched.
    last_id: Vec<u8>,
    /// The `id:` of the event being read, when `has_id`.
    pending_id: Vec<u8>,
    has_id: bool,
    /// The (seq, ts) of the event being read.
    partial: Option<(u64, u64)>,
}

impl Parser {
    /// Takes every complete line from the front of `data`.
    fn take(&mut self, data: &mut Vec<u8>, stamp: Stamp, tally: &mut Tally) {
        let mut pos = 0;
        while let Some(len) = data[pos..].iter().position(|&b| b == b'\n') {
            let mut line = &data[pos..pos + len];
            pos += len + 1;
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            if line.is_empty() {
                self.dispatch(stamp, tally);
            } else if let Some(value) = line.strip_prefix(b"data:") {
                let seq = crate::tally::number_after(value, b"\"seq\":");
                let ts = crate::tally::number_after(value, b"\"ts\":");
                if let (Some(seq), Some(ts)) = (seq, ts) {
                    self.partial = Some((seq, ts));
                }
            } else if let Some(value) = line.strip_prefix(b"id:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                self.pending_id.clear();
                self.pending_id.extend_from_slice(value);
                self.has_id = true;
            }
            // `event:`, `retry:` and comment lines change nothing we measure.
        }
        data.drain(..pos);
    }

    /// The blank line that ends an event.
    fn dispatch(&mut self, stamp: Stamp, tally: &mut Tally) {
        if self.has_id {
            // A swap, so no event costs an allocation.
            std::mem::swap(&mut self.last_id, &mut self.pending_id);
            self.has_id = false;
        }
        if let Some((seq, ts)) = self.partial.take() {
            tally.record(seq, ts, stamp);
        }
    }
}
