//! Which credential files this user has: [`Env`] captures the environment that decides the
//! paths, [`Sources`] finds and loads each file so they can be shown side by side.

use std::path::{Path, PathBuf};

use super::{AuthFile, AuthFileError, FileKind};

/// The environment variables that decide where the files are, captured once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `$HOME` (or the platform's home directory).
    pub home: Option<PathBuf>,
    /// `$DOCKER_CONFIG`: the directory holding Docker's `config.json`.
    pub docker_config: Option<PathBuf>,
    /// `$REGISTRY_AUTH_FILE`: Podman/skopeo's auth file override.
    pub registry_auth_file: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
    /// A legacy `.dockercfg` opened by path (no variable names one; default `~/.dockercfg`).
    pub dockercfg: Option<PathBuf>,
    /// A Docker config opened by path under another name than `config.json` (a CI's
    /// `…config-with-helper-and-store.json`): no variable can name it.
    pub docker_config_file: Option<PathBuf>,
    /// The user id, for Podman's `/run/containers/UID/auth.json` when `$XDG_RUNTIME_DIR` is unset
    /// (root's `sudo podman login` writes `/run/containers/0/auth.json`). Linux only.
    pub uid: Option<u32>,
}

impl Env {
    /// Reads the variables of the current process. Empty values count as unset.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Self {
            home: var("HOME").or_else(|| var("USERPROFILE")),
            docker_config: var("DOCKER_CONFIG"),
            registry_auth_file: var("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            dockercfg: None,
            docker_config_file: None,
            uid: process_uid(),
        }
    }

    /// This environment with `file` taking the place of the file of its kind
    /// ([`FileKind::detect`]: by its name, else by its content), as a file manager's "Open with
    /// regcred" and `--file` ask: a `config.json`'s directory becomes `$DOCKER_CONFIG` (a Docker
    /// config of another name is kept by its path), a legacy file replaces `~/.dockercfg`, any
    /// other becomes `$REGISTRY_AUTH_FILE`. Returns the kind chosen.
    pub fn with_file(mut self, file: &Path) -> (Self, FileKind) {
        let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let kind = FileKind::detect(&file);
        match kind {
            FileKind::DockerConfig if file.file_name().is_some_and(|n| n != "config.json") => {
                self.docker_config_file = Some(file);
            }
            FileKind::DockerConfig => self.docker_config = file.parent().map(Path::to_path_buf),
            FileKind::LegacyDockercfg => self.dockercfg = Some(file),
            FileKind::ContainersAuth => self.registry_auth_file = Some(file),
        }
        (self, kind)
    }

    /// Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn docker_config_path(&self) -> Option<PathBuf> {
        if let Some(file) = &self.docker_config_file {
            return Some(file.clone());
        }
        match (&self.docker_config, &self.home) {
            (Some(dir), _) => Some(dir.join("config.json")),
            (None, Some(home)) => Some(home.join(".docker").join("config.json")),
            (None, None) => None,
        }
    }

    /// The path of the file of `kind`, if it can be determined.
    pub fn path_of(&self, kind: FileKind) -> Option<PathBuf> {
        match kind {
            FileKind::DockerConfig => self.docker_config_path(),
            FileKind::LegacyDockercfg => self.dockercfg_path(),
            FileKind::ContainersAuth => self.containers_auth_path(),
        }
    }

    /// The legacy `~/.dockercfg`.
    pub(crate) fn dockercfg_path(&self) -> Option<PathBuf> {
        self.dockercfg.clone().or_else(|| self.home.as_ref().map(|home| home.join(".dockercfg")))
    }

    /// Podman's `auth.json`, the one `podman login` writes: `$REGISTRY_AUTH_FILE`, else
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, else (Linux) `/run/containers/UID/auth.json`, else
    /// `~/.config/containers/auth.json` (macOS, Windows).
    pub(crate) fn containers_auth_path(&self) -> Option<PathBuf> {
        self.podman_auth_paths().into_iter().next()
    }

    /// Every `auth.json` Podman and skopeo read, in their order (containers/image's
    /// `getAuthFilePaths`): the primary file ([`Env::containers_auth_path`]), then
    /// `$XDG_CONFIG_HOME` (or `~/.config`)`/containers/auth.json`.
    pub(crate) fn podman_auth_paths(&self) -> Vec<PathBuf> {
        let config_dir = self.xdg_config_home.clone().or_else(|| self.home.as_ref().map(|h| h.join(".config")));
        let config = config_dir.map(|dir| dir.join("containers").join("auth.json"));
        let primary = if let Some(file) = &self.registry_auth_file {
            Some(file.clone())
        } else if !cfg!(target_os = "linux") {
            self.home.as_ref().map(|home| home.join(".config").join("containers").join("auth.json"))
        } else if let Some(dir) = &self.xdg_runtime_dir {
            Some(dir.join("containers").join("auth.json"))
        } else {
            self.uid.map(|uid| PathBuf::from(format!("/run/containers/{uid}/auth.json")))
        };
        let mut paths: Vec<PathBuf> = primary.into_iter().chain(config).collect();
        paths.dedup();
        paths
    }

    /// Every file Podman and skopeo read for a credential, in their order: the `auth.json` files,
    /// Docker's `config.json` (`$DOCKER_CONFIG/config.json`), the legacy `~/.dockercfg`; the first
    /// that has a credential for the image answers. With `$REGISTRY_AUTH_FILE` set, Podman 4.4+
    /// and skopeo 1.11+ (containers/image 5.24+) read that file alone — older ones go on through
    /// the rest ([`PodmanChain::override_ends`]).
    pub(crate) fn podman_chain(&self) -> PodmanChain {
        let mut paths: Vec<(FileKind, PathBuf)> =
            self.podman_auth_paths().into_iter().map(|path| (FileKind::ContainersAuth, path)).collect();
        paths.extend(self.docker_config_path().map(|path| (FileKind::DockerConfig, path)));
        paths.extend(self.dockercfg_path().map(|path| (FileKind::LegacyDockercfg, path)));
        PodmanChain { paths, override_ends: self.registry_auth_file.is_some() }
    }
}

