//! The framing of the three streams, cut into frames as bytes arrive: the forever iframe's
//! `<script>parent.foreverIframe(frame)</script>` chunks, multipart parts between
//! `--boundary` lines, and Server-Sent Events' fields and blank lines.

use super::streams::Kind;
use crate::experiment::http::{Head, find};
use crate::experiment::tally::Frame;

/// Cuts a stream's body into frames; what is not complete yet stays in the buffer.
pub struct Parser {
    kind: Kind,
    /// The multipart boundary, as `--<boundary>`.
    delimiter: Vec<u8>,
    /// Multipart: the next line is a part's body. SSE: the event's `event:` and `data:`.
    in_headers: bool,
    body_next: bool,
    event: String,
    data: String,
    /// The last `retry:` of an SSE stream.
    pub retry_ms: Option<u64>,
}

/// What opens each forever-iframe frame, after the `<script nonce="…">`.
const CALL: &[u8] = b"parent.foreverIframe(";
const CLOSE: &[u8] = b");</script>";

impl Parser {
    pub fn new(kind: Kind) -> Parser {
        Parser {
            kind,
            delimiter: Vec::new(),
            in_headers: false,
            body_next: false,
            event: String::new(),
            data: String::new(),
            retry_ms: None,
        }
    }

    /// Reads what the head says about framing: the multipart boundary.
    pub fn start(&mut self, head: &Head) -> Result<(), String> {
        if self.kind == Kind::Multipart {
            let content_type = head.header("content-type").unwrap_or("");
            let boundary = content_type
                .split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
                .ok_or_else(|| format!("no boundary in the Content-Type {content_type:?}"))?;
            self.delimiter = format!("--{}", boundary.trim_matches('"')).into_bytes();
        }
        Ok(())
    }

    pub fn feed(&mut self, data: &mut Vec<u8>, frames: &mut Vec<Frame>) -> Result<(), String> {
        match self.kind {
            Kind::Iframe => iframe(data, frames),
            Kind::Multipart | Kind::Sse => {
                let mut pos = 0;
                while let Some(len) = find(&data[pos..], b"\n") {
                    let line = &data[pos..pos + len];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    pos += len + 1;
                    match self.kind {
                        Kind::Multipart => self.multipart_line(line, frames)?,
                        _ => self.sse_line(&String::from_utf8_lossy(line), frames)?,
                    }
                }
                data.drain(..pos);
                Ok(())
            }
        }
    }

    fn multipart_line(&mut self, line: &[u8], frames: &mut Vec<Frame>) -> Result<(), String> {
        if let Some(rest) = line.strip_prefix(&self.delimiter[..]) {
            // `--<boundary>` opens a part, `--<boundary>--` closes the stream.
            self.in_headers = rest.is_empty();
        } else if self.in_headers {
            if line.is_empty() {
                (self.in_headers, self.body_next) = (false, true);
            }
        } else if self.body_next {
            self.body_next = false;
            frames.push(Frame::parse(line)?);
        }
        Ok(())
    }

    fn sse_line(&mut self, line: &str, frames: &mut Vec<Frame>) -> Result<(), String> {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "" if line.is_empty() => {
                let (event, data) = (
                    std::mem::take(&mut self.event),
                    std::mem::take(&mut self.data),
                );
                match event.as_str() {
                    "" | "message" if !data.is_empty() => {
                        frames.push(Frame::parse(data.as_bytes())?)
                    }
                    "reset" => {
                        let next: serde_json::Value = serde_json::from_str(&data)
                            .map_err(|e| format!("an SSE reset that is not JSON: {e}"))?;
                        let next = next
                            .get("next")
                            .and_then(|n| n.as_str())
                            .ok_or("an SSE reset without `next`")?;
                        frames.push(Frame::Reset(next.to_owned()));
                    }
                    "shutdown" => frames.push(Frame::End {
                        reason: event,
                        next: None,
                    }),
                    _ => {}
                }
            }
            "event" => self.event = value.to_owned(),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data += value;
            }
            "retry" => self.retry_ms = value.parse().ok().or(self.retry_ms),
            // `id:` is also in the envelope, which is where the cursor is taken from; comment
            // lines (heartbeats) carry nothing.
            _ => {}
        }
        Ok(())
    }
}

