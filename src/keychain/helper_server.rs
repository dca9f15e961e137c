//! The server side of the credential-helper protocol, for `docker-credential-regcred`: the same
//! outputs, exit codes and error strings as `docker-credential-secretservice`.

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::helper::NOT_FOUND;
use super::{Credential, KeychainError, SecretStore};
use crate::go_json;
use crate::secret::Secret;

/// What the helper prints on stdout and its exit status.
pub struct HelperReply {
    /// Everything for stdout (errors included, as Docker's helpers do).
    pub stdout: Zeroizing<Vec<u8>>,
    /// 0 on success, 1 on any error.
    pub status: u8,
}

fn reply(text: &str, status: u8) -> HelperReply {
    HelperReply { stdout: Zeroizing::new(format!("{text}\n").into_bytes()), status }
}

fn json_reply(value: &Value) -> HelperReply {
    let mut bytes = go_json::to_vec_compact(value);
    bytes.push(b'\n');
    HelperReply { stdout: Zeroizing::new(bytes), status: 0 }
}

/// Runs one helper action (`store`, `get`, `erase`, `list`, `version`) on `input` (stdin).
/// `open` reaches the store only when the action needs it.
pub fn serve(
    program: &str,
    action: Option<&str>,
    input: &[u8],
    open: impl FnOnce() -> Result<Box<dyn SecretStore>, KeychainError>,
) -> HelperReply {
    let result = match action {
        Some("store") => store(input, open),
        Some("get") => get(input, open),
        Some("erase") => erase(input, open),
        Some("list") => open().and_then(|s| s.list()).map(|listing| {
            json_reply(&Value::Object(listing.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
        }),
        Some("version") => Ok(reply(&format!("{program} (regcred) {}", env!("CARGO_PKG_VERSION")), 0)),
        Some(other) => Ok(reply(&format!("Unknown credential action `{other}`"), 1)),
        None => Ok(reply(&format!("Usage: {program} <store|get|erase|list|version>"), 1)),
    };
    result.unwrap_or_else(|error| reply(&error.to_string(), 1))
}

fn server_from(input: &[u8]) -> Option<String> {
    let server = String::from_utf8_lossy(input).trim().to_owned();
    (!server.is_empty()).then_some(server)
}

fn store(
    input: &[u8],
    open: impl FnOnce() -> Result<Box<dyn SecretStore>, KeychainError>,
) -> Result<HelperReply, KeychainError> {
    let fields = match parse_credentials(input) {
        Ok(fields) => fields,
        Err(message) => return Ok(reply(&message, 1)),
    };
    let field = |name: &str| {
        fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str()).unwrap_or_default()
    };
    let server = field("ServerURL");
    if server.is_empty() {
        return Ok(reply("no credentials server URL", 1));
    }
    if field("Username").is_empty() {
        return Ok(reply("no credentials username", 1));
    }
    let credential = Credential { username: field("Username").to_owned(), secret: Secret::new(field("Secret")) };
    open()?.store(server, &credential)?;
    Ok(HelperReply { stdout: Zeroizing::new(Vec::new()), status: 0 })
}

fn get(
    input: &[u8],
    open: impl FnOnce() -> Result<Box<dyn SecretStore>, KeychainError>,
) -> Result<HelperReply, KeychainError> {
    let Some(server) = server_from(input) else { return Ok(reply("no credentials server URL", 1)) };
    let Some(credential) = open()?.get(&server)? else { return Ok(reply(NOT_FOUND, 1)) };
    let mut answer = Map::new();
    answer.insert("ServerURL".to_owned(), Value::String(server));
    answer.insert("Username".to_owned(), Value::String(credential.username.clone()));
    answer.insert("Secret".to_owned(), Value::String(credential.secret.expose().to_owned()));
    let value = Value::Object(answer);
    let reply = json_reply(&value);
    if let Value::Object(mut map) = value
        && let Some(Value::String(secret)) = map.get_mut("Secret")
    {
        zeroize::Zeroize::zeroize(secret);
    }
    Ok(reply)
}

fn erase(
    input: &[u8],
    open: impl FnOnce() -> Result<Box<dyn SecretStore>, KeychainError>,
) -> Result<HelperReply, KeychainError> {
    let Some(server) = server_from(input) else { return Ok(reply("no credentials server URL", 1)) };
    open()?.erase(&server)?;
    Ok(HelperReply { stdout: Zeroizing::new(Vec::new()), status: 0 })
}

/// Decodes the `store` input as Go's `json.Decoder` would, with Go's error texts for the usual
/// mistakes.
fn parse_credentials(input: &[u8]) -> Result<Map<String, Value>, String> {
    let text = String::from_utf8_lossy(input);
    let trimmed = text.trim_start();
    let Some(first) = trimmed.chars().next() else { return Err("EOF".to_owned()) };
    if !matches!(first, '{' | '[' | '"' | 't' | 'f' | 'n' | '-' | '0'..='9') {
        return Err(format!("invalid character '{first}' looking for beginning of value"));
    }
    let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
    match stream.next() {
        Some(Ok(Value::Object(map))) => Ok(map),
        Some(Ok(Value::Null)) => Ok(Map::new()),
        Some(Ok(other)) => {
            let kind = match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Bool(_) => "bool",
                _ => "number",
            };
            Err(format!("json: cannot unmarshal {kind} into Go value of type credentials.Credentials"))
        }
        Some(Err(error)) if error.is_eof() => Err("unexpected EOF".to_owned()),
        Some(Err(error)) => Err(format!("invalid JSON: {error}")),
        None => Err("EOF".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::serve;
    use crate::keychain::{MemoryStore, SecretStore};

    fn run(store: &std::sync::Arc<MemoryStore>, action: &str, input: &str) -> (String, u8) {
        let store = store.clone();
        let reply = serve("docker-credential-regcred", Some(action), input.as_bytes(), move || {
            Ok(Box::new(ArcStore(store)) as Box<dyn SecretStore>)
        });
        (String::from_utf8(reply.stdout.to_vec()).unwrap(), reply.status)
    }

    struct ArcStore(std::sync::Arc<MemoryStore>);

    impl SecretStore for ArcStore {
        fn label(&self) -> String {
            self.0.label()
        }
        fn get(&self, server: &str) -> Result<Option<crate::keychain::Credential>, crate::keychain::KeychainError> {
            self.0.get(server)
        }
        fn store(
            &self,
            server: &str,
            credential: &crate::keychain::Credential,
        ) -> Result<(), crate::keychain::KeychainError> {
            self.0.store(server, credential)
        }
        fn erase(&self, server: &str) -> Result<(), crate::keychain::KeychainError> {
            self.0.erase(server)
        }
        fn list(&self) -> Result<std::collections::BTreeMap<String, String>, crate::keychain::KeychainError> {
            self.0.list()
        }
    }

    #[test]
    fn protocol_round_trip_and_errors() {
        let store = std::sync::Arc::new(MemoryStore::default());
        assert_eq!(
            run(&store, "store", r#"{"ServerURL":"r.example.com","Username":"u","Secret":"p<&>"}"#),
            (String::new(), 0)
        );
        assert_eq!(
            run(&store, "get", "r.example.com\n"),
            ("{\"ServerURL\":\"r.example.com\",\"Username\":\"u\",\"Secret\":\"p\\u003c\\u0026\\u003e\"}\n".into(), 0)
        );
        assert_eq!(run(&store, "list", ""), ("{\"r.example.com\":\"u\"}\n".into(), 0));
        assert_eq!(run(&store, "get", "other"), ("credentials not found in native keychain\n".into(), 1));
        assert_eq!(run(&store, "get", ""), ("no credentials server URL\n".into(), 1));
        assert_eq!(run(&store, "store", r#"{"serverurl":"x","Username":""}"#), ("no credentials username\n".into(), 1));
        assert_eq!(
            run(&store, "store", "garbage"),
            ("invalid character 'g' looking for beginning of value\n".into(), 1)
        );
        assert_eq!(run(&store, "store", ""), ("EOF\n".into(), 1));
        assert_eq!(run(&store, "store", "{\"ServerURL\":"), ("unexpected EOF\n".into(), 1));
        assert_eq!(run(&store, "erase", "unknown"), (String::new(), 0));
        assert_eq!(run(&store, "bogus", ""), ("Unknown credential action `bogus`\n".into(), 1));
    }
}
