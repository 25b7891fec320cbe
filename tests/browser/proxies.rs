//! The proxies a visitor may sit behind, started by the browser tests in front of the real
//! app: nginx refusing upgrades (a configuration of the edge suite's nginx), a proxy that holds
//! every answer until it ends (and refuses upgrades), and a proxy that cuts every connection a
//! few seconds after it opened. The client library's tests and the doctor's use them.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The buffering proxy passes a body on once this much of it has come.
pub const HOLD_BYTES: usize = 256 * 1024;
/// The cutting proxy's connections live this long.
pub const CUT_AFTER: Duration = Duration::from_secs(3);

/// nginx's `server` block for a plain reverse proxy that streams but never passes `Upgrade`
/// on (see `Nginx::start_with`).
pub const NO_UPGRADES: &str = "location / {
            proxy_pass http://reverse_ajax;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 120s;
        }";

/// A proxy's accept loop, stopped (with every connection it serves) when dropped.
pub struct Proxy(tokio::task::JoinHandle<()>);

impl Proxy {
    pub fn spawn(serve: impl Future<Output = ()> + Send + 'static) -> Proxy {
        Proxy(tokio::spawn(serve))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves each connection to `listener` with `handle`, until aborted; aborting drops the
/// JoinSet, which aborts the connections too.
pub async fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    while let Ok((client, _)) = listener.accept().await {
        connections.spawn(handle(client));
        while connections.try_join_next().is_some() {}
    }
}

/// A proxy that cuts every connection [`CUT_AFTER`] after it opened, whatever flows.
pub async fn cutting(listener: TcpListener, upstream: u16) {
    serve(listener, move |mut client| async move {
        let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
            return;
        };
        let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
        let _cut = tokio::time::timeout(CUT_AFTER, copy).await;
    })
    .await;
}

/// A proxy that refuses upgrades and holds every answer until it ends or [`HOLD_BYTES`] of it
/// have come, as a virus scanner or a corporate proxy does. Each request gets a connection of
/// its own upstream (`Connection: close`), so an answer's end is the connection's.
pub async fn buffering(listener: TcpListener, upstream: u16) {
    serve(listener, move |client| buffer_one(client, upstream)).await;
}

async fn buffer_one(mut client: TcpStream, upstream: u16) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > 64 * 1024 {
            return;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    if lines
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("upgrade:"))
    {
        let refusal = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let _sent = client.write_all(refusal.as_bytes()).await;
        return;
    }
    lines.retain(|l| {
        let l = l.to_ascii_lowercase();
        !l.starts_with("connection:") && !l.starts_with("keep-alive:")
    });
    let mut request = lines.join("\r\n").into_bytes();
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    request.extend_from_slice(&head[end..]);
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    if server_out.write_all(&request).await.is_err() {
        return;
    }
    let forward = tokio::io::copy(&mut client_in, &mut server_out);
    let hold = async {
        let mut held = Vec::new();
        let mut passing = false;
        let mut chunk = [0u8; 8192];
        loop {
            let n = server_in.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            held.extend_from_slice(&chunk[..n]);
            if passing || held.len() >= HOLD_BYTES {
                passing = true;
                client_out.write_all(&held).await?;
                held.clear();
            }
        }
        client_out.write_all(&held).await?;
        client_out.shutdown().await?;
        Ok::<(), std::io::Error>(())
    };
    tokio::select! {
        _ = forward => {}
        _ = hold => {}
    }
}
