//! The experiment's child server ends with its parent, however the parent ends: killed with
//! SIGKILL mid-run, the parent leaves no server behind.

use std::process::Stdio;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use tokio::process::Command;

use crate::common::within;

/// The children of process `pid`, from every one of its threads.
fn children(pid: u32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// The state letter and start time of process `pid`, from /proc/<pid>/stat; `None` once it
/// has gone (a start time that differs means its pid was reused).
fn state(pid: Pid) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 of the whole line, counted from the state (field 3).
    let start = fields.get(22 - 3)?.parse().ok()?;
    Some((state, start))
}

/// Kills the process it names when dropped, so a failing test leaves no server behind.
struct Reaper(Pid);

impl Drop for Reaper {
    fn drop(&mut self) {
        // It has gone already when the test passed.
        let _gone = kill_process(self.0, Signal::KILL);
    }
}

#[tokio::test]
async fn the_child_server_ends_within_two_seconds_of_its_parent_being_killed() {
    // Arrange: a run long enough to be under way when its parent is killed.
    let mut parent = Command::new(env!("CARGO_BIN_EXE_reverse-ajax"))
        .args(["experiment", "--clients", "2", "--seconds", "60"])
        .args(["--techniques", "polling", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the experiment starts");
    let parent_pid = parent.id().expect("a running parent");
    let server = within(Duration::from_secs(30), async {
        loop {
            if let Some(&child) = children(parent_pid).first() {
                return Pid::from_raw(child).expect("a child pid");
            }
            // The kernel tells nobody when a process forks: look again soon.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let _reaper = Reaper(server);
    // Read while the server is certainly the parent's child, so the pid names it.
    let (_, started) = state(server).expect("the server runs");

    // Act
    let parent_pid = Pid::from_raw(parent_pid as i32).expect("the parent's pid");
    kill_process(parent_pid, Signal::KILL).expect("SIGKILL sent");
    parent.wait().await.expect("the parent is reaped");

    // Assert: gone, or a zombie left for its new parent to reap.
    let gone = tokio::time::timeout(Duration::from_secs(2), async {
        while state(server).is_some_and(|(state, start)| state != 'Z' && start == started) {
            // Nothing tells this process when another one exits: look again soon.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        gone.is_ok(),
        "the server (pid {}) outlived its parent by 2 s",
        server.as_raw_nonzero()
    );
}
