//! The event hub's contract, checked the same way for every backend.
//!
//! `suite/` holds one async function per rule of the event model, each taking a factory that
//! builds a fresh hub from a `HubConfig`. [`hub_suite!`] turns the whole suite into
//! `#[tokio::test]`s for one factory, so a new backend is covered by one more line:
//! `mod redis { hub_suite!(crate::redis_hub); }`. It runs on memory, one Redis and a Redis
//! Cluster (`REDIS_CLUSTER_URLS`, see `scripts/redis-cluster`). Rules that only make sense for the memory
//! backend (its channel table and sweeping) live in `memory_only.rs`.

#[path = "../common/mod.rs"]
mod common;
mod memory_only;
mod redis_backend;
#[path = "../redis/support.rs"]
mod redis_support;
mod suite;

use std::sync::Arc;

use reverse_ajax::config::{HubConfig, Section};
use reverse_ajax::hub::Hub;
use reverse_ajax::hub::memory::MemoryHub;

/// Instantiates every test of `suite/` for one backend factory
/// (`async fn(HubConfig) -> Hub`).
/// With `if <ready>` (an `async fn() -> bool`), each test first asks whether its backend is
/// there and returns at once when it is not.
macro_rules! hub_suite {
    ($factory:path $(, if $ready:path)?) => {
        hub_suite!(@tests $factory, { $( if !$ready().await { return; } )? };
            reads::events_come_back_in_publish_order,
            reads::ids_are_dense_and_start_at_one,
            reads::reading_without_a_cursor_gives_no_events_and_the_head,
            reads::reading_after_a_cursor_gives_exactly_the_later_events,
            reads::reading_at_the_head_gives_nothing_and_keeps_the_cursor,
            reads::channels_do_not_see_each_others_events,
            reads::recent_gives_the_newest_events_oldest_first,
            reads::a_cursor_from_an_empty_channel_sees_its_first_event,
            reads::many_reads_then_a_publish_to_a_new_channel_succeeds,
            resets::a_cursor_with_an_unknown_epoch_is_reset_to_the_start_of_the_history,
            resets::a_cursor_older_than_the_history_is_reset_to_the_oldest_kept_event,
            resets::the_oldest_kept_event_can_still_be_resumed_from,
            resets::a_cursor_ahead_of_the_head_is_reset_to_the_head,
            resets::history_keeps_only_the_newest_events,
            resets::history_keeps_only_what_fits_in_history_bytes,
            subscriptions::a_subscription_replays_the_backlog_then_goes_live,
            subscriptions::a_subscription_without_a_cursor_starts_at_the_head,
            subscriptions::a_subscription_with_an_unknown_epoch_resets_to_the_start_of_the_history,
            subscriptions::a_subscription_older_than_the_history_replays_what_is_kept,
            subscriptions::a_subscription_with_a_cursor_ahead_of_the_head_resets,
            subscriptions::a_slow_subscriber_is_cut_off_and_resumes_without_loss,
            subscriptions::a_subscriber_of_an_empty_channel_gets_its_first_event,
            concurrency::concurrent_publishers_get_unique_dense_ids,
            concurrency::a_subscription_opened_while_publishers_run_misses_nothing,
            keys::a_repeated_key_stores_one_event_and_answers_its_id,
            keys::a_key_reused_after_its_time_is_a_new_event,
            keys::concurrent_publishes_with_one_key_store_one_event,
        );
    };
    (@tests $factory:path, $guard:block; $($module:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                $guard
                $crate::suite::$module::$test($factory).await;
            }
        )*
    };
}

/// The in-memory backend.
async fn memory_hub(config: HubConfig) -> Hub {
    Arc::new(MemoryHub::new(
        config.check().expect("a valid test configuration"),
    ))
}

mod memory {
    hub_suite!(crate::memory_hub);
}

mod redis {
    hub_suite!(crate::redis_backend::redis_hub, if crate::redis_backend::ready);
}

mod cluster {
    hub_suite!(crate::redis_backend::cluster_hub, if crate::redis_backend::cluster);
}
