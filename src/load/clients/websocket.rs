//! The WebSocket client: `ws://…/push/<ch>/ws?since=` (or Nchan's `/sub?id=<ch>`), events
//! in text frames. As the page does, a close for `lagged` (1013) reconnects at once from the
//! last id, `shutdown` (1001) after a pause, and anything else after a back-off.

use std::time::Duration;

use rocket::futures::StreamExt;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Ctx, Life};
use crate::load::conn::Metered;
use crate::load::frame::Frame;
use crate::load::tally::{Stamp, Tally};

/// tungstenite zeroes its read buffer before every read: the default 128 KiB would cost far
/// more than the small events a client receives.
const READ_BUFFER: usize = 4 * 1024;

pub async fn run(ctx: &Ctx, tally: &mut Tally) {
    let mut life = Life::new(ctx);
    let mut since = ctx.start.clone();
    loop {
        tally.requests += 1;
        let wait = match session(ctx, &mut life, &mut since, tally).await {
            Ok(1013) => Duration::ZERO,
            Ok(1001) => life.again_later(),
            Ok(code) => {
                ctx.warn(&format!("the WebSocket closed with {code}"));
                life.again_later()
            }
            Err(e) => match life.failed(&e) {
                Some(pause) => pause,
                None => return,
            },
        };
        sleep(wait).await;
    }
}

/// One connection, read until it closes; returns the close code.
async fn session(
    ctx: &Ctx,
    life: &mut Life<'_>,
    since: &mut String,
    tally: &mut Tally,
) -> Result<u16, String> {
    life.begin().await;
    let url = format!(
        "ws://{}{}",
        ctx.host,
        ctx.peer.push("ws", &[("since", since)])
    );
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let opening = async {
        let io = Metered::connect(ctx.addr, &ctx.meter).await?;
        tokio_tungstenite::client_async_with_config(url, io, Some(config))
            .await
            .map_err(|e| format!("the WebSocket handshake failed: {e}"))
    };
    let (mut socket, _) = timeout(life.open_timeout(), opening)
        .await
        .map_err(|_| "no handshake within 30 s".to_owned())??;
    life.opened(tally, true);
    // Reading also answers the server's pings.
    while let Some(message) = socket.next().await {
        match message.map_err(|e| format!("the WebSocket broke: {e}"))? {
            Message::Text(text) => match Frame::parse(text.as_bytes())? {
                Frame::Event(event) => {
                    tally.event(&event, Stamp::now());
                    if let Some(id) = event.id {
                        id.clone_into(since);
                    }
                }
                Frame::Reset(next) => {
                    tally.resets += 1;
                    next.clone_into(since);
                }
                Frame::End { .. } | Frame::Other => {}
            },
            Message::Close(close) => return Ok(close.map_or(1005, |c| u16::from(c.code))),
            _ => {}
        }
    }
    Ok(1006)
}
