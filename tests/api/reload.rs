//! Reloading while serving: new extracts swapped in whole under concurrent requests,
//! refused extracts and definitions that leave the old data serving and are reported in
//! `health`, the admin role, and `--watch`.
//!
//! A delivery is a folder; the server's `--data` is a symbolic link that the test turns
//! from one folder to another, as a delivery script would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use wirkung::api::Limits;
use wirkung::api::auth::Keys;
use wirkung::open::Project;

use super::{Server, invitations, sources, tempting};
use crate::support::fixture::{d, s};

/// Questions whose answers differ between the two deliveries.
const QUESTIONS: [&str; 4] = [
    "/api/v1/indicators/S6/values?from=2017-06&to=2017-12&by=jobcenter_id",
    "/api/v1/indicators/S6/values?from=2017-12&by=district_id&format=csv",
    "/api/v1/indicators/S6/compare?month=2017-12&across=district_id",
    "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe",
];

/// Delivery folders `a` ([`invitations`]) and `b` ([`tempting`]), and the link
/// `current` the server reads.
struct Deliveries {
    root: tempfile::TempDir,
}

impl Deliveries {
    fn new() -> Deliveries {
        let root = tempfile::TempDir::new().expect("tempdir");
        let deliveries = Deliveries { root };
        invitations().write(&deliveries.folder("a"));
        tempting().write(&deliveries.folder("b"));
        deliveries.point_at("a");
        deliveries
    }

    /// A new, empty delivery folder.
    fn folder(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).expect("folder");
        dir
    }

    /// The link the server reads.
    fn current(&self) -> PathBuf {
        self.root.path().join("current")
    }

    /// Turns the link to delivery `name`, atomically (a new link renamed over it).
    fn point_at(&self, name: &str) {
        let next = self.root.path().join("next");
        let _ = std::fs::remove_file(&next);
        std::os::unix::fs::symlink(self.root.path().join(name), &next).expect("symlink");
        std::fs::rename(&next, self.current()).expect("rename");
    }
}

/// The answers to [`QUESTIONS`] now, with the data version they name.
async fn answers(server: &Server) -> (String, Vec<String>) {
    let mut bodies = Vec::new();
    let mut versions = Vec::new();
    for q in QUESTIONS {
        let a = server.get(q).await;
        assert_eq!(a.status, 200, "{q}: {}", a.body);
        versions.push(version_of(&a.headers));
        bodies.push(a.body);
    }
    versions.dedup();
    assert_eq!(versions.len(), 1, "one version for all: {versions:?}");
    (versions.remove(0), bodies)
}

fn version_of(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("wirkung-data-version")
        .and_then(|v| v.to_str().ok())
        .expect("every answer names its data version")
        .to_string()
}

async fn health(server: &Server) -> Value {
    server.ok("/api/v1/health").await
}

/// Polls `health` until `done` holds (at most 60 s).
async fn until(server: &Server, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let h = health(server).await;
        if done(&h) {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 60 s; health: {}", health(server).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_concurrent_requests_never_mixes_two_extracts() {
    let deliveries = Deliveries::new();
    let server = Server::load(
        sources(&deliveries.current()),
        None,
        Limits::default(),
        None,
    )
    .await;
    let (version_a, answers_a) = answers(&server).await;
    assert_eq!(health(&server).await["data"]["version"], version_a.as_str());

    deliveries.point_at("b");
    let reloaded = server.post("/api/v1/reload", None).await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    let version_b = reloaded.json()["data"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(version_b, version_a);
    let (named, answers_b) = answers(&server).await;
    assert_eq!(named, version_b);
    for (q, (a, b)) in QUESTIONS.iter().zip(answers_a.iter().zip(&answers_b)) {
        assert_ne!(a, b, "{q} must tell the deliveries apart");
    }
    let expected: HashMap<String, Vec<String>> = HashMap::from([
        (version_a.clone(), answers_a),
        (version_b.clone(), answers_b),
    ]);

    // Eight clients ask round the questions while the data is swapped six times.
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    let a = server.get(QUESTIONS[i % QUESTIONS.len()]).await;
                    seen.push((
                        i % QUESTIONS.len(),
                        a.status,
                        version_of(&a.headers),
                        a.body,
                    ));
                    i += 1;
                }
                seen
            })
        })
        .collect();
    for round in 0..6 {
        deliveries.point_at(if round % 2 == 0 { "a" } else { "b" });
        let r = server.post("/api/v1/reload", None).await;
        assert_eq!(r.status, 200, "round {round}: {}", r.body);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut by_version: HashMap<String, usize> = HashMap::new();
    for client in clients {
        for (q, status, version, body) in client.await.unwrap() {
            assert_eq!(status, 200, "{}: {body}", QUESTIONS[q]);
            let bodies = expected
                .get(&version)
                .unwrap_or_else(|| panic!("an answer names an unknown version {version}"));
            assert_eq!(
                &body, &bodies[q],
                "{} answered under version {version} is that version's answer",
                QUESTIONS[q]
            );
            *by_version.entry(version).or_default() += 1;
        }
    }
    eprintln!("answers by data version: {by_version:?}");
    // The last swap was to b; both deliveries were served during the run.
    assert!(
        by_version.get(&version_a).is_some_and(|n| *n > 0),
        "{by_version:?}"
    );
    assert!(
        by_version.get(&version_b).is_some_and(|n| *n > 0),
        "{by_version:?}"
    );
    let h = health(&server).await;
    assert_eq!(h["data"]["version"], version_b.as_str());
    assert_eq!(h["reload"]["running"], false);
    assert_eq!(h["reload"].get("last_error"), Some(&Value::Null));
    Arc::into_inner(server).unwrap().stop().await;
}

