//! One test's edge: the application on a port of its own and an nginx in front of it.

use std::time::Duration;

use crate::launcher::{App, launch_with};
use crate::nginx::{self, Nginx};

/// The longest a long poll is held in these tests, so that a held poll ends quickly.
pub const LONG_POLL_MAX: Duration = Duration::from_millis(1500);

/// The application behind a running nginx.
pub struct Edge {
    pub app: App,
    pub nginx: Nginx,
}

/// The application and an nginx in front of it, or `None` (with a notice) when nginx is not
/// installed and `CI` is not set.
pub async fn start(test: &str) -> Option<Edge> {
    let binary = nginx::binary(test)?;
    let cap = u64::try_from(LONG_POLL_MAX.as_millis()).expect("a small cap");
    let app = launch_with(|figment| figment.merge(("push.long_poll_max_ms", cap))).await;
    let nginx = Nginx::start(&binary, app.port).await;
    Some(Edge { app, nginx })
}

impl Edge {
    /// Stops nginx first, so that no connection of its holds the application open, then the
    /// application.
    pub async fn stop(self) {
        let Edge { app, nginx } = self;
        drop(nginx);
        app.stop().await;
    }
}
