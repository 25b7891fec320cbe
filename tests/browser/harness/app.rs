//! The application a browser test drives: launched by the common launcher with the browser
//! suite's settings, and its hub, to publish without a round trip.

use reverse_ajax::hub::{Channel, Hub, Payload};
use rocket::figment::Figment;

use crate::common::launcher::{Launched, Server, config, launch};

/// The visitor channel the tests' pages use: [`super::Ctx::open`] names it in the page URL,
/// and [`App::publish`] publishes on it.
pub const CHANNEL: &str = "demo-browsertest";

/// The app running on a free port of 127.0.0.1 with the ticker off.
pub struct App {
    /// The channel [`App::publish`] publishes on: [`CHANNEL`].
    pub channel: String,
    pub port: u16,
    pub hub: Hub,
    server: Server,
}

impl App {
    /// Launches the real app on the current runtime with the configuration changed by
    /// `configure` after the test defaults, and waits for liftoff; e.g. `|f| f.merge(("push.iframe_budget", 4096))`.
    pub async fn launch_with(configure: impl FnOnce(Figment) -> Figment) -> App {
        let figment = config()
            .merge((
                "template_dir",
                concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            ))
            .merge(("log_level", "critical"))
            .merge(("shutdown.grace", 1))
            .merge(("shutdown.mercy", 1));
        let Launched { port, hub, server } = launch(configure(figment)).await;
        App {
            channel: CHANNEL.to_owned(),
            port,
            hub,
            server,
        }
    }

    /// The absolute URL of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Publishes string `data` on the test channel and returns the new event's id.
    pub async fn publish(&self, data: &str) -> String {
        self.publish_on(&self.channel, data).await
    }

    /// Publishes string `data` on `channel` and returns the new event's id.
    pub async fn publish_on(&self, channel: &str, data: &str) -> String {
        let channel = Channel::parse(channel).expect("a valid channel name");
        let event = self
            .hub
            .publish(&channel, Payload::text(data))
            .await
            .expect("the memory hub accepts a publish");
        event.id.to_string()
    }

    /// The ids of the events on the test channel the hub still holds, oldest first.
    pub async fn channel_ids(&self) -> Vec<String> {
        let channel = Channel::parse(&self.channel).expect("a valid channel name");
        let batch = self
            .hub
            .recent(&channel, 1000)
            .await
            .expect("recent never fails in memory");
        batch.events.iter().map(|e| e.id.to_string()).collect()
    }

    /// Asks the server to stop and waits (bounded) until it has.
    pub async fn stop(self) {
        if let Err(e) = self.server.stop().await {
            eprintln!("the app ended with an error: {e}");
        }
    }
}
