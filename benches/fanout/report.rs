//! The Markdown report: for each case one row per server with the range over its runs, a row
//! of ours / Nchan ratios, and footnotes for disturbed runs and anything unusual. A case on
//! Redis adds Redis's CPU time and a table of its instances.

use crate::cases::{Backend, Case};
use crate::stats::Figures;

/// Every run of one case.
pub struct CaseRuns {
    pub case: Case,
    pub ours: Vec<Figures>,
    pub nchan: Vec<Figures>,
    /// Runs that failed, as "server run N: why".
    pub failures: Vec<String>,
}

/// A figure of a run, with how to print it.
pub struct Column {
    pub title: &'static str,
    pub value: fn(&Figures) -> f64,
    pub format: fn(&[f64]) -> String,
}

pub const COLUMNS: [Column; 11] = [
    column("deliveries/s", |f| f.per_second, rate),
    column("p50", |f| f64::from(f.p50_us), micros),
    column("p99", |f| f64::from(f.p99_us), micros),
    column("max", |f| f64::from(f.max_us), micros),
    column("lost", |f| f.lost as f64, whole),
    column("duplicates", |f| f.duplicates as f64, whole),
    column("CPU ms/1k", |f| f.cpu_ms_per_1k, one_decimal),
    column("server CPU %", |f| f.cpu_percent, whole),
    column("kB/conn", |f| f.kb_per_conn, one_decimal),
    column("connect p99", |f| f64::from(f.connect_p99_us), micros),
    column("connect max", |f| f64::from(f.connect_max_us), micros),
];

/// The columns a case on Redis adds: the CPU time of every node named.
pub const REDIS_COLUMNS: [Column; 2] = [
    column("Redis CPU ms", |f| f.redis_cpu_ms, whole),
    column(
        "Redis ms/1k publishes",
        |f| f.redis_ms_per_1k_publishes,
        one_decimal,
    ),
];

/// A figure of instance `i` of a run, with how to print it.
struct InstanceColumn {
    title: &'static str,
    value: fn(&Figures, usize) -> f64,
    format: fn(&[f64]) -> String,
}

/// The columns of the instances' table.
const INSTANCE_COLUMNS: [InstanceColumn; 4] = [
    InstanceColumn {
        title: "deliveries",
        value: |f, i| f.instances[i].deliveries as f64,
        format: whole,
    },
    InstanceColumn {
        title: "CPU ms/1k deliveries",
        value: |f, i| f.instances[i].cpu_ms_per_1k,
        format: one_decimal,
    },
    InstanceColumn {
        title: "CPU %",
        value: |f, i| f.instances[i].cpu_percent,
        format: whole,
    },
    InstanceColumn {
        title: "live messages",
        value: |f, i| f.instances[i].live_messages,
        format: whole,
    },
];

const fn column(
    title: &'static str,
    value: fn(&Figures) -> f64,
    format: fn(&[f64]) -> String,
) -> Column {
    Column {
        title,
        value,
        format,
    }
}

/// The table and notes of one case.
pub fn case_table(runs: &CaseRuns) -> String {
    let mut out = format!("### {}\n\n", runs.case.describe());
    let columns: Vec<&Column> = if runs.case.backend == Backend::Memory {
        COLUMNS.iter().collect()
    } else {
        COLUMNS.iter().chain(&REDIS_COLUMNS).collect()
    };
    out += "| server |";
    for c in &columns {
        out += &format!(" {} |", c.title);
    }
    out += "\n|---|";
    out += &"---:|".repeat(columns.len());
    out += "\n";
    let mut notes = Vec::new();
    for (name, figures) in [("ours", &runs.ours), ("Nchan", &runs.nchan)] {
        if figures.is_empty() {
            continue;
        }
        let mark = if figures.iter().any(|f| f.disturbed.is_some()) {
            "*"
        } else {
            ""
        };
        out += &format!("| {name}{mark} |");
        for c in &columns {
            let values: Vec<f64> = figures.iter().map(c.value).collect();
            out += &format!(" {} |", (c.format)(&values));
        }
        out += "\n";
        notes.extend(run_notes(name, figures));
    }
    if !runs.ours.is_empty() && !runs.nchan.is_empty() {
        out += "| ours / Nchan |";
        for c in &COLUMNS {
            out += &format!(" {} |", ratio_range(&runs.ours, &runs.nchan, c.value));
        }
        out += "\n";
    }
    if runs.case.backend != Backend::Memory {
        out += &instance_table(&runs.ours);
    }
    notes.extend(runs.failures.iter().map(|f| format!("failed: {f}")));
    if !notes.is_empty() {
        out += "\n";
        for note in notes {
            out += &format!("- {note}\n");
        }
    }
    out
}

