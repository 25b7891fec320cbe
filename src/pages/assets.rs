//! The static files at `/static`: compiled into the binary (see `build.rs`), or read once at
//! ignite from `[default.assets] static_dir`, and served so that browsers keep them.
//!
//! The pages link every file under a versioned path, `/static/<version>/css/site.css`, where
//! the version is a hash of all the files together, worked out once at ignite. A new release
//! with any changed file has a new version, so its pages name new URLs and no browser can
//! use a stale copy; a URL with the current version therefore never changes its answer and is
//! cached for a year as `immutable`. The plain `/static/css/site.css` (and a version that is
//! not the current one) still works, with `Cache-Control: no-cache`: the browser keeps it but
//! asks again each time. Every answer carries an `ETag` (a hash of the file) and a
//! `Last-Modified`, and a request that names either (`If-None-Match`, `If-Modified-Since`)
//! gets a `304 Not Modified` without the body when the file is the same.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rocket::State;
use rocket::fairing::AdHoc;
use rocket::figment::value::magic::RelativePathBuf;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use serde::Deserialize;

use crate::config;
use crate::embedded::{self, EmbeddedFile};

/// `[default.assets]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssetsConfig {
    /// A folder to serve `/static` from instead of the copy compiled into the binary (for
    /// working on the site's files without a rebuild); read once at ignite. Relative paths are
    /// relative to the configuration file.
    pub static_dir: Option<RelativePathBuf>,
}

impl config::Section for AssetsConfig {
    const NAME: &'static str = "assets";
}

/// One static file, ready to serve.
#[derive(Debug)]
struct Asset {
    bytes: Vec<u8>,
    content_type: ContentType,
    /// A strong validator: a hash of the bytes, quoted.
    etag: String,
    /// The file's modification time, as an HTTP date.
    last_modified: String,
    modified: SystemTime,
}

/// Every static file, by its path under `static/`, and the version of the whole set.
#[derive(Debug)]
pub struct Assets {
    files: HashMap<String, Asset>,
    version: String,
}

/// How long a versioned URL may be kept: a year, the longest HTTP caches honour.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// An unversioned URL: keep it, but ask whether it changed before each use.
const REVALIDATE: &str = "no-cache";

impl Assets {
    /// The files compiled into the binary.
    pub fn embedded() -> Assets {
        Assets::from_files(embedded::STATIC.iter().map(|f: &EmbeddedFile| {
            let modified = UNIX_EPOCH + Duration::from_secs(f.modified);
            (f.path.to_owned(), f.bytes.to_vec(), modified)
        }))
    }

    /// Every file under `dir`, read now.
    pub fn read(dir: &Path) -> io::Result<Assets> {
        let mut found = Vec::new();
        walk(dir, dir, &mut found)?;
        if found.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no files in {}", dir.display()),
            ));
        }
        Ok(Assets::from_files(found))
    }

    fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>, SystemTime)>) -> Assets {
        let mut all = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        for (path, bytes, modified) in files {
            let content_type = path
                .rsplit_once('.')
                .and_then(|(_, ext)| ContentType::from_extension(ext))
                .unwrap_or(ContentType::Binary);
            // HTTP dates have whole seconds; so does the comparison with If-Modified-Since.
            let modified = UNIX_EPOCH
                + Duration::from_secs(
                    modified
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                );
            let asset = Asset {
                etag: format!("\"{:016x}\"", hash(&bytes)),
                last_modified: httpdate::fmt_http_date(modified),
                modified,
                bytes,
                content_type,
            };
            names.push(path.clone());
            all.insert(path, asset);
        }
        names.sort();
        let mut whole = DefaultHasher::new();
        for name in &names {
            name.hash(&mut whole);
            all[name].etag.hash(&mut whole);
        }
        Assets {
            files: all,
            version: format!("v{:012x}", whole.finish() & 0xffff_ffff_ffff),
        }
    }

    /// The version of this set of files, the first segment of every versioned URL.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The versioned root every page links its files under: `/static/<version>`.
    pub fn root(&self) -> String {
        format!("/static/{}", self.version)
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>, SystemTime)>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(base, &path, out)?;
            continue;
        }
        let name = path
            .strip_prefix(base)
            .map_err(io::Error::other)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let modified = entry.metadata()?.modified().unwrap_or(UNIX_EPOCH);
        out.push((name, std::fs::read(&path)?, modified));
    }
    Ok(())
}

/// What the request says it already has: its `If-None-Match` and `If-Modified-Since`.
struct Conditions {
    none_match: Option<String>,
    modified_since: Option<SystemTime>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Conditions {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let headers = request.headers();
        request::Outcome::Success(Conditions {
            none_match: headers.get_one("If-None-Match").map(str::to_owned),
            modified_since: headers
                .get_one("If-Modified-Since")
                .and_then(|d| httpdate::parse_http_date(d).ok()),
        })
    }
}

