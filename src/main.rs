//! `regcred`: with no arguments the desktop window, with a subcommand the CLI.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let Some(command) = args.command else {
        return open_window();
    };
    match cli::run(command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The window arrives with the GUI; until then, show what the CLI can do.
fn open_window() -> ExitCode {
    println!("The regcred window is not built yet; every action is available as a command:\n");
    match <cli::Cli as clap::CommandFactory>::command().print_help() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
