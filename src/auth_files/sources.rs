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
    pub fn dockercfg_path(&self) -> Option<PathBuf> {
        self.dockercfg.clone().or_else(|| self.home.as_ref().map(|home| home.join(".dockercfg")))
    }

    /// Podman's `auth.json`: `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`,
    /// else `$XDG_CONFIG_HOME` (or `~/.config`)`/containers/auth.json`. Of the last two, the
    /// first that exists; when neither does, the one Podman would create.
    pub fn containers_auth_path(&self) -> Option<PathBuf> {
        if let Some(file) = &self.registry_auth_file {
            return Some(file.clone());
        }
        let runtime = self.xdg_runtime_dir.as_ref().map(|dir| dir.join("containers").join("auth.json"));
        let config_dir = self.xdg_config_home.clone().or_else(|| self.home.as_ref().map(|h| h.join(".config")));
        let config = config_dir.map(|dir| dir.join("containers").join("auth.json"));
        let candidates: Vec<PathBuf> = runtime.into_iter().chain(config).collect();
        candidates.iter().find(|path| path.exists()).or(candidates.first()).cloned()
    }
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
    /// One per format whose path could be determined.
    pub files: Vec<SourceFile>,
}

impl Sources {
    /// Finds and loads every file `env` points to. One broken file does not stop the others.
    pub fn discover(env: &Env) -> Self {
        Self::discover_with(env, &[])
    }

    /// [`Sources::discover`], then each of `opened` that is not among them (files the window
    /// opened by path: the user's own files stay listed beside them), its kind detected.
    pub fn discover_with(env: &Env, opened: &[PathBuf]) -> Self {
        let kinds = [FileKind::DockerConfig, FileKind::LegacyDockercfg, FileKind::ContainersAuth];
        let mut files: Vec<SourceFile> =
            kinds.into_iter().filter_map(|kind| Some(SourceFile::load(kind, &env.path_of(kind)?))).collect();
        for path in opened {
            if !files.iter().any(|file| file.path == *path) {
                files.push(SourceFile::load(FileKind::detect(path), path));
            }
        }
        Self { files }
    }

    /// The file of `kind`, if its path could be determined.
    pub fn get(&self, kind: FileKind) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.kind == kind)
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
        assert_eq!(env.docker_config_path(), Some(file), "kept by its path, not its directory's config.json");
        let podman = dir.path().join("my-auth.json");
        std::fs::write(&podman, br#"{"auths":{"quay.io/team":{"auth":"dTpw"}}}"#).unwrap();
        assert_eq!(FileKind::detect(&podman), FileKind::ContainersAuth);
        let legacy = dir.path().join("old-creds.json");
        std::fs::write(&legacy, br#"{"https://index.docker.io/v1/":{"auth":"dTpw","email":"a@b"}}"#).unwrap();
        assert_eq!(FileKind::detect(&legacy), FileKind::LegacyDockercfg);
        assert_eq!(FileKind::detect(&dir.path().join("missing.json")), FileKind::ContainersAuth, "by name");
    }

    #[test]
    fn a_relative_path_is_made_absolute() {
        let (env, _) = Env::default().with_file(Path::new("config.json"));
        let dir = env.docker_config.unwrap_or_default();
        assert!(dir.is_absolute(), "{}", dir.display());
    }
}
