//! Build script: embeds the icon and the version resources in the Windows executables. Other
//! targets need nothing from it.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=assets/icon/regcred.ico");
    #[cfg(windows)]
    windows::embed_resources();
}

#[cfg(windows)]
mod windows {
    /// Icon, product name and description; the file and product versions come from Cargo.toml.
    pub fn embed_resources() {
        if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
            return;
        }
        let mut resources = winresource::WindowsResource::new();
        resources
            .set_icon("assets/icon/regcred.ico")
            .set("ProductName", "regcred")
            .set("FileDescription", "regcred: container-registry credentials for Kubernetes")
            .set("LegalCopyright", "MIT OR Apache-2.0");
        if let Err(error) = resources.compile() {
            eprintln!("cannot embed the Windows resources: {error}");
            std::process::exit(1);
        }
    }
}