/// The files Podman and skopeo read, in order (`Env::podman_chain`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodmanChain {
    /// Each file with the format it is read in.
    pub paths: Vec<(FileKind, PathBuf)>,
    /// `$REGISTRY_AUTH_FILE` is set: Podman 4.4+ and skopeo 1.11+ read only the first file.
    pub override_ends: bool,
}

/// The current process's user id (on Linux, the one system where Podman's path uses it).
#[cfg(target_os = "linux")]
#[allow(clippy::unnecessary_wraps, reason = "None on the other systems")]
fn process_uid() -> Option<u32> {
    Some(rustix::process::getuid().as_raw())
}

/// No user id in Podman's paths on this system.
#[cfg(not(target_os = "linux"))]
fn process_uid() -> Option<u32> {
    None
}

/// What became of one file.
#[derive(Debug)]
pub enum SourceStatus {
    /// The file does not exist (it would be created on save).
    Missing,
    /// Loaded.
    Loaded(Box<AuthFile>),
    /// It exists but could not be used; the error says why.
    Failed(AuthFileError),
}

/// One credential file of the user's.
#[derive(Debug)]
pub struct SourceFile {
    /// Its format.
    pub kind: FileKind,
    /// Its path.
    pub path: PathBuf,
    /// Loaded, missing, or failed.
    pub status: SourceStatus,
}

impl SourceFile {
    /// Loads the file at `path` as `kind`.
    pub fn load(kind: FileKind, path: &Path) -> Self {
        let status = match AuthFile::load(path, kind) {
            Ok(file) if file.exists() => SourceStatus::Loaded(Box::new(file)),
            Ok(_) => SourceStatus::Missing,
            Err(error) => SourceStatus::Failed(error),
        };
        Self { kind, path: path.to_path_buf(), status }
    }

    /// The loaded file, if it loaded.
    pub fn file(&self) -> Option<&AuthFile> {
        match &self.status {
            SourceStatus::Loaded(file) => Some(file),
            SourceStatus::Missing | SourceStatus::Failed(_) => None,
        }
    }
}

/// The user's credential files: Docker's, the legacy one, Podman's, in that order.
#[derive(Debug)]
pub struct Sources {
    /// One per format whose path could be determined, and Podman's second `auth.json` when it
    /// exists.
    pub files: Vec<SourceFile>,
    /// The files Podman and skopeo read, in their order.
    pub podman: PodmanChain,
}

impl Sources {
    /// Finds and loads every file `env` points to. One broken file does not stop the others.
    pub fn discover(env: &Env) -> Self {
        Self::discover_with(env, &[])
    }

    /// [`Sources::discover`], then each of `opened` that is not among them (files the window
    /// opened by path: the user's own files stay listed beside them), its kind detected.
    pub(crate) fn discover_with(env: &Env, opened: &[PathBuf]) -> Self {
        let docker = [FileKind::DockerConfig, FileKind::LegacyDockercfg]
            .into_iter()
            .filter_map(|kind| Some(SourceFile::load(kind, &env.path_of(kind)?)));
        // The file `podman login` writes is listed even before it exists; the next one only
        // when it does (it is read, never written, by Podman).
        let podman = env.podman_auth_paths().into_iter().enumerate().filter_map(|(index, path)| {
            let source = SourceFile::load(FileKind::ContainersAuth, &path);
            (index == 0 || !matches!(source.status, SourceStatus::Missing)).then_some(source)
        });
        let mut files: Vec<SourceFile> = docker.chain(podman).collect();
        for path in opened {
            if !files.iter().any(|file| file.path == *path) {
                files.push(SourceFile::load(FileKind::detect(path), path));
            }
        }
        Self { files, podman: env.podman_chain() }
    }

