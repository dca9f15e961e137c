//! The registry's documents as a runtime reads them — an index (manifest list), a platform
//! manifest, the descriptors in them, an image config's platform — read into typed values, so a
//! missing or malformed field is an error in the registry document's own terms ("entry 2 of the
//! index has no digest"), never a quiet `""` or `0`.

use serde::Deserialize;
use serde_json::Value;

use super::node::Platform;

/// The manifest a reference resolves to, as fetched (its digest verified by the caller).
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    /// Its digest (verified).
    pub(crate) digest: String,
    /// Its media type.
    pub(crate) media_type: String,
    /// Its JSON.
    pub(crate) json: Value,
}

impl Manifest {
    /// Whether it is an index (a manifest list).
    pub(crate) fn is_index(&self) -> bool {
        self.media_type.contains("index")
            || self.media_type.contains("manifest.list")
            || self.json.get("manifests").is_some()
    }
}

/// A content descriptor (OCI image-spec `descriptor.md`): what points at a manifest or a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Descriptor {
    /// `sha256:…`.
    pub(crate) digest: String,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Its media type (may be empty in old Docker documents).
    pub(crate) media_type: String,
    /// The platform an index entry is for.
    pub(crate) platform: Option<Platform>,
}

#[derive(Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: Option<String>,
    size: Option<i64>,
    platform: Option<RawPlatform>,
}

#[derive(Deserialize)]
struct RawPlatform {
    os: Option<String>,
    architecture: Option<String>,
    variant: Option<String>,
}

impl RawPlatform {
    fn platform(self) -> Option<Platform> {
        Some(Platform { os: self.os?, architecture: self.architecture?, variant: self.variant })
    }
}

/// Why a document cannot be used: its own terms, for the report's cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DocumentError {
    /// The JSON does not have the document's shape.
    #[error("the {what} is not a valid {what}: {reason}")]
    Shape {
        /// `index`, `manifest`.
        what: &'static str,
        /// serde's words.
        reason: String,
    },
    /// A descriptor lacks a field or has a bad one.
    #[error("{place} {problem}")]
    Descriptor {
        /// `entry 2 of the index`, `the config of the manifest`, `layer 3 of the manifest`.
        place: String,
        /// `has no digest`, `has a digest that is not sha256:<64 hex>` …
        problem: &'static str,
    },
    /// A platform manifest without a config (schema 1).
    #[error("the manifest has no config (schema 1 manifests are not supported by current runtimes)")]
    NoConfig,
}

fn descriptor(raw: RawDescriptor, place: impl Fn() -> String) -> Result<Descriptor, DocumentError> {
    let problem = |problem| DocumentError::Descriptor { place: place(), problem };
    let digest = raw.digest.ok_or_else(|| problem("has no digest"))?;
    if !is_digest(&digest) {
        return Err(problem("has a digest that is not algorithm:hex (sha256:<64 hex>)"));
    }
    let size = raw.size.ok_or_else(|| problem("has no size"))?;
    let size = u64::try_from(size).map_err(|_| problem("has a negative size"))?;
    let platform = raw.platform.and_then(RawPlatform::platform);
    Ok(Descriptor { digest, size, media_type: raw.media_type.unwrap_or_default(), platform })
}

/// The digest grammar runtimes accept (go-digest): `algorithm:encoded`, and sha256/sha512 in
/// lowercase hex of their length.
fn is_digest(text: &str) -> bool {
    let Some((algorithm, encoded)) = text.split_once(':') else { return false };
    let hex =
        |len: usize| encoded.len() == len && encoded.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match algorithm {
        "sha256" => hex(64),
        "sha512" => hex(128),
        _ => false,
    }
}

/// The entries of an index, each with its platform when it names one.
///
/// # Errors
///
/// When the index has no `manifests` list or an entry lacks its digest or size.
pub(crate) fn index_entries(index: &Value) -> Result<Vec<Descriptor>, DocumentError> {
    #[derive(Deserialize)]
    struct RawIndex {
        manifests: Vec<RawDescriptor>,
    }
    let raw =
        RawIndex::deserialize(index).map_err(|e| DocumentError::Shape { what: "index", reason: e.to_string() })?;
    raw.manifests
        .into_iter()
        .enumerate()
        .map(|(n, entry)| descriptor(entry, || format!("entry {} of the index", n + 1)))
        .collect()
}

/// The config and layers of a platform manifest, the config first.
///
/// # Errors
///
/// When there is no config (schema 1), or a descriptor lacks its digest or size.
pub(crate) fn manifest_blobs(manifest: &Value) -> Result<(Descriptor, Vec<Descriptor>), DocumentError> {
    #[derive(Deserialize)]
    struct RawManifest {
        config: Option<RawDescriptor>,
        #[serde(default)]
        layers: Vec<RawDescriptor>,
    }
    let raw = RawManifest::deserialize(manifest)
        .map_err(|e| DocumentError::Shape { what: "manifest", reason: e.to_string() })?;
    let config = descriptor(raw.config.ok_or(DocumentError::NoConfig)?, || "the config of the manifest".to_owned())?;
    let layers = raw
        .layers
        .into_iter()
        .enumerate()
        .map(|(n, layer)| descriptor(layer, || format!("layer {} of the manifest", n + 1)))
        .collect::<Result<_, _>>()?;
    Ok((config, layers))
}

/// The platform an image config names (`os`, `architecture`, `variant` at its top), if it does.
pub(crate) fn config_platform(config: &Value) -> Option<Platform> {
    RawPlatform::deserialize(config).ok()?.platform()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_missing_or_malformed_field_is_named_never_defaulted() {
        let index = serde_json::json!({"manifests": [
            {"digest": DIGEST, "size": 7, "platform": {"os": "linux", "architecture": "amd64"}},
            {"size": 7, "platform": {"os": "linux", "architecture": "arm64"}}
        ]});
        assert_eq!(index_entries(&index).unwrap_err().to_string(), "entry 2 of the index has no digest");
        let manifest = serde_json::json!({"config": {"digest": DIGEST, "size": 2}, "layers": [{"digest": DIGEST}]});
        assert_eq!(manifest_blobs(&manifest).unwrap_err().to_string(), "layer 1 of the manifest has no size");
        let manifest = serde_json::json!({"config": {"digest": "sha256:xyz", "size": 2}});
        assert!(
            manifest_blobs(&manifest).unwrap_err().to_string().starts_with("the config of the manifest has a digest")
        );
        let manifest = serde_json::json!({"config": {"digest": DIGEST, "size": -1}});
        assert_eq!(
            manifest_blobs(&manifest).unwrap_err().to_string(),
            "the config of the manifest has a negative size"
        );
        assert_eq!(manifest_blobs(&serde_json::json!({"layers": []})).unwrap_err(), DocumentError::NoConfig);
        assert!(index_entries(&serde_json::json!({"manifests": "no"})).is_err());
    }

    #[test]
    fn a_good_document_reads_whole() {
        let index = serde_json::json!({"manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 7,
             "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            {"digest": DIGEST, "size": 9, "platform": {"os": "unknown", "architecture": "unknown"}}
        ]});
        let entries = index_entries(&index).unwrap();
        assert_eq!(entries[0].platform.as_ref().unwrap().to_string(), "linux/arm/v7");
        assert_eq!(entries[1].size, 9);
        let config = serde_json::json!({"os": "linux", "architecture": "amd64", "rootfs": {}});
        assert_eq!(config_platform(&config).unwrap().to_string(), "linux/amd64");
        assert_eq!(config_platform(&serde_json::json!({"os": "linux"})), None);
    }
}
