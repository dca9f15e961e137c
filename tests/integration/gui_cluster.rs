//! The window and a cluster (the stand-in API server with its recorded kubelet, a real
//! registry): Apply (the server's plan, then the Secret written), Verify in cluster (the node's
//! Event beside regcred's prediction, the same text), Check cluster (a Pod failing to pull now).

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;

use eframe::egui;
use egui_kittest::kittest::Queryable as _;

use super::gui::{Make, Window, lavapipe, make, plaintext_config, window};
use crate::support::kube_api::{KubeApi, PodCase};
use crate::support::registry::{self, Registry};
use crate::support::{TempHome, component_available};

/// A registry with `alice`/`right-pw` holding `team/app:v1`, a cluster whose kubeconfig is the
/// home's `~/.kube/config` (context admin, namespace default).
fn cluster_and_registry(home: &std::path::Path, port: Option<u16>) -> Option<(KubeApi, Registry)> {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return None;
    }
    let registry = Registry::start_with(&registry::Setup {
        basic: Some(("alice", "right-pw")),
        port,
        ..registry::Setup::default()
    });
    registry.push_image("team/app", "v1");
    let api = KubeApi::start();
    api.set_time_scale(0.02);
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    api.write_kubeconfig(&home.join(".kube/config"), "admin");
    Some((api, registry))
}

/// The Secret `regcred` in default, as `kubectl create secret docker-registry` would make it.
fn put_secret(api: &KubeApi, host: &str, password: &str) {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let config = json!({ "auths": { host: { "username": "alice", "password": password, "auth": b64(&format!("alice:{password}")) } } });
    api.put(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": { "name": "regcred", "namespace": "default" },
        "data": { ".dockerconfigjson": b64(&config.to_string()) },
    }));
}

