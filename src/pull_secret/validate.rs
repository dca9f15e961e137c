//! Kubernetes' own validation rules for the values regcred puts in YAML, with the API server's
//! wording, so nothing is produced that `kubectl apply` would refuse.

use std::fmt;

/// Longest DNS-1123 subdomain (object names).
pub(crate) const SUBDOMAIN_MAX: usize = 253;
/// Longest DNS-1123 label (namespaces, container names).
pub(crate) const LABEL_MAX: usize = 63;
/// Largest total size of a Secret's data.
pub(crate) const SECRET_DATA_MAX: usize = 1024 * 1024;

const SUBDOMAIN_HELP: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_HELP: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DATA_KEY_HELP: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// A field that failed validation, worded as the API server words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The offending value (never a secret: only names, keys and sizes are validated here).
    pub value: String,
    /// What the rule says.
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: Invalid value: {:?}: {}", self.field, self.value, self.detail)
    }
}

fn error(field: &str, value: &str, detail: impl Into<String>) -> FieldError {
    FieldError { field: field.to_owned(), value: value.to_owned(), detail: detail.into() }
}

fn is_label_shape(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-'),
        _ => false,
    }
}

/// A DNS-1123 subdomain (Secret, Pod and ServiceAccount names).
pub(crate) fn subdomain(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(error(field, value, "name or generateName is required"));
    }
    if value.len() > SUBDOMAIN_MAX {
        return Err(error(field, value, format!("must be no more than {SUBDOMAIN_MAX} characters")));
    }
    if !value.split('.').all(is_label_shape) {
        return Err(error(field, value, SUBDOMAIN_HELP));
    }
    Ok(())
}

/// A DNS-1123 label (namespaces, container names).
pub(crate) fn label(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(error(field, value, "must not be empty"));
    }
    if value.len() > LABEL_MAX {
        return Err(error(field, value, format!("must be no more than {LABEL_MAX} characters")));
    }
    if !is_label_shape(value) {
        return Err(error(field, value, LABEL_HELP));
    }
    Ok(())
}

/// A key of a Secret's `data`.
pub(crate) fn data_key(field: &str, key: &str) -> Result<(), FieldError> {
    let valid = !key.is_empty()
        && key.len() <= SUBDOMAIN_MAX
        && key != "."
        && key != ".."
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid { Ok(()) } else { Err(error(field, key, DATA_KEY_HELP)) }
}

/// The total size of a Secret's data.
pub(crate) fn data_size(field: &str, total: usize) -> Result<(), FieldError> {
    if total > SECRET_DATA_MAX {
        return Err(FieldError {
            field: field.to_owned(),
            value: format!("{total} bytes"),
            detail: format!("Too long: must have at most {SECRET_DATA_MAX} bytes"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{data_key, data_size, label, subdomain};

    #[test]
    fn names_labels_keys_sizes() {
        assert!(subdomain("metadata.name", "regcred.example-1").is_ok());
        assert!(subdomain("metadata.name", &"a".repeat(253)).is_ok());
        for bad in ["", "Upper", "-lead", "trail-", "a..b", "under_score", &"a".repeat(254)] {
            assert!(subdomain("metadata.name", bad).is_err(), "{bad}");
        }
        assert!(label("metadata.namespace", "kube-system").is_ok());
        for bad in ["", "a.b", &"a".repeat(64)] {
            assert!(label("metadata.namespace", bad).is_err(), "{bad}");
        }
        assert!(data_key("data", ".dockerconfigjson").is_ok());
        assert!(data_key("data", "a/b").is_err());
        assert!(data_size("data", 1024 * 1024).is_ok());
        let too_big = data_size("data", 1024 * 1024 + 1).unwrap_err();
        assert_eq!(
            too_big.to_string(),
            "data: Invalid value: \"1048577 bytes\": Too long: must have at most 1048576 bytes"
        );
    }
}
