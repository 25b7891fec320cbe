//! Settings of the listening socket that Rocket 0.5 does not expose, applied at liftoff.
//!
//! - **The listen backlog.** Rocket binds through mio, which asks for a queue of 128
//!   half-open connections. A burst of a few hundred connects (a page of subscribers, a
//!   load test) overflows it while the accept loop is busy, and every dropped handshake waits
//!   a full second for the client's SYN retransmission. `[listener] backlog` (default 4096,
//!   capped by the kernel's `net.core.somaxconn`) replaces it.
//! - **A write timeout.** Rocket writes every response itself, so a handler cannot see that a
//!   client stopped reading: the response waits in hyper's buffer and the kernel's send queue
//!   for as long as the client lives. `TCP_USER_TIMEOUT` set to `push.write_timeout_ms` on the
//!   listening socket is inherited by every accepted connection: when data sent to a client
//!   stays unacknowledged (a zero window counts) for that long, the kernel ends the
//!   connection, hyper's next write fails and the socket and its buffers are released.
//! - **A send buffer.** Linux grows each connection's send buffer as it sees fit, up to
//!   `net.ipv4.tcp_wmem`'s maximum (4 MiB by default). A thousand held connections whose
//!   clients stopped reading then pin gigabytes of kernel memory until the write timeout cuts
//!   them. `SO_SNDBUF` on the listening socket, inherited like the timeout, fixes each
//!   connection's send buffer so that its kernel memory stays under `[listener] send_buffer`
//!   bytes: the buffer (data and the kernel's bookkeeping, as `getsockopt` reports it) is
//!   half of that, since a socket may take one write beyond its buffer and on loopback the
//!   client's receive queue is charged to the same host. The kernel doubles what it is asked
//!   for, so this asks for a quarter.
//!
//! Rocket keeps the listener to itself, so this module finds it among the process's open
//! descriptors (the socket listening on the configured port), takes a duplicate of it with
//! `pidfd_getfd(2)` (Linux 5.6 and later) and changes the shared socket through that. Where
//! that is not possible, the server runs with the defaults and says so once in the log.

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use rocket::fairing::AdHoc;
use rustix::net::sockopt;
use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
use serde::Deserialize;

use crate::config::{self, PushConfig};

/// `[default.listener]`: the listening socket.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenerConfig {
    /// How many connections may wait to be accepted (the kernel caps it at somaxconn).
    pub backlog: u32,
    /// The kernel memory in bytes one connection's unsent data may take (its send buffer is
    /// half of it); 0 leaves the send buffer to the kernel's autotuning.
    pub send_buffer: u32,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            backlog: 4096,
            send_buffer: 128 * 1024,
        }
    }
}

impl config::Section for ListenerConfig {
    const NAME: &'static str = "listener";

    /// Rejects a backlog of 0 and a send buffer the kernel would not honour.
    fn check(self) -> Result<Self, String> {
        if self.backlog == 0 {
            return Err("listener.backlog must be > 0".into());
        }
        if self.send_buffer != 0 && self.send_buffer < 16384 {
            return Err(
                "listener.send_buffer must be 0 (the kernel's autotuning) or at least 16384".into(),
            );
        }
        Ok(self)
    }
}

/// Tunes the listening socket once Rocket has bound it.
pub fn stage() -> AdHoc {
    config::stage(
        "Listener",
        config::read::<ListenerConfig>,
        |rocket, config| {
            rocket.attach(AdHoc::on_liftoff("Listener tuning", move |rocket| {
                let address = SocketAddr::new(rocket.config().address, rocket.config().port);
                let timeout = rocket
                    .state::<PushConfig>()
                    .map(|push| push.write_timeout_ms);
                Box::pin(async move {
                    let tuned = tune(address, &config, timeout);
                    if let Err(error) = tuned {
                        rocket::warn!(
                            "cannot tune the listening socket ({error}): the listen backlog stays \
                         at 128, send buffers grow as the kernel likes and clients that stop \
                         reading are not cut off"
                        );
                    }
                })
            }))
        },
    )
}

/// Applies the backlog, the send buffer and the write timeout (milliseconds) to the socket
/// listening on `address`.
fn tune(
    address: SocketAddr,
    config: &ListenerConfig,
    write_timeout: Option<u64>,
) -> io::Result<()> {
    let socket = find_listener(address)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no socket listens there"))?;
    if let Some(ms) = write_timeout {
        sockopt::set_tcp_user_timeout(&socket, u32::try_from(ms).unwrap_or(u32::MAX))?;
    }
    if config.send_buffer > 0 {
        // A send buffer of half the budget; the kernel doubles the size it is asked for.
        sockopt::set_socket_send_buffer_size(&socket, config.send_buffer as usize / 4)?;
    }
    // Listening again on a listening socket only changes its backlog.
    rustix::net::listen(&socket, i32::try_from(config.backlog).unwrap_or(i32::MAX))?;
    Ok(())
}

/// A duplicate of the descriptor of the socket listening on `address`, if this process has
/// one.
fn find_listener(address: SocketAddr) -> io::Result<Option<OwnedFd>> {
    let this = pidfd_open(getpid(), PidfdFlags::empty())?;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // The descriptor may have been closed since the directory was read.
        let Ok(socket) = pidfd_getfd(&this, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let listening = sockopt::socket_acceptconn(&socket).unwrap_or(false);
        let bound = rustix::net::getsockname(&socket)
            .ok()
            .and_then(|a| SocketAddr::try_from(a).ok());
        if listening && bound == Some(address) {
            return Ok(Some(socket));
        }
    }
    Ok(None)
}
