//! Launching instances on port 0 and speaking raw HTTP to them.

use std::time::Duration;

use rocket::figment::Figment;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::common::launcher::{Launched, Server, config, launch};
use crate::common::within;
use crate::support::{
    cluster_ready, cluster_urls, delete_cluster_keys, delete_keys, redis_ready, redis_url,
    unique_prefix,
};

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Tests that kill Redis connections take this for writing; the others for reading, so a
/// `CLIENT KILL` never hits another test's instances.
static REDIS_CONNECTIONS: RwLock<()> = RwLock::const_new(());

/// Tests that disturb the Redis Cluster (kill links, fail over) take this for writing.
static CLUSTER: RwLock<()> = RwLock::const_new(());

/// One test's Redis: a fresh key prefix, deleted on drop.
pub struct Scope {
    pub prefix: String,
    on_cluster: bool,
    _shared: Option<RwLockReadGuard<'static, ()>>,
    _exclusive: Option<RwLockWriteGuard<'static, ()>>,
    // Declared last: dropped after the hold on the single Redis, the reverse of taking them.
    _cluster_shared: Option<RwLockReadGuard<'static, ()>>,
    _cluster_exclusive: Option<RwLockWriteGuard<'static, ()>>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        if self.on_cluster {
            delete_cluster_keys(&self.prefix);
        } else {
            delete_keys(&self.prefix);
        }
    }
}

/// A scope on the Redis Cluster for `test`, or `None` (after a notice) when there is none;
/// `exclusive` for a test that disturbs the cluster: it runs alone, with no other Redis test
/// beside it (its followers' deadlines need the machine's attention).
pub async fn cluster_scope(test: &str, exclusive: bool) -> Option<Scope> {
    if !cluster_ready(test).await {
        return None;
    }
    let (cluster_shared, cluster_exclusive, redis) = if exclusive {
        let cluster = CLUSTER.write().await;
        (None, Some(cluster), Some(REDIS_CONNECTIONS.write().await))
    } else {
        (Some(CLUSTER.read().await), None, None)
    };
    Some(Scope {
        prefix: unique_prefix(test),
        on_cluster: true,
        _shared: None,
        _exclusive: redis,
        _cluster_shared: cluster_shared,
        _cluster_exclusive: cluster_exclusive,
    })
}

/// A scope for `test`, or `None` (after a notice) when Redis is not there.
pub async fn scope(test: &str) -> Option<Scope> {
    if !redis_ready(test).await {
        return None;
    }
    Some(Scope {
        prefix: unique_prefix(test),
        on_cluster: false,
        _shared: Some(REDIS_CONNECTIONS.read().await),
        _exclusive: None,
        _cluster_shared: None,
        _cluster_exclusive: None,
    })
}

/// Like [`scope`], for a test that kills Redis connections: it runs alone.
pub async fn exclusive_scope(test: &str) -> Option<Scope> {
    if !redis_ready(test).await {
        return None;
    }
    Some(Scope {
        prefix: unique_prefix(test),
        on_cluster: false,
        _shared: None,
        _exclusive: Some(REDIS_CONNECTIONS.write().await),
        _cluster_shared: None,
        _cluster_exclusive: None,
    })
}

/// A running instance.
pub struct Instance {
    pub port: u16,
    server: Server,
}

impl Instance {
    /// An instance on the Redis backend under `prefix`.
    pub async fn start(prefix: &str) -> Instance {
        Instance::start_with(prefix, &redis_url()).await
    }

    /// An instance on the Redis Cluster (`REDIS_CLUSTER_URLS`) under `prefix`.
    pub async fn start_on_cluster(prefix: &str) -> Instance {
        let seeds = cluster_urls();
        Instance::start_tuned(prefix, &redis_url(), |figment| {
            figment.merge(("hub.cluster", seeds))
        })
        .await
    }

    /// An instance on the Redis at `url` under `prefix`.
    pub async fn start_with(prefix: &str, url: &str) -> Instance {
        Instance::start_tuned(prefix, url, |figment| figment).await
    }

    /// Like [`Instance::start_with`], with `tune` applied to the configuration last.
    pub async fn start_tuned(
        prefix: &str,
        url: &str,
        tune: impl FnOnce(Figment) -> Figment,
    ) -> Instance {
        let figment = config()
            .merge(("hub.backend", "redis"))
            .merge(("hub.url", url))
            .merge(("hub.prefix", prefix));
        let Launched { port, server, .. } = launch(tune(figment)).await;
        Instance { port, server }
    }

    /// Shuts the instance down and waits until it has stopped.
    pub async fn stop(self) {
        let _ended = self.server.stop().await; // how it ended does not matter here
    }

    async fn connect(&self) -> TcpStream {
        connect(self.port).await
    }

    /// Sends one HTTP/1.0 request and returns the response once its headers are read.
    pub async fn request(&self, head: &str, body: &str) -> Response {
        request_on(self.port, head, body).await
    }

    /// Publishes `data` on `ch` and returns the status and the JSON answer.
    pub async fn try_publish(&self, ch: &str, data: &Value) -> (u16, Value) {
        self.try_publish_once(ch, data, None).await
    }

