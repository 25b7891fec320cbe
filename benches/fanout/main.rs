//! `cargo bench --bench fanout`: a fan-out load benchmark of our server against Nchan.
//! Many subscribers listen on one channel while a publisher sends events at a steady rate;
//! each case and server runs on a freshly started server, and the report is Markdown. The
//! scale-out cases spread the subscribers over many channels and several instances of ours
//! on one Redis or a Redis Cluster.
//! This file reads the command line and runs every case, server and run in turn.

mod args;
mod cases;
mod history;
mod machine;
mod nchan;
mod pool;
mod procfs;
mod report;
mod run;
mod servers;
mod site;
mod stats;
mod summary;

use std::process::ExitCode;

use args::Which;
use report::CaseRuns;
use servers::Kind;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let options = match args::parse(&argv[1..]) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("fanout: {message}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{}", args::HELP);
        return ExitCode::SUCCESS;
    }
    if options.list {
        for case in &options.cases {
            println!("{}", case.describe());
        }
        println!("history-16k: memory per stored event, 1000 events of a 16 KiB JSON array");
        return ExitCode::SUCCESS;
    }
    raise_file_limit();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cores = std::env::var("FANOUT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cores);
    let mut pool = match pool::Pool::new(cores) {
        Ok(pool) => pool,
        Err(message) => {
            eprintln!("fanout: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut which = options.which;
    if which != Which::Ours && !nchan::installed() {
        println!(
            "Nchan is not installed (apt-get install nginx-light libnginx-mod-nchan): \
             measuring ours only"
        );
        if which == Which::Nchan {
            return ExitCode::FAILURE;
        }
        which = Which::Ours;
    }
    println!("# Fan-out benchmark\n");
    let shown: Vec<&str> = argv[1..]
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--bench")
        .collect();
    println!(
        "- command: `cargo bench --bench fanout -- {}`",
        shown.join(" ")
    );
    println!(
        "- date: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!("- our server: `{}`", options.bin.display());
    println!("- runs per case and server: {}\n", options.runs);
    let mut all = Vec::new();
    for case in &options.cases {
        if let Err(why) = site::Site::of(case.backend) {
            println!(
                "{}: skipped, as {why} (see benches/fanout/README.md)\n",
                case.id
            );
            continue;
        }
        let mut kinds = Vec::new();
        if which != Which::Nchan {
            kinds.push(Kind::Ours);
        }
        if which != Which::Ours && !case.ours_only() {
            kinds.push(Kind::Nchan);
        }
        if kinds.is_empty() {
            eprintln!("{}: a case of ours only, skipped", case.id);
            continue;
        }
        let mut runs = CaseRuns {
            case: case.clone(),
            ours: Vec::new(),
            nchan: Vec::new(),
            failures: Vec::new(),
        };
        for run in 1..=options.runs {
            for &kind in &kinds {
                match measure(&options, case, kind, run, &mut pool).await {
                    Ok(figures) => match kind {
                        Kind::Ours => runs.ours.push(figures),
                        Kind::Nchan => runs.nchan.push(figures),
                    },
                    Err(why) => runs.failures.push(format!("{kind} run {run}: {why}")),
                }
            }
        }
        println!("{}", report::case_table(&runs));
        all.push(runs);
    }
    if !all.is_empty() {
        println!("{}", summary::summary(&all));
    }
    if options.history && which != Which::Nchan {
        eprintln!("history-16k – ours");
        match history::measure(&options).await {
            Ok(cost) => println!("{}", history::section(&cost)),
            Err(why) => eprintln!("    the run failed: {why}"),
        }
    }
    ExitCode::SUCCESS
}

/// One run of `case` on `kind`, run again (up to `--redo` times) while it is disturbed.
async fn measure(
    options: &args::Options,
    case: &cases::Case,
    kind: Kind,
    run: u32,
    pool: &mut pool::Pool,
) -> Result<stats::Figures, String> {
    let mut attempt = 0;
    loop {
        let again = if attempt > 0 { " (again)" } else { "" };
        eprintln!("{} – {kind}, run {run} of {}{again}", case.id, options.runs);
        let result = run::once(options, case, kind, pool).await;
        match &result {
            Ok(figures) => eprintln!("    {}", progress_line(figures)),
            Err(why) => eprintln!("    the run failed: {why}"),
        }
        let disturbed = result.as_ref().is_ok_and(|f| f.disturbed.is_some());
        if !disturbed || attempt >= options.redo {
            return result.map(|mut f| {
                f.repeats = attempt;
                f
            });
        }
        attempt += 1;
    }
}

/// One line about a finished run, for the progress output.
fn progress_line(f: &stats::Figures) -> String {
    let disturbed = f
        .disturbed
        .as_ref()
        .map(|(o, busiest)| format!(", DISTURBED (others {o:.0} % of a core: {busiest})"))
        .unwrap_or_default();
    format!(
        "{} deliveries ({:.0}/s), p99 {}, lost {}, duplicates {}, server CPU {:.1} ms/1k \
         ({:.0} %), benchmark {:.0} % ({:.1} µs/delivery), {:.1} kB/conn, connect p99 {}{disturbed}",
        f.deliveries,
        f.per_second,
        report::micros(&[f64::from(f.p99_us)]),
        f.lost,
        f.duplicates,
        f.cpu_ms_per_1k,
        f.cpu_percent,
        f.own_cpu_percent,
        f.own_us_per_delivery,
        f.kb_per_conn,
        report::micros(&[f64::from(f.connect_p99_us)]),
    )
}

/// Raises this process's open-file limit to its hard limit; the servers inherit it.
fn raise_file_limit() {
    if let Err(e) = reverse_ajax::load::raise_file_limit() {
        eprintln!("{e}");
    }
}
