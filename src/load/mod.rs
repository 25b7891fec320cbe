//! The load engine: simulated clients of every technique, the tally each one keeps, the
//! publisher, and the HTTP/1.1 connections under them. Two drivers share it:
//!
//! - `reverse-ajax experiment` ([`crate::experiment`]): every technique in turn, clients that
//!   behave like the pages' scripts ([`Pace::Browser`]);
//! - the fan-out benchmark (`benches/fanout`): many subscribers of one technique against our
//!   server or Nchan ([`Peer::Nchan`]), reconnecting at once and timing their first connect
//!   ([`Pace::Subscriber`]).
//!
//! Every event the publisher sends carries `{"seq": N, "ts": <ns since 1970>}`, so a client
//! can tell lost and duplicate events apart by `seq` and time each delivery.

pub mod clients;
pub mod conn;
pub mod frame;
pub mod http;
pub mod peer;
pub mod procfs;
pub mod publisher;
pub mod stats;
pub mod tally;

pub use clients::{Ctx, Pace, Warnings};
pub use peer::Peer;
pub use tally::{Stamp, Tally};

/// Raises this process's open-file limit to the hard limit: every client holds a socket,
/// and a child server inherits the limit.
pub fn raise_file_limit() -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised).map_err(|e| {
        format!(
            "could not raise the open-file limit to {:?}: {e}",
            limit.maximum
        )
    })
}
