//! `GET /api/postalcodes`: the GeoNames-compatible postal-code lookup of Listing 1, on the
//! bundled data and on a small GeoNames-layout fixture.

use std::path::PathBuf;

use rocket::error::ErrorKind;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, client_with, encode};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/postal/sample.txt"
);

/// Asks the API and returns the status, the content type and the body.
async fn ask(client: &Client, query: &str) -> (Status, String, String) {
    let response = client
        .get(format!("/api/postalcodes?{query}"))
        .dispatch()
        .await;
    let status = response.status();
    let kind = response
        .content_type()
        .map(|c| c.to_string())
        .unwrap_or_default();
    (
        status,
        kind,
        response.into_string().await.unwrap_or_default(),
    )
}

/// Asks for JSON and expects a 200; returns `postalcodes`.
async fn places(client: &Client, query: &str) -> Vec<Value> {
    let (status, kind, body) = ask(client, query).await;
    assert_eq!(status, Status::Ok, "{query}: {body}");
    assert!(kind.starts_with("application/json"), "{query}: {kind}");
    let answer: Value = serde_json::from_str(&body).expect("a JSON answer");
    answer["postalcodes"]
        .as_array()
        .expect("a postalcodes array")
        .clone()
}

/// Expects a GeoNames-style 400 (`{"status":{"message","value":14}}`) and returns the message.
async fn refused(client: &Client, query: &str) -> String {
    let (status, kind, body) = ask(client, query).await;
    assert_eq!(status, Status::BadRequest, "{query}: {body}");
    assert!(kind.starts_with("application/json"), "{query}: {kind}");
    let answer: Value = serde_json::from_str(&body).expect("a JSON answer");
    assert_eq!(answer["status"]["value"], 14, "{query}: {body}");
    answer["status"]["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

fn names(places: &[Value]) -> Vec<&str> {
    places
        .iter()
        .map(|p| p["placeName"].as_str().unwrap_or(""))
        .collect()
}

#[rocket::async_test]
async fn us_10001_is_new_york_with_the_full_geonames_record() {
    let client = client().await;

    let places = places(&client, "postalcode=10001&country=US").await;

    assert_eq!(
        places,
        [json!({
            "postalcode": "10001", "countryCode": "US", "placeName": "New York",
            "adminName1": "New York", "adminCode1": "NY", "lat": 40.7484, "lng": -73.9967
        })]
    );
}

#[rocket::async_test]
async fn canadian_fsas_french_and_german_codes_are_found() {
    let client = client().await;

    let ottawa = places(&client, "postalcode=K1A&country=CA").await;
    let paris = places(&client, "postalcode=75001&country=FR").await;
    let berlin = places(&client, "postalcode=10115&country=DE").await;

    assert_eq!(ottawa.len(), 1);
    assert!(names(&ottawa)[0].contains("Ottawa"), "{ottawa:?}");
    assert_eq!(
        (
            ottawa[0]["adminCode1"].as_str(),
            ottawa[0]["adminName1"].as_str()
        ),
        (Some("ON"), Some("Ontario"))
    );
    assert_eq!(names(&paris), ["PARIS"]);
    assert_eq!(paris[0]["adminCode1"], "75C");
    assert!(
        paris[0].get("lat").is_none(),
        "no coordinates in the data, so none in the answer"
    );
    assert_eq!(names(&berlin), ["Berlin"]);
    assert_eq!(berlin[0]["countryCode"], "DE");
}

#[rocket::async_test]
async fn a_full_canadian_code_is_answered_with_its_fsa() {
    let client = client().await;

    let places = places(&client, "postalcode=k1a%200b1&country=ca").await;

    assert_eq!(places.len(), 1);
    assert_eq!(places[0]["postalcode"], "K1A");
}

#[rocket::async_test]
async fn uk_areas_are_found_and_full_postcodes_fall_back_to_their_area() {
    let client = client().await;

    let area = places(&client, "postalcode=SW&country=GB").await;
    let full = places(
        &client,
        &format!("postalcode={}&country=gb", encode("sw1a 1aa")),
    )
    .await;
    let outward = places(&client, "postalcode=B1&country=GB").await;

    assert_eq!(area.len(), 1);
    assert_eq!(area[0]["postalcode"], "SW");
    assert!(
        area[0]["placeName"].as_str().unwrap().contains("London"),
        "{area:?}"
    );
    assert_eq!(full, area, "SW1A 1AA is in the SW area");
    assert_eq!(
        outward[0]["postalcode"], "B",
        "B1 is in the Birmingham area"
    );
}

#[rocket::async_test]
async fn codes_match_whatever_their_case_and_spacing() {
    let client = client().await;
    let plain = places(&client, "postalcode=10001&country=US").await;

    for variant in [" 10001 ", "10 001", "\t10001"] {
        let query = format!("postalcode={}&country=us", encode(variant));
        assert_eq!(places(&client, &query).await, plain, "{variant:?}");
    }
    let swedish = places(&client, "postalcode=10004&country=SE").await;
    let spaced = places(
        &client,
        &format!("postalcode={}&country=SE", encode("100 04")),
    )
    .await;
    assert!(!swedish.is_empty());
    assert_eq!(swedish, spaced);
    assert_eq!(
        swedish[0]["postalcode"], "100 04",
        "the answer shows the code as the data writes it"
    );
}

#[rocket::async_test]
async fn without_a_country_every_country_is_searched_and_the_filter_narrows_it() {
    let client = client().await;

    let everywhere = places(&client, "postalcode=10115&maxRows=100").await;
    let germany = places(&client, "postalcode=10115&country=DE").await;
    let unknown = places(&client, "postalcode=10115&country=ZZ").await;

    let countries: Vec<&str> = everywhere
        .iter()
        .map(|p| p["countryCode"].as_str().unwrap())
        .collect();
    assert!(countries.contains(&"DE"), "{countries:?}");
    assert!(
        countries.len() > 1,
        "10115 exists outside Germany too: {countries:?}"
    );
    assert!(
        countries.windows(2).all(|w| w[0] <= w[1]),
        "ordered by country: {countries:?}"
    );
    assert!(germany.iter().all(|p| p["countryCode"] == "DE"));
    assert!(everywhere.contains(&germany[0]));
    assert!(unknown.is_empty());
}

#[rocket::async_test]
async fn a_uk_postcode_without_a_country_still_finds_its_area() {
    let client = client().await;

    let places = places(&client, "postalcode=SW1A%201AA").await;

    assert_eq!(places.len(), 1);
    assert_eq!(
        (
            places[0]["countryCode"].as_str(),
            places[0]["postalcode"].as_str()
        ),
        (Some("GB"), Some("SW"))
    );
}

#[rocket::async_test]
async fn unknown_codes_give_an_empty_list() {
    let client = client().await;

    let (status, _, body) = ask(&client, "postalcode=00000&country=US").await;

    assert_eq!(status, Status::Ok);
    assert_eq!(body, r#"{"postalcodes":[]}"#);
    assert!(places(&client, "postalcode=ZZZ999ZZZ").await.is_empty());
}

#[rocket::async_test]
async fn max_rows_defaults_to_20_and_is_lowered_to_100() {
    let client = client().await;
    // 341 neighbourhoods of Mexico share 85203.

    let default = places(&client, "postalcode=85203&country=MX").await;
    let three = places(&client, "postalcode=85203&country=MX&maxRows=3").await;
    let hundred = places(&client, "postalcode=85203&country=MX&maxRows=100").await;
    let too_many = places(&client, "postalcode=85203&country=MX&maxRows=100000").await;

    assert_eq!(default.len(), 20);
    assert_eq!(three, default[..3]);
    assert_eq!(hundred.len(), 100);
    assert_eq!(too_many, hundred, "a maxRows over 100 is lowered to 100");
}

#[rocket::async_test]
async fn max_rows_also_limits_a_search_of_every_country() {
    let client = client().await;
    // 01000 is a code in seven countries.

    let all = places(&client, "postalcode=01000").await;
    let two = places(&client, "postalcode=01000&maxRows=2").await;

    assert_eq!(all.len(), 7);
    assert_eq!(two, all[..2]);
}

#[rocket::async_test]
async fn jsonp_answers_are_scripts_with_safe_headers() {
    let client = client().await;

    let response = client
        .get("/api/postalcodes?postalcode=10001&country=US&callback=app.onPlaces")
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
    let header = |name| response.headers().get_one(name).map(str::to_owned);
    assert_eq!(
        header("Content-Type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(header("X-Content-Type-Options").as_deref(), Some("nosniff"));
    assert_eq!(header("Cache-Control").as_deref(), Some("no-store"));
    let body = response.into_string().await.unwrap();
    assert!(
        body.starts_with(r#"/**/app.onPlaces({"postalcodes":[{"postalcode":"10001","countryCode":"US","placeName":"New York","adminName1""#),
        "GeoNames' field order: {body}"
    );
    let inner = body
        .strip_prefix("/**/app.onPlaces(")
        .and_then(|rest| rest.strip_suffix(");"))
        .unwrap_or_else(|| panic!("not a JSONP call: {body}"));
    let answer: Value = serde_json::from_str(inner).unwrap();
    assert_eq!(answer["postalcodes"][0]["placeName"], "New York");
}

#[rocket::async_test]
async fn bad_input_is_a_geonames_style_400_that_repeats_nothing() {
    let client = client().await;
    let long = "1".repeat(21);
    let cases = [
        ("country=US", "postalcode"),
        ("postalcode=&country=US", "postalcode"),
        ("postalcode=%20%20", "postalcode"),
        (&*format!("postalcode={long}"), "20"),
        (
            "postalcode=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "postalcode",
        ),
        ("postalcode=10001&country=USA", "country"),
        ("postalcode=10001&country=U1", "country"),
        ("postalcode=10001&maxRows=0", "maxRows"),
        ("postalcode=10001&maxRows=-3", "maxRows"),
        ("postalcode=10001&maxRows=lots", "maxRows"),
        ("postalcode=10001&callback=alert(1)%2F%2F", "callback"),
        ("postalcode=10001&callback=", "callback"),
    ];

    for (query, topic) in cases {
        let message = refused(&client, query).await;
        assert!(message.contains(topic), "{query}: {message}");
        for echo in ["script", "alert", "USA", "lots", &long] {
            assert!(
                !message.contains(echo),
                "{query}: the message repeats the input: {message}"
            );
        }
    }
}

#[rocket::async_test]
async fn bad_input_with_a_good_callback_is_refused_inside_the_callback() {
    let client = client().await;

    let (status, kind, body) = ask(&client, "postalcode=%3Cb%3E&callback=cb").await;

    assert_eq!(status, Status::BadRequest);
    assert!(kind.starts_with("text/javascript"), "{kind}");
    assert!(body.starts_with("/**/cb({\"status\":{"), "{body}");
    assert!(!body.contains("<b>"), "{body}");
}

#[rocket::async_test]
async fn a_geonames_layout_file_can_replace_the_bundled_data() {
    let client = client_with(|figment| figment.merge(("postal.data", FIXTURE))).await;

    let zurich = places(&client, "postalcode=8001&country=ch").await;
    let geneva = places(&client, "postalcode=1201&country=CH").await;
    let lugano = places(&client, "postalcode=6900").await;
    let vaduz = places(&client, "postalcode=9490").await;

    assert_eq!(
        zurich,
        [json!({
            "postalcode": "8001", "countryCode": "CH", "placeName": "Zürich",
            "adminName1": "Kanton Zürich", "adminCode1": "ZH", "adminName2": "Bezirk Zürich",
            "adminCode2": "112", "lat": 47.3718, "lng": 8.5422
        })]
    );
    assert_eq!(
        names(&geneva),
        ["Genève", "Genève Cornavin"],
        "file order among equal codes"
    );
    assert_eq!(
        lugano,
        [json!({"postalcode": "6900", "countryCode": "CH", "placeName": "Lugano"})]
    );
    assert_eq!(vaduz[0]["countryCode"], "LI");
    assert!(
        places(&client, "postalcode=10001&country=US")
            .await
            .is_empty(),
        "only the file's data"
    );
    assert!(
        places(&client, "postalcode=9000&country=CH")
            .await
            .is_empty(),
        "the bad line is skipped"
    );
}

#[rocket::async_test]
async fn reading_the_fixture_skips_and_counts_its_one_malformed_line() {
    let loaded = reverse_ajax::postal::dump::read(&PathBuf::from(FIXTURE), None);

    assert_eq!(loaded.skipped, 1);
    let rows: Vec<(String, usize)> = loaded
        .tables
        .iter()
        .map(|(c, t)| (c.to_string(), t.len()))
        .collect();
    assert_eq!(rows, [("CH".to_owned(), 5), ("LI".to_owned(), 1)]);
}

#[rocket::async_test]
async fn a_data_path_without_postal_files_stops_the_launch() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/postal");
    for path in [fixtures, "/nonexistent/postal"] {
        let figment = rocket::Config::figment()
            .merge(("ticker.enabled", false))
            .merge(("log_level", "off"))
            .merge(("postal.data", path));

        let ignited = reverse_ajax::rocket_from(figment).ignite().await;

        let error = ignited.expect_err("a data path with no postal files should not launch");
        assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(_)),
            "{path}: {error:?}"
        );
    }
}

#[rocket::async_test]
async fn a_japanese_code_is_found_with_or_without_its_hyphen() {
    let client = client().await;

    let hyphen = places(&client, "postalcode=100-0001&country=JP").await;
    let plain = places(&client, "postalcode=1000001&country=JP").await;

    assert!(!hyphen.is_empty(), "100-0001 is in the bundled data");
    assert_eq!(plain, hyphen, "1000001 is the same code as 100-0001");
    assert_eq!(
        plain[0]["postalcode"], "100-0001",
        "shown as the data has it"
    );
    assert_eq!(plain[0]["adminCode1"], "13", "Tokyo: {plain:?}");
}
