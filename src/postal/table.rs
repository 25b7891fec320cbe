//! One country's rows in memory, and the answer's shape: what the dump reader builds and the
//! directory asks. Neither of them owns it, so both import it from here.

use serde::Serialize;

use super::code::Country;

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
    pub(super) fn exact(&self, country: Country, key: &str, out: &mut Vec<Place>, max: usize) {
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
    pub(super) fn lookup(&self, country: Country, key: &str, out: &mut Vec<Place>, max: usize) {
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

pub(super) const COARSER_COUNTRIES: [&str; 5] = ["CA", "GB", "GG", "IM", "JE"];

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
