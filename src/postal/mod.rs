//! Listing 1's server side: a postal-code lookup compatible with GeoNames'
//! `postalCodeLookupJSON`, mounted at `GET /api/postalcodes`, answered as JSON or, with
//! `callback=`, as JSONP. The page itself is the `postal-code` technique page.
//!
//! The data comes from `[default.postal] data` in `Rocket.toml`: a directory of GeoNames
//! `XX.txt` / `XX.txt.gz` files or one file such as `allCountries.txt`; by default the
//! bundled `data/postal`. Nothing is read at start-up; see [`directory`] for when it is.

pub mod code;
pub mod directory;
pub mod dump;
pub mod table;

use std::path::PathBuf;

use rocket::fairing::AdHoc;
use rocket::figment::value::magic::RelativePathBuf;
use rocket::http::{ContentType, Status};
use rocket::{Route, State};
use serde::{Deserialize, Serialize};

use self::code::{Country, PostalCode};
use self::directory::Directory;
use self::table::Place;
use crate::config;
use crate::wire::NoStore;
use crate::wire::jsonp::{self, Callback};

/// Answers hold at most this many places; a larger `maxRows` is lowered to it.
pub const MAX_ROWS: usize = 100;
/// Places in an answer when the query does not say.
pub const DEFAULT_ROWS: usize = 20;
/// GeoNames' error code for an invalid (or missing) parameter.
pub const INVALID_PARAMETER: u32 = 14;

/// `[default.postal]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostalConfig {
    /// A directory of `XX.txt[.gz]` files or one file; relative paths are relative to the
    /// configuration file. Unset: the bundled data.
    pub data: Option<RelativePathBuf>,
}

impl config::Section for PostalConfig {
    const NAME: &'static str = "postal";
}

impl PostalConfig {
    /// The configured path; none for the bundled data, which is compiled into the binary.
    pub fn path(&self) -> Option<PathBuf> {
        self.data.as_ref().map(RelativePathBuf::relative)
    }
}

/// The query, as GeoNames names it. Every field is optional here so that a missing or bad
/// value gets a GeoNames-style answer instead of Rocket's own 422.
#[derive(Debug, FromForm)]
pub struct Query<'r> {
    postalcode: Option<&'r str>,
    country: Option<&'r str>,
    #[field(name = "maxRows")]
    max_rows: Option<&'r str>,
    callback: Option<&'r str>,
}

/// GeoNames' answer: `{"postalcodes":[…]}`. Structs rather than `json!`, so that fields keep
/// GeoNames' order.
#[derive(Debug, Serialize)]
struct Found {
    postalcodes: Vec<Place>,
}

/// GeoNames' error shape: `{"status":{"message":…,"value":14}}`.
#[derive(Debug, Serialize)]
struct Refused {
    status: Refusal,
}

#[derive(Debug, Serialize)]
struct Refusal {
    message: &'static str,
    value: u32,
}

type Answer = (Status, NoStore<(ContentType, String)>);

/// Serialises `value` as JSON, or as JSONP when there is a callback.
fn answer<T: Serialize>(status: Status, callback: Option<&Callback>, value: &T) -> Answer {
    match callback {
        Some(callback) => (status, jsonp::respond(callback, value)),
        None => (
            status,
            NoStore::new((ContentType::JSON, jsonp::script_safe_json(value))),
        ),
    }
}

fn refuse(callback: Option<&Callback>, message: &'static str) -> Answer {
    let body = Refused {
        status: Refusal {
            message,
            value: INVALID_PARAMETER,
        },
    };
    answer(Status::BadRequest, callback, &body)
}

/// `maxRows`: absent or empty means 20; a whole number from 1 up, lowered to 100.
fn max_rows(raw: Option<&str>) -> Result<usize, &'static str> {
    match raw.map(str::trim) {
        None | Some("") => Ok(DEFAULT_ROWS),
        Some(n) => match n.parse::<u64>() {
            Ok(0) | Err(_) => Err("invalid parameter maxRows: a whole number from 1 to 100"),
            Ok(n) => Ok(usize::try_from(n).unwrap_or(MAX_ROWS).min(MAX_ROWS)),
        },
    }
}

/// `{"postalcodes":[…]}` with the places that have this postal code, in `country` when given
/// (any case) or in every country. Codes match after upper-casing and dropping spaces; in
/// the UK and Canada a full code falls back to the coarser unit the data holds. With a valid
/// `callback` the answer is JSONP. Bad input is a 400 with GeoNames' `status` object (a bad
/// callback's 400 is plain JSON), and no message repeats what was sent.
#[get("/api/postalcodes?<query..>")]
pub async fn postal_codes(query: Query<'_>, directory: &State<Directory>) -> Answer {
    let callback = match query.callback.map(Callback::parse).transpose() {
        Ok(callback) => callback,
        Err(_) => return refuse(None, "invalid parameter callback: a JavaScript name"),
    };
    let callback = callback.as_ref();
    let code = match PostalCode::parse(query.postalcode.unwrap_or("")) {
        Ok(code) => code,
        Err(invalid) => return refuse(callback, invalid.message()),
    };
    let country = match query.country.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => match Country::parse(raw) {
            Ok(country) => Some(country),
            Err(invalid) => return refuse(callback, invalid.message()),
        },
    };
    let max = match max_rows(query.max_rows) {
        Ok(max) => max,
        Err(message) => return refuse(callback, message),
    };
    let postalcodes = directory.lookup(&code, country, max).await;
    answer(Status::Ok, callback, &Found { postalcodes })
}

pub fn routes() -> Vec<Route> {
    routes![postal_codes]
}

/// Reads `[default.postal]`, opens the data (listing files only) and mounts the API. A path
/// that does not exist stops the launch with a message.
pub fn stage() -> AdHoc {
    let read = |figment: &_| {
        let config = config::read::<PostalConfig>(figment)?;
        match config.path() {
            None => Ok(Directory::compiled_in()),
            Some(path) => {
                Directory::open(&path).map_err(|e| format!("postal.data = {}: {e}", path.display()))
            }
        }
    };
    config::stage("Postal codes", read, |rocket, directory| {
        rocket.manage(directory).mount("/", routes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_rows_defaults_to_20_and_is_capped_at_100() {
        assert_eq!(max_rows(None), Ok(20));
        assert_eq!(max_rows(Some("")), Ok(20));
        assert_eq!(max_rows(Some("5")), Ok(5));
        assert_eq!(max_rows(Some("100")), Ok(100));
        assert_eq!(max_rows(Some("5000")), Ok(100));
        assert_eq!(
            max_rows(Some("99999999999999999999999")),
            Err(max_rows(Some("x")).unwrap_err())
        );
        for bad in ["0", "-1", "x", "1.5"] {
            assert!(max_rows(Some(bad)).is_err(), "{bad}");
        }
    }
}
