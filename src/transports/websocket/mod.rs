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
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Route, State};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_util::task::TaskTracker;

use super::pump::Pump;
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::Hub;

pub use session::{Mode, Session};
pub use upgrade::{Handshake, Upgrade};

/// An upgraded connection.
pub type Socket = WebSocketStream<IoStream>;

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
    handshake: Handshake,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
) -> Result<Upgrade<impl FnOnce(Socket) -> Ready<()> + Send + 'static>, AppError> {
    open(Mode::Publish, (ch, since), handshake, hub, config, sessions).await
}

/// The same session, sending back every message it receives instead of publishing it: what
/// the WebSocket conformance suite (Autobahn) runs against. Mounted only when
/// `push.ws_echo` is set, which only the conformance run does.
#[get("/push/<ch>/echo")]
pub async fn echo(
    ch: &str,
    handshake: Handshake,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
) -> Result<Upgrade<impl FnOnce(Socket) -> Ready<()> + Send + 'static>, AppError> {
    open(Mode::Echo, (ch, None), handshake, hub, config, sessions).await
}

/// Subscribes to `ch` after `since` and answers the handshake with a session in `mode`.
async fn open(
    mode: Mode,
    (ch, since): (&str, Option<&str>),
    handshake: Handshake,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    sessions: &State<Sessions>,
) -> Result<Upgrade<impl FnOnce(Socket) -> Ready<()> + Send + 'static>, AppError> {
    let channel = channel(ch)?;
    let subscription = hub.subscribe(&channel, cursor(since)?.as_ref()).await?;
    let session = Session {
        hub: Hub::clone(hub),
        channel,
        pump: Pump::new(subscription, config.ws_ping()),
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
