//! Starts the server, or runs another command of [`reverse_ajax::cli`]; everything else
//! lives in the library.

use std::process::ExitCode;

use clap::Parser;
use reverse_ajax::cli::{Cli, Command};

fn main() -> ExitCode {
    match Cli::parse().command {
        None => serve(),
        Some(Command::Serve { with_parent }) => {
            if with_parent {
                reverse_ajax::cli::exit_with_parent();
            }
            serve()
        }
        Some(Command::Token {
            publish,
            subscribe,
            ttl,
            sub,
        }) => match reverse_ajax::cli::token(publish, subscribe, ttl, sub) {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("reverse-ajax token: {message}");
                ExitCode::from(2)
            }
        },
        Some(Command::Experiment(args)) => reverse_ajax::experiment::command::main(args),
    }
}

fn serve() -> ExitCode {
    match rocket::execute(reverse_ajax::rocket().launch()) {
        Ok(_) => ExitCode::SUCCESS,
        // The stages have already said what went wrong; Rocket names the stages that failed.
        Err(error) => {
            error.pretty_print();
            ExitCode::FAILURE
        }
    }
}
