//! The WebSocket client: `ws://…/push/<ch>/ws?since=`, envelopes in text frames. As the page
//! does, a close for `lagged` (1013) reconnects at once from the last id, `shutdown` (1001)
//! after a pause, and anything else after a back-off.

use std::time::Duration;

use rocket::futures::StreamExt;
use tokio::time::sleep;
use tokio_tungstenite::tungstenite::Message;

use super::{Backoff, Ctx};
use crate::experiment::net::Metered;
use crate::experiment::tally::{Frame, Tally};

pub async fn run(ctx: &Ctx, tally: &mut Tally) {
    let mut since = ctx.start.clone();
    let mut backoff = Backoff::default();
    loop {
        tally.requests += 1;
        let wait = match session(ctx, &mut since, tally).await {
            Ok(1013) => Duration::ZERO,
            Ok(1001) => backoff.fail(),
            Ok(code) => {
                ctx.warn(&format!("the WebSocket closed with {code}"));
                backoff.fail()
            }
            Err(e) => {
                ctx.warn(&e);
                backoff.fail()
            }
        };
        sleep(wait).await;
    }
}

/// One connection, read until it closes; returns the close code.
async fn session(ctx: &Ctx, since: &mut String, tally: &mut Tally) -> Result<u16, String> {
    let io = Metered::connect(ctx.addr, &ctx.meter).await?;
    let url = format!(
        "ws://{}/push/{}/ws{}",
        ctx.host,
        ctx.channel,
        ctx.query(&[("since", since)])
    );
    let (mut socket, _) = tokio_tungstenite::client_async(url, io)
        .await
        .map_err(|e| format!("the WebSocket handshake failed: {e}"))?;
    // Reading also answers the server's pings.
    while let Some(message) = socket.next().await {
        match message.map_err(|e| format!("the WebSocket broke: {e}"))? {
            Message::Text(text) => match Frame::parse(text.as_bytes())? {
                Frame::Event(envelope) => {
                    tally.event(&envelope);
                    since.clone_from(&envelope.id);
                }
                Frame::Reset(next) => {
                    tally.resets += 1;
                    *since = next;
                }
                Frame::End { .. } | Frame::Other => {}
            },
            Message::Close(close) => return Ok(close.map_or(1005, |c| u16::from(c.code))),
            _ => {}
        }
    }
    Ok(1006)
}
