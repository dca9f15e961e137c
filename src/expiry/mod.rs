//! When a secret stops working, read offline from the secret itself.
//!
//! This module owns decoding the self-describing token formats — JWTs (ACR refresh and access
//! tokens, identity tokens) and Amazon ECR passwords — their expiry ([`expiry_of`]), the wording
//! of it ([`describe`], [`rfc3339`]), the "renew soon" test ([`within`]) and the usual fix for each
//! kind (`renewal_advice`). Google's `oauth2accesstoken` gets an estimate (about an hour);
//! nothing else gets an expiry. Parsing is strict and never panics: anything malformed is "no
//! expiry", never a guess.
//!
//! The ECR password format is not documented by AWS. What is documented is the 12-hour validity
//! and that `authorizationToken` is base64 of `AWS:password` (API reference, `AuthorizationData`).
//! Public captures of `aws ecr get-login-password | base64 -d` show standard base64 of a JSON
//! object `{"payload":…,"datakey":…,"version":"2","type":"DATA_KEY","expiration":1757147299}`
//! with `expiration` in Unix seconds (hatedabamboo.me, "EKS Cluster Games" write-up, 2025); an
//! older sample in AWS's 2015 getting-started output ends in `"type":"DATA_KEY"}` without it.
//! So `expiration` is read when present and, absent, the password simply has no known expiry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::known_registries::{PresetId, detect_id};
use crate::secret::Secret;

/// Standard base64 that accepts the value with or without its `=` padding.
pub(crate) const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The last second humantime can print (9999-12-31T23:59:59Z); later expiries are refused.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// How long a Google OAuth access token lives by default: `gcloud auth print-access-token`
/// tokens are valid for 60 minutes unless a longer lifetime was requested.
const GOOGLE_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_hours(1);

/// Where an [`Expiry`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpirySource {
    /// The `exp` claim of a JWT.
    JwtExp,
    /// The `expiration` field inside an ECR password.
    EcrExpiration,
    /// No date in the secret: the registry's usual lifetime, counted from now.
    PresetEstimate {
        /// The CLI name of the preset whose rule gave the estimate (`gcr`).
        preset: &'static str,
    },
}

/// When a secret stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The moment it stops working.
    pub at: SystemTime,
    /// Where that moment comes from.
    pub source: ExpirySource,
    /// Whether `at` is an estimate rather than a date written in the secret.
    pub approximate: bool,
    /// The registry the server belongs to, if it is a known one (chooses the renewal advice).
    pub preset: Option<PresetId>,
}

/// Why a token could not be read. The messages never contain the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExpiryError {
    /// Not three dot-separated base64url parts.
    #[error("not a JWT: a JWT is three base64url parts separated by dots")]
    NotJwt,
    /// The first part is not a JSON object with an `alg`.
    #[error("the JWT header is not base64url JSON naming its \"alg\"")]
    JwtHeader,
    /// The second part is not a JSON object.
    #[error("the JWT payload is not base64url JSON")]
    JwtPayload,
    /// The payload has no whole, non-negative `exp` number.
    #[error("the JWT has no numeric \"exp\" claim")]
    NoExp,
    /// Not base64 of a JSON object with `payload` and `datakey`.
    #[error("not an ECR password: not base64 of a JSON object with \"payload\" and \"datakey\"")]
    NotEcrPassword,
    /// An ECR password without an `expiration` field.
    #[error("the ECR password carries no expiration")]
    NoEcrExpiration,
    /// A date past the year 9999.
    #[error("the expiry date is out of range")]
    OutOfRange,
}

