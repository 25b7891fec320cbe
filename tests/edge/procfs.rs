//! What the kernel says about the processes and sockets of a test, read from /proc: the
//! server side of TCP connections (to see who holds a connection and whether it has read
//! everything sent to it), a process's children and its memory.

use std::fs;

/// The receive queues of the established connections whose local port is `port` (the server
/// side of every connection to it), read from /proc/net/tcp as `ss` does.
pub fn server_side_queues(port: u16) -> Vec<u64> {
    let table = fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let fields: Vec<&str> = row.split_whitespace().collect();
            let local = fields.get(1)?.rsplit_once(':')?.1;
            let established = *fields.get(3)? == "01";
            let rx_queue = fields.get(4)?.split_once(':')?.1;
            let ours = u16::from_str_radix(local, 16).ok()? == port;
            (ours && established).then(|| u64::from_str_radix(rx_queue, 16).ok())?
        })
        .collect()
}

/// The processes whose parent is `pid` (nginx's workers, for its master).
pub fn children_of(pid: u32) -> Vec<u32> {
    fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| parent_of(*child) == Some(pid))
        .collect()
}

/// The parent pid of `pid`, from /proc/<pid>/stat (the field after the command name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// The anonymous resident memory (heap and stacks, not the mapped binary and libraries) of
/// `pid` in bytes, from /proc/<pid>/status.
pub fn anonymous_rss(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
