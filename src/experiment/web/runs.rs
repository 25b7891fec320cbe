//! The experiments started from the web: at most one running, the last few finished ones
//! kept for a while so that a late subscriber still gets the result, and what each
//! subscriber is sent.
//!
//! A run keeps a log of its milestones (its start, each technique's start and result, the
//! first warnings) and only the latest of its progress ticks; a subscriber gets the whole
//! log first, then follows. So a page that connects late, or reconnects, misses nothing but
//! old ticks, and a run's memory stays a few kilobytes however long it lasts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use rocket::response::stream::Event;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::AppError;
use crate::experiment::{Progress, TechniqueResult, report};

/// How many finished experiments are kept at most, however recent.
const KEPT: usize = 4;
/// How many warnings one run passes on; the library reports only its first few anyway.
const WARNINGS: usize = 20;
/// The length of an experiment's id, in characters from `[a-z0-9]`.
const ID_LENGTH: usize = 16;

/// The web's experiments (cheap to clone).
#[derive(Debug, Clone)]
pub struct Runs(Arc<Mutex<Kept>>);

#[derive(Debug)]
struct Kept {
    /// How long a finished run stays readable.
    keep: Duration,
    running: Option<Arc<Run>>,
    /// With the moment each ended, oldest first.
    finished: VecDeque<(Instant, Arc<Run>)>,
}

