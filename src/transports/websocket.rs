//! WebSocket, mounted at `GET /push/<ch>/ws?since=` (the series' part 2).
//!
//! One full-duplex connection: the server sends each event as a text frame carrying the
//! envelope, and every text frame the browser sends is published to the channel, so two tabs
//! on the same channel chat through it.

use rocket::futures::{Sink, SinkExt, Stream, StreamExt};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Route, Shutdown, State};
use rocket_ws::frame::{CloseCode, CloseFrame};
use rocket_ws::result::Error as WsError;
use rocket_ws::{Message, WebSocket};
use serde_json::Value;

use super::stream::reset_frame;
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Channel, Hub, Subscription, SubscriptionEnd};

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
pub async fn websocket(
    ch: &str,
    since: Option<&str>,
    _origin: AllowedOrigin,
    socket: WebSocket,
    hub: &State<Hub>,
    config: &State<PushConfig>,
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
        subscription,
        config: PushConfig::clone(config),
        shutdown,
    };
    Ok(socket
        .config(limits)
        .channel(move |stream| Box::pin(session.serve(stream))))
}

/// Everything one connection needs, so that its loop can run over any `Sink`/`Stream` pair.
pub struct Session {
    pub hub: Hub,
    pub channel: Channel,
    pub subscription: Subscription,
    pub config: PushConfig,
    pub shutdown: Shutdown,
}

impl Session {
    /// Runs the connection until either side closes it or the server shuts down.
    pub async fn serve<S>(mut self, mut socket: S) -> Result<(), WsError>
    where
        S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin + Send,
    {
        if self.subscription.reset() {
            let frame = reset_frame(&self.subscription.cursor());
            socket.send(Message::Text(frame.to_string())).await?;
        }
        let every = self.config.ws_ping();
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut shutdown = std::pin::pin!(self.shutdown.clone());
        let (code, reason) = loop {
            tokio::select! {
                next = self.subscription.next() => match next {
                    Ok(event) => {
                        let text = serde_json::to_string(&*event).unwrap_or_default();
                        socket.send(Message::Text(text)).await?;
                    }
                    Err(SubscriptionEnd::Lagged) => {
                        break (CloseCode::Again, "fell behind; reconnect with your last id");
                    }
                    Err(SubscriptionEnd::Closed) => break (CloseCode::Away, "server going away"),
                },
                incoming = socket.next() => match incoming {
                    None => return Ok(()),
                    Some(Ok(Message::Text(text))) => {
                        if let Err(error) = self.hub.publish(&self.channel, Value::String(text)).await {
                            rocket::warn!("websocket publish failed: {error}");
                            break (CloseCode::Again, "could not publish; try again later");
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break (CloseCode::Unsupported, "only text frames are accepted");
                    }
                    // Pings are answered by the library; a close is answered by the library too.
                    Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        break (CloseCode::Size, "a message is at most the configured size");
                    }
                    Some(Err(error)) => return Err(error),
                },
                _ = ping.tick() => socket.send(Message::Ping(Vec::new())).await?,
                _ = &mut shutdown => break (CloseCode::Away, "server shutting down"),
            }
        };
        let close = CloseFrame {
            code,
            reason: reason.into(),
        };
        // The peer may already be gone; there is nobody left to tell if this fails.
        let _closed = socket.send(Message::Close(Some(close))).await;
        Ok(())
    }
}

pub fn routes() -> Vec<Route> {
    routes![websocket]
}