    /// Publishes `data` on `ch` with an `Idempotency-Key` if given; the status and the JSON
    /// answer.
    pub async fn try_publish_once(
        &self,
        ch: &str,
        data: &Value,
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut stream = self.connect().await;
        let body = data.to_string();
        let key = key.map_or(String::new(), |k| format!("Idempotency-Key: {k}\r\n"));
        let request = format!(
            "POST /api/channels/{ch}/events HTTP/1.0\r\nHost: 127.0.0.1\r\n{key}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("request sent");
        let mut answer = String::new();
        within(WAIT, stream.read_to_string(&mut answer))
            .await
            .expect("an answer");
        let code = answer
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let json = answer
            .split_once("\r\n\r\n")
            .and_then(|(_, body)| serde_json::from_str(body).ok())
            .unwrap_or(Value::Null);
        (code, json)
    }

    /// Publishes `data` on `ch` and returns the new event's id.
    pub async fn publish(&self, ch: &str, data: Value) -> String {
        let (code, json) = self.try_publish(ch, &data).await;
        assert_eq!(code, 201, "publishing {data} on {ch}: {json}");
        json["id"].as_str().expect("an id").to_owned()
    }

    /// The channel's head (`next` of a read without a cursor).
    pub async fn head(&self, ch: &str) -> String {
        let mut response = self
            .request(&format!("GET /api/channels/{ch}/events"), "")
            .await;
        assert_eq!(response.code, 200);
        response.json().await["next"]
            .as_str()
            .expect("next")
            .to_owned()
    }

    /// The value of the metric sample named `name` (with its labels, if any) on `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let mut response = self.request("GET /metrics", "").await;
        assert_eq!(response.code, 200);
        let text = response.text().await;
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no sample {name} in /metrics"))
    }

    /// Opens a Server-Sent Events stream on `ch`, after `last_id` if given.
    pub async fn sse(&self, ch: &str, last_id: Option<&str>) -> Sse {
        open_sse(self.port, ch, last_id)
            .await
            .expect("the stream opens")
    }
}

/// A connection to the instance on `port`.
async fn connect(port: u16) -> TcpStream {
    within(WAIT, TcpStream::connect(("127.0.0.1", port)))
        .await
        .expect("a connection to the instance")
}

/// Sends one HTTP/1.0 request to the instance on `port` and returns the response once its
/// headers are read.
pub async fn request_on(port: u16, head: &str, body: &str) -> Response {
    let mut stream = connect(port).await;
    let request = format!(
        "{head} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    within(WAIT, reader.read_line(&mut status))
        .await
        .expect("a status line");
    let code = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    loop {
        let mut line = String::new();
        within(WAIT, reader.read_line(&mut line))
            .await
            .expect("a header line");
        if line.trim().is_empty() {
            break;
        }
    }
    Response { code, reader }
}

/// Opens a Server-Sent Events stream on `ch` of the instance on `port`, after `last_id` if
/// given; `None` when the instance answers anything but 200.
pub async fn open_sse(port: u16, ch: &str, last_id: Option<&str>) -> Option<Sse> {
    let mut stream = connect(port).await;
    let last = last_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
    let request = format!(
        "GET /push/{ch}/sse HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\
         {last}\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut response = Response {
        code: 0,
        reader: BufReader::new(stream),
    };
    let mut status = String::new();
    within(WAIT, response.reader.read_line(&mut status))
        .await
        .expect("a status line");
    if !status.contains(" 200 ") {
        return None;
    }
    while response.line().await.is_some_and(|line| !line.is_empty()) {}
    Some(Sse { response })
}

/// A response whose headers have been read.
pub struct Response {
    pub code: u16,
    reader: BufReader<TcpStream>,
}

impl Response {
    /// The next line without its line break (empty at the end of a block), or `None` at the
    /// end of the body.
    async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = within(WAIT, self.reader.read_line(&mut line))
            .await
            .expect("a line");
        (read > 0).then(|| line.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// The rest of the body as JSON.
    pub async fn json(&mut self) -> Value {
        let body = self.text().await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("JSON body ({e}): {body:?}"))
    }

    /// The rest of the body.
    pub async fn text(&mut self) -> String {
        let mut body = String::new();
        within(WAIT, self.reader.read_to_string(&mut body))
            .await
            .expect("a body");
        body
    }
}

/// An open Server-Sent Events stream.
pub struct Sse {
    response: Response,
}

/// One Server-Sent Event.
#[derive(Debug, Default)]
pub struct SseEvent {
    pub kind: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

impl Sse {
    /// The next event that carries data (comments, `retry:`-only blocks and the opening
    /// `event: hello` are skipped); the test fails if the stream ends first.
    pub async fn next(&mut self) -> SseEvent {
        self.try_next()
            .await
            .expect("an event before the stream ends")
    }

    /// The next event that carries data, or `None` once the stream has ended.
    pub async fn try_next(&mut self) -> Option<SseEvent> {
        loop {
            let mut event = SseEvent::default();
            loop {
                let line = self.response.line().await?;
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("event: ") {
                    event.kind = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("id: ") {
                    event.id = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    event.data = v.to_owned();
                }
            }
            if !event.data.is_empty() && event.kind.as_deref() != Some("hello") {
                return Some(event);
            }
        }
    }

    /// The ids of the next `count` ordinary events (a reset or shutdown event fails the test).
    pub async fn ids(&mut self, count: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let event = self.next().await;
            assert_eq!(event.kind, None, "an ordinary event, got {event:?}");
            ids.push(event.id.expect("an id"));
        }
        ids
    }
}

/// `"<epoch>-<n>"` for `n` in `from..=to`, on the epoch of `id`.
pub fn ids_on(id: &str, from: u64, to: u64) -> Vec<String> {
    let (epoch, _) = id.rsplit_once('-').expect("an id");
    (from..=to).map(|n| format!("{epoch}-{n}")).collect()
}

/// The sequence number of an id.
pub fn seq(id: &str) -> u64 {
    id.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .expect("an id")
}
