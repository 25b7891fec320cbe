//! The multipart subscriber (ours only): a `multipart/x-mixed-replace` stream whose parts are
//! `--<boundary>\r\nContent-Type: application/json\r\n\r\n<json>\r\n`. A part is an
//! envelope or a control frame (heartbeat, reset, end with `next`); `--<boundary>--` ends
//! the stream and the subscriber comes back with `?since=<next>`.

use super::{Shared, again, first, frame, get, text};
use crate::conn::Conn;
use crate::http::{Body, find};
use crate::tally::Tally;

/// Reads parts until the run stops it.
pub async fn run(sh: &Shared, tally: &mut Tally) {
    let Some(mut stream) = first(sh, tally, || open(sh, String::new())).await else {
        return;
    };
    let mut last_id = Vec::new();
    let mut decoded = Vec::with_capacity(16 * 1024);
    loop {
        let (conn, body, boundary) = &mut stream;
        let mut in_headers = false;
        let mut body_next = false;
        let ended = conn
            .stream_body(body, &mut decoded, |data, stamp| {
                let mut pos = 0;
                while let Some(len) = find(&data[pos..], b"\r\n") {
                    let line = &data[pos..pos + len];
                    pos += len + 2;
                    if line.starts_with(b"--") && line[2..].starts_with(boundary) {
                        in_headers = true;
                    } else if in_headers {
                        if line.is_empty() {
                            in_headers = false;
                            body_next = true;
                        }
                    } else if body_next {
                        frame(line, stamp, tally, &mut last_id);
                        body_next = false;
                    }
                }
                data.drain(..pos);
            })
            .await;
        if let Err(e) = ended {
            sh.error(&format!("multipart stream: {e}"));
        }
        decoded.clear();
        let since = text(&last_id);
        stream = again(sh, tally, || open(sh, since.clone())).await;
    }
}

/// Opens the stream; the boundary comes from its Content-Type.
async fn open(sh: &Shared, since: String) -> Result<(Conn, Body, Vec<u8>), String> {
    let target = format!("/push/bench/multipart?since={since}");
    let (conn, head) = get(sh.addr, &target, "").await?;
    let content_type = head.header("content-type").unwrap_or("");
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').as_bytes().to_vec())
        .ok_or_else(|| format!("no boundary in the Content-Type {content_type:?}"))?;
    Ok((conn, Body::for_head(&head)?, boundary))
}
