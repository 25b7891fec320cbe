//! The postal-code directory: files in the GeoNames postal-code dump layout, read lazily.
//!
//! Opening a directory only lists its `XX.txt` / `XX.txt.gz` files, so start-up costs a
//! `readdir`. A country's file is read the first time a query names that country, on a
//! blocking thread, and kept for the life of the process (one `OnceCell` per country, so two
//! queries racing for the same country read the file once). A single file such as GeoNames'
//! `allCountries.txt` cannot be read one country at a time, so it is read whole on first use.
//!
//! A query without a country must look in every country. Loading them all would hold the
//! whole dataset in memory, so instead the first such query builds a small index: one packed
//! `u64` per (code, country) pair, a 32-bit hash of the code and the country's number. A
//! lookup finds the countries that may hold the code there, then loads and asks only those.
//! A hash collision only costs a look in one more country. For the bundled data the index is
//! about 7 MB and takes well under a second to build, once.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::OnceCell;

use super::code::{Country, PostalCode};
use super::dump::{each_line, read_blocking};

/// One place in an answer, in GeoNames' `postalCodeLookupJSON` shape. Empty fields are left
/// out, as GeoNames does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    pub postalcode: String,
    pub country_code: Country,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub place_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub admin_name1: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub admin_code1: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub admin_name2: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub admin_code2: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
}

/// One row of a country: its normalised code, the six text columns the answer needs (postal
/// code, place name, admin name1, admin code1, admin name2, admin code2) joined by tabs in
/// one allocation, and the coordinates.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) key: Box<str>,
    pub(super) text: Box<str>,
    pub(super) lat: Option<f64>,
    pub(super) lng: Option<f64>,
}

/// Every row of one country, sorted by normalised code (file order among equal codes).
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    pub(super) fn new(mut rows: Vec<Row>) -> Table {
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        rows.shrink_to_fit();
        Table { rows }
    }

    /// How many rows the country has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn matching(&self, key: &str) -> &[Row] {
        let start = self.rows.partition_point(|r| &*r.key < key);
        let end = start + self.rows[start..].partition_point(|r| &*r.key == key);
        &self.rows[start..end]
    }

    /// The places with exactly this normalised code, in file order.
    fn exact(&self, country: Country, key: &str, out: &mut Vec<Place>, max: usize) {
        for row in self
            .matching(key)
            .iter()
            .take(max.saturating_sub(out.len()))
        {
            let mut cols = row.text.split('\t').map(str::to_owned);
            let mut next = || cols.next().unwrap_or_default();
            out.push(Place {
                postalcode: next(),
                country_code: country,
                place_name: next(),
                admin_name1: next(),
                admin_code1: next(),
                admin_name2: next(),
                admin_code2: next(),
                lat: row.lat,
                lng: row.lng,
            });
        }
    }

    /// The places for this code, or, when there are none, for the coarser unit of the code
    /// that the data holds (see [`coarser`]).
    fn lookup(&self, country: Country, key: &str, out: &mut Vec<Place>, max: usize) {
        let before = out.len();
        self.exact(country, key, out, max);
        if out.len() == before
            && let Some(unit) = coarser(country, key)
                .into_iter()
                .find(|k| !self.matching(k).is_empty())
        {
            self.exact(country, &unit, out, max);
        }
    }
}

/// Countries whose bundled data is coarser than their postal codes: the UK and the Crown
/// dependencies hold postcode areas (`SW`), Canada forward sortation areas (`K1A`). For a full
/// code there, these are the units to try, finest first. The real GeoNames dump has UK
/// outward codes (`SW1A`), which the first candidate finds.
fn coarser(country: Country, key: &str) -> Vec<String> {
    let b = key.as_bytes();
    match country.as_str() {
        "GB" | "GG" | "IM" | "JE" => {
            let n = b.len();
            let full = n >= 5
                && b[n - 3].is_ascii_digit()
                && b[n - 2..].iter().all(u8::is_ascii_alphabetic);
            let outward = if full { &key[..n - 3] } else { key };
            let area: String = outward
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            let mut units = Vec::new();
            if outward != key {
                units.push(outward.to_owned());
            }
            if !area.is_empty() && area != outward {
                units.push(area);
            }
            units
        }
        "CA" if b.len() == 6 => vec![key[..3].to_owned()],
        _ => Vec::new(),
    }
}

