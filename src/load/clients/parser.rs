//! The framing of the three streams, cut into frames as bytes arrive: the forever iframe's
//! `<script>parent.foreverIframe(frame)</script>` chunks, multipart parts between
//! `--boundary` lines, and Server-Sent Events' fields and blank lines. Each frame is handed
//! to the caller as it is found, without a copy.

use crate::load::frame::{Event, Frame, string_after};
use crate::load::http::{Head, find};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Iframe,
    Multipart,
    Sse,
}

/// Cuts a stream's body into frames; what is not complete yet stays in the buffer.
pub struct Parser {
    kind: Kind,
    /// The multipart boundary, as `--<boundary>`.
    delimiter: Vec<u8>,
    /// Multipart: in a part's headers, and the next line is a part's body.
    in_headers: bool,
    body_next: bool,
    /// SSE: the `event:`, `data:` and `id:` of the event being read.
    event: Vec<u8>,
    data: Vec<u8>,
    id: Vec<u8>,
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
            event: Vec::new(),
            data: Vec::new(),
            id: Vec::new(),
            retry_ms: None,
        }
    }

    /// Starts a new stream: reads what the head says about framing (the multipart boundary)
    /// and forgets what was left of the last one.
    pub fn start(&mut self, head: &Head) -> Result<(), String> {
        (self.in_headers, self.body_next) = (false, false);
        self.event.clear();
        self.data.clear();
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

    /// Takes every complete frame from the front of `data` and hands it to `each`.
    pub fn feed(
        &mut self,
        data: &mut Vec<u8>,
        each: &mut dyn FnMut(Frame<'_>),
    ) -> Result<(), String> {
        let mut pos = 0;
        let result = match self.kind {
            Kind::Iframe => iframe(data, &mut pos, each),
            Kind::Multipart | Kind::Sse => loop {
                let Some(len) = find(&data[pos..], b"\n") else {
                    break Ok(());
                };
                let line = &data[pos..pos + len];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                pos += len + 1;
                let done = match self.kind {
                    Kind::Multipart => self.multipart_line(line, each),
                    _ => self.sse_line(line, each),
                };
                if done.is_err() {
                    break done;
                }
            },
        };
        data.drain(..pos);
        result
    }

    fn multipart_line(
        &mut self,
        line: &[u8],
        each: &mut dyn FnMut(Frame<'_>),
    ) -> Result<(), String> {
        if let Some(rest) = line.strip_prefix(&self.delimiter[..]) {
            // `--<boundary>` opens a part, `--<boundary>--` closes the stream.
            self.in_headers = rest.is_empty();
        } else if self.in_headers {
            if line.is_empty() {
                (self.in_headers, self.body_next) = (false, true);
            }
        } else if self.body_next {
            self.body_next = false;
            each(Frame::parse(line)?);
        }
        Ok(())
    }

    fn sse_line(&mut self, line: &[u8], each: &mut dyn FnMut(Frame<'_>)) -> Result<(), String> {
        if line.is_empty() {
            return self.dispatch(each);
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let (field, value) = (&line[..colon], line.get(colon + 1..).unwrap_or_default());
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match field {
            b"event" => value.clone_into(&mut self.event),
            b"data" => {
                if !self.data.is_empty() {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
            }
            // The cursor EventSource sends back as `Last-Event-ID`.
            b"id" => value.clone_into(&mut self.id),
            b"retry" => {
                let ms = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                self.retry_ms = ms.or(self.retry_ms);
            }
            // Comment lines (heartbeats) carry nothing.
            _ => {}
        }
        Ok(())
    }

    /// The blank line that ends an SSE event.
    fn dispatch(&mut self, each: &mut dyn FnMut(Frame<'_>)) -> Result<(), String> {
        let id = std::str::from_utf8(&self.id)
            .ok()
            .filter(|id| !id.is_empty());
        match &self.event[..] {
            b"" | b"message" if !self.data.is_empty() => match Frame::parse(&self.data)? {
                Frame::Event(event) => each(Frame::Event(Event {
                    id: id.or(event.id),
                    stamp: event.stamp,
                })),
                other => each(other),
            },
            b"reset" => {
                let next = string_after(&self.data, b"\"next\":\"")
                    .ok_or("an SSE reset without `next`")?;
                each(Frame::Reset(next));
            }
            b"shutdown" => each(Frame::End {
                reason: "shutdown",
                next: None,
            }),
            _ => {}
        }
        self.event.clear();
        self.data.clear();
        Ok(())
    }
}

/// Takes every complete `parent.foreverIframe(<frame>);</script>` from `data` after `pos`.
fn iframe(data: &[u8], pos: &mut usize, each: &mut dyn FnMut(Frame<'_>)) -> Result<(), String> {
    while let Some(start) = find(&data[*pos..], CALL) {
        let json_at = *pos + start + CALL.len();
        let Some(len) = find(&data[json_at..], CLOSE) else {
            break;
        };
        each(Frame::parse(&data[json_at..json_at + len])?);
        *pos = json_at + len + CLOSE.len();
    }
    // Keep a tail that may be the start of a call split across two reads.
    if find(&data[*pos..], CALL).is_none() {
        *pos = (*pos).max(data.len().saturating_sub(CALL.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames as text, e.g. `event a-1 1`, `reset e-0`, `end budget`, `other`.
    fn frames(kind: Kind, head: &str, pieces: &[&str]) -> Vec<String> {
        let mut parser = Parser::new(kind);
        let (head, _) = crate::load::http::parse_head(head.as_bytes())
            .unwrap()
            .unwrap();
        parser.start(&head).unwrap();
        let (mut data, mut out) = (Vec::new(), Vec::new());
        for piece in pieces {
            data.extend_from_slice(piece.as_bytes());
            parser
                .feed(&mut data, &mut |frame| {
                    out.push(match frame {
                        Frame::Event(e) => {
                            format!(
                                "event {} {}",
                                e.id.unwrap_or("-"),
                                e.stamp.map_or(0, |s| s.0)
                            )
                        }
                        Frame::Reset(next) => format!("reset {next}"),
                        Frame::End { reason, .. } => format!("end {reason}"),
                        Frame::Other => "other".to_owned(),
                    })
                })
                .unwrap();
        }
        out
    }

    const EVENT: &str = r#"{"id":"e-1","data":{"seq":1,"ts":1}}"#;

    #[test]
    fn iframe_frames_split_anywhere() {
        let doc = format!(
            "<html><body>\n<!--   -->\n<script nonce=\"ab\">parent.foreverIframe(\
             {{\"type\":\"event\",\"event\":{EVENT}}});</script>\n<!-- heartbeat -->\n\
             <script nonce=\"ab\">parent.foreverIframe({{\"type\":\"end\",\"reason\":\"budget\",\"next\":\"e-1\"}});</script>\n"
        );
        let (a, b) = doc.split_at(70);
        let out = frames(Kind::Iframe, "HTTP/1.1 200 OK\r\n\r\n", &[a, b]);
        assert_eq!(out, ["event e-1 1", "end budget"]);
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
        assert_eq!(out, ["other", "event e-1 1", "other", "end budget"]);
    }

    #[test]
    fn sse_events_resets_and_shutdown() {
        let body = format!(
            "retry: 2000\n\nevent: hello\ndata: {{\"time\":1,\"heartbeat_ms\":15000}}\n\n\
             event: reset\nid: e-0\ndata: {{\"next\":\"e-0\",\"reason\":\"evicted\"}}\n\n: heartbeat\n\n\
             id: e-1\ndata: {EVENT}\n\nretry: 2000\nevent: shutdown\ndata: {{}}\n\n"
        );
        let out = frames(Kind::Sse, "HTTP/1.1 200 OK\r\n\r\n", &[&body]);
        assert_eq!(out, ["reset e-0", "event e-1 1", "end shutdown"]);
    }

    #[test]
    fn an_sse_event_takes_its_id_from_the_id_field() {
        // Nchan's shape: the published bytes as data, its own id.
        let body = "id: 1700000000:0\ndata: {\"seq\":3,\"ts\":9}\n\n";
        let (a, b) = body.split_at(20);
        let out = frames(Kind::Sse, "HTTP/1.1 200 OK\r\n\r\n", &[a, b]);
        assert_eq!(out, ["event 1700000000:0 3"]);
    }
}