impl Conditions {
    /// True when the client's copy is current (RFC 9110, 13.2.2: `If-None-Match` wins; its
    /// comparison is weak, so `W/"…"` matches too).
    fn fresh(&self, asset: &Asset) -> bool {
        match &self.none_match {
            Some(tags) => tags
                .split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == asset.etag),
            None => self
                .modified_since
                .is_some_and(|since| asset.modified <= since),
        }
    }
}

/// A static file's answer: the file, or 304 when the client's copy is current.
struct Served<'a> {
    asset: &'a Asset,
    fresh: bool,
    cache_control: &'static str,
}

impl<'r, 'a: 'r> Responder<'r, 'static> for Served<'a> {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .header(Header::new("ETag", self.asset.etag.clone()))
            .header(Header::new(
                "Last-Modified",
                self.asset.last_modified.clone(),
            ))
            .header(Header::new("Cache-Control", self.cache_control));
        if self.fresh {
            return response.status(Status::NotModified).ok();
        }
        let body = self.asset.bytes.clone();
        response
            .header(self.asset.content_type.clone())
            .sized_body(body.len(), io::Cursor::new(body))
            .ok()
    }
}

/// `/static/<version>/<file>` (cached for good) or `/static/<file>` (revalidated each time).
#[get("/static/<path..>")]
fn serve<'a>(
    path: PathBuf,
    assets: &'a State<Assets>,
    conditions: Conditions,
) -> Option<Served<'a>> {
    let segments: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let (cache_control, name) = match segments.split_first() {
        Some((first, rest)) if first == assets.version() => (IMMUTABLE, rest.join("/")),
        Some((first, rest)) if is_version(first) => (REVALIDATE, rest.join("/")),
        _ => (REVALIDATE, segments.join("/")),
    };
    let asset = assets.files.get(&name)?;
    Some(Served {
        fresh: conditions.fresh(asset),
        asset,
        cache_control,
    })
}

/// True for a segment shaped like a version (`v` and 12 hex digits), current or not.
fn is_version(segment: &str) -> bool {
    segment.len() == 13
        && segment.starts_with('v')
        && segment[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Loads the static files (compiled in, or `[default.assets] static_dir`), manages them and
/// mounts `/static`. A folder that cannot be read stops the launch with a message.
pub fn stage() -> AdHoc {
    let read = |figment: &_| {
        let config = config::read::<AssetsConfig>(figment)?;
        match &config.static_dir {
            None => Ok(Assets::embedded()),
            Some(dir) => Assets::read(&dir.relative())
                .map_err(|e| format!("assets.static_dir = {}: {e}", dir.relative().display())),
        }
    };
    config::stage("Static files", read, |rocket, assets| {
        rocket.manage(assets).mount("/", routes![serve])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets() -> Assets {
        Assets::from_files([
            (
                "a.css".to_owned(),
                b"a".to_vec(),
                UNIX_EPOCH + Duration::from_secs(1_000_000),
            ),
            ("js/b.js".to_owned(), b"b".to_vec(), UNIX_EPOCH),
        ])
    }

    #[test]
    fn the_version_changes_with_any_file() {
        let before = assets();
        let after = Assets::from_files([
            ("a.css".to_owned(), b"a!".to_vec(), UNIX_EPOCH),
            ("js/b.js".to_owned(), b"b".to_vec(), UNIX_EPOCH),
        ]);
        assert!(is_version(before.version()), "{}", before.version());
        assert_ne!(before.version(), after.version());
        assert_eq!(before.version(), assets().version(), "and only then");
        assert_eq!(before.files["a.css"].content_type, ContentType::CSS);
        assert_eq!(
            before.files["js/b.js"].content_type,
            ContentType::JavaScript
        );
    }

    #[test]
    fn a_copy_is_fresh_by_its_etag_or_else_its_date() {
        let assets = assets();
        let a = &assets.files["a.css"];
        let ask = |none_match: Option<&str>, since: Option<u64>| Conditions {
            none_match: none_match.map(str::to_owned),
            modified_since: since.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        };
        assert!(ask(Some(&a.etag), None).fresh(a));
        assert!(ask(Some(&format!("\"x\", W/{}", a.etag)), None).fresh(a));
        assert!(ask(Some("*"), None).fresh(a));
        assert!(
            !ask(Some("\"other\""), Some(2_000_000)).fresh(a),
            "the tag wins"
        );
        assert!(ask(None, Some(1_000_000)).fresh(a));
        assert!(!ask(None, Some(999_999)).fresh(a));
        assert!(!ask(None, None).fresh(a));
    }
}