/// When this login stops working, if the secret says so or the registry's rules do.
///
/// A JWT anywhere as the secret gives its `exp`; an ECR password (or a pasted ECR
/// `authorizationToken`) its `expiration`; `oauth2accesstoken` with a `ya29.` token an estimate
/// of one hour from `now`. Everything else, and anything malformed, gives `None`.
pub fn expiry_of(username: &str, secret: &Secret, server: &str, now: SystemTime) -> Option<Expiry> {
    let preset = detect_id(server);
    let token = secret.expose().trim();
    let exact = |at, source| Expiry { at, source, approximate: false, preset };
    if username == "oauth2accesstoken" && token.starts_with("ya29.") {
        let at = now.checked_add(GOOGLE_ACCESS_TOKEN_LIFETIME)?;
        let source = ExpirySource::PresetEstimate { preset: "gcr" };
        return Some(Expiry { at, source, approximate: true, preset });
    }
    if let Ok(at) = jwt_expiration(token) {
        return Some(exact(at, ExpirySource::JwtExp));
    }
    let inner = ecr_password_from_authorization_token(token);
    let at = ecr_expiration(inner.as_deref().unwrap_or(token)).ok()?;
    Some(exact(at, ExpirySource::EcrExpiration))
}

/// Whether the text is a JWT: three base64url parts, a header with `alg`, a JSON payload.
pub(crate) fn is_jwt(token: &str) -> bool {
    jwt_payload(token).is_ok()
}

/// The `exp` of a JWT (RFC 7519 §4.1.4), read without checking the signature.
///
/// Strict: exactly three parts, unpadded base64url, a JSON-object header with a string `alg`, a
/// JSON-object payload, and an `exp` that is a whole number of seconds (fractional `exp`, which
/// the RFC allows but registries do not issue, is refused).
///
/// # Errors
///
/// The first rule the token breaks, as an [`ExpiryError`]; never the token itself.
pub(crate) fn jwt_expiration(token: &str) -> Result<SystemTime, ExpiryError> {
    let payload = jwt_payload(token)?;
    let exp = payload.get("exp").and_then(Value::as_u64).ok_or(ExpiryError::NoExp)?;
    unix_time(exp)
}

fn jwt_payload(token: &str) -> Result<Map<String, Value>, ExpiryError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(ExpiryError::NotJwt);
    };
    if header.is_empty() || payload.is_empty() || !is_base64url(signature) {
        return Err(ExpiryError::NotJwt);
    }
    let header = decode_json_object(header, &URL_SAFE_NO_PAD).ok_or(ExpiryError::JwtHeader)?;
    if !header.get("alg").is_some_and(Value::is_string) {
        return Err(ExpiryError::JwtHeader);
    }
    decode_json_object(payload, &URL_SAFE_NO_PAD).ok_or(ExpiryError::JwtPayload)
}