const COARSER_COUNTRIES: [&str; 5] = ["CA", "GB", "GG", "IM", "JE"];

/// Where the data lives.
#[derive(Debug)]
enum Source {
    /// One file per country, each read on first use.
    PerCountry(BTreeMap<Country, (PathBuf, OnceCell<Arc<Table>>)>),
    /// One file holding any number of countries, read whole on first use.
    Single(PathBuf, OnceCell<Arc<BTreeMap<Country, Arc<Table>>>>),
}

/// The lookup table behind `/api/postalcodes`, managed as Rocket state.
#[derive(Debug)]
pub struct Directory {
    source: Source,
    index: OnceCell<Arc<Index>>,
}

/// Which countries may hold a code: sorted `hash32(code) << 16 | country number`.
#[derive(Debug, Default)]
struct Index {
    entries: Vec<u64>,
}

/// FNV-1a of a code's normal form (see [`code::normalize`]), folded to 32 bits: stable, fast,
/// allocation-free, and plenty for an index that tolerates collisions.
fn hash32(code: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buf = [0u8; 4];
    for c in code.chars().filter(|c| !c.is_whitespace()) {
        for b in c.to_ascii_uppercase().encode_utf8(&mut buf).bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h ^ (h >> 32)) & 0xffff_ffff
}

impl Directory {
    /// Opens a directory of `XX.txt` / `XX.txt.gz` files (a plain `.txt` wins over a `.gz` of
    /// the same country) or a single file in the same layout. Reads no data yet.
    pub fn open(path: &Path) -> io::Result<Directory> {
        let meta = std::fs::metadata(path)?;
        let source = if meta.is_dir() {
            let mut files: BTreeMap<Country, (PathBuf, OnceCell<Arc<Table>>)> = BTreeMap::new();
            for entry in std::fs::read_dir(path)? {
                let path = entry?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let (stem, plain) = match name.strip_suffix(".txt.gz") {
                    Some(stem) => (stem, false),
                    None => match name.strip_suffix(".txt") {
                        Some(stem) => (stem, true),
                        None => continue,
                    },
                };
                let Ok(country) = Country::parse(stem) else {
                    continue;
                };
                if stem.len() != 2 || (files.contains_key(&country) && !plain) {
                    continue;
                }
                files.insert(country, (path, OnceCell::new()));
            }
            if files.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no XX.txt or XX.txt.gz files in {}", path.display()),
                ));
            }
            Source::PerCountry(files)
        } else {
            Source::Single(path.to_owned(), OnceCell::new())
        };
        Ok(Directory {
            source,
            index: OnceCell::new(),
        })
    }

    /// The countries a directory has files for; empty for a single file until it is read.
    pub fn countries(&self) -> Vec<Country> {
        match &self.source {
            Source::PerCountry(files) => files.keys().copied().collect(),
            Source::Single(_, whole) => whole
                .get()
                .map(|all| all.keys().copied().collect())
                .unwrap_or_default(),
        }
    }

    /// One country's table, read on first use; `None` when there is no data for it.
    pub async fn table(&self, country: Country) -> Option<Arc<Table>> {
        match &self.source {
            Source::PerCountry(files) => {
                let (path, cell) = files.get(&country)?;
                let table = cell
                    .get_or_init(|| async {
                        let path = path.clone();
                        let mut all = read_blocking(path, Some(country)).await;
                        all.remove(&country).unwrap_or_default()
                    })
                    .await;
                Some(table.clone())
            }
            Source::Single(path, whole) => {
                let all = whole
                    .get_or_init(|| async { Arc::new(read_blocking(path.clone(), None).await) })
                    .await;
                all.get(&country).cloned()
            }
        }
    }

    /// Up to `max` places with this code, in `country` or, without one, in every country
    /// (ordered by country code).
    pub async fn lookup(
        &self,
        code: &PostalCode,
        country: Option<Country>,
        max: usize,
    ) -> Vec<Place> {
        let key = code.as_str();
        let mut out = Vec::new();
        if let Some(country) = country {
            if let Some(table) = self.table(country).await {
                table.lookup(country, key, &mut out, max);
            }
            return out;
        }
        for country in self.candidates(key).await {
            if let Some(table) = self.table(country).await {
                table.exact(country, key, &mut out, max);
            }
        }
        if out.is_empty() {
            for name in COARSER_COUNTRIES {
                let Ok(country) = Country::parse(name) else {
                    continue;
                };
                if out.len() < max
                    && self.has(country)
                    && let Some(table) = self.table(country).await
                {
                    table.lookup(country, key, &mut out, max);
                }
            }
        }
        out
    }

    fn has(&self, country: Country) -> bool {
        match &self.source {
            Source::PerCountry(files) => files.contains_key(&country),
            Source::Single(..) => true,
        }
    }

    /// The countries that may hold `key`, in country order.
    async fn candidates(&self, key: &str) -> Vec<Country> {
        let files = match &self.source {
            Source::PerCountry(files) => files,
            // Everything is in memory once read, so asking every country is cheap.
            Source::Single(path, whole) => {
                let all = whole
                    .get_or_init(|| async { Arc::new(read_blocking(path.clone(), None).await) })
                    .await;
                return all.keys().copied().collect();
            }
        };
        let index = self
            .index
            .get_or_init(|| async {
                let jobs: Vec<(Country, PathBuf)> =
                    files.iter().map(|(c, (p, _))| (*c, p.clone())).collect();
                let built = tokio::task::spawn_blocking(move || build_index(&jobs)).await;
                Arc::new(built.unwrap_or_else(|e| {
                    rocket::error!("postal: building the country index failed: {e}");
                    Index::default()
                }))
            })
            .await;
        let countries: Vec<Country> = files.keys().copied().collect();
        let h = hash32(key);
        let start = index.entries.partition_point(|e| (e >> 16) < h);
        let mut found: Vec<Country> = index.entries[start..]
            .iter()
            .take_while(|e| (*e >> 16) == h)
            .filter_map(|e| countries.get((e & 0xffff) as usize).copied())
            .collect();
        found.dedup();
        found
    }
}

