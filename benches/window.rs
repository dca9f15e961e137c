//! `cargo bench --bench window`: the window's CPU cost per frame, measured in process with
//! `egui_kittest` (no GPU): with 10,000 registries; during a test pull against a registry that
//! answers one byte at a time; and with 200 registries all testing at once (Test all) against
//! registries that answer slowly, side by side with the same window idle. Prints figures;
//! targets: ≤ 2 ms per frame, longest frame ≤ 16 ms.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "a benchmark stops at the first failure"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use regcred::auth_files::Env;
use regcred::gui::{App, Opener, State};
use regcred::keychain::{MemoryStore, SecretStore};

fn window(home: &std::path::Path, runtime: &tokio::runtime::Runtime) -> Harness<'static, App> {
    let store = Arc::new(MemoryStore::default());
    let opener: Opener = Arc::new(move |_: &str| Ok(Box::new(store.clone()) as Box<dyn SecretStore>));
    let env = Env { home: Some(home.to_path_buf()), ..Env::default() };
    let handle = runtime.handle().clone();
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(move |cc| App::new(&cc.egui_ctx, State::default(), env, handle, opener, false));
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.state().busy() || harness.state().visible_keys().is_empty() {
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
        assert!(Instant::now() < deadline, "the window did not load");
    }
    harness
}

/// Mean and longest frame over `span`, stepping at 60 fps.
fn frames(harness: &mut Harness<'static, App>, span: Duration) -> (Duration, Duration) {
    let (mut longest, mut total, mut count) = (Duration::ZERO, Duration::ZERO, 0u32);
    let watch = Instant::now();
    while watch.elapsed() < span {
        let frame = Instant::now();
        harness.step();
        let took = frame.elapsed();
        longest = longest.max(took);
        total += took;
        count += 1;
        std::thread::sleep(Duration::from_millis(16));
    }
    (total / count.max(1), longest)
}

/// A registry on loopback that answers every request after `delay` with a Basic challenge.
fn slow_registry(delay: Duration) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = std::thread::Builder::new().name("slow-registry".into());
    accept.spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = std::thread::Builder::new().name("slow-answer".into());
            let _ = answer.spawn(move || {
                let mut stream = stream;
                let mut buffer = [0u8; 4096];
                let _ = std::io::Read::read(&mut stream, &mut buffer);
                std::thread::sleep(delay);
                let _ = std::io::Write::write_all(
                    &mut stream,
                    b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"slow\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    })
    .unwrap();
    addr
}

/// 200 registries, each its own slow loopback registry: the window idle, then while Test all runs.
fn test_all(runtime: &tokio::runtime::Runtime) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    let mut auths = serde_json::Map::new();
    for _ in 0..200 {
        let addr = slow_registry(Duration::from_millis(1500));
        auths.insert(addr.to_string(), serde_json::json!({"auth": "cm9ib3Q6czNjcmV0"}));
    }
    std::fs::write(
        home.path().join(".docker/config.json"),
        serde_json::to_vec(&serde_json::json!({ "auths": auths })).unwrap(),
    )
    .unwrap();
    let mut harness = window(home.path(), runtime);
    harness.run_steps(5);
    let (idle_mean, idle_longest) = frames(&mut harness, Duration::from_secs(2));
    harness.get_by_label("Test all").click();
    harness.run_steps(1);
    let (busy_mean, busy_longest) = frames(&mut harness, Duration::from_secs(4));
    let tested = harness.state().visible_keys().iter().filter(|k| harness.state().test_record(k).is_some()).count();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "200 registries, Test all against registries answering in 1.5 s ({tested} of 200 answered in the 4 s measured):"
    );
    println!("                 mean frame   longest frame");
    println!("  idle window    {:7.2} ms   {:9.2} ms", ms(idle_mean), ms(idle_longest));
    println!("  testing        {:7.2} ms   {:9.2} ms", ms(busy_mean), ms(busy_longest));
    println!(
        "  ratio testing/idle (mean) {:.2}; longest frame while testing (target ≤ 16 ms): {}",
        ms(busy_mean) / ms(idle_mean).max(1e-3),
        if busy_longest <= Duration::from_millis(16) { "met" } else { "NOT met" }
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    let mut auths = serde_json::Map::new();
    for i in 0..10_000 {
        auths.insert(format!("registry-{i:05}.example.com:5000"), serde_json::json!({"auth": "cm9ib3Q6czNjcmV0"}));
    }
    auths.insert("127.0.0.1:9".to_owned(), serde_json::json!({"auth": "cm9ib3Q6czNjcmV0"}));
    let config = serde_json::json!({ "auths": auths });
    std::fs::write(home.path().join(".docker/config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
    let mut harness = window(home.path(), &runtime);
    harness.run_steps(5);
    let frames = 100;
    let started = Instant::now();
    harness.run_steps(frames);
    let per_frame = started.elapsed().as_secs_f64() * 1e3 / frames as f64;
    println!(
        "10,000 registries: {per_frame:.2} ms of CPU per frame (target ≤ 2 ms): {}",
        if per_frame <= 2.0 { "met" } else { "NOT met" }
    );

    // A registry that accepts the connection and then drips: the pull stays in flight.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("stalled-registry".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::Builder::new()
                    .name("stalled-conn".into())
                    .spawn(move || {
                        let mut stream = stream;
                        let _ = std::io::Write::write_all(
                            &mut stream,
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
                        );
                        loop {
                            std::thread::sleep(Duration::from_millis(500));
                            if std::io::Write::write_all(&mut stream, b" ").is_err() {
                                break;
                            }
                        }
                    })
                    .unwrap();
            }
        })
        .unwrap();
    "registry-00001.".clone_into(&mut harness.state_mut().state.filter);
    harness.run_steps(3);
    harness.get_by_label("registry-00001.example.com:5000").click();
    harness.run_steps(3);
    harness.state_mut().state.images.insert("registry-00001.example.com:5000".to_owned(), format!("{addr}/team/app:1"));
    harness.run_steps(2);
    harness.get_by_role_and_label(egui::accesskit::Role::Tab, "Test pull").click();
    harness.run_steps(3);
    harness.get_by_label("Run test pull").click();
    let mut longest = Duration::ZERO;
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs(3) {
        let frame = Instant::now();
        harness.step();
        longest = longest.max(frame.elapsed());
        std::thread::sleep(Duration::from_millis(16));
    }
    let still_running = harness.state().busy();
    println!(
        "during a test pull against a stalled registry (still running: {still_running}): longest frame {:.2} ms (target ≤ 16 ms): {}",
        longest.as_secs_f64() * 1e3,
        if longest <= Duration::from_millis(16) { "met" } else { "NOT met" }
    );

    test_all(&runtime);
}
