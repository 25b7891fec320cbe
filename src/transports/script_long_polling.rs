//! Script-tag long polling, mounted at `GET /push/<ch>/script?since=&callback=`.
//!
//! Long polling through a `<script>` element: the server holds the request like XHR long
//! polling and then answers with JSONP, so it works across origins.

use rocket::request::Request;
use rocket::{Route, State};

use super::guard::Connection;
use super::held::Held;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Hub};
use crate::wire::jsonp::{self, Callback};
use crate::wire::{Serves, Technique};

/// The route's technique.
pub struct ScriptLongPolling;

impl Serves for ScriptLongPolling {
    fn technique(_: &Request<'_>) -> Technique {
        Technique::ScriptLongPolling
    }
}

/// Holds the request like `/long-poll`, then answers `/**/callback({"events":…});`.
#[get("/push/<_>/script?<since>&<callback>")]
pub async fn script(
    since: Option<&str>,
    callback: Option<&str>,
    listener: Connection<ScriptLongPolling>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Held<impl Fn(&Batch) -> String + Send + 'static>, AppError> {
    let callback = Callback::parse(callback.unwrap_or_default())?;
    let render = move |batch: &Batch| jsonp::batch_body(&callback, batch);
    Held::open(hub, since, listener, config, (jsonp::script_type(), render)).await
}

pub fn routes() -> Vec<Route> {
    routes![script]
}
