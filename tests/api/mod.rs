//! The HTTP API, tested over a real loopback socket with a real client (reqwest).
//!
//! Every test starts its own server on port 0 over a small fixture (`invitations`):
//! four jobcenters' worth of invitations that tempt disclosure control, built so that
//! every number below can be worked out by hand.

// JSON bodies are walked with `unwrap()`: in a test a missing field is a failed test,
// and `expect("…")` on every step would bury the assertions.
#![allow(clippy::unwrap_used)]

mod access;
mod derived_dimension;
mod disclosure;
mod downloads;
mod endpoints;
mod errors;
mod openapi;
mod operations;
mod page;
mod random_requests;
mod reload;

use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use wirkung::api::auth::Keys;
use wirkung::api::{AppState, Limits, Snapshot, server};
use wirkung::open::{Project, Sources};

use crate::support::fixture::{Fixture, Val, d, s};

/// A running server and a client for it.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    // Keeps a fixture's folder alive as long as the server.
    _data: Option<tempfile::TempDir>,
    /// The server's state, for what a test does beside HTTP.
    pub state: AppState,
}

/// One answer: status, content type, headers and body.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` without parameters.
    pub content_type: String,
    /// All headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
    /// The body as sent (a spreadsheet is not text).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Asserts a problem+json answer with `status`, naming `param` (if given) in
    /// `invalid_params`, and returns it.
    pub fn problem(&self, status: u16, param: Option<&str>) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.body
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(
            p["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:wirkung:problem:"))
        );
        assert!(p["title"].is_string() && p["detail"].is_string());
        assert!(!self.body.contains("panicked") && !self.body.contains("src/"));
        if let Some(param) = param {
            assert_eq!(p["invalid_params"][0]["name"], param, "{}", self.body);
            assert!(p["invalid_params"][0]["reason"].is_string());
        }
        p
    }
}

impl Server {
    /// Serves the extract in `data` with `keys` (None: open) and `limits` on a loopback
    /// port.
    pub async fn start(data: tempfile::TempDir, keys: Option<Keys>, limits: Limits) -> Server {
        let mut server = Server::load(sources(data.path()), keys, limits, None).await;
        server._data = Some(data);
        server
    }

    /// Loads `sources` and serves them, reloadable, watching them every `watch` if
    /// given.
    pub async fn load(
        sources: Sources,
        keys: Option<Keys>,
        limits: Limits,
        watch: Option<Duration>,
    ) -> Server {
        let snapshot = Snapshot::load(&sources)
            .await
            .unwrap_or_else(|e| panic!("fixture does not open: {e}"));
        let state = AppState::new(snapshot, Some(sources), keys, limits);
        if let Some(every) = watch {
            state.watch(every).expect("watch");
        }
        Server::run(state).await
    }

    /// Serves an opened project (not reloadable).
    pub async fn serve(
        project: Project,
        version: String,
        keys: Option<Keys>,
        limits: Limits,
    ) -> Server {
        let snapshot = Snapshot::new(project, version);
        Server::run(AppState::new(snapshot, None, keys, limits)).await
    }

    async fn run(state: AppState) -> Server {
        let keys = state.keys().is_some();
        let listener = server::bind("127.0.0.1:0", keys).await.expect("bind");
        let kept = state.clone();
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            server::serve(listener, state, shutdown)
                .await
                .expect("serve");
        });
        Server {
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
            done: Some(done),
            _data: None,
            state: kept,
        }
    }

    /// The invitations fixture, served open with the default limits.
    pub async fn fixture() -> Server {
        Server::start(invitations().written(), None, Limits::default()).await
    }

    /// GET `path` (with query) with optional bearer token and extra headers.
    pub async fn get_with(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Server::send(req).await
    }

    /// POST `path` (with query) with optional bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.client.post(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Server::send(req).await
    }

    async fn send(req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let bytes = resp.bytes().await.expect("body").to_vec();
        Answer {
            status,
            content_type,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    /// GET without token.
    pub async fn get(&self, path: &str) -> Answer {
        self.get_with(path, None, &[]).await
    }

    /// GET that must answer 200 JSON; returns the body.
    pub async fn ok(&self, path: &str) -> Value {
        let a = self.get(path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.content_type, "application/json");
        a.json()
    }

    /// A client request builder, for other methods.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            tokio::time::timeout(Duration::from_secs(10), done)
                .await
                .expect("graceful shutdown within 10 s")
                .expect("server task");
        }
    }
}

/// An extract folder with the repository's definitions and building blocks, strict.
pub fn sources(data: &std::path::Path) -> Sources {
    Sources {
        data: data.to_path_buf(),
        indicators: Project::DEFAULT_INDICATORS.into(),
        queries: Project::DEFAULT_QUERIES.into(),
        mode: wirkung::extract::LoadMode::Strict,
        budget: wirkung::engine::MemoryBudget::default(),
        run_on: wirkung::open::RunOn::Local,
        targets: None,
    }
}

