//! The forever-iframe subscriber (ours only): a chunked HTML document in which every event is
//! `<script>parent.foreverIframe({"type":"event","event":<envelope>});</script>`. After a
//! byte budget the document ends with a `{"type":"end",…,"next":"<id>"}` frame and the
//! subscriber loads it again with `?since=<next>`.

use super::{Shared, again, first, frame, get, text};
use crate::conn::Conn;
use crate::http::{Body, find};
use crate::tally::Tally;

const CLOSE: &[u8] = b"</script>";

/// Reads the document, and the next ones, until the run stops it.
pub async fn run(sh: &Shared, tally: &mut Tally) {
    let Some(mut stream) = first(sh, tally, || open(sh, String::new())).await else {
        return;
    };
    let mut last_id = Vec::new();
    let mut decoded = Vec::with_capacity(16 * 1024);
    loop {
        let (conn, body) = &mut stream;
        let ended = conn
            .stream_body(body, &mut decoded, |data, stamp| {
                let mut pos = 0;
                while let Some(len) = find(&data[pos..], CLOSE) {
                    frame(&data[pos..pos + len], stamp, tally, &mut last_id);
                    pos += len + CLOSE.len();
                }
                data.drain(..pos);
            })
            .await;
        if let Err(e) = ended {
            sh.error(&format!("iframe document: {e}"));
        }
        decoded.clear();
        let since = text(&last_id);
        stream = again(sh, tally, || open(sh, since.clone())).await;
    }
}

async fn open(sh: &Shared, since: String) -> Result<(Conn, Body), String> {
    let (conn, head) = get(sh.addr, &format!("/push/bench/iframe?since={since}"), "").await?;
    Ok((conn, Body::for_head(&head)?))
}