/// Our instances one by one (ranges over the runs), then all of them: CPU per 1,000 of the
/// instance's own deliveries, and the live messages it received from Redis.
fn instance_table(figures: &[Figures]) -> String {
    let Some(n) = figures.iter().map(|f| f.instances.len()).min() else {
        return String::new();
    };
    let mut out = String::from("\n| instance |");
    for c in &INSTANCE_COLUMNS {
        out += &format!(" {} |", c.title);
    }
    out += "\n|---|";
    out += &"---:|".repeat(INSTANCE_COLUMNS.len());
    out += "\n";
    for i in 0..n {
        out += &format!("| {} |", i + 1);
        for c in &INSTANCE_COLUMNS {
            let values: Vec<f64> = figures.iter().map(|f| (c.value)(f, i)).collect();
            out += &format!(" {} |", (c.format)(&values));
        }
        out += "\n";
    }
    let total = |value: fn(&Figures, usize) -> f64| -> Vec<f64> {
        figures
            .iter()
            .map(|f| (0..n).map(|i| value(f, i)).sum())
            .collect()
    };
    let all_cpu: Vec<f64> = figures.iter().map(|f| f.cpu_ms_per_1k).collect();
    out += &format!(
        "| all | {} | {} | {} | {} |\n",
        whole(&total(INSTANCE_COLUMNS[0].value)),
        one_decimal(&all_cpu),
        whole(&total(INSTANCE_COLUMNS[2].value)),
        whole(&total(INSTANCE_COLUMNS[3].value)),
    );
    out
}

/// Footnotes for one server's runs: disturbance, and anything besides plain deliveries.
fn run_notes(name: &str, figures: &[Figures]) -> Vec<String> {
    let mut notes = Vec::new();
    for (i, f) in figures.iter().enumerate() {
        let run = i + 1;
        if let Some((others, busiest)) = &f.disturbed {
            notes.push(format!(
                "\\* {name} run {run} was disturbed: other processes used {others:.0} % of a \
                 core on average ({busiest})"
            ));
        }
        if f.repeats > 0 {
            notes.push(format!(
                "{name} run {run} was measured {} times, as the earlier tries were disturbed",
                f.repeats + 1
            ));
        }
        if f.publish_late_s >= 0.5 {
            notes.push(format!(
                "{name} run {run}: the publisher fell behind, as each publish waits for its \
                 answer: the last event went out {:.1} s late",
                f.publish_late_s
            ));
        }
        let mut odd = Vec::new();
        for (count, what) in [
            (f.reconnects, "reconnects"),
            (
                f.failed_subscribers as u64,
                "subscribers that never connected",
            ),
            (f.publish_failures, "failed publishes"),
            (f.strays, "events with an unknown seq"),
            (f.errors as u64, "subscriber errors"),
        ] {
            if count > 0 {
                odd.push(format!("{count} {what}"));
            }
        }
        if !odd.is_empty() {
            notes.push(format!("{name} run {run}: {}", odd.join(", ")));
        }
    }
    notes
}

/// Ratios of the same runs (ours run N / Nchan run N), as a range.
pub fn ratio_range(ours: &[Figures], nchan: &[Figures], value: fn(&Figures) -> f64) -> String {
    let ratios: Vec<f64> = ours
        .iter()
        .zip(nchan)
        .map(|(o, n)| value(o) / value(n))
        .filter(|r| r.is_finite())
        .collect();
    if ratios.is_empty() {
        return "–".to_owned();
    }
    range(&ratios, |v| format!("{v:.2}"), "×")
}

/// `min–max unit`, or one figure when both print the same.
fn range(values: &[f64], show: impl Fn(f64) -> String, unit: &str) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return "–".to_owned();
    }
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = (show(min), show(max));
    if low == high {
        format!("{low}{unit}")
    } else {
        format!("{low}–{high}{unit}")
    }
}

pub fn rate(values: &[f64]) -> String {
    range(values, |v| format!("{:.1}", v / 1000.0), "k")
}

pub fn whole(values: &[f64]) -> String {
    range(values, |v| format!("{v:.0}"), "")
}

pub fn one_decimal(values: &[f64]) -> String {
    range(values, |v| format!("{v:.1}"), "")
}

/// Microseconds as ms or s, with one unit for the whole range.
pub fn micros(values: &[f64]) -> String {
    let max = values.iter().copied().fold(0.0, f64::max);
    if max >= 1_000_000.0 {
        range(values, |v| format!("{:.2}", v / 1e6), " s")
    } else if max >= 10_000.0 {
        range(values, |v| format!("{:.0}", v / 1e3), " ms")
    } else if max >= 1_000.0 {
        range(values, |v| format!("{:.1}", v / 1e3), " ms")
    } else {
        range(values, |v| format!("{:.2}", v / 1e3), " ms")
    }
}
