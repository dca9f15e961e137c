//! The desktop-integration files stay valid and agree with each other: one application id
//! everywhere, the icon set complete, the macOS Info.plist parseable and at Cargo.toml's version,
//! every file the Debian package lists present. (`desktop-file-validate`, `appstreamcli` and the
//! real `dpkg -i` check run in `scripts/test`.)

use std::path::{Path, PathBuf};

const APP_ID: &str = "io.github.regcred.Regcred";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

#[test]
fn one_application_id_everywhere() {
    #[cfg(feature = "gui")]
    assert_eq!(regcred::gui::APP_ID, APP_ID);
    assert!(repo(&format!("packaging/linux/{APP_ID}.desktop")).is_file());
    let desktop = String::from_utf8(read(&format!("packaging/linux/{APP_ID}.desktop"))).unwrap_or_default();
    assert!(desktop.lines().any(|l| l == format!("Icon={APP_ID}")), "{desktop}");
    assert!(desktop.lines().any(|l| l == format!("StartupWMClass={APP_ID}")), "{desktop}");
    assert!(desktop.lines().any(|l| l == "Exec=regcred %F"), "{desktop}");
    let metainfo = String::from_utf8(read(&format!("packaging/linux/{APP_ID}.metainfo.xml"))).unwrap_or_default();
    assert!(metainfo.contains(&format!("<id>{APP_ID}</id>")));
    assert!(metainfo.contains(&format!("<launchable type=\"desktop-id\">{APP_ID}.desktop</launchable>")));
    assert!(
        metainfo.contains(&format!("<release version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "the metainfo lists no release {}",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn the_icon_set_is_complete() {
    for size in [16, 24, 32, 48, 64, 128, 256, 512, 1024] {
        let png = read(&format!("assets/icon/png/{size}x{size}.png"));
        assert_eq!(png_size(&png), (size, size), "{size}x{size}.png");
    }
    let svg = String::from_utf8(read("assets/icon/regcred.svg")).unwrap_or_default();
    assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 256 256\""));

    // ICO: reserved 0, type 1, then one directory entry per image (a width byte of 0 means 256).
    let ico = read("assets/icon/regcred.ico");
    assert_eq!(&ico[..4], &[0, 0, 1, 0], "not an .ico");
    let count = usize::from(u16::from_le_bytes([ico[4], ico[5]]));
    let widths: Vec<u32> =
        (0..count).map(|i| if ico[6 + 16 * i] == 0 { 256 } else { u32::from(ico[6 + 16 * i]) }).collect();
    assert_eq!(widths, [16, 24, 32, 48, 64, 128, 256]);

    // ICNS: magic and total length, then the 1024 px element (ic10) among the others.
    let icns = read("assets/icon/regcred.icns");
    assert_eq!(&icns[..4], b"icns");
    assert_eq!(u32::from_be_bytes([icns[4], icns[5], icns[6], icns[7]]) as usize, icns.len());
    for element in [b"ic10", b"ic09", b"ic08", b"is32"] {
        assert!(icns.windows(4).any(|w| w == element), "icns lacks {}", String::from_utf8_lossy(element));
    }
}

#[cfg(feature = "gui")]
#[test]
fn the_window_icon_decodes() {
    let icon = regcred::gui::app_icon();
    assert_eq!((icon.width, icon.height), (256, 256));
    assert_eq!(icon.rgba.len(), 256 * 256 * 4);
    assert!(icon.rgba.chunks(4).any(|px| px[3] == 0), "the rounded corners are transparent");
}

#[test]
fn the_macos_info_plist_is_valid_and_current() {
    let plist: plist::Dictionary =
        plist::from_file(repo("packaging/macos/Info.plist")).unwrap_or_else(|e| panic!("{e}"));
    let string =
        |key: &str| plist.get(key).and_then(plist::Value::as_string).unwrap_or_else(|| panic!("{key} missing"));
    assert_eq!(string("CFBundleIdentifier"), APP_ID);
    assert_eq!(string("CFBundleExecutable"), "regcred");
    assert_eq!(string("CFBundlePackageType"), "APPL");
    assert_eq!(string("CFBundleShortVersionString"), env!("CARGO_PKG_VERSION"));
    assert_eq!(string("CFBundleVersion"), env!("CARGO_PKG_VERSION"));
    assert_eq!(string("CFBundleIconFile"), "regcred.icns");
    assert!(string("LSMinimumSystemVersion").split('.').all(|part| part.parse::<u32>().is_ok()));
    assert_eq!(plist.get("NSHighResolutionCapable").and_then(plist::Value::as_boolean), Some(true));
}

#[test]
fn every_file_the_debian_package_lists_exists() {
    // The source path of each `assets` entry of `[package.metadata.deb]` (its first string).
    let manifest = String::from_utf8(read("Cargo.toml")).unwrap_or_default();
    let start = manifest.find("\nassets = [").unwrap_or(manifest.len());
    let sources: Vec<&str> = manifest[start..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with(']'))
        .filter_map(|line| line.trim().strip_prefix("[\"")?.split('"').next())
        .collect();
    assert!(sources.contains(&"target/release/docker-credential-regcred"), "{sources:?}");
    for source in sources.iter().filter(|s| !s.starts_with("target/")) {
        assert!(repo(source).is_file(), "Cargo.toml's deb assets name {source}, which does not exist");
    }
}

#[test]
fn the_release_workflow_builds_every_package() {
    let text = String::from_utf8(read(".github/workflows/release.yml")).unwrap_or_default();
    let workflow: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let jobs = &workflow["jobs"];
    for (job, runner) in [("linux", "ubuntu"), ("macos", "macos"), ("windows", "windows")] {
        let runs_on = jobs[job]["runs-on"].as_str().unwrap_or_default();
        assert!(runs_on.starts_with(runner), "{job} runs on {runs_on}");
    }
    assert!(text.contains("cargo deb") && text.contains("scripts/bundle-macos") && text.contains("regcred.exe"));
    let needs = jobs["release"]["needs"].as_sequence().map(Vec::len);
    assert_eq!(needs, Some(3), "the release waits for all three packages");
}
