//! One client TCP connection that speaks HTTP/1.1 through [`crate::http`]: it owns a read
//! buffer that is reused for its whole life, reads response heads, and reads bodies either
//! whole (publisher, long poll) or as a stream handed to a framing parser after every read.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http::{Body, Head, parse_head};

/// Bytes read from the socket at most at once; also the largest response head accepted.
const READ_BUFFER: usize = 16 * 1024;

/// When some bytes arrived: wall-clock time for latency, monotonic time for rates.
#[derive(Clone, Copy)]
pub struct Stamp {
    /// Nanoseconds since the UNIX epoch.
    pub wall_ns: u64,
    pub at: Instant,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp {
            wall_ns: wall_ns(),
            at: Instant::now(),
        }
    }
}

/// Nanoseconds since the UNIX epoch, now.
pub fn wall_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// How a streamed body stopped.
pub enum Ended {
    /// The body ended as its framing says (last chunk, or all of its length).
    Complete,
    /// The server closed the connection.
    Closed,
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Conn {
    /// Opens a TCP connection with Nagle's algorithm off.
    pub async fn connect(addr: SocketAddr) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("could not connect to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("could not set TCP_NODELAY: {e}"))?;
        Ok(Conn {
            stream,
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
        })
    }

    /// Sends all of `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| format!("could not send a request: {e}"))
    }

    /// Reads more bytes after those not used yet. Returns 0 when the server closed.
    async fn fill(&mut self) -> Result<usize, String> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Err("a response head larger than the read buffer".to_owned());
        }
        let n = self
            .stream
            .read(&mut self.buf[self.end..])
            .await
            .map_err(|e| format!("could not read: {e}"))?;
        self.end += n;
        Ok(n)
    }

    /// Reads one response head. Bytes after it stay in the buffer for the body.
    pub async fn read_head(&mut self) -> Result<Head, String> {
        loop {
            if let Some((head, used)) = parse_head(&self.buf[self.start..self.end])? {
                self.start += used;
                return Ok(head);
            }
            if self.fill().await? == 0 {
                return Err("the server closed the connection before answering".to_owned());
            }
        }
    }

    /// Reads a whole body into `out` (which is not cleared first).
    pub async fn read_body(&mut self, body: &mut Body, out: &mut Vec<u8>) -> Result<(), String> {
        match self.stream_body(body, out, |_, _| {}).await? {
            Ended::Complete => Ok(()),
            Ended::Closed if matches!(body, Body::UntilClose) => Ok(()),
            Ended::Closed => Err("the server closed the connection in the middle of a body".into()),
        }
    }

    /// Reads a streamed body. After every read, the decoded bytes are appended to `out` and
    /// `each` is called with `out` and the time they arrived; `each` removes what it used.
    pub async fn stream_body<F>(
        &mut self,
        body: &mut Body,
        out: &mut Vec<u8>,
        mut each: F,
    ) -> Result<Ended, String>
    where
        F: FnMut(&mut Vec<u8>, Stamp),
    {
        let mut stamp = Stamp::now();
        loop {
            if self.start < self.end || body.is_done() {
                let (used, done) = body.feed(&self.buf[self.start..self.end], out)?;
                self.start += used;
                each(out, stamp);
                if done {
                    return Ok(Ended::Complete);
                }
            }
            if self.fill().await? == 0 {
                return Ok(Ended::Closed);
            }
            stamp = Stamp::now();
        }
    }
}
