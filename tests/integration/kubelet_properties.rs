//! Properties: no input makes the readers panic, and lookups are deterministic.

use proptest::prelude::*;
use regcred::check::read_documents;
use regcred::kubelet::{ConfigFormat, CredentialOrigin, Keyring, aggregate_error};

fn origin() -> CredentialOrigin {
    CredentialOrigin::NodeConfig { path: "config.json".to_owned() }
}

proptest! {
    #[test]
    fn any_text_reads_without_panic(text in "(---\n|[ -~]{0,20}\n|  - [a-z]{1,5}: [a-z0-9:/.]{0,12}\n){0,12}") {
        let manifests = read_documents("fuzz.yaml", &text, "default");
        for error in &manifests.errors {
            prop_assert!(error.source.document >= 1 && error.source.line >= 1);
        }
    }

    #[test]
    fn any_key_and_image_look_up_without_panic(
        key in "[a-z*?\\[\\]:.%/@-]{0,16}",
        image in "[a-z0-9:./@-]{1,24}",
        auth in "[A-Za-z0-9+/=\n]{0,12}",
    ) {
        let config = serde_json::json!({"auths": {key.clone(): {"auth": auth, "username": "u"}}}).to_string();
        let mut keyring = Keyring::new();
        if keyring.add_docker_config(config.as_bytes(), ConfigFormat::DockerConfigJson, &origin()).is_ok() {
            let first = keyring.lookup(&image).map(|c| c.len());
            prop_assert_eq!(first, keyring.lookup(&image).map(|c| c.len()));
            prop_assert!(keyring.keys().windows(2).all(|pair| pair[0] > pair[1]));
        }
    }

    #[test]
    fn aggregate_of_distinct_messages_lists_them_all(messages in proptest::collection::vec("[a-z]{1,4}", 2..5)) {
        let text = aggregate_error(&messages);
        if messages.iter().all(|m| m == &messages[0]) {
            prop_assert_eq!(text, messages[0].clone());
        } else {
            prop_assert!(text.starts_with('[') && text.ends_with(']'));
        }
    }
}