/// Reads every country's file once and keeps only (hash, country) pairs. Lines are not fully
/// checked here: a bad line can only add a needless candidate, which the table then rules out.
fn build_index(jobs: &[(Country, PathBuf)]) -> Index {
    let started = Instant::now();
    let mut entries = Vec::new();
    for (number, (_, path)) in jobs.iter().enumerate() {
        let scanned = each_line(path, |line| {
            let mut cols = line.split('\t');
            if let (Some(_), Some(code)) = (cols.next(), cols.next()) {
                entries.push(hash32(code) << 16 | number as u64);
            }
        });
        if let Err(e) = scanned {
            rocket::error!("postal: indexing {} stopped early: {e}", path.display());
        }
    }
    entries.sort_unstable();
    entries.dedup();
    entries.shrink_to_fit();
    rocket::info!(
        "postal: indexed {} codes of {} countries in {:.0?}",
        entries.len(),
        jobs.len(),
        started.elapsed()
    );
    Index { entries }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb() -> Country {
        Country::parse("GB").unwrap()
    }

    #[test]
    fn full_uk_codes_fall_back_to_outward_code_then_area() {
        assert_eq!(coarser(gb(), "SW1A1AA"), ["SW1A", "SW"]);
        assert_eq!(coarser(gb(), "M11AE"), ["M1", "M"]);
        assert_eq!(coarser(gb(), "SW1A"), ["SW"]);
        assert!(coarser(gb(), "SW").is_empty());
        assert_eq!(coarser(Country::parse("CA").unwrap(), "K1A0B1"), ["K1A"]);
        assert!(coarser(Country::parse("US").unwrap(), "100011234").is_empty());
    }
}
