//! Debian's nginx as a child of the test, configured with the snippets shipped in `deploy/`
//! and a small wrapper of its own (a temporary prefix, a loopback port, the test app as the
//! only upstream). Dropping the guard stops nginx by its pid and removes the prefix.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rocket::tokio::net::TcpStream;
use rocket::tokio::time::sleep;
use rustix::process::{Pid, Signal, kill_process};

use crate::procfs;

/// The directory holding the shipped nginx configuration.
const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");

/// Where Debian installs nginx; often not on a non-root user's PATH.
const DEBIAN_NGINX: &str = "/usr/sbin/nginx";

/// How long nginx may take to start listening.
const STARTUP: Duration = Duration::from_secs(10);

/// A running nginx in front of the app on `upstream`.
pub struct Nginx {
    pub port: u16,
    child: Child,
    prefix: PathBuf,
}

/// The nginx binary on PATH or at Debian's path. Without one, the test is skipped with a
/// notice, unless `CI` is set: then it fails.
pub fn binary(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("nginx"))
        .chain([PathBuf::from(DEBIAN_NGINX)])
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but nginx is missing (apt-get install nginx-light)"
        );
        eprintln!("SKIPPED {test}: nginx not found on PATH or at {DEBIAN_NGINX}");
    }
    found
}

/// A number of seconds set in the shipped `reverse-ajax.http.conf`, such as
/// `client_header_timeout`, so that the tests hold nginx to the values users get.
pub fn shipped_seconds(directive: &str) -> Duration {
    let text = fs::read_to_string(format!("{DEPLOY}/reverse-ajax.http.conf")).expect("snippet");
    let value = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix(directive))
        .find_map(|rest| rest.trim().strip_suffix("s;")?.parse().ok())
        .unwrap_or_else(|| panic!("`{directive} <n>s;` in reverse-ajax.http.conf"));
    Duration::from_secs(value)
}

impl Nginx {
    /// Starts `binary` on a free loopback port in front of the app on `upstream` and waits
    /// until it accepts connections.
    pub async fn start(binary: &Path, upstream: u16) -> Nginx {
        Nginx::start_with(binary, upstream, free_port(), &shipped_server()).await
    }

    /// [`Nginx::start`] on `port`, with `server` as the body of its `server` block (after the
    /// `listen` line) instead of the shipped one.
    pub async fn start_with(binary: &Path, upstream: u16, port: u16, server: &str) -> Nginx {
        let prefix = fresh_prefix();
        let config = wrapper(&prefix, port, upstream, server);
        fs::write(prefix.join("nginx.conf"), config).expect("config");
        let child = Command::new(binary)
            .arg("-p")
            .arg(&prefix)
            .arg("-e")
            .arg(prefix.join("error.log"))
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx {
            port,
            child,
            prefix,
        };
        nginx.wait_until_listening().await;
        nginx
    }

    /// Polls the port until nginx accepts, failing with its error log if it exits or takes
    /// longer than [`STARTUP`].
    async fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}):\n{}", self.error_log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen within {STARTUP:?}:\n{}",
                self.error_log()
            );
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.prefix.join("error.log")).unwrap_or_default()
    }

    /// The anonymous resident memory (heap and stacks, not the mapped binary and libraries)
    /// of nginx's worker processes, in bytes.
    pub fn workers_memory(&self) -> u64 {
        let workers = procfs::children_of(self.child.id());
        workers.into_iter().filter_map(procfs::anonymous_rss).sum()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its workers; SIGKILL would leave them behind.
        let _sent = kill_process(Pid::from_child(&self.child), Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            // It ignored SIGTERM for 5 s: the master at least must not outlive the test.
            let _killed = self.child.kill();
            let _reaped = self.child.wait();
        }
        let _removed = fs::remove_dir_all(&self.prefix);
    }
}

/// The body of the shipped `server` block: the snippet in `deploy/`.
pub fn shipped_server() -> String {
    format!("include {DEPLOY}/reverse-ajax.server.conf;")
}

/// The test's nginx.conf: everything that belongs to this run, then the shipped http snippet
/// and `server` as the body of the server block.
fn wrapper(prefix: &Path, port: u16, upstream: u16, server: &str) -> String {
    let p = prefix.display();
    format!(
        "worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    include {DEPLOY}/reverse-ajax.http.conf;
    upstream reverse_ajax {{
        server 127.0.0.1:{upstream};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        {server}
    }}
}}
"
    )
}

/// A new, empty directory for one nginx. It is world-readable because nginx started as root
/// runs its workers as `nobody`, and they create their temporary files in it.
fn fresh_prefix() -> PathBuf {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("reverse-ajax-edge-{}-{run}", std::process::id()));
    let _stale = fs::remove_dir_all(&dir);
    fs::DirBuilder::new()
        .mode(0o755)
        .create(&dir)
        .expect("a prefix directory");
    dir
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address").port()
}
