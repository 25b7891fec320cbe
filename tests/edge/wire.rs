//! Plain HTTP/1.1 over TCP, written by hand so that a test controls every byte: requests
//! sent whole or in pieces, heads read line by line, chunked bodies taken apart one chunk at a
//! time.

use std::time::{Duration, Instant};

use rocket::tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use rocket::tokio::net::TcpStream;

use crate::common::within;

/// How long any single step (a connect, a head, a chunk) may take.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A fresh connection to a loopback port.
pub async fn connect(port: u16) -> TcpStream {
    within(PATIENCE, TcpStream::connect(("127.0.0.1", port)))
        .await
        .expect("connected")
}

/// An answer whose head has been read; the body is read on demand.
pub struct Answer {
    pub status: u16,
    pub head: String,
    reader: BufReader<TcpStream>,
}

/// Sends `GET path` with `headers` on a fresh connection to `port` and reads the head.
pub async fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request += &format!("{name}: {value}\r\n");
    }
    send(port, format!("{request}\r\n").as_bytes()).await
}

/// Sends `request` as it is on a fresh connection to `port` and reads the answer's head.
pub async fn send(port: u16, request: &[u8]) -> Answer {
    let mut tcp = connect(port).await;
    tcp.write_all(request).await.expect("request sent");
    answer(tcp).await
}

/// Reads the head of the answer that comes on `tcp`.
pub async fn answer(tcp: TcpStream) -> Answer {
    let mut reader = BufReader::new(tcp);
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        let read = within(PATIENCE, reader.read_line(&mut head))
            .await
            .expect("a head line");
        assert!(read > 0, "the connection closed inside the head: {head:?}");
    }
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok());
    Answer {
        status: status.unwrap_or_else(|| panic!("a status line in {head:?}")),
        head,
        reader,
    }
}

impl Answer {
    /// The value of header `name` (any case), if the head has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The next chunk of a chunked body, or `None` after the last one.
    pub async fn chunk(&mut self) -> Option<Vec<u8>> {
        let mut size = String::new();
        within(PATIENCE, self.reader.read_line(&mut size))
            .await
            .expect("a chunk size");
        let hex = size.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(hex, 16)
            .unwrap_or_else(|_| panic!("a chunk size line, not {size:?}"));
        let mut data = vec![0; size + 2];
        within(PATIENCE, self.reader.read_exact(&mut data))
            .await
            .expect("a whole chunk");
        assert!(data.ends_with(b"\r\n"), "a chunk ends with CRLF");
        data.truncate(size);
        (size > 0).then_some(data)
    }

    /// Reads chunks until the body read so far contains `needle`, and returns that text.
    pub async fn read_until(&mut self, needle: &str) -> String {
        let mut text = String::new();
        while !text.contains(needle) {
            let chunk = self.chunk().await;
            let chunk = chunk.unwrap_or_else(|| panic!("the body ended before {needle:?}"));
            text += &String::from_utf8(chunk).expect("UTF-8");
        }
        text
    }

    /// The whole body, sent with a Content-Length or chunked.
    pub async fn body(&mut self) -> String {
        if let Some(length) = self.header("content-length") {
            let mut data = vec![0; length.parse().expect("a length")];
            within(PATIENCE, self.reader.read_exact(&mut data))
                .await
                .expect("the whole body");
            return String::from_utf8(data).expect("UTF-8");
        }
        let mut data = Vec::new();
        while let Some(chunk) = self.chunk().await {
            data.extend(chunk);
        }
        String::from_utf8(data).expect("UTF-8")
    }

    /// Waits, at most `limit`, for the server to close the connection (a FIN or a reset),
    /// and returns how long it took. Any further bytes are a failure: nothing more was asked.
    pub async fn closed_after(&mut self, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut byte = [0; 1];
        let read = within(limit, self.reader.read(&mut byte)).await;
        assert!(!matches!(read, Ok(n) if n > 0), "no bytes after the answer");
        started.elapsed()
    }
}