/// A format with its invitations attended and not attended.
pub type Invited = (&'static str, u32, u32);

/// Invitations of 2017 by district and format, as (format, attended, not attended):
///
/// | district | jobcenter (type) | standard | contact_cafe | group_info |
/// |---|---|---|---|---|
/// | J1-A | J1 (IIa) | 4 + 6 | 1 + 0 | – |
/// | J1-B | J1 (IIa) | 3 + 3 | 4 + 1 | 2 + 2 |
/// | J2-A | J2 (IIIb) | 2 + 6 | 5 + 2 | 1 + 2 |
/// | J3-A | J3 (IIa) | 6 + 4 | 3 + 3 | 3 + 0 |
///
/// Small counts tempt: J1-A's single contact-café invitation, J2-A's single attended
/// group session, and counts of 2 (J1-B's attended group sessions, J2-A's attended
/// letters). Every person is eLb from 2016-01 to 2017-12 in their district; the
/// invitations of a district go round-robin to its persons (sexes f, m, f), one a
/// month from January, in 2017 and alike in 2016.
pub const INVITATIONS: [(&str, [Invited; 3]); 4] = [
    (
        "J1-A",
        [
            ("standard", 4, 6),
            ("contact_cafe", 1, 0),
            ("group_info", 0, 0),
        ],
    ),
    (
        "J1-B",
        [
            ("standard", 3, 3),
            ("contact_cafe", 4, 1),
            ("group_info", 2, 2),
        ],
    ),
    (
        "J2-A",
        [
            ("standard", 2, 6),
            ("contact_cafe", 5, 2),
            ("group_info", 1, 2),
        ],
    ),
    (
        "J3-A",
        [
            ("standard", 6, 4),
            ("contact_cafe", 3, 3),
            ("group_info", 3, 0),
        ],
    ),
];

/// The fixture of [`INVITATIONS`].
pub fn invitations() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.row(
        "jobcenters",
        vec![s("J3"), s("Jobcenter Drei"), s("NW"), s("zkT"), s("IIa")],
    );
    f.row("districts", vec![s("J3-A"), s("J3"), s("West")]);
    f.present("invitations");
    let mut id = 0;
    for (district, formats) in INVITATIONS {
        let persons: Vec<String> = (1..=3).map(|i| format!("{district}-p{i}")).collect();
        for (i, p) in persons.iter().enumerate() {
            f.person(p, if i == 1 { "m" } else { "f" }, "1980-05-01")
                .benefit(p, district, "2016-01", "2017-12", true);
        }
        let mut k = 0;
        for (format, attended, missed) in formats {
            for n in 0..attended + missed {
                let month = 1 + (k % 12);
                // The same invitations a year before: every twelve-month window from
                // 2016-12 on holds one of each, so differencing neighbouring windows
                // pins no monthly count (the series rule, docs/disclosure.md), and the
                // windows of 2017-12 hold 2017 alone.
                for year in [2016, 2017] {
                    id += 1;
                    f.row(
                        "invitations",
                        vec![
                            s(&format!("i{id}")),
                            s(&persons[k % 3]),
                            d(&format!("{year}-{month:02}-10")),
                            s(format),
                            s("general"),
                            Val::B(Some(n < attended)),
                        ],
                    );
                }
                k += 1;
            }
        }
    }
    f
}

/// [`invitations`] made harder for disclosure control: a fourth jobcenter J4 (type IIa,
/// one district J4-A) with a single person invited twice (1 attended), so that a whole
/// jobcenter is small, and a person of sex `d` in J2-A with one attended letter, born in
/// May and so counted under `m` (an odd birth month).
pub fn tempting() -> Fixture {
    let mut f = invitations();
    f.row(
        "jobcenters",
        vec![s("J4"), s("Jobcenter Vier"), s("NW"), s("zkT"), s("IIa")],
    );
    f.row("districts", vec![s("J4-A"), s("J4"), s("Klein")]);
    f.person("J4-A-p1", "f", "1980-05-01")
        .benefit("J4-A-p1", "J4-A", "2016-01", "2017-12", true);
    f.person("J2-A-d", "d", "1980-05-01")
        .benefit("J2-A-d", "J2-A", "2016-01", "2017-12", true);
    for (id, person, attended) in [
        ("t1", "J4-A-p1", true),
        ("t2", "J4-A-p1", false),
        ("t3", "J2-A-d", true),
    ] {
        f.row(
            "invitations",
            vec![
                s(id),
                s(person),
                d("2017-06-10"),
                s("standard"),
                s("general"),
                Val::B(Some(attended)),
            ],
        );
    }
    f
}
