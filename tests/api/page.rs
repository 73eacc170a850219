//! The page at `/` and its assets (issue #16): served without a token, under a
//! Content-Security-Policy that allows the server itself only, assets under a version
//! of their contents and kept for good. What the page does is tested in a real browser
//! (`tests/browser/`).

use super::{Server, invitations};
use wirkung::api::Limits;
use wirkung::api::page::{CONTENT_SECURITY_POLICY, asset_version};

#[tokio::test]
async fn the_page_and_its_assets_are_served_under_a_strict_policy() {
    let server = Server::fixture().await;
    let page = server.get("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html");
    assert_eq!(
        page.headers["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(page.headers["cache-control"], "no-cache");
    let base = format!("/assets/{}", asset_version());
    assert!(!page.body.contains("{{ASSETS}}"));
    for asset in [
        "app.js",
        "app.css",
        "vendor/vega.min.js",
        "vendor/vega-lite.min.js",
        "vendor/vega-embed.min.js",
    ] {
        let path = format!("{base}/{asset}");
        assert!(page.body.contains(&path), "the page loads {path}");
        let answer = server.get(&path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(
            answer.headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            answer.headers["content-security-policy"],
            CONTENT_SECURITY_POLICY
        );
        let want = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert_eq!(answer.content_type, want, "{path}");
        assert!(answer.bytes.len() > 100, "{path}");
    }
    // The policy names no other origin and allows neither eval nor inline code.
    for forbidden in ["unsafe-eval", "unsafe-inline", "http:", "https:", "*"] {
        assert!(!CONTENT_SECURITY_POLICY.contains(forbidden), "{forbidden}");
    }
    // The page itself has no inline script or style.
    assert!(!page.body.contains("<script>") && !page.body.contains("style="));
    // Every vendored file (web/vendor/SHA256SUMS) is served, licences included.
    let sums = std::fs::read_to_string("web/vendor/SHA256SUMS").expect("SHA256SUMS");
    for line in sums.lines() {
        let (_, file) = line.split_once("  ").expect("digest  file");
        let answer = server.get(&format!("{base}/vendor/{file}")).await;
        assert_eq!(answer.status, 200, "vendor/{file} is not served");
    }
    let licence = server
        .get(&format!("{base}/vendor/licences/vega.txt"))
        .await;
    assert!(licence.body.contains("Copyright"));
    // Another version's asset is not this binary's.
    server
        .get("/assets/000000000000/app.js")
        .await
        .problem(404, None);
    server.stop().await;
}

#[tokio::test]
async fn the_page_needs_no_token_but_its_numbers_do() {
    let keys = wirkung::api::auth::Keys::parse(
        "[[keys]]\nname = \"j1\"\ntoken_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nrole = \"reader\"\njobcenters = [\"J1\"]\n",
    )
    .expect("auth file");
    let server = Server::start(invitations().written(), Some(keys), Limits::default()).await;
    assert_eq!(server.get("/").await.status, 200);
    let script = format!("/assets/{}/app.js", asset_version());
    assert_eq!(server.get(&script).await.status, 200);
    server.get("/api/v1/units").await.problem(401, None);
    server.stop().await;
}

#[tokio::test]
async fn units_list_jobcenters_with_their_districts_and_names() {
    let server = Server::fixture().await;
    let units = server.ok("/api/v1/units").await;
    let jobcenters = units["jobcenters"].as_array().unwrap();
    let ids: Vec<&str> = jobcenters
        .iter()
        .map(|j| j["jobcenter_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["J1", "J2", "J3"]);
    let j3 = &jobcenters[2];
    assert_eq!(j3["name"], "Jobcenter Drei");
    assert_eq!(j3["comparison_type"], "IIa");
    assert_eq!(j3["districts"][0]["district_id"], "J3-A");
    assert_eq!(j3["districts"][0]["name"], "West");
    let j1: Vec<&str> = jobcenters[0]["districts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(j1, ["Nord", "Süd"]);
    server.stop().await;
}
