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

/// The window arrives with the GUI; until then, point at the CLI.
fn open_window() -> ExitCode {
    eprintln!("regcred: the desktop window is not built yet; use a subcommand (regcred --help).");
    let _ = <cli::Cli as clap::CommandFactory>::command().print_help();
    ExitCode::from(2)
}
