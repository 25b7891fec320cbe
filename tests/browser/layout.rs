//! The page frame on a phone, on a wide screen and under the dark scheme: where the menu
//! sits, that nothing is wider than the screen, that timeline labels stay readable, the
//! heading order, the previous/next links and the dark palette.
//!
//! The screen size and the colour scheme are set through Chromium's DevTools protocol
//! (`Emulation.setDeviceMetricsOverride`, `Emulation.setEmulatedMedia`), which chromedriver
//! relays for its session; the overrides last across navigations.

use fantoccini::Client;
use reverse_ajax::pages::catalog::TECHNIQUES;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::console::SessionPost;
use crate::harness::{TestResult, browser_test};

/// Runs one DevTools command through chromedriver (`goog/cdp/execute`).
async fn cdp(client: &Client, cmd: &str, params: Value) -> TestResult {
    let body = json!({"cmd": cmd, "params": params});
    client
        .issue_cmd(SessionPost {
            path: "goog/cdp/execute",
            body,
        })
        .await?;
    Ok(())
}

/// Makes the browser's viewport `width` × `height` CSS pixels, as a phone when `phone`.
pub async fn screen(client: &Client, width: u32, height: u32, phone: bool) -> TestResult {
    let params = json!({
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone,
    });
    cdp(client, "Emulation.setDeviceMetricsOverride", params).await
}

/// Makes `prefers-color-scheme` answer `scheme` ("light" or "dark").
async fn colour_scheme(client: &Client, scheme: &str) -> TestResult {
    let params = json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]});
    cdp(client, "Emulation.setEmulatedMedia", params).await
}

/// The index, an error page and every technique page.
fn every_page() -> Vec<String> {
    let pages = TECHNIQUES.iter().map(|t| format!("/{}", t.slug));
    ["/".to_owned(), "/nope".to_owned()]
        .into_iter()
        .chain(pages)
        .collect()
}

/// The frame of the current page, as measured by [`FRAME_JS`].
#[derive(Debug, Deserialize)]
struct Frame {
    inner_width: f64,
    scroll_width: f64,
    nav_bottom: Option<f64>,
    h1_top: Option<f64>,
    /// Tag names of every heading, in document order.
    headings: Vec<String>,
    /// Timeline labels drawn smaller than 10.5 px on screen, with their size.
    small_labels: Vec<String>,
    /// Elements that stick out past the right edge of the screen, outside any scroller.
    too_wide: Vec<String>,
    /// Whether the menu's links are shown.
    menu_links_shown: bool,
}

const FRAME_JS: &str = r#"
const screen = arguments[0];
const nav = document.querySelector('nav.site-nav');
const h1 = document.querySelector('h1');
const scrolls = (el) => {
  for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
    const o = getComputedStyle(e).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
  }
  return false;
};
const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '');
const tooWide = Array.from(document.querySelectorAll('body *'))
  .filter((e) => e.getBoundingClientRect().right > screen + 0.5 && !scrolls(e))
  .slice(0, 8)
  .map((e) => `${name(e)} ends at ${e.getBoundingClientRect().right.toFixed(0)} px`);
const small = Array.from(document.querySelectorAll('svg.timeline text'), (t) => {
  const m = t.getScreenCTM();
  const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
  return [t.textContent, px];
}).filter(([, px]) => px < 10.5).map(([text, px]) => `"${text}" at ${px.toFixed(1)} px`);
const link = document.querySelector('nav.site-nav a[href="/polling"]');
return {
  inner_width: innerWidth,
  scroll_width: document.documentElement.scrollWidth,
  nav_bottom: nav ? nav.getBoundingClientRect().bottom : null,
  h1_top: h1 ? h1.getBoundingClientRect().top : null,
  headings: Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'), (h) => h.tagName),
  small_labels: small,
  too_wide: tooWide,
  menu_links_shown: !!link && link.checkVisibility() && link.getBoundingClientRect().height > 0,
};
"#;

