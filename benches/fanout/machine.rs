//! The machine around a run: waiting for it to be quiet before a run starts, and telling
//! afterwards whether something other than the server and this benchmark used the CPU during
//! the measured window (a disturbed run).

use std::time::{Duration, Instant};

use crate::procfs::{self, MachineTicks, TICKS_PER_SECOND};

/// A run starts only when the whole machine uses less than this (percent of one core).
const QUIET_PERCENT: f64 = 15.0;
/// The longest wait for a quiet machine.
const QUIET_WAIT: Duration = Duration::from_secs(120);
/// A run is disturbed when others used more than this (percent of one core) on average.
pub const DISTURBED_PERCENT: f64 = 10.0;

/// Ticks as percent of one core over `seconds`.
pub fn percent_of_core(ticks: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    ticks as f64 / TICKS_PER_SECOND as f64 / seconds * 100.0
}

/// Busy percent of one core over the next second.
async fn busy_percent() -> Result<f64, String> {
    let (start, before) = (Instant::now(), procfs::machine_ticks()?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = procfs::machine_ticks()?;
    let busy = after.busy.saturating_sub(before.busy);
    Ok(percent_of_core(busy, start.elapsed().as_secs_f64()))
}

/// Waits until the machine is quiet, or gives up after two minutes and says so.
pub async fn wait_quiet() -> Result<(), String> {
    let started = Instant::now();
    let mut waited = false;
    loop {
        let busy = busy_percent().await?;
        if busy < QUIET_PERCENT {
            if waited {
                let secs = started.elapsed().as_secs();
                eprintln!(
                    "    the machine is quiet now ({busy:.0} % of a core busy) after {secs} s"
                );
            }
            return Ok(());
        }
        if !waited {
            eprintln!(
                "    waiting for a quiet machine: {busy:.0} % of a core is busy \
                 (need under {QUIET_PERCENT:.0} %)"
            );
            waited = true;
        }
        if started.elapsed() >= QUIET_WAIT {
            eprintln!(
                "    gave up waiting for a quiet machine after {} s ({busy:.0} % of a core \
                 busy): measuring anyway",
                QUIET_WAIT.as_secs()
            );
            return Ok(());
        }
    }
}

/// CPU counters at one moment.
pub struct Snapshot {
    pub at: Instant,
    machine: MachineTicks,
    /// Each server process's ticks, in the order of `server_pids`.
    servers: Vec<u64>,
    server_pids: Vec<u32>,
    own: u64,
    /// The CPU time the run's Redis has used so far (ms; 0 without one).
    redis_ms: f64,
    /// Every process (pid, name, ticks), to name the others when a run was disturbed.
    processes: Vec<(u32, String, u64)>,
}

impl Snapshot {
    /// Reads the machine, the server processes `pids` and this process; `redis_ms` is the
    /// run's Redis reading taken just before.
    pub fn take(pids: &[String], redis_ms: f64) -> Result<Snapshot, String> {
        let processes = procfs::processes();
        let mut servers = Vec::with_capacity(pids.len());
        let mut server_pids = Vec::with_capacity(pids.len());
        for pid in pids {
            servers.push(procfs::cpu_ticks(pid)?);
            server_pids.push(pid.parse().map_err(|_| format!("{pid:?} is not a pid"))?);
        }
        Ok(Snapshot {
            at: Instant::now(),
            machine: procfs::machine_ticks()?,
            servers,
            server_pids,
            own: procfs::cpu_ticks("self")?,
            redis_ms,
            processes,
        })
    }
}

/// What used the CPU between two snapshots.
pub struct Window {
    pub seconds: f64,
    /// Every server process together.
    pub server_ticks: u64,
    /// Each server process, in the order the snapshots named them.
    pub per_server: Vec<u64>,
    pub own_ticks: u64,
    /// The run's Redis (ms; 0 without one). It is not counted among the others.
    pub redis_ms: f64,
    /// Everything else, as percent of one core.
    pub others_percent: f64,
    /// The busiest other processes, e.g. "rustc 80 %, cargo 5 %".
    pub busiest: String,
}

impl Window {
    pub fn between(a: &Snapshot, b: &Snapshot) -> Window {
        let seconds = b.at.duration_since(a.at).as_secs_f64();
        let per_server: Vec<u64> = b
            .servers
            .iter()
            .zip(&a.servers)
            .map(|(after, before)| after.saturating_sub(*before))
            .collect();
        let server_ticks = per_server.iter().sum();
        let own_ticks = b.own.saturating_sub(a.own);
        let redis_ms = (b.redis_ms - a.redis_ms).max(0.0);
        let redis_ticks = (redis_ms * TICKS_PER_SECOND as f64 / 1000.0).round() as u64;
        let busy = b.machine.busy.saturating_sub(a.machine.busy);
        let others = busy.saturating_sub(server_ticks + own_ticks + redis_ticks);
        Window {
            seconds,
            server_ticks,
            per_server,
            own_ticks,
            redis_ms,
            others_percent: percent_of_core(others, seconds),
            busiest: busiest(a, b, seconds, others),
        }
    }

    pub fn disturbed(&self) -> bool {
        self.others_percent > DISTURBED_PERCENT
    }
}

/// The three other processes that used the most CPU between two snapshots (the servers and
/// this process left out), with their share of one core, and what processes that ended
/// before the second snapshot used (out of `others` ticks in all).
fn busiest(a: &Snapshot, b: &Snapshot, seconds: f64, others: u64) -> String {
    let own = std::process::id();
    let mut used: Vec<(u64, &str)> = b
        .processes
        .iter()
        .filter(|(pid, _, _)| *pid != own && !a.server_pids.contains(pid))
        .filter_map(|(pid, name, ticks)| {
            let before = a.processes.iter().find(|(p, n, _)| p == pid && n == name);
            let used = ticks.saturating_sub(before.map_or(0, |(_, _, t)| *t));
            (used > 0).then_some((used, name.as_str()))
        })
        .collect();
    used.sort_unstable_by_key(|u| std::cmp::Reverse(u.0));
    let mut shown: Vec<String> = used
        .iter()
        .take(3)
        .map(|(ticks, name)| format!("{name} {:.0} %", percent_of_core(*ticks, seconds)))
        .collect();
    let seen: u64 = used.iter().map(|(ticks, _)| ticks).sum();
    let ended = percent_of_core(others.saturating_sub(seen), seconds);
    if ended >= 1.0 {
        shown.push(format!("processes that ended {ended:.0} %"));
    }
    shown.join(", ")
}
