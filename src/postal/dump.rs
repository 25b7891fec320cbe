//! Reading files in the GeoNames postal-code dump layout (gzip or plain): one place per
//! line, twelve tab-separated columns. Malformed lines are skipped and counted, never fatal.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use flate2::read::MultiGzDecoder;

use super::code::{self, Country};
use super::table::{Row, Table};
use crate::embedded::EmbeddedFile;

/// A file of the dump: on disk, or compiled into the binary (the bundled data).
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    Compiled(&'static EmbeddedFile),
}

impl Input {
    /// Its name in messages.
    pub fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Compiled(file) => format!("data/postal/{} (compiled in)", file.path),
        }
    }

    fn gzipped(&self) -> bool {
        match self {
            Input::File(path) => path.extension().is_some_and(|e| e == "gz"),
            Input::Compiled(file) => file.path.ends_with(".gz"),
        }
    }

    /// Its lines, gunzipped if it is a `.gz`.
    fn open(&self) -> io::Result<Box<dyn BufRead>> {
        let raw: Box<dyn Read> = match self {
            Input::File(path) => Box::new(File::open(path)?),
            Input::Compiled(file) => Box::new(file.bytes),
        };
        let reader: Box<dyn Read> = if self.gzipped() {
            Box::new(MultiGzDecoder::new(BufReader::new(raw)))
        } else {
            raw
        };
        Ok(Box::new(BufReader::with_capacity(64 * 1024, reader)))
    }
}

/// Calls `f` with every line of a file (gzip or plain), without its line ending. Bytes that
/// are not UTF-8 become U+FFFD rather than costing the whole line.
pub(super) fn each_line(input: &Input, mut f: impl FnMut(&str)) -> io::Result<()> {
    let mut reader = input.open()?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        f(text.trim_end_matches(['\n', '\r']));
    }
}

/// [`read`] on a blocking thread; a panic there leaves the countries empty.
pub(super) async fn read_blocking(
    input: Input,
    only: Option<Country>,
) -> BTreeMap<Country, Arc<Table>> {
    let shown = input.name();
    match tokio::task::spawn_blocking(move || read_input(&input, only)).await {
        Ok(loaded) => loaded.tables,
        Err(e) => {
            rocket::error!("postal: reading {shown} failed: {e}");
            BTreeMap::new()
        }
    }
}

/// What reading one file gave: tables by country and how many lines were skipped.
#[derive(Debug, Default)]
pub struct Loaded {
    pub tables: BTreeMap<Country, Arc<Table>>,
    pub skipped: usize,
}

/// Reads one file (gzip or plain) into tables by country. Malformed lines, and with `only`
/// set lines of another country, are skipped and reported in one warning. An I/O error keeps
/// the rows read so far and is reported once.
pub fn read(path: &Path, only: Option<Country>) -> Loaded {
    read_input(&Input::File(path.to_owned()), only)
}

/// [`read`] for any [`Input`].
pub fn read_input(input: &Input, only: Option<Country>) -> Loaded {
    let started = Instant::now();
    let mut rows: BTreeMap<Country, Vec<Row>> = BTreeMap::new();
    let mut skipped = 0usize;
    let mut first_bad = None;
    let mut number = 0usize;
    let result = each_line(input, |line| {
        number += 1;
        match parse_line(line) {
            Some((country, row)) if only.is_none_or(|c| c == country) => {
                rows.entry(country).or_default().push(row);
            }
            _ if line.trim().is_empty() => {}
            _ => {
                skipped += 1;
                first_bad.get_or_insert(number);
            }
        }
    });
    let shown = input.name();
    if let Err(e) = result {
        rocket::error!("postal: reading {shown} stopped early: {e}");
    }
    if skipped > 0 {
        rocket::warn!(
            "postal: {shown}: skipped {skipped} malformed line(s), the first at line {}",
            first_bad.unwrap_or(0)
        );
    }
    let tables: BTreeMap<Country, Arc<Table>> = rows
        .into_iter()
        .map(|(c, r)| (c, Arc::new(Table::new(r))))
        .collect();
    rocket::info!(
        "postal: read {} rows of {} from {shown} in {:.0?}",
        tables.values().map(|t| t.len()).sum::<usize>(),
        tables
            .keys()
            .map(Country::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        started.elapsed()
    );
    Loaded { tables, skipped }
}

/// One line of the GeoNames layout: country, code, place, admin name1, admin code1, admin
/// name2, admin code2, admin name3, admin code3, latitude, longitude[, accuracy].
fn parse_line(line: &str) -> Option<(Country, Row)> {
    let cols: Vec<&str> = line.split('\t').collect();
    if !(11..=12).contains(&cols.len()) || cols[0].len() != 2 {
        return None;
    }
    let country = Country::parse(cols[0]).ok()?;
    let key = code::normalize(cols[1]);
    if key.is_empty() || key.chars().count() > code::MAX_LEN {
        return None;
    }
    let coordinate = |s: &str, limit: f64| -> Option<Option<f64>> {
        let s = s.trim();
        if s.is_empty() {
            return Some(None);
        }
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && v.abs() <= limit)
            .map(Some)
    };
    let lat = coordinate(cols[9], 90.0)?;
    let lng = coordinate(cols[10], 180.0)?;
    let text = cols[1..7]
        .iter()
        .map(|c| c.trim())
        .collect::<Vec<_>>()
        .join("\t");
    Some((
        country,
        Row {
            key: key.into(),
            text: text.into(),
            lat,
            lng,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_need_the_geonames_columns_and_sane_coordinates() {
        let ok = "US\t10001\tNew York\tNew York\tNY\t\t\t\t\t40.7484\t-73.9967\t";
        let (country, row) = parse_line(ok).unwrap();
        assert_eq!(
            (country.as_str(), &*row.key, row.lat),
            ("US", "10001", Some(40.7484))
        );
        assert!(parse_line("US\t10001\tNew York").is_none());
        assert!(parse_line(&ok.replace("40.7484", "north")).is_none());
        assert!(parse_line(&ok.replace("40.7484", "91")).is_none());
        assert!(parse_line(&ok.replace("US\t", "USA\t")).is_none());
        assert!(parse_line(&ok.replace("\t10001\t", "\t \t")).is_none());
    }
}
