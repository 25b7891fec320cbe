//! The experiment's publisher: one keep-alive connection that posts `{"n", "sent_us"}` events
//! on the run's channel at the offsets of the pattern's schedule. Its bytes are not counted
//! against any technique.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

use super::clients::Ctx;
use super::net::{Link, Meter, request};
use super::tally::now_us;

/// Publishes at `start + offset` for each offset; returns how many events were stored.
pub async fn publish(
    ctx: &Ctx,
    token: Option<&str>,
    schedule: Vec<Duration>,
    start: Instant,
    published: &AtomicU64,
) -> u64 {
    let mut link = Link::new(ctx.addr, &Arc::new(Meter::default()));
    let target = format!("/api/channels/{}/events", ctx.channel);
    let bearer = token.map(|t| format!("Bearer {t}"));
    for offset in schedule {
        sleep_until(start + offset).await;
        let n = published.load(Ordering::SeqCst);
        // A refusal for the rate (a server with default limits) is waited out, a few times.
        for _attempt in 0..5 {
            let body = format!("{{\"n\":{n},\"sent_us\":{}}}", now_us());
            let mut headers = vec![("Content-Type", "application/json")];
            if let Some(bearer) = &bearer {
                headers.push(("Authorization", bearer));
            }
            let answer = async {
                let (head, body) = link
                    .send(&request("POST", &target, &ctx.host, &headers, &body))
                    .await?;
                let body = link.body(&head, body).await?;
                Ok::<_, String>((head, body))
            };
            match answer.await {
                Ok((head, _)) if head.status == 201 => {
                    published.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Ok((head, _)) if head.status == 429 => {
                    let after = head
                        .header("retry-after")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(1);
                    sleep(Duration::from_secs(after)).await;
                }
                Ok((head, body)) => {
                    ctx.warn(&format!(
                        "a publish answered {}: {}",
                        head.status,
                        String::from_utf8_lossy(&body)
                    ));
                    break;
                }
                Err(e) => {
                    link.drop_connection();
                    ctx.warn(&format!("a publish failed: {e}"));
                    break;
                }
            }
        }
    }
    published.load(Ordering::SeqCst)
}