    /// The file of `kind`, if its path could be determined.
    pub fn get(&self, kind: FileKind) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.kind == kind)
    }

    /// The loaded files in the order Podman and skopeo read them, each with its place in that
    /// order (`0` first). With `all` the whole chain, as Podman 4.3 and older read it even when
    /// `$REGISTRY_AUTH_FILE` is set; otherwise as Podman 4.4+ does.
    pub(crate) fn podman_order(&self, all: bool) -> Vec<(usize, &SourceFile)> {
        let take = if self.podman.override_ends && !all { 1 } else { self.podman.paths.len() };
        self.podman
            .paths
            .iter()
            .take(take)
            .enumerate()
            .filter_map(|(place, (_, path))| Some((place, self.files.iter().find(|file| file.path == *path)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opened_file_takes_the_place_of_its_kind() {
        let base = Env { home: Some(PathBuf::from("/home/u")), ..Env::default() };

        let (env, kind) = base.clone().with_file(Path::new("/etc/ci/config.json"));
        assert_eq!(kind, FileKind::DockerConfig);
        assert_eq!(env.docker_config_path(), Some(PathBuf::from("/etc/ci/config.json")));
        assert_eq!(env.dockercfg_path(), Some(PathBuf::from("/home/u/.dockercfg")), "the others stay");

        let (env, kind) = base.clone().with_file(Path::new("/srv/.dockercfg"));
        assert_eq!(kind, FileKind::LegacyDockercfg);
        assert_eq!(env.dockercfg_path(), Some(PathBuf::from("/srv/.dockercfg")));
        assert_eq!(env.docker_config_path(), Some(PathBuf::from("/home/u/.docker/config.json")));

        let (env, kind) = base.with_file(Path::new("/run/user/1000/containers/auth.json"));
        assert_eq!(kind, FileKind::ContainersAuth);
        assert_eq!(env.containers_auth_path(), Some(PathBuf::from("/run/user/1000/containers/auth.json")));
    }

    #[test]
    fn a_docker_config_of_another_name_is_known_by_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("testcontainers-java__config-with-helper-and-store.json");
        std::fs::write(&file, br#"{"auths":{"a.example.com":{}},"credsStore":"desktop"}"#).unwrap();
        let base = Env { home: Some(PathBuf::from("/home/u")), ..Env::default() };
        let (env, kind) = base.with_file(&file);
        assert_eq!(kind, FileKind::DockerConfig);
        assert_eq!(env.docker_config_path().as_ref(), Some(&file), "kept by its path, not its directory's config.json");
        let podman = dir.path().join("my-auth.json");
        std::fs::write(&podman, br#"{"auths":{"quay.io/team":{"auth":"dTpw"}}}"#).unwrap();
        assert_eq!(FileKind::detect(&podman), FileKind::ContainersAuth);
        assert_eq!(FileKind::detect_how(&podman).1, crate::auth_files::KindEvidence::Guess, "auths alone fit both");
        assert_eq!(FileKind::detect_how(&file).1, crate::auth_files::KindEvidence::Content);
        let legacy = dir.path().join("old-creds.json");
        std::fs::write(&legacy, br#"{"https://index.docker.io/v1/":{"auth":"dTpw","email":"a@b"}}"#).unwrap();
        assert_eq!(FileKind::detect(&legacy), FileKind::LegacyDockercfg);
        assert_eq!(FileKind::detect(&dir.path().join("missing.json")), FileKind::ContainersAuth, "by name");
    }

    #[test]
    fn podmans_chain_is_read_in_containers_images_order() {
        let home = PathBuf::from("/home/u");
        let env = Env { home: Some(home.clone()), xdg_runtime_dir: Some("/run/user/1000".into()), ..Env::default() };
        let chain: Vec<PathBuf> = env.podman_chain().paths.into_iter().map(|(_, path)| path).collect();
        let expected: Vec<PathBuf> = [
            "/run/user/1000/containers/auth.json",
            "/home/u/.config/containers/auth.json",
            "/home/u/.docker/config.json",
            "/home/u/.dockercfg",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        if cfg!(target_os = "linux") {
            assert_eq!(chain, expected);
            // root with `sudo podman login`: no XDG_RUNTIME_DIR.
            let root = Env { home: Some("/root".into()), uid: Some(0), ..Env::default() };
            assert_eq!(root.containers_auth_path(), Some(PathBuf::from("/run/containers/0/auth.json")));
        }
        let custom = Env { registry_auth_file: Some("/ci/auth.json".into()), ..env };
        let chain = custom.podman_chain();
        assert!(chain.override_ends);
        assert_eq!(chain.paths[0].1, PathBuf::from("/ci/auth.json"));
        assert_eq!(chain.paths[1].1, home.join(".config/containers/auth.json"), "Podman 4.3 reads on");
    }

    #[test]
    fn a_relative_path_is_made_absolute() {
        let (env, _) = Env::default().with_file(Path::new("config.json"));
        let dir = env.docker_config.unwrap_or_default();
        assert!(dir.is_absolute(), "{}", dir.display());
    }
}