/// Copies the repository's indicator definitions to `dir`.
fn copy_definitions(dir: &Path) {
    for entry in std::fs::read_dir(Project::DEFAULT_INDICATORS).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
}

#[tokio::test]
async fn a_refused_extract_or_definition_leaves_the_old_data_serving() {
    let deliveries = Deliveries::new();
    let definitions = deliveries.folder("definitions");
    copy_definitions(&definitions);
    let mut sources = sources(&deliveries.current());
    sources.indicators = definitions.clone();
    let server = Server::load(sources, None, Limits::default(), None).await;
    let (version_a, answers_a) = answers(&server).await;
    let loaded_at = health(&server).await["data"]["loaded_at"].clone();
    let catalogue = server.ok("/api/v1/indicators").await;

    // A delivery that broke off half-way: one file cut short.
    let cut = deliveries.folder("cut");
    invitations().write(&cut);
    let file = cut.join("invitations.parquet");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    deliveries.point_at("cut");
    let refused = server.post("/api/v1/reload", None).await;
    let p = refused.problem(422, None);
    assert_eq!(p["type"], "urn:wirkung:problem:reload-failed");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("invitations.parquet"), "{detail}");
    assert!(
        detail.contains(&format!("(version {version_a})")),
        "{detail}"
    );
    let h = health(&server).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["data"]["version"], version_a.as_str());
    assert_eq!(h["data"]["loaded_at"], loaded_at);
    let failure = &h["reload"]["last_error"];
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("invitations.parquet"),
        "{h}"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(failure["at"].as_str().unwrap()).is_ok(),
        "{h}"
    );
    assert_eq!(
        answers(&server).await,
        (version_a.clone(), answers_a.clone())
    );

    // A delivery breaking a row rule: the admin who asked reads the offending value,
    // `health` (no token needed) names table, rule, column and count only.
    let mut bad = invitations();
    bad.person("J1-A-x", "geheim", "1980-05-01");
    bad.write(&deliveries.folder("bad-code"));
    deliveries.point_at("bad-code");
    let refused = server.post("/api/v1/reload", None).await;
    let detail = refused.problem(422, None)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("\"geheim\""), "{detail}");
    let message = health(&server).await["reload"]["last_error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("table `persons`: domain on sex: 1 row(s)"),
        "{message}"
    );
    assert!(!message.contains("geheim"), "{message}");
    assert!(!message.contains("J1-A-x"), "{message}");
    assert_eq!(
        answers(&server).await,
        (version_a.clone(), answers_a.clone())
    );

    // A broken definition: refused with file and line; the old definitions stay.
    deliveries.point_at("a");
    std::fs::write(
        definitions.join("ZZ1.toml"),
        "code = \"ZZ1\"\nname_de = [\n",
    )
    .unwrap();
    let refused = server.post("/api/v1/reload", None).await;
    let detail = refused.problem(422, None)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("ZZ1.toml:"), "{detail}");
    assert_eq!(server.ok("/api/v1/indicators").await, catalogue);
    server
        .get("/api/v1/indicators/ZZ1")
        .await
        .problem(404, None);
    assert_eq!(
        answers(&server).await,
        (version_a.clone(), answers_a.clone())
    );

    // Mended: the next reload succeeds and clears the error.
    std::fs::remove_file(definitions.join("ZZ1.toml")).unwrap();
    let reloaded = server.post("/api/v1/reload", None).await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    let h = reloaded.json();
    assert_eq!(h["data"]["version"], version_a.as_str());
    assert_eq!(h["reload"].get("last_error"), Some(&Value::Null), "{h}");
    assert_eq!(answers(&server).await, (version_a, answers_a));
    server.stop().await;
}

const ADMIN: &str = "admin-token";
const READER: &str = "reader-token";