/// Takes every complete `parent.foreverIframe(<frame>);</script>` from the front of `data`.
fn iframe(data: &mut Vec<u8>, frames: &mut Vec<Frame>) -> Result<(), String> {
    let mut pos = 0;
    while let Some(start) = find(&data[pos..], CALL) {
        let json_at = pos + start + CALL.len();
        let Some(len) = find(&data[json_at..], CLOSE) else {
            break;
        };
        frames.push(Frame::parse(&data[json_at..json_at + len])?);
        pos = json_at + len + CLOSE.len();
    }
    // Keep a tail that may be the start of a call split across two reads.
    if find(&data[pos..], CALL).is_none() {
        pos = pos.max(data.len().saturating_sub(CALL.len()));
    }
    data.drain(..pos);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(kind: Kind, head: &str, pieces: &[&str]) -> Vec<Frame> {
        let mut parser = Parser::new(kind);
        let (head, _) = crate::experiment::http::parse_head(head.as_bytes())
            .unwrap()
            .unwrap();
        parser.start(&head).unwrap();
        let (mut data, mut out) = (Vec::new(), Vec::new());
        for piece in pieces {
            data.extend_from_slice(piece.as_bytes());
            parser.feed(&mut data, &mut out).unwrap();
        }
        out
    }

    const EVENT: &str = r#"{"id":"e-1","data":{"n":0,"sent_us":1}}"#;

    #[test]
    fn iframe_frames_split_anywhere() {
        let doc = format!(
            "<html><body>\n<!--   -->\n<script nonce=\"ab\">parent.foreverIframe(\
             {{\"type\":\"event\",\"event\":{EVENT}}});</script>\n<!-- heartbeat -->\n\
             <script nonce=\"ab\">parent.foreverIframe({{\"type\":\"end\",\"reason\":\"budget\",\"next\":\"e-1\"}});</script>\n"
        );
        let (a, b) = doc.split_at(70);
        let out = frames(Kind::Iframe, "HTTP/1.1 200 OK\r\n\r\n", &[a, b]);
        assert!(
            matches!(&out[..], [Frame::Event(_), Frame::End { .. }]),
            "{out:?}"
        );
    }

    #[test]
    fn multipart_parts_and_the_closing_line() {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary=rajaxXY\r\n\r\n";
        let part =
            |json: &str| format!("--rajaxXY\r\nContent-Type: application/json\r\n\r\n{json}\r\n");
        let body = part(r#"{"type":"hello","time":1,"heartbeat_ms":15000}"#)
            + &part(EVENT)
            + &part(r#"{"type":"heartbeat"}"#)
            + &part(r#"{"type":"end","reason":"budget","next":"e-1"}"#)
            + "--rajaxXY--\r\n";
        let (a, b) = body.split_at(50);
        let out = frames(Kind::Multipart, head, &[a, b]);
        assert!(
            matches!(
                &out[..],
                [
                    Frame::Other,
                    Frame::Event(_),
                    Frame::Other,
                    Frame::End { .. }
                ]
            ),
            "{out:?}"
        );
    }

    #[test]
    fn sse_events_resets_and_shutdown() {
        let body = format!(
            "retry: 2000\n\nevent: hello\ndata: {{\"time\":1,\"heartbeat_ms\":15000}}\n\n\
             event: reset\nid: e-0\ndata: {{\"next\":\"e-0\",\"reason\":\"evicted\"}}\n\n: heartbeat\n\n\
             id: e-1\ndata: {EVENT}\n\nretry: 2000\nevent: shutdown\ndata: {{}}\n\n"
        );
        let out = frames(Kind::Sse, "HTTP/1.1 200 OK\r\n\r\n", &[&body]);
        assert!(
            matches!(&out[..], [Frame::Reset(n), Frame::Event(_), Frame::End { .. }] if n == "e-0"),
            "{out:?}"
        );
    }
}
