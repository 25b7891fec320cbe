//! The WebSocket handshake (RFC 6455, section 4.2) on Rocket: a request guard that accepts only
//! a well-formed upgrade request, and a responder that answers `101 Switching Protocols` and
//! hands the upgraded connection to a tokio-tungstenite stream.
//!
//! rocket_ws 0.1 does the same over tungstenite 0.21, whose read buffer is a fixed, zeroed
//! 4 KiB chunk beside a 4 KiB buffer for every connection; tungstenite 0.30 lets it be sized
//! (`READ_BUFFER`), which is most of what an idle WebSocket costs here.

use std::future::Future;
use std::io;
use std::pin::Pin;

use rocket::data::{IoHandler, IoStream};
use rocket::http::Status;
use rocket::http::uncased::eq;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// How much a connection reads at a time. Browser messages here are small; a larger one
/// grows the buffer for as long as it takes to read it.
const READ_BUFFER: usize = 1024;

/// A valid upgrade request: `Connection: Upgrade`, `Upgrade: websocket`, version 13 and a key.
/// Anything else is not a WebSocket request and goes on to the other routes (then a 400).
pub struct Handshake {
    accept: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Handshake {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let headers = request.headers();
        let lists = |name, token| {
            headers
                .get(name)
                .any(|h| h.split(',').any(|v| eq(v.trim(), token)))
        };
        let version_13 = headers.get_one("Sec-WebSocket-Version") == Some("13");
        match headers.get_one("Sec-WebSocket-Key") {
            Some(key)
                if lists("Connection", "upgrade")
                    && lists("Upgrade", "websocket")
                    && version_13 =>
            {
                Outcome::Success(Handshake {
                    accept: derive_accept_key(key.as_bytes()),
                })
            }
            _ => Outcome::Forward(Status::BadRequest),
        }
    }
}

impl Handshake {
    /// The `101` answer; once the connection is upgraded, `serve` runs on it with at most
    /// `max_message` bytes per message.
    pub fn accept<F, Fut>(self, max_message: usize, serve: F) -> Upgrade<F>
    where
        F: FnOnce(WebSocketStream<IoStream>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(max_message))
            .max_frame_size(Some(max_message));
        Upgrade {
            accept: self.accept,
            config,
            serve: Box::new(serve),
        }
    }
}

/// The `101 Switching Protocols` answer and what runs on the connection afterwards.
pub struct Upgrade<F> {
    accept: String,
    config: WebSocketConfig,
    serve: Box<F>,
}

impl<'r, F, Fut> Responder<'r, 'static> for Upgrade<F>
where
    F: FnOnce(WebSocketStream<IoStream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .raw_header("Sec-WebSocket-Version", "13")
            .raw_header("Sec-WebSocket-Accept", self.accept.clone())
            .upgrade("websocket", self)
            .ok()
    }
}

#[rocket::async_trait]
impl<F, Fut> IoHandler for Upgrade<F>
where
    F: FnOnce(WebSocketStream<IoStream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    async fn io(self: Pin<Box<Self>>, io: IoStream) -> io::Result<()> {
        let Upgrade { config, serve, .. } = *Pin::into_inner(self);
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        serve(socket).await;
        Ok(())
    }
}
