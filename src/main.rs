//! `regcred`: with no arguments the desktop window, with a subcommand the CLI.

// A double-click on Windows opens the window without a console; the CLI attaches to the console
// it was started from (`windows_console`).
#![cfg_attr(all(windows, feature = "gui"), windows_subsystem = "windows")]

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    cli::mark_started();
    #[cfg(windows)]
    if std::env::args_os().len() > 1 {
        windows_console::attach_to_parent();
    }
    let args = cli::Cli::parse();
    let Some(command) = args.command else {
        let file = args.files.into_iter().next();
        if let Some(file) = file.as_ref().filter(|file| !file.is_file()) {
            // Most likely a mistyped subcommand; a launcher only passes files that exist.
            eprintln!("error: '{}' is neither a command nor a file (see `regcred --help`)", file.display());
            return ExitCode::from(2);
        }
        return open_window(file);
    };
    match cli::run(command) {
        Ok(code) => code,
        // What a shell reports for a tool stopped by a closed pipe (128 + SIGPIPE), said quietly.
        Err(error) if error.downcast_ref::<cli::OutputClosed>().is_some() => ExitCode::from(141),
        Err(error) if error.downcast_ref::<cli::Usage>().is_some() => {
            eprintln!("error: {}", regcred::untrusted::inert(&format!("{error:#}"), cli::MESSAGE_CAP));
            ExitCode::from(2)
        }
        Err(error) => {
            // An error can quote a credential file (a helper's name, a key): shown inert.
            eprintln!("error: {}", regcred::untrusted::inert(&format!("{error:#}"), cli::MESSAGE_CAP));
            ExitCode::FAILURE
        }
    }
}

/// Opens the window on a runtime owned here (the window's background jobs run on it), showing
/// `file` when one was given (a launcher's "Open with").
#[cfg(feature = "gui")]
fn open_window(file: Option<PathBuf>) -> ExitCode {
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
    #[cfg(all(unix, not(target_os = "macos")))]
    if ["DISPLAY", "WAYLAND_DISPLAY"].iter().all(|name| std::env::var_os(name).is_none_or(|v| v.is_empty())) {
        eprintln!(
            "error: cannot open the window: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set, as over SSH)\nEvery action is also a command: regcred --help"
        );
        return ExitCode::FAILURE;
    }
    let env = regcred::auth_files::Env::from_process();
    let (env, file) = match file {
        Some(file) => {
            let (env, kind) = env.with_file(&file);
            let path = env.path_of(kind);
            (env, path)
        }
        None => (env, None),
    };
    match regcred::gui::run(env, file, runtime.handle().clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot open the window: {error}\nEvery action is also a command: regcred --help");
            ExitCode::FAILURE
        }
    }
}

/// Built without the window: show what the CLI can do.
#[cfg(not(feature = "gui"))]
fn open_window(_file: Option<PathBuf>) -> ExitCode {
    println!("The regcred window is not built yet; every action is available as a command:\n");
    match <cli::Cli as clap::CommandFactory>::command().print_help() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// A Windows GUI-subsystem program has no console; a subcommand borrows the one it was typed in.
#[cfg(windows)]
mod windows_console {
    /// Attaches to the parent process's console so the CLI's output reaches it. Without a parent
    /// console (started from Explorer) nothing happens and output is discarded, as for any GUI app.
    #[allow(unsafe_code)]
    pub fn attach_to_parent() {
        use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
        // SAFETY: AttachConsole takes a process id by value and touches no memory of ours; a
        // failure (no parent console, already attached) is reported by its return value only.
        unsafe {
            AttachConsole(ATTACH_PARENT_PROCESS);
        }
    }
}
