//! WebSocket, mounted at `GET /push/<ch>/ws?since=` (the series' part 2).
//!
//! One full-duplex connection: the server sends each event as a text frame carrying the
//! envelope, and every text frame the browser sends is published to the channel, so two tabs
//! on the same channel chat through it.

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::futures::{Sink, SinkExt, Stream, StreamExt};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Route, Shutdown, State};
use rocket_ws::frame::{CloseCode, CloseFrame};
use rocket_ws::result::Error as WsError;
use rocket_ws::{Message, WebSocket};
use tokio::time::timeout;
use tokio_util::task::TaskTracker;

use super::pump::{End, Pump, Step};
use super::stream::reset_frame;
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Channel, Hub, Payload};

/// Admits a handshake with no `Origin` (not a browser), this site's own origin, or one from
/// `push.allowed_origins`; any other is refused with a 403 before the upgrade. Browsers always
/// send `Origin` on WebSocket handshakes, and cookies go along, so this is what stops another
/// site from opening sockets in a visitor's name.
pub struct AllowedOrigin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AllowedOrigin {
    type Error = &'static str;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(origin) = request.headers().get_one("Origin") else {
            return Outcome::Success(AllowedOrigin);
        };
        let host = request.headers().get_one("Host").unwrap_or_default();
        let own = [format!("http://{host}"), format!("https://{host}")];
        let listed = request
            .rocket()
            .state::<PushConfig>()
            .is_some_and(|c| c.allowed_origins.iter().any(|o| o == origin));
        if !host.is_empty() && own.iter().any(|o| o == origin) || listed {
            Outcome::Success(AllowedOrigin)
        } else {
            Outcome::Error((
                Status::Forbidden,
                "this origin may not open a WebSocket here",
            ))
        }
    }
}

/// Upgrades to a WebSocket that streams the channel from `since` and publishes what the
/// browser sends.
#[get("/push/<ch>/ws?<since>")]
#[expect(
    clippy::too_many_arguments,
    reason = "one request guard per thing the route needs"
)]
pub async fn websocket(
    ch: &str,
    since: Option<&str>,
    _origin: AllowedOrigin,
    socket: WebSocket,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
    shutdown: Shutdown,
) -> Result<rocket_ws::Channel<'static>, AppError> {
    let channel = channel(ch)?;
    let subscription = hub.subscribe(&channel, cursor(since)?.as_ref()).await?;
    let limits = rocket_ws::Config {
        max_message_size: Some(config.ws_max_message),
        max_frame_size: Some(config.ws_max_message),
        ..Default::default()
    };
    let session = Session {
        hub: Hub::clone(hub),
        channel,
        pump: Pump::new(
            subscription,
            config.ws_ping(),
            config.write_timeout(),
            shutdown,
        ),
        write_timeout: config.write_timeout(),
    };
    let tracker = sessions.0.clone();
    Ok(socket.config(limits).channel(move |stream| {
        // The session runs in a task of its own: the request's task then ends and frees what
        // Rocket kept for the request, which a connection held for hours would otherwise pin.
        tracker.spawn(async move {
            if let Err(error) = session.serve(stream).await {
                rocket::debug!("websocket ended with an error: {error}");
            }
        });
        Box::pin(async { Ok(()) })
    }))
}

/// The running WebSocket sessions, so that shutdown can wait for their closing frames.
#[derive(Debug, Default)]
pub struct Sessions(TaskTracker);

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
        if self.pump.reset() {
            let frame = reset_frame(&self.pump.cursor());
            let sent = timeout(patience, socket.send(Message::Text(frame.to_string()))).await;
            if sent.is_err() {
                return Ok(());
            }
        }
        let (code, reason) = loop {
            tokio::select! {
                step = self.pump.next() => {
                    let write = match step {
                        Step::Events(events) => timeout(patience, async {
                            // Every ready event, then one flush: one write for all of them.
                            for event in events {
                                socket.feed(Message::Text(event.json().to_owned())).await?;
                            }
                            socket.flush().await
                        }).await,
                        Step::Beat => timeout(patience, socket.send(Message::Ping(Vec::new()))).await,
                        Step::End(end) => break closing(end),
                    };
                    match write {
                        Ok(written) => written?,
                        Err(_) => break closing(End::WriteTimeout),
                    }
                },
                incoming = socket.next() => match incoming {
                    None | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Ok(Message::Text(text))) => {
                        let data = Payload::text(&text);
                        if let Err(error) = self.hub.publish(&self.channel, data).await {
                            rocket::warn!("websocket publish failed: {error}");
                            break (CloseCode::Again, "could not publish; try again later");
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break (CloseCode::Unsupported, "only text frames are accepted");
                    }
                    // Pings are answered by the library, and so is a close.
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        break (CloseCode::Size, "a message is at most the configured size");
                    }
                    Some(Err(error)) => return Err(error),
                },
            }
        };
        let close = CloseFrame {
            code,
            reason: reason.into(),
        };
        // The peer may be gone or not reading; there is nobody left to tell if this fails.
        let _closed = timeout(CLOSE_PATIENCE, socket.send(Message::Close(Some(close)))).await;
        Ok(())
    }
}

/// How long the closing frame may take to go out before the socket is simply dropped.
const CLOSE_PATIENCE: Duration = Duration::from_secs(1);

/// The close code and reason for each way a session ends.
fn closing(end: End) -> (CloseCode, &'static str) {
    match end {
        End::Lagged => (CloseCode::Again, "fell behind; reconnect with your last id"),
        End::WriteTimeout => (
            CloseCode::Policy,
            "too slow to read; reconnect with your last id",
        ),
        End::Shutdown | End::Budget | End::Cap | End::Client => {
            (CloseCode::Away, "server shutting down")
        }
    }
}

/// Manages the session tracker and, at shutdown, waits (up to the grace period) for every
/// session to send its closing frame.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("WebSocket sessions", |rocket| async {
        rocket
            .manage(Sessions::default())
            .attach(AdHoc::on_shutdown("WebSocket sessions", |rocket| {
                Box::pin(async move {
                    let grace = Duration::from_secs(rocket.config().shutdown.grace.into());
                    if let Some(sessions) = rocket.state::<Sessions>() {
                        sessions.0.close();
                        // Sessions still open after the grace period are dropped with the runtime.
                        let _all_closed = timeout(grace, sessions.0.wait()).await;
                    }
                })
            }))
    })
}

pub fn routes() -> Vec<Route> {
    routes![websocket]
}
