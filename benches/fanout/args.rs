//! The command line: what it may say, the help text, and the options it gives the run loop.

use std::path::PathBuf;

use crate::cases::{self, Case};

pub const HELP: &str = "\
Fan-out benchmark: many subscribers on one channel, events published at a steady rate,
our server against Nchan (nginx). Run it with `cargo bench --bench fanout -- [options]`.

Options:
  --case a,b        run only these cases (see --list; `history-16k` is the memory
                    per stored event, measured after the fan-out cases)
  --list            print the cases and stop
  --runs N          runs per case and server (default 2)
  --server WHICH    ours, nchan or both (default both)
  --seconds S       publish for S seconds in every case
  --subs N          use N subscribers in every case
  --quick           a smoke test: every case with 100 subscribers for 3 s
  --no-wait         do not wait for a quiet machine before each run
  --redo N          run a disturbed run again, up to N times (default 2)
  --threads N       threads that run the subscribers (default 1; see the README)
  --bin PATH        our server's binary (default: the one cargo built)
  --env KEY=VALUE   an extra environment variable for our server (may repeat)
  --help            print this text

Progress goes to standard error; the Markdown report goes to standard output.";

/// Which servers to measure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Ours,
    Nchan,
    Both,
}

pub struct Options {
    pub cases: Vec<Case>,
    pub runs: u32,
    pub which: Which,
    pub no_wait: bool,
    pub redo: u32,
    pub threads: usize,
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
    pub list: bool,
    pub help: bool,
    /// Measure the memory per stored event too.
    pub history: bool,
}

/// Reads the arguments after the program name. The error is a message for the user.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        cases: cases::ALL.to_vec(),
        runs: 2,
        which: Which::Both,
        no_wait: false,
        redo: 2,
        threads: 1,
        bin: PathBuf::from(env!("CARGO_BIN_EXE_reverse-ajax")),
        env: Vec::new(),
        list: false,
        help: false,
        history: true,
    };
    let (mut seconds, mut subs, mut quick) = (None, None, false);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            // `cargo bench` adds this one to every benchmark binary.
            "--bench" => {}
            "--help" | "-h" => options.help = true,
            "--list" => options.list = true,
            "--quick" => quick = true,
            "--no-wait" => options.no_wait = true,
            "--case" => {
                let names = value("--case")?;
                let mut picked: Vec<&str> = names.split(',').map(str::trim).collect();
                options.history = picked.contains(&"history-16k");
                picked.retain(|name| *name != "history-16k");
                options.cases = if picked.is_empty() {
                    Vec::new()
                } else {
                    cases::pick(&picked.join(","))?
                };
            }
            "--runs" => options.runs = number(&value("--runs")?, "--runs")?,
            "--threads" => options.threads = number(&value("--threads")?, "--threads")? as usize,
            "--redo" => {
                let text = value("--redo")?;
                options.redo = text
                    .parse()
                    .map_err(|_| format!("--redo needs a whole number, not {text:?}"))?;
            }
            "--seconds" => seconds = Some(number(&value("--seconds")?, "--seconds")?),
            "--subs" => subs = Some(number(&value("--subs")?, "--subs")?),
            "--bin" => options.bin = PathBuf::from(value("--bin")?),
            "--server" => {
                options.which = match value("--server")?.as_str() {
                    "ours" => Which::Ours,
                    "nchan" => Which::Nchan,
                    "both" => Which::Both,
                    other => return Err(format!("--server is ours, nchan or both, not {other:?}")),
                }
            }
            "--env" => {
                let pair = value("--env")?;
                let Some((key, val)) = pair.split_once('=') else {
                    return Err(format!("--env needs KEY=VALUE, not {pair:?}"));
                };
                options.env.push((key.to_owned(), val.to_owned()));
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?} (--help lists the options)"
                ));
            }
        }
    }
    if options.cases.is_empty() && !options.history {
        return Err("--case named no case".to_owned());
    }
    for case in &mut options.cases {
        if quick {
            case.subscribers = 100;
            case.seconds = 3;
        }
        if let Some(n) = subs {
            case.subscribers = n as usize;
        }
        if let Some(s) = seconds {
            case.seconds = s;
        }
    }
    Ok(options)
}

/// A whole number of at least 1.
fn number(text: &str, name: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{name} needs a whole number of at least 1, not {text:?}"
        )),
    }
}
