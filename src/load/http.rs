//! A minimal HTTP/1.1 client side, as pure functions over bytes: a parser for a response head
//! and a streaming body decoder (fixed length, chunked or until the connection closes). The
//! chunked decoder keeps its state between calls, so chunk boundaries may fall anywhere in
//! the bytes read from the socket.

/// The status line and the headers of one response. Header names are lower case.
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The value of the first header with this (lower case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// False when the server said it will close the connection after this answer.
    pub fn keep_alive(&self) -> bool {
        !self
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Looks for a complete response head at the start of `bytes`. Returns the head and how many
/// bytes it took, `None` when more bytes are needed, or an error for a malformed head.
pub fn parse_head(bytes: &[u8]) -> Result<Option<(Head, usize)>, String> {
    let Some(end) = find(bytes, b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes[..end])
        .map_err(|_| "the response head is not valid text".to_owned())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut words = status_line.split(' ');
    let version = words.next().unwrap_or("");
    let status = words.next().and_then(|s| s.parse::<u16>().ok());
    let status = match status {
        Some(status) if version.starts_with("HTTP/1.") => status,
        _ => return Err(format!("not an HTTP/1.x status line: {status_line:?}")),
    };
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("a header line without a colon: {line:?}"));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some((Head { status, headers }, end + 4)))
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut at = 0;
    while at <= last_start {
        let offset = hay[at..=last_start].iter().position(|&b| b == first)?;
        at += offset;
        if &hay[at..at + needle.len()] == needle {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// How a response body is delimited, and how much of it is still to come.
pub enum Body {
    /// `Content-Length`: this many bytes remain.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// Neither: the body runs until the server closes the connection.
    UntilClose,
}

impl Body {
    /// The body framing that this head announces.
    pub fn for_head(head: &Head) -> Result<Body, String> {
        if head.status < 200 || head.status == 204 || head.status == 304 {
            return Ok(Body::Length(0));
        }
        if let Some(coding) = head.header("transfer-encoding") {
            if coding.to_ascii_lowercase().contains("chunked") {
                return Ok(Body::Chunked(Chunked::default()));
            }
            return Err(format!("unsupported transfer coding {coding:?}"));
        }
        match head.header("content-length") {
            Some(length) => length
                .parse()
                .map(Body::Length)
                .map_err(|_| format!("bad Content-Length {length:?}")),
            None => Ok(Body::UntilClose),
        }
    }

    /// True when nothing more belongs to this body.
    pub fn is_done(&self) -> bool {
        match self {
            Body::Length(left) => *left == 0,
            Body::Chunked(chunked) => chunked.state == State::Done,
            Body::UntilClose => false,
        }
    }

    /// Decodes as much of `input` as belongs to this body and appends the body bytes to `out`.
    /// Returns how many bytes of `input` were used, and whether the body is now complete.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), String> {
        match self {
            Body::Length(left) => {
                let take = input
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[..take]);
                *left -= take as u64;
                Ok((take, *left == 0))
            }
            Body::Chunked(chunked) => chunked.feed(input, out),
            Body::UntilClose => {
                out.extend_from_slice(input);
                Ok((input.len(), false))
            }
        }
    }
}

/// Where the chunked decoder is in the stream.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size.
    Size,
    /// Skipping a chunk extension up to the end of the size line.
    Extension,
    /// Saw the CR that ends the size line.
    SizeLf,
    /// Copying chunk data; this many bytes remain.
    Data(u64),
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// In the trailer after the last chunk; true at the start of a line.
    Trailer(bool),
    /// The body is complete.
    Done,
}

/// A streaming decoder for `Transfer-Encoding: chunked`.
pub struct Chunked {
    state: State,
    size: u64,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked {
            state: State::Size,
            size: 0,
        }
    }
}

impl Chunked {
    /// See [`Body::feed`].
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), String> {
        let mut at = 0;
        while at < input.len() && self.state != State::Done {
            if let State::Data(left) = self.state {
                let take = (input.len() - at).min(usize::try_from(left).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[at..at + take]);
                at += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data(left)
                };
                continue;
            }
            let byte = input[at];
            at += 1;
            self.state = self.step(byte)?;
        }
        Ok((at, self.state == State::Done))
    }

    /// One byte outside chunk data.
    fn step(&mut self, byte: u8) -> Result<State, String> {
        let bad = |what: &str| Err(format!("bad chunked body: {what} (byte {byte:#04x})"));
        Ok(match (self.state, byte) {
            (State::Size, b'\r') => State::SizeLf,
            (State::Size, b'\n') | (State::SizeLf, b'\n') => self.size_line_done(),
            (State::Size, b';' | b' ' | b'\t') => State::Extension,
            (State::Size, _) => {
                let digit = (byte as char).to_digit(16);
                let Some(digit) = digit else {
                    return bad("a chunk size that is not hex");
                };
                if self.size > (1 << 40) {
                    return bad("a chunk size that is far too large");
                }
                self.size = self.size * 16 + u64::from(digit);
                State::Size
            }
            (State::Extension, b'\r') => State::SizeLf,
            (State::Extension, b'\n') => self.size_line_done(),
            (State::Extension, _) => State::Extension,
            (State::SizeLf, _) => return bad("a size line without LF"),
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataCr, b'\n') | (State::DataLf, b'\n') => State::Size,
            (State::DataCr | State::DataLf, _) => return bad("chunk data longer than its size"),
            (State::Trailer(start), b'\n') if start => State::Done,
            (State::Trailer(_), b'\n') => State::Trailer(true),
            (State::Trailer(start), b'\r') => State::Trailer(start),
            (State::Trailer(_), _) => State::Trailer(false),
            (State::Data(_) | State::Done, _) => self.state,
        })
    }

    fn size_line_done(&mut self) -> State {
        let size = std::mem::take(&mut self.size);
        if size == 0 {
            State::Trailer(true)
        } else {
            State::Data(size)
        }
    }
}
