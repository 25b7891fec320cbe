//! The summary of the targets the engine rewrite aims at, each judged run by run: ours in
//! run N against Nchan in run N of the same case, never one server's best against the
//! other's worst.

use crate::report::{CaseRuns, micros, one_decimal, rate, whole};
use crate::stats::Figures;

/// How one compared target reads its figure and judges a pair of runs.
struct Target {
    name: &'static str,
    /// The cases it applies to; empty for every case that both servers ran.
    cases: &'static [&'static str],
    value: fn(&Figures) -> f64,
    met: fn(f64, f64) -> bool,
    format: fn(&[f64]) -> String,
}

const TARGETS: [Target; 4] = [
    Target {
        name: "CPU per 1,000 deliveries ≤ Nchan's",
        cases: &["sse-1k-50", "ws-1k-50", "lp-1k-10"],
        value: |f| f.cpu_ms_per_1k,
        met: |ours, nchan| ours <= nchan,
        format: one_decimal,
    },
    Target {
        name: "deliveries/s ≥ Nchan's",
        cases: &["sse-1k-1000", "ws-1k-1000"],
        value: |f| f.per_second,
        met: |ours, nchan| ours >= nchan,
        format: rate,
    },
    Target {
        name: "p99 latency ≤ 1.2 × Nchan's",
        cases: &["sse-10k-50", "ws-10k-50"],
        value: |f| f64::from(f.p99_us),
        met: |ours, nchan| ours <= 1.2 * nchan,
        format: micros,
    },
    Target {
        name: "kB per connection ≤ Nchan's",
        cases: &[],
        value: |f| f.kb_per_conn,
        met: |ours, nchan| ours <= nchan,
        format: one_decimal,
    },
];

/// The summary table.
pub fn summary(all: &[CaseRuns]) -> String {
    let mut out = String::from("## Targets\n\n| target | case | ours | Nchan | verdict |\n");
    out += "|---|---|---:|---:|---|\n";
    for target in &TARGETS {
        for runs in all {
            let named = target.cases.contains(&runs.case.id);
            let both = !runs.ours.is_empty() && !runs.nchan.is_empty();
            if !(named || target.cases.is_empty() && both) {
                continue;
            }
            let pairs: Vec<bool> = runs
                .ours
                .iter()
                .zip(&runs.nchan)
                .map(|(o, n)| (target.met)((target.value)(o), (target.value)(n)))
                .collect();
            let show = |figures: &[Figures]| {
                let values: Vec<f64> = figures.iter().map(target.value).collect();
                if values.is_empty() {
                    "–".to_owned()
                } else {
                    (target.format)(&values)
                }
            };
            out += &format!(
                "| {} | {} | {} | {} | {} |\n",
                target.name,
                runs.case.id,
                show(&runs.ours),
                show(&runs.nchan),
                verdict(&pairs)
            );
        }
    }
    out += &absolute_rows(all);
    out
}

/// The targets that need no peer: connect time, and nothing lost or duplicated.
fn absolute_rows(all: &[CaseRuns]) -> String {
    let ours: Vec<(&str, &Figures)> = all
        .iter()
        .flat_map(|r| r.ours.iter().map(move |f| (r.case.id, f)))
        .collect();
    let nchan: Vec<(&str, &Figures)> = all
        .iter()
        .flat_map(|r| r.nchan.iter().map(move |f| (r.case.id, f)))
        .collect();
    let worst_connect = |runs: &[(&str, &Figures)]| {
        let worst = runs.iter().max_by_key(|(_, f)| f.connect_p99_us);
        worst.map_or("–".to_owned(), |(id, f)| {
            format!("{} ({id})", micros(&[f64::from(f.connect_p99_us)]))
        })
    };
    let connect: Vec<bool> = ours
        .iter()
        .map(|(_, f)| f.connect_p99_us <= 100_000)
        .collect();
    let missing = |runs: &[(&str, &Figures)]| {
        let lost: Vec<f64> = vec![runs.iter().map(|(_, f)| f.lost as f64).sum()];
        let dups: Vec<f64> = vec![runs.iter().map(|(_, f)| f.duplicates as f64).sum()];
        if runs.is_empty() {
            "–".to_owned()
        } else {
            format!("{} lost, {} duplicates", whole(&lost), whole(&dups))
        }
    };
    let clean: Vec<bool> = ours
        .iter()
        .map(|(_, f)| f.lost == 0 && f.duplicates == 0)
        .collect();
    format!(
        "| connect p99 ≤ 100 ms | worst case | {} | {} | {} |\n\
         | 0 lost and 0 duplicates | all cases | {} | {} | {} |\n",
        worst_connect(&ours),
        worst_connect(&nchan),
        verdict(&connect),
        missing(&ours),
        missing(&nchan),
        verdict(&clean)
    )
}

/// "met" when every run met it, with the count of runs.
fn verdict(runs: &[bool]) -> String {
    let met = runs.iter().filter(|m| **m).count();
    match (runs.len(), met) {
        (0, _) => "not measured".to_owned(),
        (n, m) if m == n => format!("met ({m} of {n} runs)"),
        (n, m) => format!("**not met** ({m} of {n} runs)"),
    }
}
