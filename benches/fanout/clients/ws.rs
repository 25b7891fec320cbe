//! The WebSocket subscriber, for both servers, on tokio-tungstenite over our own TCP
//! connection. Ours sends envelopes and control frames (`{"type":"reset",…}`) as text
//! frames and closes with 1013 when a subscriber falls behind: it then reconnects with
//! `?since=<last id>`. Nchan sends each payload as one text frame.

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Shared, again, first, frame, text};
use crate::conn::Stamp;
use crate::servers::Kind;
use crate::tally::Tally;

type Socket = WebSocketStream<TcpStream>;

/// Reads frames until the run stops it.
pub async fn run(sh: &Shared, tally: &mut Tally) {
    let Some(mut socket) = first(sh, tally, || open(sh, None)).await else {
        return;
    };
    let mut last_id = Vec::new();
    loop {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Text(text)) => {
                    frame(text.as_bytes(), Stamp::now(), tally, &mut last_id);
                }
                Ok(Message::Close(frame)) => {
                    let code = frame.map(|f| u16::from(f.code));
                    if code != Some(1013) {
                        sh.error(&format!("WebSocket closed by the server, code {code:?}"));
                    }
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    sh.error(&format!("WebSocket: {e}"));
                    break;
                }
            }
        }
        let since = (!last_id.is_empty()).then(|| text(&last_id));
        socket = again(sh, tally, || open(sh, since.clone())).await;
    }
}

/// Connects and completes the handshake (101).
async fn open(sh: &Shared, since: Option<String>) -> Result<Socket, String> {
    let url = match (sh.server, since) {
        (Kind::Ours, None) => format!("ws://{}/push/bench/ws", sh.addr),
        (Kind::Ours, Some(id)) => format!("ws://{}/push/bench/ws?since={id}", sh.addr),
        (Kind::Nchan, _) => format!("ws://{}/sub?id=bench", sh.addr),
    };
    let tcp = TcpStream::connect(sh.addr)
        .await
        .map_err(|e| format!("could not connect to {}: {e}", sh.addr))?;
    tcp.set_nodelay(true)
        .map_err(|e| format!("could not set TCP_NODELAY: {e}"))?;
    // tungstenite zeroes its read buffer before every read: the default 128 KiB would cost
    // far more than the small events it receives.
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (socket, _answer) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    Ok(socket)
}
