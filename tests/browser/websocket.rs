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

/// The chat of the current window: `(from, text)` per message, oldest first.
async fn chat_lines(client: &fantoccini::Client) -> TestResult<Vec<(String, String)>> {
    let js = "return Array.from(document.querySelectorAll('#chat-log li'), (li) => \
              [li.querySelector('.from')?.textContent ?? '', li.querySelector('.text')?.textContent ?? '']);";
    Ok(serde_json::from_value(client.execute(js, vec![]).await?)?)
}

/// This window's tab name, as the chat box shows it.
async fn tab_name(t: &Ctx) -> TestResult<String> {
    let value = t
        .client
        .execute(
            "return document.getElementById('tab-name').textContent;",
            vec![],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Waits until the current window's chat shows `text` from `from`, and its log shows the
/// same message as an event.
async fn wait_event_text(t: &Ctx, from: &str, text: &str) -> TestResult {
    let line = (format!("{from}:"), text.to_owned());
    wait_for(
        &t.client,
        &format!("{line:?} in #chat-log"),
        WAIT,
        chat_lines,
        |chat| chat.contains(&line),
    )
    .await?;
    let entry = format!("[event] {from} says: {text}");
    let log = log_texts(&t.client).await?;
    assert!(log.contains(&entry), "{entry:?} in #log: {log:#?}");
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
            let first_name = tab_name(t).await?;

            let second = t.client.new_window(false).await?.handle;
            t.client.switch_to_window(second.clone()).await?;
            t.open("/websocket").await?;
            wait_connected(t).await?;
            let second_name = tab_name(t).await?;
            assert!(!second_name.is_empty() && second_name != "this tab");

            chat(t, "hello from the second window").await?;
            wait_event_text(t, &second_name, "hello from the second window").await?;
            t.client.switch_to_window(first.clone()).await?;
            wait_event_text(t, &second_name, "hello from the second window").await?;

            chat(t, "and back from the first").await?;
            wait_event_text(t, &first_name, "and back from the first").await?;
            t.client.switch_to_window(second).await?;
            wait_event_text(t, &first_name, "and back from the first").await?;

            let ids = t.app.channel_ids().await;
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
