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
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::OnceCell;

use super::code::{Country, PostalCode};
use super::dump::{Input, each_line, read_blocking};
use super::table::{COARSER_COUNTRIES, Place, Table};
use crate::embedded;

/// Where the data lives.
#[derive(Debug)]
enum Source {
    /// One file per country, each read on first use.
    PerCountry(BTreeMap<Country, (Input, OnceCell<Arc<Table>>)>),
    /// One file holding any number of countries, read whole on first use.
    Single(Input, OnceCell<Arc<BTreeMap<Country, Arc<Table>>>>),
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
    for c in code.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        for b in c.to_ascii_uppercase().encode_utf8(&mut buf).bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h ^ (h >> 32)) & 0xffff_ffff
}

impl Directory {
    /// The data compiled into the binary (`data/postal`, see `build.rs`). Reads no data yet.
    pub fn compiled_in() -> Directory {
        let mut files = BTreeMap::new();
        for file in embedded::POSTAL {
            if let Some((country, plain)) = country_file(file.path) {
                if !plain && files.contains_key(&country) {
                    continue;
                }
                files.insert(country, (Input::Compiled(file), OnceCell::new()));
            }
        }
        Directory {
            source: Source::PerCountry(files),
            index: OnceCell::new(),
        }
    }

    /// Opens a directory of `XX.txt` / `XX.txt.gz` files (a plain `.txt` wins over a `.gz` of
    /// the same country) or a single file in the same layout. Reads no data yet.
    pub fn open(path: &Path) -> io::Result<Directory> {
        let meta = std::fs::metadata(path)?;
        let source = if meta.is_dir() {
            let mut files: BTreeMap<Country, (Input, OnceCell<Arc<Table>>)> = BTreeMap::new();
            for entry in std::fs::read_dir(path)? {
                let path = entry?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some((country, plain)) = country_file(name) else {
                    continue;
                };
                if files.contains_key(&country) && !plain {
                    continue;
                }
                files.insert(country, (Input::File(path), OnceCell::new()));
            }
            if files.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no XX.txt or XX.txt.gz files in {}", path.display()),
                ));
            }
            Source::PerCountry(files)
        } else {
            Source::Single(Input::File(path.to_owned()), OnceCell::new())
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
                let (input, cell) = files.get(&country)?;
                let table = cell
                    .get_or_init(|| async {
                        let mut all = read_blocking(input.clone(), Some(country)).await;
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
                let jobs: Vec<(Country, Input)> =
                    files.iter().map(|(c, (i, _))| (*c, i.clone())).collect();
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
fn build_index(jobs: &[(Country, Input)]) -> Index {
    let started = Instant::now();
    let mut entries = Vec::new();
    for (number, (_, input)) in jobs.iter().enumerate() {
        let scanned = each_line(input, |line| {
            let mut cols = line.split('\t');
            if let (Some(_), Some(code)) = (cols.next(), cols.next()) {
                entries.push(hash32(code) << 16 | number as u64);
            }
        });
        if let Err(e) = scanned {
            rocket::error!("postal: indexing {} stopped early: {e}", input.name());
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

/// The country of a file named `XX.txt` or `XX.txt.gz`, and whether it is the plain one
/// (which wins over a `.gz` of the same country).
fn country_file(name: &str) -> Option<(Country, bool)> {
    let (stem, plain) = match name.strip_suffix(".txt.gz") {
        Some(stem) => (stem, false),
        None => (name.strip_suffix(".txt")?, true),
    };
    if stem.len() != 2 {
        return None;
    }
    Some((Country::parse(stem).ok()?, plain))
}
