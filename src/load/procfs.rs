//! CPU time and resident memory of one process from /proc, so that a load run can charge the
//! server's work apart from the clients' own.

/// User plus system CPU time of a process and all its threads, in clock ticks (fields 14 and
/// 15 of /proc/<pid>/stat). `pid` may be "self".
pub fn cpu_ticks(pid: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("could not read {path}: {e}"))?;
    // The command name, in parentheses, may hold spaces: count fields after its closing one.
    let after = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .ok_or_else(|| format!("{path} has no command name"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts with field 3 (the state), so field N is at index N - 3.
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or_else(|| format!("{path} has no number in field {n}"))
    };
    Ok(field(14)? + field(15)?)
}

/// CPU time of a process so far, in milliseconds (ticks are `sysconf(_SC_CLK_TCK)` long).
pub fn cpu_ms(pid: u32) -> Result<u64, String> {
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    Ok(cpu_ticks(&pid.to_string())? * 1000 / per_second)
}

/// Resident memory of a process in kB (VmRSS in /proc/<pid>/status). `pid` may be "self".
pub fn rss_kb(pid: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("could not read {path}: {e}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{path} has no VmRSS line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_time() {
        let spin: u64 = (0..2_000_000u64).map(std::hint::black_box).sum();
        assert!(spin > 0);
        assert!(cpu_ticks("self").is_ok());
        assert!(rss_kb("self").is_ok_and(|kb| kb > 0));
    }
}
