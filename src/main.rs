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

/// Opens the window on a runtime owned here (the window's background jobs run on it).
#[cfg(feature = "gui")]
fn open_window() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("regcred-worker")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the background runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match regcred::gui::run(regcred::auth_files::Env::from_process(), runtime.handle().clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot open the window: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Built without the window: show what the CLI can do.
#[cfg(not(feature = "gui"))]
fn open_window() -> ExitCode {
    println!("The regcred window is not built yet; every action is available as a command:\n");
    match <cli::Cli as clap::CommandFactory>::command().print_help() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
