//! A client that breaks the WebSocket protocol gets the close code RFC 6455 gives the fault,
//! and the close frame reaches it even while it keeps sending. The frames are written by hand
//! over a plain socket, since a correct client library will not send them.

use std::time::Duration;

use rocket::tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::TcpStream;

use crate::common::within;
use crate::launcher::{App, launch};

const PATIENCE: Duration = Duration::from_secs(5);

/// The first byte of a frame: FIN plus an opcode (text 1, binary 2, close 8, ping 9).
const FIN_TEXT: u8 = 0x81;
const FIN_PING: u8 = 0x89;
const RSV1: u8 = 0x40;

/// A WebSocket on `/push/<ch>/ws` after a handshake written by hand.
async fn open(app: &App, ch: &str) -> TcpStream {
    let mut tcp = within(PATIENCE, TcpStream::connect(("127.0.0.1", app.port)))
        .await
        .expect("connected");
    let handshake = format!(
        "GET /push/{ch}/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(handshake.as_bytes()).await.expect("sent");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        within(PATIENCE, tcp.read_exact(&mut byte))
            .await
            .expect("a head byte");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// One frame from a client: `first` (FIN, RSV and opcode bits), masked unless `masked` is
/// false (payloads up to 64 KiB).
fn frame(first: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![first];
    let bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(bit | len as u8),
        len => {
            out.push(bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Reads server frames until a close frame; its code.
async fn close_code<R: AsyncRead + Unpin>(tcp: &mut R) -> u16 {
    within(PATIENCE, async {
        let mut buffer = Vec::new();
        loop {
            let mut chunk = [0; 4096];
            let read = tcp
                .read(&mut chunk)
                .await
                .expect("the close frame, not a reset");
            assert!(read > 0, "the connection ended without a close frame");
            buffer.extend_from_slice(&chunk[..read]);
            // Server frames are not masked; the ones before a close here are short.
            while buffer.len() >= 2 && buffer.len() >= 2 + usize::from(buffer[1] & 0x7f) {
                let len = usize::from(buffer[1] & 0x7f);
                if buffer[0] & 0x0f == 8 {
                    assert!(len >= 2, "a close frame with a code");
                    return u16::from_be_bytes([buffer[2], buffer[3]]);
                }
                buffer.drain(..2 + len);
            }
        }
    })
    .await
}

/// Sends `bytes` on a fresh socket and returns the close code the server answers with.
async fn answer_to(bytes: &[u8]) -> u16 {
    let app = launch().await;
    let mut tcp = open(&app, "protocol").await;
    tcp.write_all(bytes).await.expect("sent");
    let code = close_code(&mut tcp).await;
    app.stop().await;
    code
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    assert_eq!(
        answer_to(&frame(FIN_TEXT, true, &[0x66, 0xff, 0xfe])).await,
        1007
    );
}

#[tokio::test]
async fn a_ping_of_200_bytes_closes_with_1002() {
    assert_eq!(answer_to(&frame(FIN_PING, true, &[0; 200])).await, 1002);
}

#[tokio::test]
async fn a_frame_with_rsv1_set_closes_with_1002() {
    assert_eq!(answer_to(&frame(FIN_TEXT | RSV1, true, b"hi")).await, 1002);
}

#[tokio::test]
async fn an_unmasked_client_frame_closes_with_1002() {
    assert_eq!(answer_to(&frame(FIN_TEXT, false, b"hi")).await, 1002);
}

#[tokio::test]
async fn a_client_that_keeps_sending_after_a_too_big_message_still_reads_the_1009() {
    // Arrange: a message over 16 KiB, then more frames the server will not read.
    let app = launch().await;
    let mut tcp = open(&app, "protocol").await;
    let (mut reader, mut writer) = tcp.split();

    // Act
    let keep_sending = async {
        writer
            .write_all(&frame(FIN_TEXT, true, &[b'x'; 17 * 1024]))
            .await
            .expect("sent");
        for _ in 0..200 {
            // The server stops reading at some point; a refused write ends the flood.
            if writer
                .write_all(&frame(FIN_TEXT, true, &[b'y'; 4096]))
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let ((), code) = tokio::join!(keep_sending, close_code(&mut reader));

    // Assert
    assert_eq!(code, 1009);
    app.stop().await;
}
