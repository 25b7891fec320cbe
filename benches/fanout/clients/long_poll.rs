//! The long-poll subscribers, one request after another on a keep-alive connection.
//! Ours answers `{"events":[…],"next":"<id>","reset":bool}` (maybe after some spaces) and
//! the next request asks `?since=<next>`. Nchan answers one payload per request and the next
//! request sends its `Last-Modified` and `Etag` back as `If-Modified-Since` and
//! `If-None-Match`. A subscriber counts as connected once its first request is written.

use serde::Deserialize;

use super::{Shared, again, first};
use crate::conn::{Conn, Stamp};
use crate::http::{Body, Head};
use crate::tally::Tally;

#[derive(Deserialize)]
struct Answer {
    events: Vec<Envelope>,
    next: String,
}

#[derive(Deserialize)]
struct Envelope {
    data: Payload,
}

#[derive(Deserialize)]
struct Payload {
    seq: u64,
    ts: u64,
}

/// Our server's long poll, until the run stops it.
pub async fn ours(sh: &Shared, tally: &mut Tally) {
    let mut next: Option<String> = None;
    let Some(mut conn) = first(sh, tally, || send_new(sh, ours_request(sh, None))).await else {
        return;
    };
    let mut body = Vec::with_capacity(16 * 1024);
    loop {
        let reuse = match read_answer(&mut conn, &mut body).await {
            Ok((head, stamp)) if head.status == 200 => {
                match serde_json::from_slice::<Answer>(&body) {
                    Ok(answer) => {
                        for event in &answer.events {
                            tally.record(event.data.seq, event.data.ts, stamp);
                        }
                        next = Some(answer.next);
                        head.keep_alive()
                    }
                    Err(e) => {
                        sh.error(&format!("a long-poll answer is not the expected JSON: {e}"));
                        false
                    }
                }
            }
            Ok((head, _)) => {
                sh.error(&format!("long poll answered {}", head.status));
                false
            }
            Err(e) => {
                sh.error(&format!("long poll: {e}"));
                false
            }
        };
        if reuse {
            match conn
                .send(ours_request(sh, next.as_deref()).as_bytes())
                .await
            {
                Ok(()) => continue,
                Err(e) => sh.error(&format!("long poll: {e}")),
            }
        }
        conn = again(sh, tally, || {
            send_new(sh, ours_request(sh, next.as_deref()))
        })
        .await;
    }
}

fn ours_request(sh: &Shared, since: Option<&str>) -> String {
    let query = since.map(|id| format!("?since={id}")).unwrap_or_default();
    format!(
        "GET /push/bench/long-poll{query} HTTP/1.1\r\nHost: {}\r\n\r\n",
        sh.addr
    )
}

/// Nchan's long poll, until the run stops it.
pub async fn nchan(sh: &Shared, tally: &mut Tally) {
    let mut cursor: Option<(String, String)> = None;
    let Some(mut conn) = first(sh, tally, || send_new(sh, nchan_request(sh, None))).await else {
        return;
    };
    let mut body = Vec::with_capacity(4 * 1024);
    loop {
        let reuse = match read_answer(&mut conn, &mut body).await {
            Ok((head, stamp)) => {
                match head.status {
                    200 => {
                        if !tally.record_scan(&body, stamp) {
                            sh.error("a long-poll answer without seq and ts");
                        }
                        let modified = head.header("last-modified").unwrap_or("");
                        let etag = head.header("etag").unwrap_or("");
                        cursor = Some((modified.to_owned(), etag.to_owned()));
                    }
                    // Nothing new (a timeout): ask again with the same cursor.
                    304 | 408 => {}
                    status => sh.error(&format!("long poll answered {status}")),
                }
                head.keep_alive()
            }
            Err(e) => {
                sh.error(&format!("long poll: {e}"));
                false
            }
        };
        if reuse {
            match conn
                .send(nchan_request(sh, cursor.as_ref()).as_bytes())
                .await
            {
                Ok(()) => continue,
                Err(e) => sh.error(&format!("long poll: {e}")),
            }
        }
        conn = again(sh, tally, || {
            send_new(sh, nchan_request(sh, cursor.as_ref()))
        })
        .await;
    }
}

fn nchan_request(sh: &Shared, cursor: Option<&(String, String)>) -> String {
    let mut request = format!("GET /sub?id=bench HTTP/1.1\r\nHost: {}\r\n", sh.addr);
    if let Some((modified, etag)) = cursor {
        request += &format!("If-Modified-Since: {modified}\r\nIf-None-Match: {etag}\r\n");
    }
    request + "\r\n"
}

/// A new connection with `request` written on it.
async fn send_new(sh: &Shared, request: String) -> Result<Conn, String> {
    let mut conn = Conn::connect(sh.addr).await?;
    conn.send(request.as_bytes()).await?;
    Ok(conn)
}

/// Reads one whole answer into `body`; the stamp is when its last byte arrived.
async fn read_answer(conn: &mut Conn, body: &mut Vec<u8>) -> Result<(Head, Stamp), String> {
    let head = conn.read_head().await?;
    let mut framing = Body::for_head(&head)?;
    body.clear();
    conn.read_body(&mut framing, body).await?;
    Ok((head, Stamp::now()))
}
