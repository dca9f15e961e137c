//! `docker-credential-regcred`: the Docker credential-helper protocol over regcred's keychain.
//!
//! With `"credsStore": "regcred"` or `"credHelpers": {"HOST": "regcred"}` in a config file,
//! Docker, Podman and skopeo read and write regcred's keychain through this program. Outputs,
//! exit codes and error strings are those of `docker-credential-secretservice`.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use regcred::keychain::{KeyringStore, SecretStore, serve};

fn main() -> ExitCode {
    let action = std::env::args().nth(1);
    let needs_input = matches!(action.as_deref(), Some("store" | "get" | "erase"));
    let mut input = zeroize::Zeroizing::new(Vec::new());
    if needs_input && std::io::stdin().take(1024 * 1024).read_to_end(&mut input).is_err() {
        println!("cannot read standard input");
        return ExitCode::FAILURE;
    }
    let reply = serve("docker-credential-regcred", action.as_deref(), &input, || {
        KeyringStore::open().map(|store| Box::new(store) as Box<dyn SecretStore>)
    });
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(&reply.stdout).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::from(reply.status)
}
