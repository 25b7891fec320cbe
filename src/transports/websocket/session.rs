//! One WebSocket connection's loop: events out as text frames (every ready one, then one
//! flush), text frames in as publishes, pings on the pump's timer, and a close frame that says
//! why the connection ends. It runs over any `Sink`/`Stream` of messages, so a test can drive
//! it without a socket.

use std::time::Duration;

use rocket::futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior, interval, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::hub::{Channel, Hub, Payload};
use crate::transports::pump::{End, Pump, Step};
use crate::transports::stream::reset_frame;

/// Everything one connection needs, so that its loop can run over any `Sink`/`Stream` pair.
pub struct Session {
    pub hub: Hub,
    pub channel: Channel,
    pub pump: Pump,
    pub write_timeout: Duration,
}

impl Session {
    /// Runs the connection until either side closes it, the client stops reading, or the
    /// server shuts down.
    pub async fn serve<S>(mut self, mut socket: S) -> Result<(), WsError>
    where
        S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin + Send,
    {
        let patience = self.write_timeout;
        // One timer for the whole session, not one per write: it ticks a few times per
        // timeout, and a write that has been going on for longer than the timeout ends.
        let mut watchdog = interval(patience / 4);
        watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);
        if self.pump.reset() {
            let frame = reset_frame(&self.pump.cursor());
            let sent = timeout(patience, socket.send(Message::text(frame.to_string()))).await;
            if sent.is_err() {
                return Ok(());
            }
        }
        let ending = loop {
            tokio::select! {
                step = self.pump.next() => {
                    let events = match step {
                        Step::Events(events) => events,
                        Step::Beat => &[],
                        Step::End(end) => break closing(end),
                    };
                    let write = async {
                        // Every ready event, then one flush: one write for all of them.
                        for event in events {
                            socket.feed(Message::text(event.json())).await?;
                        }
                        if events.is_empty() {
                            socket.feed(Message::Ping(Default::default())).await?;
                        }
                        socket.flush().await
                    };
                    let started = Instant::now();
                    let stalled = async {
                        while started.elapsed() < patience {
                            watchdog.tick().await;
                        }
                    };
                    tokio::select! {
                        written = write => written?,
                        () = stalled => break closing(End::WriteTimeout),
                    }
                },
                incoming = socket.next() => match incoming {
                    None | Some(Ok(Message::Close(_))) => break closing(End::Client),
                    Some(Ok(Message::Text(text))) => {
                        let data = Payload::text(text.as_str());
                        if let Err(error) = self.hub.publish(&self.channel, data).await {
                            rocket::warn!("websocket publish failed: {error}");
                            break Some((CloseCode::Again, "could not publish; try again later"));
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break Some((CloseCode::Unsupported, "only text frames are accepted"));
                    }
                    // Pings are answered by the library, and so is a close.
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        break Some((CloseCode::Size, "a message is at most the configured size"));
                    }
                    Some(Err(error)) => return Err(error),
                },
            }
        };
        if let Some((code, reason)) = ending {
            let close = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            // The peer may be gone or not reading; there is nobody left to tell if this fails.
            let _closed = timeout(CLOSE_PATIENCE, socket.send(Message::Close(Some(close)))).await;
        }
        Ok(())
    }
}

/// How long the closing frame may take to go out before the socket is simply dropped.
const CLOSE_PATIENCE: Duration = Duration::from_secs(1);

/// The close code and reason for each way a session ends; none when the client closed it
/// (the library answers its close frame).
fn closing(end: End) -> Option<(CloseCode, &'static str)> {
    match end {
        End::Client => None,
        End::Lagged => Some((CloseCode::Again, "fell behind; reconnect with your last id")),
        End::WriteTimeout => Some((
            CloseCode::Policy,
            "too slow to read; reconnect with your last id",
        )),
        End::Shutdown => Some((CloseCode::Away, "server shutting down")),
        // Byte budgets and caps belong to streams and held polls, not to a WebSocket.
        End::Budget | End::Cap => Some((CloseCode::Normal, "reconnect with your last id")),
    }
}
