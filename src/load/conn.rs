//! The load engine's sockets: a TCP stream that counts every byte read and written (so HTTP
//! heads, chunk framing and WebSocket frames are all in the figures), an HTTP/1.1 connection
//! over it with a read buffer reused for its whole life, and a [`Link`] that keeps one
//! connection alive between requests, as a browser does.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::http::{Body, Head, parse_head};

/// Bytes read from the socket at most at once; also the largest response head accepted.
const READ_BUFFER: usize = 16 * 1024;

/// What all the clients of one technique did on the wire.
#[derive(Debug, Default)]
pub struct Meter {
    pub down: AtomicU64,
    pub up: AtomicU64,
    pub connections: AtomicU64,
}

impl Meter {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A TCP stream that adds what passes through it to a [`Meter`].
pub struct Metered {
    stream: TcpStream,
    meter: Arc<Meter>,
}

impl Metered {
    /// Connects (counting one connection) with Nagle's algorithm off, as browsers do.
    pub async fn connect(addr: SocketAddr, meter: &Arc<Meter>) -> Result<Metered, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("could not connect to {addr}: {e}"))?;
        Meter::add(&meter.connections, 1);
        stream
            .set_nodelay(true)
            .map_err(|e| format!("could not set TCP_NODELAY: {e}"))?;
        let meter = Arc::clone(meter);
        Ok(Metered { stream, meter })
    }
}

impl AsyncRead for Metered {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            Meter::add(&this.meter.down, buf.filled().len() - before);
        }
        poll
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            Meter::add(&this.meter.up, n);
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// What one read of a response body gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// More body bytes (appended to the caller's buffer).
    Data,
    /// The body is complete, as its framing says.
    Done,
    /// The server closed the connection.
    Closed,
}

/// One HTTP/1.1 connection with its read buffer.
pub struct Conn {
    io: Metered,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Conn {
    pub async fn open(addr: SocketAddr, meter: &Arc<Meter>) -> Result<Conn, String> {
        let io = Metered::connect(addr, meter).await?;
        let (buf, start, end) = (vec![0; READ_BUFFER], 0, 0);
        Ok(Conn {
            io,
            buf,
            start,
            end,
        })
    }

    /// Sends a request, tells `written`, and reads the head of its answer.
    async fn exchange(
        &mut self,
        request: &[u8],
        written: &mut (dyn FnMut() + Send),
    ) -> Result<(Head, Body), String> {
        self.io
            .write_all(request)
            .await
            .map_err(|e| format!("could not send a request: {e}"))?;
        written();
        let head = loop {
            if let Some((head, used)) = parse_head(&self.buf[self.start..self.end])? {
                self.start += used;
                break head;
            }
            if self.fill().await? == 0 {
                return Err("the server closed the connection before answering".to_owned());
            }
        };
        let body = Body::for_head(&head)?;
        Ok((head, body))
    }

    /// Reads more bytes after those not used yet. Returns 0 when the server closed.
    async fn fill(&mut self) -> Result<usize, String> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end == self.buf.len() {
            return Err("a response head larger than the read buffer".to_owned());
        }
        let n = self
            .io
            .read(&mut self.buf[self.end..])
            .await
            .map_err(|e| format!("could not read: {e}"))?;
        self.end += n;
        Ok(n)
    }

    /// Decodes the body bytes at hand, or reads once more, appending body bytes to `out`.
    pub async fn read(&mut self, body: &mut Body, out: &mut Vec<u8>) -> Result<Read, String> {
        loop {
            if self.start < self.end {
                let (used, done) = body.feed(&self.buf[self.start..self.end], out)?;
                self.start += used;
                if done {
                    return Ok(Read::Done);
                }
                if used > 0 {
                    return Ok(Read::Data);
                }
            } else if body.is_done() {
                return Ok(Read::Done);
            }
            if self.fill().await? == 0 {
                return Ok(Read::Closed);
            }
        }
    }
}

/// A request as the load clients write it: no `Origin` (the server admits requests
/// that are not from a page), the few headers a page's request needs, and an optional body.
pub fn request(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Vec<u8> {
    let mut text = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        text += &format!("{name}: {value}\r\n");
    }
    if !body.is_empty() || method == "POST" {
        text += &format!("Content-Length: {}\r\n", body.len());
    }
    text += "\r\n";
    text += body;
    text.into_bytes()
}

/// One client's connection to the server, kept open between requests while the server
/// allows it, like a browser's keep-alive connection to one origin.
pub struct Link {
    addr: SocketAddr,
    meter: Arc<Meter>,
    conn: Option<Conn>,
}

impl Link {
    pub fn new(addr: SocketAddr, meter: &Arc<Meter>) -> Link {
        let meter = Arc::clone(meter);
        Link {
            addr,
            meter,
            conn: None,
        }
    }

    /// Sends `request` and reads the answer's head. A kept connection that turns out to be
    /// closed is replaced once, as browsers retry a request on a stale keep-alive connection.
    pub async fn send(&mut self, request: &[u8]) -> Result<(Head, Body), String> {
        self.send_noting(request, &mut |_| {}).await
    }

    /// [`Link::send`], calling `written` once the request is on its way (before the answer,
    /// which a held request may not get for long), with true when it went on a new
    /// connection.
    pub async fn send_noting(
        &mut self,
        request: &[u8],
        written: &mut (dyn FnMut(bool) + Send),
    ) -> Result<(Head, Body), String> {
        if let Some(mut conn) = self.conn.take()
            && let Ok(answer) = conn.exchange(request, &mut || written(false)).await
        {
            self.conn = Some(conn);
            return Ok(answer);
        }
        let mut conn = Conn::open(self.addr, &self.meter).await?;
        let answer = conn.exchange(request, &mut || written(true)).await?;
        self.conn = Some(conn);
        Ok(answer)
    }

    /// Reads once from the body of the answer in flight (see [`Conn::read`]). When the body
    /// is over, the connection is kept for the next request only if it can carry one.
    pub async fn read(
        &mut self,
        head: &Head,
        body: &mut Body,
        out: &mut Vec<u8>,
    ) -> Result<Read, String> {
        let conn = self.conn.as_mut().ok_or("no connection")?;
        let read = conn.read(body, out).await;
        match &read {
            Ok(Read::Done) if head.keep_alive() => {}
            Ok(Read::Data) => {}
            _ => self.conn = None,
        }
        read
    }

    /// Reads a whole body.
    pub async fn body(&mut self, head: &Head, body: Body) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.body_into(head, body, &mut out).await?;
        Ok(out)
    }

    /// Reads a whole body into `out` (which is not cleared first).
    pub async fn body_into(
        &mut self,
        head: &Head,
        mut body: Body,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        loop {
            match self.read(head, &mut body, out).await? {
                Read::Data => {}
                Read::Done => return Ok(()),
                Read::Closed if matches!(body, Body::UntilClose) => return Ok(()),
                Read::Closed => return Err("the connection closed in the middle of a body".into()),
            }
        }
    }

    /// Drops the connection, so the next request opens a new one.
    pub fn drop_connection(&mut self) {
        self.conn = None;
    }
}
