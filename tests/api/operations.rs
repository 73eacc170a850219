//! Operations: request logs and graceful shutdown of the real binary, compression, and
//! the loopback rule.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::Digest;
use wirkung::api::server::{self, ServeError};

use super::{Server, invitations};

/// Bearer token of the key `controlling-j1` in the binary's auth file.
const TOKEN: &str = "a-secret-token-for-j1";

#[tokio::test]
async fn the_binary_logs_each_request_and_shuts_down_gracefully_on_sigterm() {
    let data = invitations().written();
    let auth = data
        .path()
        .join("..")
        .join(format!("auth-{}.toml", std::process::id()));
    let hash: String = sha2::Sha256::digest(TOKEN.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        &auth,
        format!("[[keys]]\nname = \"controlling-j1\"\ntoken_sha256 = \"{hash}\"\nrole = \"reader\"\njobcenters = [\"J1\"]\n"),
    )
    .expect("auth file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirkung"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .arg("--auth")
        .arg(&auth)
        .env("WIRKUNG_LOG", "wirkung::access=info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wirkung serve");
    // Read stderr on a thread: the announcement first, then everything until exit.
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let base = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server announces itself");
        if let Some(rest) = line.strip_prefix("serving http://") {
            break format!("http://{}", rest.split('/').next().unwrap_or_default());
        }
    };
    // It listens while it loads, and says when the data is there.
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server says it has loaded");
        if line.starts_with("loaded ") {
            break;
        }
    }
    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut r = client.get(format!("{base}{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let ok = get(
        "/api/v1/indicators/S6/values?from=2017-12&by=district_id",
        Some(TOKEN),
    )
    .await
    .expect("request");
    assert_eq!(ok.status().as_u16(), 200);
    let missing = get("/api/v1/indicators/K99", Some(TOKEN))
        .await
        .expect("request");
    assert_eq!(missing.status().as_u16(), 404);
    let anonymous = get("/api/v1/indicators", None).await.expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no exit within 10 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let log = reader.join().expect("stderr reader");
    let _ = std::fs::remove_file(&auth);
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("wirkung::access"))
        .collect();
    assert_eq!(access.len(), 3, "{log}");
    for (line, path, status, caller) in [
        (
            access[0],
            "/api/v1/indicators/S6/values",
            "200",
            "controlling-j1",
        ),
        (access[1], "/api/v1/indicators/K99", "404", "controlling-j1"),
        (access[2], "/api/v1/indicators", "401", "-"),
    ] {
        assert!(line.contains("method=GET"), "{line}");
        assert!(line.contains(&format!("path=\"{path}\"")), "{line}");
        assert!(line.contains(&format!("status={status}")), "{line}");
        assert!(line.contains("latency_ms="), "{line}");
        assert!(line.contains(&format!("caller=\"{caller}\"")), "{line}");
    }
    // Never the token, never the query string.
    assert!(!log.contains(TOKEN) && !log.contains(&hash), "{log}");
    assert!(!log.contains("by=district_id"), "{log}");
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_gzip() {
    let server = Server::fixture().await;
    let path =
        "/api/v1/indicators/S6/values?from=2017-01&to=2017-12&by=district_id,invitation_format";
    let plain = server.get(path).await;
    assert_eq!(plain.status, 200);
    assert!(plain.headers.get("content-encoding").is_none());
    let gzip = server
        .get_with(path, None, &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(gzip.status, 200);
    assert_eq!(
        gzip.headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_is_graceful_and_open_mode_binds_loopback_only() {
    let server = Server::fixture().await;
    assert_eq!(server.get("/api/v1/health").await.status, 200);
    // Waits for the server task to end within 10 s of the signal.
    server.stop().await;

    for addr in ["0.0.0.0:0", "[::]:0"] {
        match server::bind(addr, false).await {
            Err(ServeError::OpenOnNetwork(a)) => assert_eq!(a, addr),
            other => panic!("{addr}: expected a refusal, got {other:?}"),
        }
    }
    assert!(server::bind("127.0.0.1:0", false).await.is_ok());
    assert!(server::bind("localhost:0", false).await.is_ok());
    // With an auth file any address may be bound.
    assert!(server::bind("0.0.0.0:0", true).await.is_ok());
    assert!(matches!(
        server::bind("no-such-host.invalid:80", false).await,
        Err(ServeError::Address { .. })
    ));
}
