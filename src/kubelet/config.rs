//! Reading a Docker config the way the kubelet's `encoding/json` does: a port of
//! `pkg/credentialprovider/config.go` (`DockerConfigJSON`, `DockerConfig`,
//! `DockerConfigEntry.UnmarshalJSON`, `decodeDockerConfigFieldAuth`).
//!
//! What the Go code does, and so what this does:
//! - field names match case-insensitively (`Username`, `AUTH`…), the last of duplicates wins;
//! - `username`, `password`, `email`, `auth` must be strings (or `null`): any other type fails the
//!   whole config with Go's `json: cannot unmarshal … into Go struct field …` text;
//! - an entry that is `null` is an entry with empty fields; one that is not an object fails;
//! - a non-empty `auth` replaces `username` and `password`: it is decoded with padding when it
//!   ends (after trimming spaces) with `=`, without otherwise, and must hold a `:`;
//! - a bad `auth` fails the whole config (`illegal base64 data at input byte N`, or
//!   `unable to parse auth field, must be formatted as base64(username:password)`);
//! - a missing `auths`, or a top level of `null`, is an empty config; other keys (`credsStore`,
//!   `credHelpers`) are ignored, except `HttpHeaders`, which must be a map of strings.

use serde_json::{Map, Value};

use super::KeyringError;
use super::golang::{decode_base64, json_field_eq, json_kind};
use crate::secret::Secret;

/// Which layout a config has, decided (as the kubelet decides) by the Secret's type and key,
/// never by sniffing the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// `config.json` / `.dockerconfigjson`: `{"auths": {"registry": {…}}}`.
    DockerConfigJson,
    /// The legacy `.dockercfg`: `{"registry": {…}}`.
    DockerCfg,
}

/// One registry entry after `DockerConfigEntry.UnmarshalJSON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfigEntry {
    /// The key as written in the config (`https://index.docker.io/v1/`, `*.example.com`…).
    pub key: String,
    /// The user name (from `auth` when it is set).
    pub username: String,
    /// The password (from `auth` when it is set).
    pub password: Secret,
    /// The e-mail address, if any.
    pub email: String,
}

const ENTRY_TYPE: &str = "credentialprovider.dockerConfigEntryWithAuth";

/// Parses a config's bytes into its entries, in the order they are written.
pub(crate) fn parse_docker_config(bytes: &[u8], format: ConfigFormat) -> Result<Vec<DockerConfigEntry>, KeyringError> {
    let text = String::from_utf8_lossy(bytes);
    let value: Value = serde_json::from_str(&text).map_err(|e| KeyringError::Json { message: e.to_string() })?;
    let auths = match format {
        ConfigFormat::DockerCfg => match value {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            other => return Err(type_error(&other, None, "credentialprovider.DockerConfig")),
        },
        ConfigFormat::DockerConfigJson => auths_of_config_json(value)?,
    };
    auths.into_iter().map(|(key, entry)| parse_entry(key, &entry)).collect()
}

/// `DockerConfigJSON`: the (merged) `auths` maps, and a type check of `HttpHeaders`.
fn auths_of_config_json(value: Value) -> Result<Map<String, Value>, KeyringError> {
    let object = match value {
        Value::Null => return Ok(Map::new()),
        Value::Object(object) => object,
        other => return Err(type_error(&other, None, "credentialprovider.DockerConfigJSON")),
    };
    let mut auths = Map::new();
    for (key, field) in object {
        if json_field_eq(&key, "auths") {
            match field {
                Value::Null => auths.clear(),
                Value::Object(entries) => auths.extend(entries),
                other => {
                    return Err(type_error(&other, Some("DockerConfigJSON.auths"), "credentialprovider.DockerConfig"));
                }
            }
        } else if json_field_eq(&key, "HttpHeaders") {
            check_headers(&field)?;
        }
    }
    Ok(auths)
}

fn check_headers(field: &Value) -> Result<(), KeyringError> {
    match field {
        Value::Null => Ok(()),
        Value::Object(headers) => {
            match headers.values().find(|value| !matches!(value, Value::String(_) | Value::Null)) {
                Some(bad) => Err(type_error(bad, Some("DockerConfigJSON.HttpHeaders"), "string")),
                None => Ok(()),
            }
        }
        other => Err(type_error(other, Some("DockerConfigJSON.HttpHeaders"), "map[string]string")),
    }
}