impl Runs {
    pub fn new(keep: Duration) -> Runs {
        Runs(Arc::new(Mutex::new(Kept {
            keep,
            running: None,
            finished: VecDeque::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new run of `of` techniques expected to last `length`, or a 429 while one runs.
    pub fn begin(&self, of: usize, length: Duration) -> Result<Arc<Run>, AppError> {
        let mut kept = self.lock();
        if let Some(run) = &kept.running {
            let left = run.left().as_secs_f64().ceil().max(1.0) as u64;
            let id = &run.id;
            return Err(AppError::TooManyRequests(
                format!(
                    "experiment {id} is running (about {left} s left) and only one runs at a \
                     time: follow it at /api/experiments/{id}, or start yours when it ends"
                ),
                left,
            ));
        }
        let run = Arc::new(Run::new(of, length));
        kept.running = Some(Arc::clone(&run));
        Ok(run)
    }

    /// Moves `run` from running to finished and forgets what is too old or too many.
    pub fn end(&self, run: &Arc<Run>) {
        let mut kept = self.lock();
        if kept.running.as_ref().is_some_and(|r| Arc::ptr_eq(r, run)) {
            kept.running = None;
        }
        kept.finished.push_back((Instant::now(), Arc::clone(run)));
        kept.trim();
    }

    /// The running or kept run named `id`.
    pub fn find(&self, id: &str) -> Option<Arc<Run>> {
        let mut kept = self.lock();
        kept.trim();
        let finished = kept.finished.iter().map(|(_, run)| run);
        kept.running
            .iter()
            .chain(finished)
            .find(|r| r.id == id)
            .cloned()
    }
}

impl Kept {
    fn trim(&mut self) {
        while self.finished.len() > KEPT {
            self.finished.pop_front();
        }
        let keep = self.keep;
        self.finished.retain(|(ended, _)| ended.elapsed() < keep);
    }
}

/// One experiment: its id, its log and who to wake when the log grows.
#[derive(Debug)]
pub struct Run {
    pub id: String,
    began: Instant,
    length: Duration,
    log: Mutex<Log>,
    changed: watch::Sender<()>,
}

/// An SSE event to send: its name and its JSON data.
#[derive(Debug, Clone)]
pub struct Frame {
    name: &'static str,
    data: String,
}

impl Frame {
    fn progress(data: &Value) -> Frame {
        Frame {
            name: "progress",
            data: data.to_string(),
        }
    }

    pub fn into_event(self) -> Event {
        Event::data(self.data).event(self.name)
    }
}

#[derive(Debug, Default)]
struct Log {
    milestones: Vec<Frame>,
    /// The latest tick since the last milestone, with its number.
    tick: Option<(u64, Frame)>,
    ticks: u64,
    warnings: usize,
    /// The technique running now: its index, how many there are and how long it takes.
    current: (usize, usize, Duration),
    /// `result` or `failed`, once the run is over.
    end: Option<Frame>,
}

impl Log {
    fn milestone(&mut self, data: &Value) {
        self.milestones.push(Frame::progress(data));
        self.tick = None;
    }
}

/// Milliseconds, as the frames give every duration.
fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Run {
    fn new(of: usize, length: Duration) -> Run {
        let id = rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(ID_LENGTH)
            .map(|b| char::from(b).to_ascii_lowercase())
            .collect();
        let mut log = Log::default();
        log.milestone(&json!({"state": "starting", "of": of, "length_ms": ms(length)}));
        Run {
            id,
            began: Instant::now(),
            length,
            log: Mutex::new(log),
            changed: watch::Sender::new(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// About how long the run has still to go.
    fn left(&self) -> Duration {
        self.length.saturating_sub(self.began.elapsed())
    }

    /// Notes what the experiment reports and wakes the subscribers.
    pub fn record(&self, progress: Progress) {
        let mut log = self.lock();
        match progress {
            Progress::Started {
                technique,
                index,
                of,
                length,
            } => {
                log.current = (index, of, length);
                log.milestone(&json!({
                    "state": "started",
                    "technique": technique.slug(),
                    "index": index,
                    "of": of,
                    "length_ms": ms(length),
                }));
            }
            Progress::Tick {
                technique,
                elapsed,
                published,
            } => {
                let (index, of, length) = log.current;
                log.ticks += 1;
                let frame = Frame::progress(&json!({
                    "state": "running",
                    "technique": technique.slug(),
                    "index": index,
                    "of": of,
                    "elapsed_ms": ms(elapsed),
                    "length_ms": ms(length),
                    "published": published,
                }));
                log.tick = Some((log.ticks, frame));
            }
            Progress::Warning { technique, message } => {
                if log.warnings == WARNINGS {
                    return;
                }
                log.warnings += 1;
                log.milestone(&json!({
                    "state": "warning",
                    "technique": technique.slug(),
                    "message": message,
                }));
            }
            Progress::Finished(row) => {
                let (index, of, _) = log.current;
                log.milestone(&json!({
                    "state": "finished",
                    "technique": row.technique,
                    "index": index,
                    "of": of,
                    "row": row,
                }));
            }
        }
        drop(log);
        self.changed.send_replace(());
    }

    /// Ends the log with the results (`event: result`, the JSON of `--format json`) or
    /// with why there are none (`event: failed`).
    pub fn finish(&self, outcome: Result<Vec<TechniqueResult>, String>) {
        let end = match outcome.and_then(|rows| report::json(&rows)) {
            Ok(data) => Frame {
                name: "result",
                data,
            },
            Err(error) => Frame {
                name: "failed",
                data: json!({ "error": error }).to_string(),
            },
        };
        self.lock().end = Some(end);
        self.changed.send_replace(());
    }

    /// A subscriber from the start of the log.
    pub fn follow(self: &Arc<Run>) -> Follower {
        Follower {
            // Subscribed before the first read of the log, so no change can slip between.
            changed: self.changed.subscribe(),
            run: Arc::clone(self),
            milestones: 0,
            tick: 0,
            done: false,
        }
    }
}

/// One subscriber's place in a run's log.
#[derive(Debug)]
pub struct Follower {
    run: Arc<Run>,
    changed: watch::Receiver<()>,
    milestones: usize,
    tick: u64,
    done: bool,
}

impl Follower {
    /// What this subscriber has not had yet, waiting until there is some; `None` once the
    /// run's last event has been handed out.
    pub async fn next(&mut self) -> Option<Vec<Frame>> {
        while !self.done {
            let frames = self.unsent();
            if !frames.is_empty() {
                return Some(frames);
            }
            // The sender lives in the run this follower holds, so it cannot go away.
            self.changed.changed().await.ok()?;
        }
        None
    }

    fn unsent(&mut self) -> Vec<Frame> {
        let log = self.run.lock();
        let mut frames = log.milestones[self.milestones..].to_vec();
        self.milestones = log.milestones.len();
        if let Some((n, frame)) = &log.tick
            && *n > self.tick
        {
            self.tick = *n;
            frames.push(frame.clone());
        }
        if let Some(end) = &log.end {
            self.done = true;
            frames.push(end.clone());
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Technique;

    /// What each frame is: its `state` for a progress frame, else its event name.
    fn names(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .map(|f| match f.name {
                "progress" => serde_json::from_str::<Value>(&f.data).expect("JSON")["state"]
                    .as_str()
                    .expect("a state")
                    .to_owned(),
                name => name.to_owned(),
            })
            .collect()
    }

    #[test]
    fn one_runs_at_a_time_and_a_finished_one_stays_findable() {
        let runs = Runs::new(Duration::from_secs(60));
        let first = runs
            .begin(9, Duration::from_secs(30))
            .expect("the first starts");
        let busy = runs
            .begin(9, Duration::from_secs(30))
            .expect_err("one at a time");
        assert_eq!(busy.status().code, 429);
        assert!(busy.retry_after().is_some_and(|s| (1..=30).contains(&s)));
        assert!(busy.message().contains(&first.id));
        first.finish(Ok(Vec::new()));
        runs.end(&first);
        assert!(runs.find(&first.id).is_some());
        assert!(runs.find("nosuchexperiment").is_none());
        let second = runs.begin(9, Duration::from_secs(30)).expect("free again");
        assert_ne!(first.id, second.id);
    }

    #[test]
    fn finished_runs_are_kept_a_while_and_only_a_few() {
        let runs = Runs::new(Duration::from_secs(60));
        let mut ids = Vec::new();
        for _ in 0..KEPT + 2 {
            let run = runs.begin(1, Duration::ZERO).expect("free");
            run.finish(Err("stopped".into()));
            runs.end(&run);
            ids.push(run.id.clone());
        }
        assert!(runs.find(&ids[0]).is_none() && runs.find(&ids[1]).is_none());
        assert!(ids[2..].iter().all(|id| runs.find(id).is_some()));
        let brief = Runs::new(Duration::ZERO);
        let run = brief.begin(1, Duration::ZERO).expect("free");
        brief.end(&run);
        assert!(brief.find(&run.id).is_none());
    }

    #[rocket::async_test]
    async fn a_late_subscriber_gets_every_milestone_the_last_tick_and_the_end() {
        let run = Arc::new(Run::new(1, Duration::from_secs(5)));
        let technique = Technique::Polling;
        run.record(Progress::Started {
            technique,
            index: 0,
            of: 1,
            length: Duration::from_secs(5),
        });
        for published in 0..3 {
            run.record(Progress::Tick {
                technique,
                elapsed: Duration::from_secs(published),
                published,
            });
        }
        let mut early = run.follow();
        let first = early.next().await.expect("the log so far");
        assert_eq!(names(&first), ["starting", "started", "running"]);
        assert!(
            first[2].data.contains(r#""published":2"#),
            "the last tick only"
        );
        run.record(Progress::Finished(TechniqueResult {
            technique: technique.slug(),
            ..TechniqueResult::default()
        }));
        run.finish(Ok(Vec::new()));
        let rest = early.next().await.expect("the rest");
        assert_eq!(names(&rest), ["finished", "result"]);
        assert_eq!(rest[1].data, "[]");
        assert!(early.next().await.is_none());

        let mut late = run.follow();
        let all = late.next().await.expect("everything at once");
        // No stale tick after the technique's result.
        assert_eq!(names(&all), ["starting", "started", "finished", "result"]);
        assert!(late.next().await.is_none());
    }
}
