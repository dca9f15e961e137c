use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;

use super::*;

const CANARY: &str = "CANARYq7Zx9";
const ACR: &str = "contoso.azurecr.io";
const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn b64url(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

/// A JWT with the given payload and a dummy signature.
fn jwt_with(payload: &str) -> String {
    format!("{}.{}.{CANARY}-dummy_signature", b64url(r#"{"alg":"RS256","typ":"JWT"}"#), b64url(payload))
}

fn jwt(exp: u64) -> String {
    jwt_with(&format!(r#"{{"jti":"{CANARY}","exp":{exp},"iat":{}}}"#, exp.saturating_sub(10_800)))
}

fn ecr_password_with(tail: &str) -> String {
    STANDARD.encode(format!(
        r#"{{"payload":"{CANARY}r9D8+xVw","datakey":"AQEB{CANARY}","version":"2","type":"DATA_KEY"{tail}}}"#
    ))
}

fn ecr_password(expiration: u64) -> String {
    ecr_password_with(&format!(r#","expiration":{expiration}"#))
}

fn expiry(username: &str, secret: &str, server: &str, now: SystemTime) -> Option<Expiry> {
    let found = expiry_of(username, &Secret::new(secret), server, now);
    assert!(!format!("{found:?}").contains(CANARY), "Debug output shows the secret");
    found
}

#[test]
fn jwt_exp_is_read() {
    let now = at(1_800_000_000);
    let found = expiry(ACR_USER, &jwt(1_800_010_800), ACR, now).unwrap();
    assert_eq!(
        found,
        Expiry { at: at(1_800_010_800), source: ExpirySource::JwtExp, approximate: false, preset: Some(PresetId::Acr) }
    );
    let found = expiry("someone", &jwt(1_800_000_100), "registry.example.com", now).unwrap();
    assert_eq!((found.source, found.preset), (ExpirySource::JwtExp, None));
}

const ACR_USER: &str = crate::presets::ACR_TOKEN_USERNAME;

#[test]
fn jwt_strictness() {
    let header = b64url(r#"{"alg":"HS256"}"#);
    let payload = b64url(r#"{"exp":1800000000}"#);
    let cases = [
        (format!("{header}.{payload}"), ExpiryError::NotJwt),
        (format!("{header}.{payload}.sig.extra"), ExpiryError::NotJwt),
        (format!("{header}.{payload}.si+g/"), ExpiryError::NotJwt),
        (format!(".{payload}.sig"), ExpiryError::NotJwt),
        (format!("{}.{payload}.sig", b64url(r#"{"typ":"JWT"}"#)), ExpiryError::JwtHeader),
        (format!("{}.{payload}.sig", b64url("[1]")), ExpiryError::JwtHeader),
        (format!("{header}=.{payload}.sig"), ExpiryError::JwtHeader),
        (format!("{header}.{}.sig", b64url("not json")), ExpiryError::JwtPayload),
        (format!("{header}.{}.sig", b64url(r#"{"exp":"1800000000"}"#)), ExpiryError::NoExp),
        (format!("{header}.{}.sig", b64url(r#"{"exp":1.8e9}"#)), ExpiryError::NoExp),
        (format!("{header}.{}.sig", b64url(r#"{"exp":-5}"#)), ExpiryError::NoExp),
        (format!("{header}.{}.sig", b64url(r#"{"sub":"x"}"#)), ExpiryError::NoExp),
        (format!("{header}.{}.sig", b64url(r#"{"exp":253402300800}"#)), ExpiryError::OutOfRange),
    ];
    for (token, error) in cases {
        assert_eq!(jwt_expiration(&token), Err(error), "{token}");
    }
    assert_eq!(jwt_expiration(&format!("{header}.{payload}.")), Ok(at(1_800_000_000)), "alg none has no signature");
    assert!(is_jwt(&format!("{header}.{}.sig", b64url(r#"{"sub":"x"}"#))));
    assert!(!is_jwt("ghp_abc.def"));
}

#[test]
fn ecr_expiration_is_read() {
    let password = ecr_password(1_757_147_299);
    let found = expiry("AWS", &password, ECR, at(1_757_104_099)).unwrap();
    assert_eq!(found.at, at(1_757_147_299));
    assert_eq!(
        (found.source, found.approximate, found.preset),
        (ExpirySource::EcrExpiration, false, Some(PresetId::Ecr))
    );
    assert_eq!(rfc3339(found.at), "2025-09-06T08:28:19Z");
    let authorization_token = STANDARD.encode(format!("AWS:{password}"));
    assert_eq!(expiry("AWS", &authorization_token, ECR, at(0)).map(|e| e.at), Some(at(1_757_147_299)));
    let unpadded = password.trim_end_matches('=');
    assert_eq!(ecr_expiration(unpadded), Ok(at(1_757_147_299)));
}

#[test]
fn ecr_refusals() {
    assert_eq!(ecr_expiration(&ecr_password_with("")), Err(ExpiryError::NoEcrExpiration));
    assert_eq!(ecr_expiration(&ecr_password_with(r#","expiration":"soon""#)), Err(ExpiryError::NoEcrExpiration));
    assert_eq!(ecr_expiration(&STANDARD.encode(r#"{"expiration":1757147299}"#)), Err(ExpiryError::NotEcrPassword));
    assert_eq!(ecr_expiration("not base64!"), Err(ExpiryError::NotEcrPassword));
    assert!(looks_like_ecr_password(&ecr_password_with("")));
    assert_eq!(expiry("AWS", &ecr_password_with(""), ECR, at(0)), None);
    assert_eq!(ecr_password_from_authorization_token(&STANDARD.encode("AWS:hunter2")), None);
}

#[test]
fn google_access_token_estimate() {
    let now = at(1_800_000_000);
    let found = expiry("oauth2accesstoken", &format!("ya29.{CANARY}a0AfB"), "europe-docker.pkg.dev", now).unwrap();
    let expected = Expiry {
        at: at(1_800_003_600),
        source: ExpirySource::PresetEstimate { preset: "gcr" },
        approximate: true,
        preset: Some(PresetId::Gcr),
    };
    assert_eq!(found, expected);
    assert_eq!(describe(&found, now), "expires in about 1 h");
    assert_eq!(expiry("oauth2accesstoken", &format!("{CANARY}a0AfB"), "gcr.io", now), None);
    assert_eq!(expiry("_json_key", &format!("ya29.{CANARY}"), "gcr.io", now), None);
}

#[test]
fn nothing_else_expires() {
    let now = at(1_800_000_000);
    for secret in
        [format!("ghp_{CANARY}"), format!("dckr_pat_{CANARY}"), String::new(), format!("{CANARY}.{CANARY}.{CANARY}")]
    {
        assert_eq!(expiry("user", &secret, "ghcr.io", now), None, "{secret}");
    }
}

#[test]
fn describe_wording() {
    let now = at(1_800_000_000);
    let exact = |offset: i64| {
        let at = if offset >= 0 {
            now + Duration::from_secs(offset.unsigned_abs())
        } else {
            now - Duration::from_secs(offset.unsigned_abs())
        };
        describe(&Expiry { at, source: ExpirySource::JwtExp, approximate: false, preset: None }, now)
    };
    assert_eq!(exact(3 * 3_600 + 1_200), "expires in 3 h");
    assert_eq!(exact(25 * 60 + 59), "expires in 25 min");
    assert_eq!(exact(2 * 86_400 + 100), "expires in 2 days");
    assert_eq!(exact(47 * 3_600), "expires in 47 h");
    assert_eq!(exact(30), "expires in less than 1 min");
    assert_eq!(exact(0), "expires in less than 1 min");
    assert_eq!(exact(-4 * 3_600 - 5), "expired 4 h ago");
    assert_eq!(exact(-90), "expired 1 min ago");
    assert_eq!(exact(-10 * 86_400), "expired 10 days ago");
    let estimate =
        Expiry { at: now - Duration::from_hours(2), source: ExpirySource::JwtExp, approximate: true, preset: None };
    assert_eq!(describe(&estimate, now), "expired about 2 h ago");
}

#[test]
fn rfc3339_format_and_range() {
    assert_eq!(rfc3339(at(1_796_130_000)), "2026-12-01T13:00:00Z");
    assert_eq!(rfc3339(at(1_796_130_000) + Duration::from_millis(999)), "2026-12-01T13:00:00Z");
    assert_eq!(rfc3339(UNIX_EPOCH - Duration::from_secs(5)), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(at(MAX_UNIX_SECONDS + 1_000)), "9999-12-31T23:59:59Z");
}

#[test]
fn within_window() {
    let now = at(1_800_000_000);
    let expiry =
        Expiry { at: now + Duration::from_hours(1), source: ExpirySource::JwtExp, approximate: false, preset: None };
    assert!(within(&expiry, now, Duration::from_hours(1)));
    assert!(!within(&expiry, now, Duration::from_secs(3_599)));
    assert!(within(&expiry, now + Duration::from_hours(2), Duration::ZERO), "already expired");
    assert!(within(&expiry, now, Duration::MAX));
}

#[test]
fn renewal_advice_per_registry() {
    let now = at(1_800_000_000);
    let advice =
        |username: &str, secret: &str, server: &str| renewal_advice(&expiry(username, secret, server, now).unwrap());
    assert!(advice("AWS", &ecr_password(1_800_040_000), ECR).contains("ecr-credential-provider"));
    assert!(advice("AWS", &ecr_password(1_800_040_000), "mirror.example.com").contains("CronJob"));
    assert!(advice(ACR_USER, &jwt(1_800_010_000), ACR).contains("acr-credential-provider"));
    let google = advice("oauth2accesstoken", "ya29.x", "gcr.io");
    assert!(google.contains("auth-provider-gcp") && google.contains("Workload Identity"), "{google}");
    assert!(advice("ci", &jwt(1_800_010_000), "registry.example.com").contains("refresh the Secret before it expires"));
}

#[test]
fn errors_do_not_show_the_token() {
    // Each a secret that fails a different way; none of it may reach the error's words.
    let tokens = [
        "canary-not-a-jwt",
        "eyJhbGciOiJIUzI1NiJ9.Y2FuYXJ5LXRva2Vu.c2lnbmF0dXJlLWNhbmFyeQ",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ",
        "AWS:canary-not-ecr",
    ];
    let mut errors = 0;
    for token in tokens {
        for error in [jwt_expiration(token).err(), ecr_expiration(token).err()].into_iter().flatten() {
            errors += 1;
            let shown = format!("{error} {error:?}");
            assert!(!shown.is_empty());
            assert!(!shown.contains("canary") && !shown.contains("Y2FuYXJ5") && !shown.contains("eyJ"), "{shown}");
        }
    }
    assert!(errors >= tokens.len(), "each token failed at least once ({errors} errors)");
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(secret in ".*", username in ".*", server in ".*", now in 0u64..400_000_000_000) {
        let now = at(now);
        if let Some(found) = expiry_of(&username, &Secret::new(secret.clone()), &server, now) {
            let _ = (describe(&found, now), rfc3339(found.at), renewal_advice(&found), within(&found, now, Duration::MAX));
        }
        let _ = (jwt_expiration(&secret), ecr_expiration(&secret), is_jwt(&secret), ecr_password_from_authorization_token(&secret));
    }

    #[test]
    fn dotted_base64ish_strings_never_panic(parts in prop::collection::vec("[A-Za-z0-9_=+/-]{0,40}", 0..5)) {
        let token = parts.join(".");
        let _ = (jwt_expiration(&token), ecr_expiration(&token));
    }

    #[test]
    fn any_exp_round_trips(exp in 0u64..=MAX_UNIX_SECONDS) {
        prop_assert_eq!(jwt_expiration(&jwt(exp)), Ok(at(exp)));
        prop_assert_eq!(ecr_expiration(&ecr_password(exp)), Ok(at(exp)));
    }
}