/// `DockerConfigEntry.UnmarshalJSON`.
fn parse_entry(key: String, value: &Value) -> Result<DockerConfigEntry, KeyringError> {
    let fields = match value {
        Value::Null => &Map::new(),
        Value::Object(fields) => fields,
        other => return Err(type_error(other, None, ENTRY_TYPE)),
    };
    let mut strings: [Option<String>; 4] = Default::default();
    for (name, field) in fields {
        let Some(slot) = ["username", "password", "email", "auth"].iter().position(|f| json_field_eq(name, f)) else {
            continue;
        };
        match field {
            Value::String(text) => strings[slot] = Some(text.clone()),
            Value::Null => {}
            other => {
                let field_name = ["username", "password", "email", "auth"][slot];
                return Err(type_error(other, Some(&format!("dockerConfigEntryWithAuth.{field_name}")), "string"));
            }
        }
    }
    let [username, password, email, auth] = strings.map(Option::unwrap_or_default);
    let auth = Secret::new(auth);
    let (username, password) =
        if auth.is_empty() { (username, Secret::new(password)) } else { decode_auth_field(auth.expose())? };
    Ok(DockerConfigEntry { key, username, password, email })
}

/// `decodeDockerConfigFieldAuth`: base64 of `user:password`, padded only when it ends with `=`.
fn decode_auth_field(field: &str) -> Result<(String, Secret), KeyringError> {
    let padded = field.trim().ends_with('=');
    let decoded =
        zeroize::Zeroizing::new(decode_base64(field, padded).map_err(|offset| KeyringError::Base64 { offset })?);
    let text = Secret::new(String::from_utf8_lossy(&decoded));
    match text.expose().split_once(':') {
        Some((username, password)) => Ok((username.to_owned(), Secret::new(password))),
        None => Err(KeyringError::AuthFormat),
    }
}

/// Go's `UnmarshalTypeError` text, without the value (which may be a secret).
fn type_error(value: &Value, field: Option<&str>, go_type: &str) -> KeyringError {
    let kind = json_kind(value);
    let message = match field {
        Some(field) => format!("json: cannot unmarshal {kind} into Go struct field {field} of type {go_type}"),
        None => format!("json: cannot unmarshal {kind} into Go value of type {go_type}"),
    };
    KeyringError::Json { message }
}

#[cfg(test)]
mod tests {
    use super::{ConfigFormat, parse_docker_config};
    use crate::kubelet::KeyringError;

    fn parse(json: &str, format: ConfigFormat) -> Result<Vec<(String, String, String)>, String> {
        let entries = parse_docker_config(json.as_bytes(), format).map_err(|e| e.to_string())?;
        Ok(entries.into_iter().map(|e| (e.key, e.username, e.password.expose().to_owned())).collect())
    }

    fn one(key: &str, user: &str, password: &str) -> Vec<(String, String, String)> {
        vec![(key.to_owned(), user.to_owned(), password.to_owned())]
    }

    #[test]
    fn both_layouts() {
        let json = r#"{"auths":{"r.io":{"username":"u","password":"p","email":"e@x"}},"credsStore":"desktop"}"#;
        assert_eq!(parse(json, ConfigFormat::DockerConfigJson), Ok(one("r.io", "u", "p")));
        let cfg = r#"{"r.io":{"auth":"dTpw","email":"e@x"}}"#;
        assert_eq!(parse(cfg, ConfigFormat::DockerCfg), Ok(one("r.io", "u", "p")));
        let as_dockercfg = parse(json, ConfigFormat::DockerCfg);
        let expected =
            "json: cannot unmarshal string into Go value of type credentialprovider.dockerConfigEntryWithAuth";
        assert_eq!(as_dockercfg, Err(expected.to_owned()));
    }

    #[test]
    fn dockerconfigjson_read_as_dockercfg_sees_auths_as_a_registry() {
        // `auths` becomes a registry key whose entry has no known fields: an empty credential.
        let json = r#"{"auths":{"r.io":{"username":"u"}}}"#;
        assert_eq!(parse(json, ConfigFormat::DockerCfg), Ok(one("auths", "", "")));
    }

