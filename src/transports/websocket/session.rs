//! One WebSocket connection's loop: events out as text frames (every ready one, then one
//! flush), text frames in as publishes, heartbeats on the pump's timer, and a close that says
//! why the connection ends and that reaches the client.
//!
//! A heartbeat is two frames. The ping keeps proxies' idle timers from closing the line and
//! lets any client's library see that the server is there; but browsers answer pings without
//! telling scripts, so a text frame `{"type":"heartbeat"}` follows, which a page can see and
//! time its silence rule against (the hello's `heartbeat_ms` is their interval). The echo
//! route sends neither the hello nor heartbeat frames, only pings: every text frame there
//! must be an echo.
//!
//! Every end is one [`Ending`]. A client's protocol error closes with the code RFC 6455 gives
//! it (1002, 1007 for invalid UTF-8, 1009 for a message over the limit). The close frame is
//! then followed by a lingering close: the server half-closes the connection and reads (and
//! discards) whatever the client still sends until it closes its side, so that unread input
//! never makes the kernel answer with a reset that would swallow the close frame.
//!
//! The loop runs over any byte stream, so a test can drive it through an in-memory pipe.

use std::future::Future;
use std::time::Duration;

use rocket::futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, Interval, MissedTickBehavior, interval, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::access::PublishRight;
use crate::access::token;
use crate::hub::{Channel, Hub, Payload};
use crate::metrics::{PublishOutcome, Publishes};
use crate::transports::pump::{End, Pump, Step};
use crate::transports::stream::{Opening, heartbeat_frame};

/// What the connection does with the messages the client sends.
#[derive(Debug)]
pub enum Mode {
    /// Text frames are published to the channel, each admitted by the connection's right:
    /// within the caller's rate and while its token lasts (else close 1008); binary frames
    /// are refused (1003). What becomes of each is counted.
    Publish(PublishRight, Publishes),
    /// The caller may read the channel but not publish on it: a data frame closes with 1008.
    Listen,
    /// Every message is sent back as it came: the route the WebSocket conformance suite
    /// (Autobahn) runs against, mounted only when `push.ws_echo` is set.
    Echo,
}

/// Everything one connection needs.
pub struct Session {
    pub hub: Hub,
    pub channel: Channel,
    pub pump: Pump,
    pub mode: Mode,
    pub write_timeout: Duration,
}

/// How a connection ends.
enum Ending {
    /// With a close frame of ours, then a lingering close.
    Close(CloseCode, &'static str),
    /// The client closed it: the library's answer to its close frame goes out, then the end.
    Answer,
    /// The connection is broken: there is nobody left to tell.
    Gone,
}

/// What to do with one message from the client.
enum Take {
    Publish(Payload),
    Echo(Message),
    Refuse(CloseCode, &'static str),
}

/// How long the closing frame may take to go out, and how long the server then waits for
/// the client to close its side, before the socket is simply dropped.
const CLOSE_PATIENCE: Duration = Duration::from_secs(1);
const LINGER: Duration = Duration::from_secs(2);

impl Session {
    /// Runs the connection until either side closes it, the client stops reading, or the
    /// server shuts down.
    pub async fn serve<T>(mut self, mut socket: WebSocketStream<T>)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let patience = self.write_timeout;
        // One timer for the whole session, not one per write: it ticks a few times per
        // timeout, and a write that has been going on for longer than the timeout ends.
        let mut watchdog = interval(patience / 4);
        watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // An echo sends nothing of its own: every text frame there must be an echo.
        let opening = (!matches!(self.mode, Mode::Echo)).then(|| Opening::of(&self.pump));
        let sent = within(&mut watchdog, patience, async {
            for frame in opening.iter().flat_map(Opening::frames) {
                socket.feed(Message::text(frame.to_string())).await?;
            }
            socket.flush().await
        });
        let ending = match sent.await {
            Ok(Ok(())) => self.run(&mut socket, &mut watchdog).await,
            Ok(Err(error)) => self.broken(&error),
            Err(end) => self.cut(end),
        };
        finish(socket, ending).await;
    }

