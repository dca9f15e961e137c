//! What a node reports about itself (`status.nodeInfo`), turned into the words its kubelet and
//! runtime use.

use crate::registry::Runtime;

/// The runtime whose words a node's events use, from `status.nodeInfo.containerRuntimeVersion`
/// (`containerd://1.6.20`, `cri-o://1.30.2`, `docker://24.0.7`); none for one regcred does not know.
/// containerd 1.7.0–1.7.7 have no range of their own: 1.7's words are the nearest.
pub fn runtime_of(container_runtime_version: &str) -> Option<Runtime> {
    let (name, version) = container_runtime_version.split_once("://")?;
    let numbers: Vec<u32> = version.split(['.', '-', '~', '+']).take(3).map_while(|part| part.parse().ok()).collect();
    match name {
        "cri-o" => Some(Runtime::CriO),
        "docker" => Some(Runtime::Docker),
        "containerd" => match numbers.as_slice() {
            [1, 6, patch, ..] if *patch < 25 => Some(Runtime::Containerd16),
            [1, ..] => Some(Runtime::Containerd17),
            [2, 0, ..] => Some(Runtime::Containerd20),
            [2, ..] => Some(Runtime::Containerd),
            _ => None,
        },
        _ => None,
    }
}

/// A pull failure's event (`Failed to pull image "X": TEXT`, as kubelets from 1.28 on write it) as
/// the node's kubelet writes it: before 1.28 the kubelet kept the gRPC status of an `Unknown` error
/// (`rpc error: code = Unknown desc = TEXT`; `k8s.io/cri-client` `remote_image.go` strips it since).
/// `kubelet_version` is `status.nodeInfo.kubeletVersion` (`v1.26.4`).
pub fn kubelet_event_as_node_shows(event: &str, image: &str, kubelet_version: &str) -> String {
    let minor = kubelet_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|minor| minor.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u32>().ok());
    let prefix = format!("Failed to pull image \"{image}\": ");
    match (minor, event.strip_prefix(&prefix)) {
        (Some(minor), Some(text)) if minor < 28 && !text.starts_with("rpc error: code = ") => {
            format!("{prefix}rpc error: code = Unknown desc = {text}")
        }
        _ => event.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_from_node_info() {
        assert_eq!(runtime_of("containerd://1.6.20"), Some(Runtime::Containerd16));
        assert_eq!(runtime_of("containerd://1.6.20~ds1"), Some(Runtime::Containerd16));
        assert_eq!(runtime_of("containerd://1.6.25"), Some(Runtime::Containerd17));
        assert_eq!(runtime_of("containerd://1.7.13"), Some(Runtime::Containerd17));
        assert_eq!(runtime_of("containerd://2.0.4"), Some(Runtime::Containerd20));
        assert_eq!(runtime_of("containerd://2.2.0"), Some(Runtime::Containerd));
        assert_eq!(runtime_of("cri-o://1.30.2"), Some(Runtime::CriO));
        assert_eq!(runtime_of("docker://24.0.7"), Some(Runtime::Docker));
        assert_eq!(runtime_of("rkt://1.0"), None);
    }

    #[test]
    fn kubelets_before_1_28_keep_the_unknown_status() {
        let event = "Failed to pull image \"r/i:1\": failed to pull and unpack image";
        assert_eq!(
            kubelet_event_as_node_shows(event, "r/i:1", "v1.26.4"),
            "Failed to pull image \"r/i:1\": rpc error: code = Unknown desc = failed to pull and unpack image"
        );
        assert_eq!(kubelet_event_as_node_shows(event, "r/i:1", "v1.30.1"), event);
        let not_found = "Failed to pull image \"r/i:1\": rpc error: code = NotFound desc = x";
        assert_eq!(kubelet_event_as_node_shows(not_found, "r/i:1", "v1.26.4"), not_found);
    }
}