    #[test]
    fn auth_wins_over_username_and_password() {
        let json = r#"{"auths":{"r.io":{"username":"x","password":"y","auth":"dXNlcjpwOmFzcw=="}}}"#;
        assert_eq!(parse(json, ConfigFormat::DockerConfigJson), Ok(one("r.io", "user", "p:ass")));
        let unpadded = r#"{"auths":{"r.io":{"auth":"dXNlcjpwYQ"}}}"#;
        assert_eq!(parse(unpadded, ConfigFormat::DockerConfigJson), Ok(one("r.io", "user", "pa")));
        let empty_auth = r#"{"auths":{"r.io":{"username":"x","password":"y","auth":""}}}"#;
        assert_eq!(parse(empty_auth, ConfigFormat::DockerConfigJson), Ok(one("r.io", "x", "y")));
    }

    #[test]
    fn bad_auth_fails_the_whole_config() {
        let bad = r#"{"auths":{"ok.io":{"username":"u"},"r.io":{"auth":"not base64!"}}}"#;
        assert_eq!(parse(bad, ConfigFormat::DockerConfigJson), Err("illegal base64 data at input byte 3".to_owned()));
        let no_colon = r#"{"auths":{"r.io":{"auth":"dXNlcg=="}}}"#;
        assert_eq!(
            parse(no_colon, ConfigFormat::DockerConfigJson),
            Err("unable to parse auth field, must be formatted as base64(username:password)".to_owned())
        );
        let wrong_padding = r#"{"auths":{"r.io":{"auth":"dXNlcjpw="}}}"#;
        assert!(parse(wrong_padding, ConfigFormat::DockerConfigJson).is_err());
    }

    #[test]
    fn missing_fields_and_nulls() {
        assert_eq!(parse("{}", ConfigFormat::DockerConfigJson), Ok(vec![]));
        assert_eq!(parse("null", ConfigFormat::DockerConfigJson), Ok(vec![]));
        assert_eq!(parse("null", ConfigFormat::DockerCfg), Ok(vec![]));
        assert_eq!(parse(r#"{"auths":null}"#, ConfigFormat::DockerConfigJson), Ok(vec![]));
        assert_eq!(parse(r#"{"auths":{"r.io":null}}"#, ConfigFormat::DockerConfigJson), Ok(one("r.io", "", "")));
        assert_eq!(parse(r#"{"auths":{"r.io":{}}}"#, ConfigFormat::DockerConfigJson), Ok(one("r.io", "", "")));
        let nulls = r#"{"auths":{"r.io":{"username":null,"password":"p"}}}"#;
        assert_eq!(parse(nulls, ConfigFormat::DockerConfigJson), Ok(one("r.io", "", "p")));
    }

    #[test]
    fn names_are_case_insensitive() {
        let json = r#"{"Auths":{"r.io":{"Username":"u","PASSWORD":"p"}}}"#;
        assert_eq!(parse(json, ConfigFormat::DockerConfigJson), Ok(one("r.io", "u", "p")));
    }

    #[test]
    fn wrong_types_use_go_wording() {
        let cases = [
            (
                r#"{"auths":[]}"#,
                "json: cannot unmarshal array into Go struct field DockerConfigJSON.auths of type credentialprovider.DockerConfig",
            ),
            (
                r#"{"auths":{"r.io":"x"}}"#,
                "json: cannot unmarshal string into Go value of type credentialprovider.dockerConfigEntryWithAuth",
            ),
            (
                r#"{"auths":{"r.io":{"password":42}}}"#,
                "json: cannot unmarshal number into Go struct field dockerConfigEntryWithAuth.password of type string",
            ),
            (
                r#"{"HttpHeaders":{"X":1}}"#,
                "json: cannot unmarshal number into Go struct field DockerConfigJSON.HttpHeaders of type string",
            ),
            ("[]", "json: cannot unmarshal array into Go value of type credentialprovider.DockerConfigJSON"),
        ];
        for (json, expected) in cases {
            assert_eq!(parse(json, ConfigFormat::DockerConfigJson), Err(expected.to_owned()), "{json}");
        }
        assert!(matches!(
            parse_docker_config(b"{not json", ConfigFormat::DockerConfigJson),
            Err(KeyringError::Json { .. })
        ));
    }

    #[test]
    fn errors_never_show_the_password() {
        let json = r#"{"auths":{"r.io":{"password":"hunter2-canary","username":7}}}"#;
        let error = parse_docker_config(json.as_bytes(), ConfigFormat::DockerConfigJson).unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2-canary"));
        let entries = parse_docker_config(br#"{"r.io":{"password":"hunter2-canary"}}"#, ConfigFormat::DockerCfg);
        assert!(!format!("{entries:?}").contains("hunter2-canary"));
    }
}