/// Waits (frames running) until `done` holds.
fn wait_for(window: &mut Window, what: &str, done: impl Fn(&Window) -> bool) {
    let deadline = Instant::now() + Duration::from_mins(1);
    while !done(window) {
        assert!(Instant::now() < deadline, "waited for {what}: {}", window.tree_text());
        window.harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn apply_shows_the_servers_plan_then_writes_the_secret() {
    let home = TempHome::new();
    let Some((api, registry)) = cluster_and_registry(home.path(), None) else { return };
    home.write(&home.docker_config(), &plaintext_config(&[(&registry.host, "alice", "right-pw")]));
    let mut window = window(&home);
    window.select(&registry.host);
    window.tab("Kubernetes");
    wait_for(&mut window, "the kubeconfig's contexts", |w| {
        w.shows("Cluster namespace") && !w.shows("reading the kubeconfig")
    });
    assert!(window.tree_text().contains("admin"), "the current context is chosen: {}", window.tree_text());
    window.click("Apply to cluster…");
    assert!(window.shows("Secret default/regcred: create"), "the plan: {}", window.tree_text());
    assert!(api.get("/api/v1/namespaces/default/secrets/regcred").is_none(), "a dry run writes nothing");
    assert!(!window.tree_text().contains("right-pw"), "no secret in the accessibility tree");
    window.click("Apply");
    assert!(window.shows("Applied (server-side apply"), "{}", window.tree_text());
    assert!(window.shows("What was applied"), "{}", window.tree_text());
    let secret = api.get("/api/v1/namespaces/default/secrets/regcred").expect("the Secret was written");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");

    // Again: nothing to change, and Apply is not offered.
    window.click("Apply to cluster…");
    assert!(window.shows("Secret default/regcred: unchanged"), "{}", window.tree_text());
    assert!(window.shows("Nothing to change."));
    window.click("Close");
    assert!(!window.shows("Secret default/regcred: unchanged"));

    // A plan is for the fields it was made from: another namespace typed drops it, so Apply can
    // never write where the fields no longer say.
    window.click("Apply to cluster…");
    assert!(window.shows("Secret default/regcred: unchanged"), "{}", window.tree_text());
    window.type_into("Cluster namespace", "regcred-pods");
    window.harness.run();
    assert!(!window.shows("Secret default/regcred: unchanged"), "a stale plan stays: {}", window.tree_text());
    assert!(!window.shows("Nothing to change."));
}

/// Verify in cluster with a wrong password in the Secret: the node's Event and regcred's
/// prediction side by side, the same text; the test Pod deleted.
fn verify_wrong_password(window: &mut Window, api: &KubeApi, image: &str) {
    api.kubelet_plays(image, PodCase::WrongPassword);
    window.type_into("Image", image);
    wait_for(window, "the kubeconfig's contexts", |w| !w.shows("reading the kubeconfig"));
    window.press("Verify in cluster");
    wait_for(window, "the verification to end", |w| !w.app().busy() && w.shows("test Pod"));
    window.settle();
}

#[test]
fn verify_in_cluster_shows_the_nodes_event_beside_the_prediction() {
    let home = TempHome::new();
    let Some((api, registry)) = cluster_and_registry(home.path(), None) else { return };
    home.write(&home.docker_config(), &plaintext_config(&[(&registry.host, "alice", "right-pw")]));
    put_secret(&api, &registry.host, "wrong-pw");
    let mut window = window(&home);
    window.select(&registry.host);
    window.tab("Test pull");
    let image = format!("{}/team/app:v1", registry.host);
    verify_wrong_password(&mut window, &api, &image);
    for part in [
        "The cluster could not pull",
        "ErrImagePull",
        "Node (kubelet) said",
        "regcred predicted",
        "Same text",
        "was deleted",
    ] {
        assert!(window.shows(part), "the result says {part:?}: {}", window.tree_text());
    }
    assert!(window.shows("401 Unauthorized"), "{}", window.tree_text());
    // The prediction used the Secret read from the cluster (its wrong password), not no credential.
    assert!(!window.shows("is not in these manifests"), "{}", window.tree_text());
    let pods = api.get("/api/v1/namespaces/default/pods");
    assert!(pods.is_none_or(|p| p["items"].as_array().is_none_or(Vec::is_empty)), "the test Pod is gone");
    assert!(!window.tree_text().contains("wrong-pw") && !window.tree_text().contains("right-pw"));
}

#[test]
fn check_cluster_lists_a_pod_failing_to_pull_now() {
    let home = TempHome::new();
    let Some((api, registry)) = cluster_and_registry(home.path(), None) else { return };
    home.write(&home.docker_config(), &plaintext_config(&[(&registry.host, "alice", "right-pw")]));
    put_secret(&api, &registry.host, "wrong-pw");
    let image = format!("{}/team/app:v1", registry.host);
    api.kubelet_plays(&image, PodCase::WrongPassword);
    // A Pod created through the API, as kubectl would: the kubelet plays the wrong password.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let kubeconfig = home.path().join(".kube/config");
    runtime.block_on(async {
        let target = regcred::cluster::Target { kubeconfig: Some(kubeconfig), ..Default::default() };
        let cluster = regcred::cluster::connect(&target).await.unwrap();
        let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(cluster.client, "default");
        let pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "web" },
            "spec": { "imagePullSecrets": [{ "name": "regcred" }],
                      "containers": [{ "name": "app", "image": image, "imagePullPolicy": "Always" }] },
        }))
        .unwrap();
        pods.create(&kube::api::PostParams::default(), &pod).await.unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !api.get("/api/v1/namespaces/default/pods/web").is_some_and(|p| p.to_string().contains("ImagePullBackOff")) {
        assert!(Instant::now() < deadline, "the kubelet never backed off");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut window = window(&home);
    window.click("Check cluster…");
    wait_for(&mut window, "the kubeconfig's contexts", |w| !w.shows("reading the kubeconfig"));
    window.click("Check");
    wait_for(&mut window, "the check", |w| !w.app().busy() && w.shows("Workloads"));
    for part in [
        "Failing to pull now (1 container)",
        "default/web",
        "Node (kubelet) said",
        "regcred predicted",
        "pull Secrets: regcred",
    ] {
        assert!(window.shows(part), "the view says {part:?}: {}", window.tree_text());
    }
    assert!(window.shows("Credentials: the pull Secrets, read through the API"), "{}", window.tree_text());
}

/// Verify in cluster, rendered (dark and light, 1280×800): the docs' screenshot.
#[test]
fn snapshots_of_verify_in_cluster() {
    if !lavapipe() {
        return;
    }
    let home = std::path::Path::new("/tmp/regcred-snapshot-verify");
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    let Some((api, registry)) = cluster_and_registry(home, Some(24_997)) else { return };
    std::fs::write(home.join(".docker/config.json"), plaintext_config(&[(&registry.host, "alice", "right-pw")]))
        .unwrap();
    put_secret(&api, &registry.host, "wrong-pw");
    let mut window = make(Make { size: [1280.0, 800.0], render: true, ..Make::new(home) });
    window.select(&registry.host);
    window.tab("Test pull");
    verify_wrong_password(&mut window, &api, &format!("{}/team/app:v1", registry.host));
    assert!(window.shows("Same text"), "{}", window.tree_text());
    // The detail pane scrolled to the result, as a person would after pressing the button.
    window.harness.get_by_label("Same text: regcred predicted exactly what the node said").scroll_to_me();
    window.harness.run_steps(3);
    // The test Pod's name is new at every run: its few pixels may differ, nothing else.
    let options = egui_kittest::SnapshotOptions::new().max_failed_pixels(2500);
    window.harness.remove_cursor();
    for (theme, suffix) in [(egui::Theme::Dark, "dark"), (egui::Theme::Light, "light")] {
        window.harness.ctx.set_theme(theme);
        window.harness.run_steps(3);
        window.harness.snapshot_options(format!("verify_in_cluster_1280x800_{suffix}"), &options);
    }
}
