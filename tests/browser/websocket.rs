//! `/websocket`: events as text frames; what a page sends is published to every page.

use fantoccini::Locator;

use crate::harness::{Ctx, TestResult, WAIT, browser_test, log_texts, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_page_resumes_after_a_reconnect_without_loss() {
    browser_test(
        "websocket_page_resumes_after_a_reconnect_without_loss",
        async |t| {
            let log = crate::harness::push_page_resumes_after_reconnect(t, "/websocket").await?;
            assert!(
                log.iter().filter(|l| *l == "[client] connected").count() >= 2,
                "two sockets were opened: {log:#?}"
            );
            Ok(())
        },
    )
    .await;
}

/// Waits until the current window's log says the socket is open.
async fn wait_connected(t: &Ctx) -> TestResult {
    t.wait_log("the socket to open", |log| {
        log.iter().any(|l| l == "[client] connected")
    })
    .await?;
    Ok(())
}

/// Types `text` into the chat box of the current window and sends it.
async fn chat(t: &Ctx, text: &str) -> TestResult {
    t.client
        .find(Locator::Id("ws-message"))
        .await?
        .send_keys(text)
        .await?;
    t.click("#ws-send").await
}

/// Waits until the current window's log shows `text` as an event.
async fn wait_event_text(t: &Ctx, text: &str) -> TestResult {
    let entry = format!("[event] {text}");
    wait_for(
        &t.client,
        &format!("{entry:?} in #log"),
        WAIT,
        log_texts,
        |log| log.contains(&entry),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_websocket_windows_see_each_others_chat_messages() {
    browser_test(
        "two_websocket_windows_see_each_others_chat_messages",
        async |t| {
            t.open("/websocket").await?;
            wait_connected(t).await?;
            let first = t.client.window().await?;

            let second = t.client.new_window(false).await?.handle;
            t.client.switch_to_window(second.clone()).await?;
            t.open("/websocket").await?;
            wait_connected(t).await?;

            chat(t, "hello from the second window").await?;
            wait_event_text(t, "hello from the second window").await?;
            t.client.switch_to_window(first.clone()).await?;
            wait_event_text(t, "hello from the second window").await?;

            chat(t, "and back from the first").await?;
            wait_event_text(t, "and back from the first").await?;
            t.client.switch_to_window(second).await?;
            wait_event_text(t, "and back from the first").await?;

            let ids = t.app.demo_ids().await;
            assert_eq!(ids.len(), 2, "each chat message is one event: {ids:?}");
            let settled = t.demo().await?;
            assert_eq!(
                settled.ids(),
                ids,
                "each message once, in order: {settled:#?}"
            );
            assert!(
                settled.log_errors.is_empty(),
                "no error entries: {settled:#?}"
            );
            Ok(())
        },
    )
    .await;
}
