//! The release binary on its own: copied into an empty folder and started from another one,
//! with no `Rocket.toml`, templates, static files or data in reach. The source folder itself
//! is hidden from it (an empty tmpfs mounted over it in a mount namespace of its own, with
//! `unshare`, as root), so a path compiled in from the source tree would fail here. Everything
//! a page needs must come from the binary, over a real socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the copied binary may take to say it has launched.
const LAUNCH: Duration = Duration::from_secs(30);
/// How long one request may take.
const ANSWER: Duration = Duration::from_secs(10);

/// A fresh empty folder under the system's temporary one, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = std::env::temp_dir().join(format!(
            "reverse-ajax-{name}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&path).expect("a temporary folder");
        Folder(path)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        // Best effort: a leftover temporary folder is harmless.
        let _removed = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// The child server, killed (it is ours, by its handle) when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _killed = self.0.kill();
        let _reaped = self.0.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`; the status, the headers (names in lower
/// case) and the body.
fn get(port: u16, path: &str, extra: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    stream.set_read_timeout(Some(ANSWER)).expect("a timeout");
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("the whole answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head and a body");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn the_binary_serves_the_whole_site_from_any_folder() {
    let install = Folder::new("bin");
    let elsewhere = Folder::new("run");
    let binary = install.0.join("reverse-ajax");
    std::fs::copy(env!("CARGO_BIN_EXE_reverse-ajax"), &binary).expect("the binary is copied");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // `sh` hides the source folder, then becomes the server (`exec`), so the child is it.
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs none "$1" && exec "$2""#)
        .arg("sh")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg(&binary)
        .current_dir(&elsewhere.0)
        .env("ROCKET_CONFIG", elsewhere.0.join("no-such-Rocket.toml"))
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_TICKER", "{enabled=false}")
        .env("ROCKET_LOG_LEVEL", "normal")
        .env("ROCKET_CLI_COLORS", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare starts (util-linux; the test runs as root, as CI does)");
    let stdout = child.stdout.take().expect("its output");
    let _server = Server(child);
    let (said, heard) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("launched from") {
                let _told = said.send(());
            }
        }
    });
    heard
        .recv_timeout(LAUNCH)
        .expect("the server says it has launched");

    let (status, headers, body) = get(port, "/polling", &[]);
    let page = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 200, "{page}");
    assert!(
        header(&headers, "content-type").starts_with("text/html"),
        "{headers:?}"
    );
    assert!(page.contains("<h1>HTTP polling</h1>"), "{page}");
    let root = page
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find_map(|link| link.strip_suffix("/css/site.css"))
        .expect("the page links its stylesheet");
    assert!(root.starts_with("/static/v"), "a versioned path: {root}");

    let (status, headers, css) = get(port, &format!("{root}/css/site.css"), &[]);
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-type").starts_with("text/css"),
        "{headers:?}"
    );
    assert!(
        String::from_utf8_lossy(&css).contains(".timeline"),
        "the site's stylesheet"
    );
    assert!(
        header(&headers, "cache-control").contains("immutable"),
        "{headers:?}"
    );
    let etag = header(&headers, "etag").to_owned();
    let (status, _, body) = get(
        port,
        &format!("{root}/css/site.css"),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(
        (status, body.len()),
        (304, 0),
        "a current copy is not sent again"
    );

    let (status, _, body) = get(port, "/api/postalcodes?postalcode=10001&country=US", &[]);
    let answer = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains("New York"),
        "the bundled postal data: {answer}"
    );
}