fn keys() -> Keys {
    let entry = |name: &str, token: &str, role: &str| {
        use sha2::{Digest, Sha256};
        let hash: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "[[keys]]\nname = \"{name}\"\ntoken_sha256 = \"{hash}\"\nrole = \"{role}\"\njobcenters = [\"J1\"]\n\n"
        )
    };
    Keys::parse(&(entry("ops", ADMIN, "admin") + &entry("controlling", READER, "reader")))
        .expect("auth file")
}

#[tokio::test]
async fn reloading_needs_the_admin_role_and_can_answer_at_once() {
    let deliveries = Deliveries::new();
    let server = Server::load(
        sources(&deliveries.current()),
        Some(keys()),
        Limits::default(),
        None,
    )
    .await;
    server.post("/api/v1/reload", None).await.problem(401, None);
    let p = server
        .post("/api/v1/reload", Some(READER))
        .await
        .problem(403, None);
    assert!(p["detail"].as_str().unwrap().contains("admin"), "{p}");
    server
        .post("/api/v1/reload?wait=soon", Some(ADMIN))
        .await
        .problem(400, Some("wait"));
    server
        .post("/api/v1/reload?from=2017-01", Some(ADMIN))
        .await
        .problem(400, Some("from"));
    server.get("/api/v1/reload").await.problem(405, None);

    deliveries.point_at("b");
    let started = server.post("/api/v1/reload?wait=false", Some(ADMIN)).await;
    assert_eq!(started.status, 202, "{}", started.body);
    let version_b = wirkung::open::fingerprint(&deliveries.current()).unwrap();
    let h = until(&server, "the reload finishes", |h| {
        h["reload"]["running"] == false && h["data"]["version"] == version_b.as_str()
    })
    .await;
    assert_eq!(h["reload"].get("started_at"), Some(&Value::Null));
    assert_eq!(h["reload"].get("last_error"), Some(&Value::Null));

    // A shutdown does not wait for a reload's outcome: the waiting request is told.
    deliveries.point_at("a");
    server.state.begin_shutdown();
    let p = server
        .post("/api/v1/reload", Some(ADMIN))
        .await
        .problem(503, None);
    assert_eq!(p["type"], "urn:wirkung:problem:shutting-down");
    until(&server, "the abandoned reload ends", |h| {
        h["reload"]["running"] == false
    })
    .await;
    server.stop().await;

    // A server built from an opened project has no folders to reload from.
    let fixture = invitations().written();
    let project = crate::support::open(fixture.path()).await;
    let server = Server::serve(project, "v".into(), None, Limits::default()).await;
    let p = server.post("/api/v1/reload", None).await.problem(409, None);
    assert_eq!(p["type"], "urn:wirkung:problem:not-reloadable");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reloads_a_delivery_once_it_holds_still_and_keeps_the_old_on_failure() {
    let deliveries = Deliveries::new();
    let server = Server::load(
        sources(&deliveries.current()),
        None,
        Limits::default(),
        Some(Duration::from_millis(100)),
    )
    .await;
    let h = health(&server).await;
    assert_eq!(h["reload"]["watching"], true);
    let version_a = h["data"]["version"].as_str().unwrap().to_string();

    deliveries.point_at("b");
    let version_b = wirkung::open::fingerprint(&deliveries.current()).unwrap();
    until(&server, "the watcher loads b", |h| {
        h["data"]["version"] == version_b.as_str()
    })
    .await;

    // An invitation without a person: refused, and b keeps serving.
    let mut orphan = invitations();
    orphan.row(
        "invitations",
        vec![
            s("orphan"),
            s("nobody"),
            d("2017-03-10"),
            s("standard"),
            s("general"),
            crate::support::fixture::Val::B(Some(true)),
        ],
    );
    orphan.write(&deliveries.folder("orphan"));
    deliveries.point_at("orphan");
    let h = until(&server, "the watcher reports the refusal", |h| {
        !h["reload"]["last_error"].is_null()
    })
    .await;
    assert_eq!(h["data"]["version"], version_b.as_str());
    let message = h["reload"]["last_error"]["message"].as_str().unwrap();
    assert!(message.contains("table `invitations`"), "{message}");
    // Refused inputs are not tried again while they stay as they are: after 25 more
    // intervals the failure is still the one recorded (a retry takes well under a
    // second here and would restamp it).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = health(&server).await;
    assert_eq!(later["reload"]["last_error"], h["reload"]["last_error"]);
    assert_eq!(later["reload"]["running"], false);

    deliveries.point_at("a");
    let h = until(&server, "the watcher loads a again", |h| {
        h["data"]["version"] == version_a.as_str()
    })
    .await;
    assert_eq!(h["reload"].get("last_error"), Some(&Value::Null), "{h}");
    server.stop().await;
}

/// The server keeps no reference to data it no longer serves: once a reload has
/// swapped, the old snapshot is freed as soon as the last request holding it is done
/// (and the reload thread, which drops its own handle after telling the outcome).
#[tokio::test]
async fn the_old_snapshot_is_freed_after_the_swap() {
    use wirkung::api::AppState;
    use wirkung::api::reload::finished;
    use wirkung::api::snapshot::Snapshot;

    let deliveries = Deliveries::new();
    let sources = sources(&deliveries.current());
    let snapshot = Snapshot::load(&sources).await.unwrap();
    let state = AppState::new(snapshot, Some(sources), None, Limits::default());
    let held = state.snapshot().unwrap(); // a request in flight
    let old = Arc::downgrade(&held);
    deliveries.point_at("b");
    finished(state.reload().unwrap()).await.unwrap();
    assert!(!Arc::ptr_eq(&held, &state.snapshot().unwrap()), "swapped");
    assert!(
        old.upgrade().is_some(),
        "the request still answers from the old data"
    );
    drop(held);
    // The reload thread frees it right after telling the outcome.
    for _ in 0..100 {
        if old.upgrade().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the old data is still held 5 s after the swap");
}

#[tokio::test]
async fn a_server_listens_while_its_first_load_runs_and_health_reports_it() {
    let data = invitations().written();
    let mut from = sources(data.path());
    from.budget.slices = Some(3);
    let state = wirkung::api::AppState::loading(from, None, Limits::default());
    let server = Server::run(state.clone()).await;

    // Before the load is done: health answers and says so; every question is a 503
    // `loading` problem, not an error and not an empty answer.
    let h = health(&server).await;
    assert_eq!(h["status"], "loading", "{h}");
    assert!(h["data"].is_null(), "{h}");
    let mut asked = vec!["/api/v1/indicators", "/api/v1/indicators/S6"];
    asked.extend(QUESTIONS);
    for path in &asked {
        let p = server.get(path).await.problem(503, None);
        assert_eq!(p["type"], "urn:wirkung:problem:loading", "{path}: {p}");
    }

    // The load, slice by slice: each slice is in `health`'s progress before the
    // observer (the command line's progress bar) hears of it, and so is the deciding.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let observed = {
        let (state, seen) = (state.clone(), Arc::clone(&seen));
        Box::new(move |p: &wirkung::engine::progress::LoadProgress| {
            let status = state.reload_status();
            let progress = status.progress.expect("health shows the running load");
            assert!(status.running);
            seen.lock().expect("lock").push((
                p.slices_done,
                progress.slices_done,
                progress.slices,
                progress.deciding,
            ));
        })
    };
    let pending = state.load_first(observed).expect("sources");
    wirkung::api::reload::finished(pending)
        .await
        .expect("the fixture loads");
    // After the last slice, disclosure control is decided before the data is served,
    // and both health and the observer hear of it.
    assert_eq!(
        *seen.lock().expect("lock"),
        [
            (1, 1, 3, false),
            (2, 2, 3, false),
            (3, 3, 3, false),
            (3, 3, 3, true)
        ]
    );

    let h = health(&server).await;
    assert_eq!(h["status"], "ok", "{h}");
    assert!(h["data"]["version"].is_string(), "{h}");
    assert_eq!(h["reload"]["running"], false, "{h}");
    assert!(h["reload"]["progress"].is_null(), "{h}");
    for path in &asked {
        assert_eq!(server.get(path).await.status, 200, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn targets_are_read_again_with_every_load_and_a_refused_file_keeps_the_old() {
    let deliveries = Deliveries::new();
    let file = deliveries.root.path().join("targets.toml");
    let target = |value: &str| {
        format!(
            "[[target]]\njobcenter_id = \"J1\"\nindicator = \"S6\"\nyear = 2017\nvalue = {value}\n"
        )
    };
    std::fs::write(&file, target("50.0")).expect("write");
    let mut sources = sources(&deliveries.current());
    sources.targets = Some(file.clone());
    let server = Server::load(sources, None, Limits::default(), None).await;
    let question = "/api/v1/indicators/S6/values?from=2017-12&jobcenter_id=J1";
    assert_eq!(
        server.ok(question).await["rows"][0]["target"]["value"],
        50.0
    );
    std::fs::write(&file, target("60.0")).expect("write");
    let reloaded = server.post("/api/v1/reload", None).await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(
        server.ok(question).await["rows"][0]["target"]["value"],
        60.0
    );
    // A refused file: the reload fails naming file and line; the old targets serve on.
    std::fs::write(&file, target("\"sixty\"")).expect("write");
    let refused = server.post("/api/v1/reload", None).await;
    let detail = refused.problem(422, None)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(detail.contains("targets.toml:5"), "{detail}");
    assert_eq!(
        server.ok(question).await["rows"][0]["target"]["value"],
        60.0
    );
    server.stop().await;
}
