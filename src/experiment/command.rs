//! The `experiment` subcommand: reads its options, draws a progress bar on stderr while
//! [`super::run`] works and prints the results on stdout.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Options, Pattern, Progress, Server, Technique, report};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Markdown,
    Json,
}

/// The options of `reverse-ajax experiment` (README: "The article's claims, measured").
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// Simulated browsers per technique (at most 2,000).
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Seconds of events per technique (at most 600); each run adds two intervals and 0.5 s.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds between two polls or form posts (fractions allowed).
    #[arg(long, default_value_t = 2.0)]
    interval: f64,
    /// `ticker` (an event every 1 to 3 s), `rate:R` (R events a second) or `burst:N`
    /// (N events at once, every 10 s).
    #[arg(long, default_value = "ticker")]
    pattern: Pattern,
    /// Comma-separated slugs (default: all nine).
    #[arg(long, value_delimiter = ',')]
    techniques: Option<Vec<Technique>>,
    /// A Markdown table, or one JSON array with an object per technique.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// Measure the server at this http:// URL instead of starting one on loopback.
    #[arg(long)]
    url: Option<String>,
    /// A token that may publish on `demo-exp-*`, for a server started with a secret.
    #[arg(long, requires = "url")]
    token: Option<String>,
}

pub fn main(args: ExperimentArgs) -> ExitCode {
    match options(args).and_then(|(options, format)| execute(options, format)) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("reverse-ajax experiment: {message}");
            ExitCode::from(2)
        }
    }
}

fn options(args: ExperimentArgs) -> Result<(Options, Format), String> {
    let server = match args.url {
        Some(url) => Server::Url {
            url,
            token: args.token,
        },
        None => Server::Spawn(
            std::env::current_exe().map_err(|e| format!("where is this binary? {e}"))?,
        ),
    };
    if !args.interval.is_finite() || args.interval <= 0.0 {
        return Err("--interval must be a positive number of seconds".to_owned());
    }
    let options = Options {
        clients: args.clients,
        seconds: args.seconds,
        interval: Duration::from_secs_f64(args.interval.min(3600.0)),
        pattern: args.pattern,
        techniques: args.techniques.unwrap_or_else(|| Technique::ALL.to_vec()),
        server,
    };
    options.check()?;
    Ok((options, args.format))
}

fn execute(options: Options, format: Format) -> Result<String, String> {
    if let Err(e) = super::raise_file_limit() {
        eprintln!("reverse-ajax experiment: {e}");
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("no runtime: {e}"))?;
    let bar = ProgressBar::new(options.length().as_millis() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:40}] {elapsed}/{duration} {msg}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let mut done = Duration::ZERO;
    let results = runtime.block_on(super::run(options.clone(), |event| match event {
        Progress::Started {
            technique,
            index,
            of,
            ..
        } => bar.set_prefix(format!("{}/{of} {technique}", index + 1)),
        Progress::Tick {
            elapsed, published, ..
        } => {
            bar.set_position((done + elapsed).as_millis() as u64);
            bar.set_message(format!("{published} events published"));
        }
        Progress::Warning { technique, message } => bar.println(format!("{technique}: {message}")),
        Progress::Finished(_) => done += super::run::length(&options),
    }));
    bar.finish_and_clear();
    let results = results?;
    Ok(match format {
        Format::Markdown => report::markdown(&options, &results),
        Format::Json => report::json(&results)? + "\n",
    })
}