/// Measures the current page on a screen `width` CSS pixels wide.
async fn frame(client: &Client, width: u32) -> TestResult<Frame> {
    Ok(serde_json::from_value(
        client.execute(FRAME_JS, vec![json!(width)]).await?,
    )?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_390_px_every_page_has_the_menu_above_its_heading_and_fits_the_screen() {
    browser_test(
        "at_390_px_every_page_has_the_menu_above_its_heading_and_fits_the_screen",
        async |t| {
            screen(&t.client, 390, 844, true).await?;
            for path in every_page() {
                t.load(&path).await?;
                let f = frame(&t.client, 390).await?;
                assert_eq!(f.inner_width, 390.0, "{path}: the viewport: {f:#?}");
                assert!(
                    f.scroll_width <= 390.0,
                    "{path}: the page is {} px wide in a 390 px screen: {f:#?}",
                    f.scroll_width
                );
                let (Some(nav), Some(h1)) = (f.nav_bottom, f.h1_top) else {
                    panic!("{path}: a menu and an h1: {f:#?}");
                };
                assert!(nav <= h1, "{path}: the menu ends above the h1: {f:#?}");
                assert!(
                    !f.menu_links_shown,
                    "{path}: the menu starts folded: {f:#?}"
                );
                assert!(
                    f.small_labels.is_empty(),
                    "{path}: timeline labels of at least 10.5 px: {f:#?}"
                );
            }
            // The folded menu opens with a tap on its summary.
            t.click("nav.site-nav summary").await?;
            let open = frame(&t.client, 390).await?;
            assert!(open.menu_links_shown, "the menu unfolds: {open:#?}");
            assert!(open.scroll_width <= 390.0, "unfolded, it fits: {open:#?}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_wide_screen_the_menu_is_an_open_sidebar_beside_the_content() {
    browser_test(
        "on_a_wide_screen_the_menu_is_an_open_sidebar_beside_the_content",
        async |t| {
            screen(&t.client, 1280, 900, false).await?;
            t.load("/long-polling").await?;
            let f = frame(&t.client, 1280).await?;
            assert!(f.menu_links_shown, "the sidebar shows its links: {f:#?}");
            assert!(f.scroll_width <= 1280.0, "nothing sticks out: {f:#?}");
            assert!(f.too_wide.is_empty(), "nothing sticks out: {f:#?}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_one_h1_before_any_other_heading() {
    browser_test(
        "every_page_has_one_h1_before_any_other_heading",
        async |t| {
            for path in every_page() {
                t.load(&path).await?;
                let f = frame(&t.client, 1280).await?;
                assert_eq!(
                    f.headings.first().map(String::as_str),
                    Some("H1"),
                    "{path}: the first heading is the h1: {f:#?}"
                );
                assert_eq!(
                    f.headings.iter().filter(|h| *h == "H1").count(),
                    1,
                    "{path}: exactly one h1: {f:#?}"
                );
            }
            Ok(())
        },
    )
    .await;
}

/// The page's background and a timeline label's colour, as `[r, g, b]`.
#[derive(Debug, Deserialize)]
struct Colours {
    body: [f64; 3],
    text: [f64; 3],
    label: [f64; 3],
}

const COLOURS_JS: &str = r#"
const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
const label = document.querySelector('svg.timeline .lane-label');
return {
  body: rgb(getComputedStyle(document.body).backgroundColor),
  text: rgb(getComputedStyle(document.body).color),
  label: rgb(getComputedStyle(label).fill),
};
"#;

/// Relative luminance from 0 (black) to 1 (white), near enough for a test.
fn luminance([r, g, b]: [f64; 3]) -> f64 {
    (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dark_scheme_gives_dark_pages_with_light_text_and_timelines() {
    browser_test(
        "the_dark_scheme_gives_dark_pages_with_light_text_and_timelines",
        async |t| {
            colour_scheme(&t.client, "light").await?;
            t.load("/polling").await?;
            let light: Colours =
                serde_json::from_value(t.client.execute(COLOURS_JS, vec![]).await?)?;
            assert!(luminance(light.body) > 0.8, "light page: {light:?}");

            colour_scheme(&t.client, "dark").await?;
            t.load("/polling").await?;
            let dark: Colours =
                serde_json::from_value(t.client.execute(COLOURS_JS, vec![]).await?)?;
            assert!(luminance(dark.body) < 0.15, "dark page: {dark:?}");
            assert!(luminance(dark.text) > 0.7, "light text on it: {dark:?}");
            assert!(
                luminance(dark.label) > 0.7,
                "timeline labels follow the scheme: {dark:?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technique_pages_link_to_the_previous_and_next_page() {
    browser_test(
        "technique_pages_link_to_the_previous_and_next_page",
        async |t| {
            let slugs: Vec<&str> = TECHNIQUES.iter().map(|p| p.slug).collect();
            let links = "return [document.querySelector('a[rel=prev]'), \
                         document.querySelector('a[rel=next]')] \
                         .map((a) => a && new URL(a.href).pathname);";
            for (i, slug) in slugs.iter().enumerate() {
                t.load(&format!("/{slug}")).await?;
                let found: [Option<String>; 2] =
                    serde_json::from_value(t.client.execute(links, vec![]).await?)?;
                let prev = i.checked_sub(1).map(|p| format!("/{}", slugs[p]));
                let next = slugs.get(i + 1).map(|n| format!("/{n}"));
                assert_eq!(found, [prev, next], "/{slug}: previous and next");
            }
            Ok(())
        },
    )
    .await;
}

/// Per page: the pitch of the first code lines, and each legend key that sits outside the
/// item it describes (`[key's middle, item's top, item's bottom]`).
const PANELS_AND_KEYS_JS: &str = r#"
const lines = Array.from(document.querySelectorAll('.code-essence .line'), (l) => l.getBoundingClientRect().top);
const pitch = lines.length > 1 ? lines[1] - lines[0] : 0;
const height = parseFloat(getComputedStyle(document.querySelector('.code-essence')).lineHeight);
const strays = Array.from(document.querySelectorAll('.legend .key'), (key) => {
  const item = key.closest('.legend-item');
  if (!item) return `a key outside any item: ${key.className}`;
  const k = key.getBoundingClientRect();
  const i = item.getBoundingClientRect();
  const middle = (k.top + k.bottom) / 2;
  const label = item.textContent.trim();
  const centre = (k.left + k.right) / 2;
  return middle >= i.top && middle <= i.bottom && centre >= i.left && centre <= i.right ? null : `"${label}": key at ${middle}, item ${i.top}..${i.bottom}`;
}).filter(Boolean);
return { pitch, height, strays, keys: document.querySelectorAll('.legend .key').length };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_lines_are_single_spaced_and_legend_keys_stay_with_their_labels() {
    browser_test(
        "code_lines_are_single_spaced_and_legend_keys_stay_with_their_labels",
        async |t| {
            for (width, phone) in [(1280, false), (390, true)] {
                screen(&t.client, width, 900, phone).await?;
                for path in ["/polling", "/websocket", "/server-sent-events"] {
                    t.load(path).await?;
                    let seen = t.client.execute(PANELS_AND_KEYS_JS, vec![]).await?;
                    let pitch = seen["pitch"].as_f64().unwrap_or_default();
                    let height = seen["height"].as_f64().unwrap_or_default();
                    assert!(
                        pitch > 0.0 && (pitch - height).abs() <= 1.0,
                        "{path} at {width} px: one code line per line height: {seen}"
                    );
                    assert!(
                        seen["keys"].as_u64() >= Some(5),
                        "{path}: the legends are there: {seen}"
                    );
                    assert_eq!(
                        seen["strays"],
                        json!([]),
                        "{path} at {width} px: every key beside its own label"
                    );
                }
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_static_timelines_show_whole_and_the_demo_is_one_tap_away() {
    browser_test(
        "on_a_phone_the_static_timelines_show_whole_and_the_demo_is_one_tap_away",
        async |t| {
            screen(&t.client, 390, 844, true).await?;
            for path in [
                "/server-sent-events",
                "/piggyback",
                "/websocket",
                "/polling",
            ] {
                t.load(path).await?;
                let seen = t
                    .client
                    .execute(
                        r##"
const scrollers = Array.from(document.querySelectorAll('.timeline-scroll'), (s) => ({
  hidden: s.scrollWidth - s.clientWidth,
  pictures: s.querySelectorAll('svg.timeline').length,
}));
const link = document.querySelector('.to-demo a[href="#demo-title"]');
return { scrollers, link_top: link ? link.getBoundingClientRect().top : null };
"##,
                        vec![],
                    )
                    .await?;
                let scrollers = seen["scrollers"].as_array().cloned().unwrap_or_default();
                assert!(!scrollers.is_empty(), "{path}: a static timeline: {seen}");
                for s in scrollers {
                    assert!(
                        s["hidden"].as_f64() <= Some(1.0),
                        "{path}: nothing of the picture off the screen: {seen}"
                    );
                    assert_eq!(s["pictures"], 2, "{path}: shown in two halves: {seen}");
                }
                let top = seen["link_top"].as_f64().expect("a link to the demo");
                assert!(
                    top < 844.0,
                    "{path}: the link is on the first screen: {seen}"
                );
            }
            // The link goes to the demo.
            t.click(".to-demo a").await?;
            let demo_top = t
                .client
                .execute(
                    "return document.getElementById('demo-title').getBoundingClientRect().top",
                    vec![],
                )
                .await?;
            assert!(
                demo_top
                    .as_f64()
                    .is_some_and(|y| (-1.0..100.0).contains(&y)),
                "the demo's heading is at the top: {demo_top}"
            );
            Ok(())
        },
    )
    .await;
}
