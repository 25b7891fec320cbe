//! WebSocket, mounted at `GET /push/<ch>/ws?since=` (the series' part 2).
//!
//! One full-duplex connection: the server sends each event as a text frame carrying the
//! envelope, and every text frame the browser sends is published to the channel, so two tabs
//! on the same channel chat through it.

mod session;
mod upgrade;

use std::future::Ready;
use std::time::Duration;

use rocket::data::IoStream;
use rocket::fairing::AdHoc;
use rocket::request::Request;
use rocket::{Route, State};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_util::task::TaskTracker;

use super::guard::Connection;
use super::pump::Pump;
use crate::access::SameSite;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::Hub;
use crate::wire::{Serves, Technique, cursor};

pub use session::{Mode, Session};
pub use upgrade::{Handshake, Upgrade};

/// An upgraded connection.
pub type Socket = WebSocketStream<IoStream>;

/// The technique of both routes (the echo route's connections count as WebSockets too).
pub struct WebSocket;

impl Serves for WebSocket {
    fn technique(_: &Request<'_>) -> Technique {
        Technique::WebSocket
    }
}

/// Upgrades to a WebSocket that streams the channel from `since` and publishes what the
/// browser sends, when the caller may publish there (else a data frame closes with 1008).
/// Only this site's pages may open it (browsers always send `Origin` on a handshake, and
/// cookies go along, so this is what stops another site from opening sockets in a
/// visitor's name); clients that are not browsers send no `Origin` and are admitted.
#[get("/push/<_>/ws?<since>")]
pub async fn websocket(
    since: Option<&str>,
    handshake: Handshake,
    _site: SameSite,
    listener: Connection<WebSocket>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
) -> Result<Upgrade<impl FnOnce(Socket) -> Ready<()> + Send + 'static>, AppError> {
    let mode = match listener.publisher() {
        Ok((right, publishes)) => Mode::Publish(right, publishes),
        Err(_) => Mode::Listen,
    };
    open(mode, since, (handshake, listener), hub, config, sessions).await
}

/// The same session, sending back every message it receives instead of publishing it: what
/// the WebSocket conformance suite (Autobahn) runs against. Mounted only when
/// `push.ws_echo` is set, which only the conformance run does.
#[get("/push/<_>/echo")]
pub async fn echo(
    handshake: Handshake,
    listener: Connection<WebSocket>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
) -> Result<Upgrade<impl FnOnce(Socket) -> Ready<()> + Send + 'static>, AppError> {
    open(
        Mode::Echo,
        None,
        (handshake, listener),
        hub,
        config,
        sessions,
    )
    .await
}

/// Subscribes to the listener's channel after `since` and answers the handshake with a
/// session in `mode`.
async fn open(
    mode: Mode,
    since: Option<&str>,
    (handshake, listener): (Handshake, Connection<WebSocket>),
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
) -> Result<Upgrade<impl FnOnce(Socket) -> Ready<()> + Send + 'static>, AppError> {
    let channel = listener.channel.clone();
    let subscription = hub.subscribe(&channel, cursor(since)?.as_ref()).await?;
    let session = Session {
        hub: Hub::clone(hub),
        channel,
        pump: Pump::new(subscription, config.ws_ping(), listener.place()),
        mode,
        write_timeout: config.write_timeout(),
    };
    let tracker = sessions.0.clone();
    Ok(handshake.accept(config.ws_max_message, move |socket| {
        // The session runs in a task of its own: the request's task then ends and frees what
        // Rocket kept for the request, which a connection held for hours would otherwise pin.
        tracker.spawn(session.serve(socket));
        std::future::ready(())
    }))
}

/// The running WebSocket sessions, so that shutdown can wait for their closing frames.
#[derive(Debug, Default)]
pub struct Sessions(TaskTracker);

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

/// The WebSocket route, and the echo route when `push.ws_echo` is set.
pub fn routes(config: &PushConfig) -> Vec<Route> {
    if config.ws_echo {
        routes![websocket, echo]
    } else {
        routes![websocket]
    }
}
