//! `/static`: every file cacheable and revalidatable, and the pages linking them under a
//! versioned path that is cached for good.

use rocket::http::{ContentType, Header, Status};

use crate::common::client;

/// The versioned root the index links its stylesheet under (`/static/v…`).
async fn versioned_root(client: &rocket::local::asynchronous::Client) -> String {
    let page = client
        .get("/")
        .dispatch()
        .await
        .into_string()
        .await
        .expect("the index");
    page.split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find_map(|link| link.strip_suffix("/css/site.css").map(str::to_owned))
        .expect("the index links its stylesheet")
}

#[rocket::async_test]
async fn a_plain_static_url_is_kept_but_revalidated_each_time() {
    let client = client().await;

    let response = client.get("/static/css/site.css").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::CSS));
    let headers = response.headers();
    assert_eq!(headers.get_one("Cache-Control"), Some("no-cache"));
    let etag = headers.get_one("ETag").expect("an ETag").to_owned();
    let modified = headers
        .get_one("Last-Modified")
        .expect("a Last-Modified")
        .to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = client
        .get("/static/css/site.css")
        .header(Header::new("If-None-Match", etag.clone()))
        .dispatch()
        .await;
    assert_eq!(again.status(), Status::NotModified);
    assert_eq!(again.headers().get_one("ETag"), Some(etag.as_str()));
    assert_eq!(again.into_bytes().await.unwrap_or_default().len(), 0);

    let by_date = client
        .get("/static/css/site.css")
        .header(Header::new("If-Modified-Since", modified))
        .dispatch()
        .await;
    assert_eq!(by_date.status(), Status::NotModified);

    let changed = client
        .get("/static/css/site.css")
        .header(Header::new("If-None-Match", "\"something else\""))
        .dispatch()
        .await;
    assert_eq!(changed.status(), Status::Ok, "another tag gets the file");
}

#[rocket::async_test]
async fn pages_link_versioned_urls_that_are_cached_for_good() {
    let client = client().await;
    let root = versioned_root(&client).await;
    assert!(
        root.starts_with("/static/v") && root.len() == "/static/v".len() + 12,
        "{root}"
    );

    for file in ["css/site.css", "js/techniques/polling.js", "favicon.svg"] {
        let response = client.get(format!("{root}/{file}")).dispatch().await;
        assert_eq!(response.status(), Status::Ok, "{file}");
        assert_eq!(
            response.headers().get_one("Cache-Control"),
            Some("public, max-age=31536000, immutable"),
            "{file}"
        );
        assert!(response.headers().get_one("ETag").is_some(), "{file}");
    }

    // A page of an older release names another version: it still gets the file, revalidated.
    let old = client
        .get("/static/v000000000000/css/site.css")
        .dispatch()
        .await;
    assert_eq!(old.status(), Status::Ok);
    assert_eq!(old.headers().get_one("Cache-Control"), Some("no-cache"));

    let missing = client.get(format!("{root}/css/nope.css")).dispatch().await;
    assert_eq!(missing.status(), Status::NotFound);
}

#[rocket::async_test]
async fn the_lab_links_every_file_under_one_version() {
    let client = client().await;
    let root = versioned_root(&client).await;
    let page = client
        .get("/compare")
        .dispatch()
        .await
        .into_string()
        .await
        .expect("the lab");

    let links: Vec<&str> = page.split("=\"/static/").skip(1).collect();
    assert!(
        links.len() >= 6,
        "the lab links its styles and scripts: {}",
        links.len()
    );
    for link in links {
        assert!(
            link.starts_with(&root["/static/".len()..]),
            "every static link is versioned: /static/{}",
            &link[..link.find('"').unwrap_or(link.len())]
        );
    }
    let script = client
        .get(format!("{root}/js/techniques/compare.js"))
        .dispatch()
        .await
        .into_string()
        .await
        .expect("the lab's script");
    assert!(
        !script.contains("from '/static/"),
        "imports are relative, so they stay under the version"
    );
}