/// Whether every character is of the base64url alphabet (the signature may be empty: `alg: none`).
fn is_base64url(part: &str) -> bool {
    part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn decode_json_object(encoded: &str, engine: &GeneralPurpose) -> Option<Map<String, Value>> {
    let bytes = engine.decode(encoded).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn unix_time(seconds: u64) -> Result<SystemTime, ExpiryError> {
    if seconds > MAX_UNIX_SECONDS {
        return Err(ExpiryError::OutOfRange);
    }
    Ok(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// The decoded JSON of an ECR password: an object with string `payload` and `datakey`.
fn ecr_password_json(password: &str) -> Result<Map<String, Value>, ExpiryError> {
    let object = decode_json_object(password.trim(), &STANDARD_ANY_PADDING).ok_or(ExpiryError::NotEcrPassword)?;
    let has_text = |name| object.get(name).is_some_and(Value::is_string);
    if has_text("payload") && has_text("datakey") { Ok(object) } else { Err(ExpiryError::NotEcrPassword) }
}

/// Whether the text has the shape of an `aws ecr get-login-password` password.
pub(crate) fn looks_like_ecr_password(password: &str) -> bool {
    ecr_password_json(password).is_ok()
}

/// The `expiration` (Unix seconds) inside an ECR password; see the module notes on the format.
///
/// # Errors
///
/// [`ExpiryError::NotEcrPassword`] for anything else, [`ExpiryError::NoEcrExpiration`] for an
/// (older) password without the field, [`ExpiryError::OutOfRange`] past the year 9999.
pub(crate) fn ecr_expiration(password: &str) -> Result<SystemTime, ExpiryError> {
    let object = ecr_password_json(password)?;
    let seconds = object.get("expiration").and_then(Value::as_u64).ok_or(ExpiryError::NoEcrExpiration)?;
    unix_time(seconds)
}

/// The password inside an ECR `authorizationToken` (base64 of `AWS:password`), if that is what
/// was pasted and the part after `AWS:` has the shape of an ECR password.
pub(crate) fn ecr_password_from_authorization_token(token: &str) -> Option<String> {
    let bytes = STANDARD_ANY_PADDING.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let password = text.strip_prefix("AWS:")?;
    looks_like_ecr_password(password).then(|| password.to_owned())
}

/// The moment as RFC 3339 in UTC to the second, e.g. `2026-12-01T13:00:00Z`.
///
/// Times before 1970 print as the epoch and times after 9999 as its last second, the range
/// humantime can print.
pub fn rfc3339(at: SystemTime) -> String {
    let last = UNIX_EPOCH + Duration::from_secs(MAX_UNIX_SECONDS);
    humantime::format_rfc3339_seconds(at.clamp(UNIX_EPOCH, last)).to_string()
}

/// The expiry in words, relative to `now`: "expires in 3 h", "expired 25 min ago",
/// "expires in about 1 h" for an estimate.
///
/// Amounts are rounded down, so the time left is never overstated: under a minute says "less
/// than 1 min", then minutes, hours below two days, then days.
pub fn describe(expiry: &Expiry, now: SystemTime) -> String {
    let (future, span) = match expiry.at.duration_since(now) {
        Ok(span) => (true, span),
        Err(past) => (false, past.duration()),
    };
    let about = if expiry.approximate && span.as_secs() >= 60 { "about " } else { "" };
    let amount = amount_in_words(span);
    if future { format!("expires in {about}{amount}") } else { format!("expired {about}{amount} ago") }
}

fn amount_in_words(span: Duration) -> String {
    let seconds = span.as_secs();
    match seconds {
        0..60 => "less than 1 min".to_owned(),
        60..3_600 => format!("{} min", seconds / 60),
        3_600..172_800 => format!("{} h", seconds / 3_600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// Whether the secret stops working within `window` from `now` (or already has).
pub fn within(expiry: &Expiry, now: SystemTime, window: Duration) -> bool {
    now.checked_add(window).is_none_or(|limit| expiry.at <= limit)
}

/// The usual fix for a secret that expires, for the warning next to the exported YAML.
pub(crate) fn renewal_advice(expiry: &Expiry) -> &'static str {
    match (expiry.source, expiry.preset) {
        (ExpirySource::EcrExpiration, _) | (_, Some(PresetId::Ecr)) => {
            "ECR passwords expire 12 hours after aws ecr get-login-password: refresh this Secret from a CronJob that runs it, or let the kubelet fetch credentials with the ecr-credential-provider plugin (kubernetes/cloud-provider-aws)."
        }
        (ExpirySource::PresetEstimate { .. }, _) | (_, Some(PresetId::Gcr)) => {
            "Google access tokens expire after about an hour: store a service-account key (_json_key) instead, install the kubelet credential provider auth-provider-gcp (kubernetes/cloud-provider-gcp), or on GKE let the node service account or Workload Identity pull."
        }
        (_, Some(PresetId::Acr)) => {
            "ACR refresh tokens expire after about 3 hours: let the kubelet fetch credentials with acr-credential-provider (kubernetes-sigs/cloud-provider-azure), attach the registry to AKS, or use a repository-scoped token (az acr token create)."
        }
        _ => {
            "This token carries its own expiry: refresh the Secret before it expires, or switch to a long-lived credential such as a robot account or deploy token."
        }
    }
}

#[cfg(test)]
mod tests;
