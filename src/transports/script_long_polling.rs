//! Script-tag long polling, mounted at `GET /push/<ch>/script?since=&callback=`.
//!
//! Long polling through a `<script>` element: the server holds the request like XHR long
//! polling and then answers with JSONP, so it works across origins.

use rocket::{Route, State};

use super::held::Held;
use crate::access::Listener;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Hub};
use crate::wire::jsonp::{self, Callback};

/// Holds the request like `/long-poll`, then answers `/**/callback({"events":…});`.
#[get("/push/<ch>/script?<since>&<callback>")]
pub async fn script(
    ch: &str,
    since: Option<&str>,
    callback: Option<&str>,
    listener: Listener,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Held<impl Fn(&Batch) -> String + Send + 'static>, AppError> {
    let callback = Callback::parse(callback.unwrap_or_default())?;
    let render = move |batch: &Batch| jsonp::batch_body(&callback, batch);
    Held::open(
        hub,
        (ch, since),
        listener,
        config,
        (jsonp::script_type(), render),
    )
    .await
}

pub fn routes() -> Vec<Route> {
    routes![script]
}