    /// The loop proper, until something ends it.
    async fn run<T>(&mut self, socket: &mut WebSocketStream<T>, watchdog: &mut Interval) -> Ending
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let patience = self.write_timeout;
        loop {
            let written = tokio::select! {
                step = self.pump.next() => {
                    let events = match step {
                        Step::Events(events) => events,
                        Step::Beat => &[],
                        Step::End(end) => return closing(end),
                    };
                    let beat = if events.is_empty() { heartbeat(&self.mode) } else { Vec::new() };
                    let bytes = events.iter().map(|e| e.json().len()).sum();
                    let written = within(watchdog, patience, async {
                        // Every ready event, then one flush: one write for all of them.
                        for event in events {
                            socket.feed(Message::text(event.json())).await?;
                        }
                        for frame in beat {
                            socket.feed(frame).await?;
                        }
                        socket.flush().await
                    })
                    .await;
                    self.pump.sent(bytes);
                    written
                },
                incoming = socket.next() => match incoming {
                    None | Some(Ok(Message::Close(_))) => return Ending::Answer,
                    Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                        match self.take(message) {
                            Take::Publish(data) => {
                                let published = self.hub.publish(&self.channel, data).await;
                                if let Mode::Publish(_, publishes) = &self.mode {
                                    publishes.count(match published {
                                        Ok(_) => PublishOutcome::Stored,
                                        Err(_) => PublishOutcome::Unavailable,
                                    });
                                }
                                if let Err(error) = published {
                                    rocket::warn!("websocket publish failed: {error}");
                                    return Ending::Close(CloseCode::Again, "could not publish; try again later");
                                }
                                Ok(Ok(()))
                            }
                            Take::Echo(message) => within(watchdog, patience, socket.send(message)).await,
                            Take::Refuse(code, reason) => return Ending::Close(code, reason),
                        }
                    }
                    // Pings are answered by the library.
                    Some(Ok(_)) => Ok(Ok(())),
                    Some(Err(error)) => return match refusing(&error) {
                        Ending::Gone => self.broken(&error),
                        refused => refused,
                    },
                },
            };
            match written {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return self.broken(&error),
                Err(end) => return self.cut(end),
            }
        }
    }

    /// The connection ends for `end`, found here rather than by the pump (a write that took
    /// too long).
    fn cut(&mut self, end: End) -> Ending {
        self.pump.ending(end);
        closing(end)
    }

    /// The connection broke with `error`. A write or read that failed with `ETIMEDOUT` is
    /// the kernel's user timeout (`push.write_timeout_ms`, set by `crate::listener`) ending
    /// a connection whose client stopped reading: a write timeout, not the client leaving.
    fn broken(&mut self, error: &WsError) -> Ending {
        if matches!(error, WsError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut) {
            self.pump.ending(End::WriteTimeout);
        }
        Ending::Gone
    }

    /// What a client's data message asks for.
    fn take(&self, message: Message) -> Take {
        match (&self.mode, message) {
            (Mode::Echo, message) => Take::Echo(message),
            (Mode::Listen, _) => Take::Refuse(
                CloseCode::Policy,
                "this connection may not publish on its channel",
            ),
            (Mode::Publish(right, publishes), Message::Text(text)) => match right.admit() {
                Ok(()) => Take::Publish(Payload::text(text.as_str())),
                Err(reason) => {
                    publishes.count(PublishOutcome::Refused);
                    Take::Refuse(CloseCode::Policy, reason)
                }
            },
            (Mode::Publish(..), _) => {
                Take::Refuse(CloseCode::Unsupported, "only text frames are accepted")
            }
        }
    }
}

/// The frames of one heartbeat: a ping, then (except on an echo, where every text frame
/// must be an echo) the text frame a page can see.
fn heartbeat(mode: &Mode) -> Vec<Message> {
    let ping = Message::Ping(Default::default());
    match mode {
        Mode::Echo => vec![ping],
        _ => vec![ping, Message::text(heartbeat_frame().to_string())],
    }
}

/// Runs `write`, giving up with [`End::WriteTimeout`] once it has taken longer than
/// `patience` (checked at the ticks of `watchdog`).
async fn within<F>(watchdog: &mut Interval, patience: Duration, write: F) -> Result<F::Output, End>
where
    F: Future,
{
    let started = Instant::now();
    let stalled = async {
        while started.elapsed() < patience {
            watchdog.tick().await;
        }
    };
    tokio::select! {
        written = write => Ok(written),
        () = stalled => Err(End::WriteTimeout),
    }
}

/// The end for a client that broke the protocol, by RFC 6455's codes.
fn refusing(error: &WsError) -> Ending {
    match error {
        WsError::Capacity(_) => {
            Ending::Close(CloseCode::Size, "a message is at most the configured size")
        }
        WsError::Utf8(_) => Ending::Close(CloseCode::Invalid, "a text message must be UTF-8"),
        WsError::Protocol(_) => {
            Ending::Close(CloseCode::Protocol, "the WebSocket protocol was broken")
        }
        _ => Ending::Gone,
    }
}

/// The end for each way the pump stops.
fn closing(end: End) -> Ending {
    match end {
        End::Lagged => Ending::Close(CloseCode::Again, "fell behind; reconnect with your last id"),
        End::WriteTimeout => Ending::Close(
            CloseCode::Policy,
            "too slow to read; reconnect with your last id",
        ),
        End::Shutdown => Ending::Close(CloseCode::Away, "server shutting down"),
        End::TokenExpired => Ending::Close(CloseCode::Policy, token::EXPIRED),
        // Byte budgets and caps belong to streams and held polls, not to a WebSocket.
        End::Budget | End::Cap => Ending::Close(CloseCode::Normal, "reconnect with your last id"),
    }
}

fn close_frame(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }
}

/// Ends the connection as `ending` says. Every wait is bounded: the peer may be gone, or
/// not reading, and there is nobody left to tell if any of this fails.
async fn finish<T>(mut socket: WebSocketStream<T>, ending: Ending)
where
    T: AsyncRead + AsyncWrite + Unpin + Send,
{
    match ending {
        Ending::Gone => {}
        Ending::Answer => {
            // Reading on sends the library's answer to the client's close frame.
            let _answered = timeout(LINGER, async { while socket.next().await.is_some() {} }).await;
        }
        Ending::Close(code, reason) => {
            let close = Message::Close(Some(close_frame(code, reason)));
            let _sent = timeout(CLOSE_PATIENCE, socket.send(close)).await;
            // After a protocol error the frame reader is lost, so the rest is read as bytes.
            let _lingered = timeout(LINGER, linger(socket.get_mut())).await;
        }
    }
}

/// Half-closes `io`, then reads and discards until the client closes its side.
async fn linger<T: AsyncRead + AsyncWrite + Unpin>(io: &mut T) {
    let _half_closed = io.shutdown().await;
    let mut scrap = [0; 1024];
    while io.read(&mut scrap).await.is_ok_and(|read| read > 0) {}
}
