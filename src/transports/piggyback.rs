//! Piggyback polling, mounted at `POST /piggyback`.
//!
//! The page never asks for events on its own. Events ride along on the answer to a request the
//! user makes anyway: here, registering for a talk. One JSON answer carries the form's
//! validation result and every event after the client's cursor.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use rocket::form::{self, Contextual, Form};
use rocket::http::ContentType;
use rocket::{Route, State};
use serde::Serialize;

use crate::access::{Reader, SameSite};
use crate::error::AppError;
use crate::hub::{Batch, Event, Hub};
use crate::wire::{NoStore, cursor};

pub use self::rules::Registration;

mod rules;

/// The form half of the answer.
#[derive(Debug, Serialize)]
pub struct FormResult {
    pub valid: bool,
    pub errors: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The whole answer: `{"form":…,"events":[…],"next":…,"reset":…}`, the form result plus
/// the pending events (copied from their stored envelopes).
fn answer(form: &FormResult, batch: &Batch) -> String {
    // A map of strings and a bool: serialising it cannot fail.
    let form = serde_json::to_string(form).unwrap_or_else(|_| unreachable!("plain data"));
    let mut out = String::with_capacity(form.len() + 64);
    out.push_str("{\"form\":");
    out.push_str(&form);
    out.push(',');
    batch.write_fields(&mut out, Event::json);
    out.push('}');
    out
}

/// Counts accepted registrations, so each one gets a confirmation number.
#[derive(Debug, Default)]
pub struct Registrations(AtomicU64);

/// Validates the registration and answers it together with every event after `since` on
/// the reader's channel (`?channel=`, `demo` by default). Only this site's pages may post it.
#[post("/piggyback", data = "<form>")]
pub async fn register(
    _site: SameSite,
    mut reader: Reader,
    form: Form<Contextual<'_, Registration<'_>>>,
    hub: &State<Hub>,
    registrations: &State<Registrations>,
) -> Result<NoStore<(ContentType, String)>, AppError> {
    // Read from the raw fields: the checked value is absent when any field is wrong.
    let since = cursor(form.context.field_value("since"))?;
    let errors = errors(&form.context);
    let valid = form.value.is_some() && errors.is_empty();
    let message = valid.then(|| {
        let number = registrations.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("Registration #{number} confirmed.")
    });
    let form = FormResult {
        valid,
        errors,
        message,
    };
    let batch = hub.read(&reader.channel, since.as_ref()).await?;
    let body = answer(&form, &batch);
    reader.meter.answer(&batch.events, batch.reset, body.len());
    Ok(NoStore::new((ContentType::JSON, body)))
}

/// The first complaint about each field, by field name.
fn errors(context: &form::Context<'_>) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    for error in context.errors() {
        if let Some(name) = &error.name {
            errors
                .entry(name.to_string())
                .or_insert_with(|| error.kind.to_string());
        }
    }
    errors
}

pub fn routes() -> Vec<Route> {
    routes![register]
}
