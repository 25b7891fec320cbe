//! Readings from /proc for the quiet-machine wait: the busy time of the whole machine and
//! every process's CPU time. One process's CPU time and memory are the load engine's.

/// Clock ticks per second in /proc figures (USER_HZ; 100 on Linux here).
pub const TICKS_PER_SECOND: u64 = 100;

pub use reverse_ajax::load::procfs::cpu_ticks;

/// The whole machine's CPU time so far, from the first line of /proc/stat, in clock ticks
/// summed over all cores.
#[derive(Clone, Copy)]
pub struct MachineTicks {
    /// Time spent running anything: user, nice, system, irq and softirq.
    pub busy: u64,
}

pub fn machine_ticks() -> Result<MachineTicks, String> {
    let text = std::fs::read_to_string("/proc/stat")
        .map_err(|e| format!("could not read /proc/stat: {e}"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or("/proc/stat has no cpu line")?;
    let numbers: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| {
            f.parse::<u64>()
                .map_err(|_| format!("/proc/stat: bad number {f:?}"))
        })
        .collect::<Result<_, _>>()?;
    if numbers.len() < 7 {
        return Err("/proc/stat: the cpu line is too short".to_owned());
    }
    // user nice system idle iowait irq softirq [steal guest guest_nice]; guest time is
    // already counted in user and nice, and steal is time this machine did not get.
    let busy = numbers[0] + numbers[1] + numbers[2] + numbers[5] + numbers[6];
    Ok(MachineTicks { busy })
}

/// Ticks as milliseconds.
pub fn ticks_to_ms(ticks: u64) -> f64 {
    ticks as f64 * 1000.0 / TICKS_PER_SECOND as f64
}

/// Every process's CPU ticks so far, by pid, with its command name.
pub fn processes() -> Vec<(u32, String, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // A process may end between the listing and the reading: skip it then.
        let Ok(ticks) = cpu_ticks(&pid.to_string()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"));
        let comm = comm.map_or_else(|_| "?".to_owned(), |c| c.trim().to_owned());
        all.push((pid, comm, ticks));
    }
    all
}
