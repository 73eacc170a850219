//! The page at `/` (web/index.html) and its assets, embedded in the binary: the
//! application's own script and style and the vendored chart libraries (web/vendor/,
//! pinned and checked by web/vendor.py). The page needs no token and no network; every
//! number on it comes from the API with the caller's token.
//!
//! Assets are served under `/assets/{version}/`, where the version is a digest of their
//! contents, so that a browser keeps them for good (`immutable`) and a new binary's
//! page asks for new ones. Every answer carries a Content-Security-Policy that allows
//! the server itself only: no inline script or style, no `eval` (Vega runs with its
//! expression interpreter), no request to any other origin.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::problem::Problem;

/// The policy of the page and its assets.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
     style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../../web/index.html");

/// An asset of `web/`: its path under the asset base, media type and contents.
macro_rules! asset {
    ($path:literal, $media_type:expr) => {
        (
            $path,
            $media_type,
            include_bytes!(concat!("../../web/", $path)),
        )
    };
}

/// Every asset: the page's script and style, the chart libraries and their licences.
const ASSETS: &[(&str, &str, &[u8])] = &[
    asset!("app.js", JS),
    asset!("app.css", CSS),
    asset!("vendor/vega.min.js", JS),
    asset!("vendor/vega-lite.min.js", JS),
    asset!("vendor/vega-embed.min.js", JS),
    asset!("vendor/licences/vega.txt", TEXT),
    asset!("vendor/licences/vega-lite.txt", TEXT),
    asset!("vendor/licences/vega-embed.txt", TEXT),
    asset!("vendor/licences/d3-array.txt", TEXT),
    asset!("vendor/licences/delaunator.txt", TEXT),
    asset!("vendor/licences/robust-predicates.txt", TEXT),
    asset!("vendor/licences/topojson-client.txt", TEXT),
    asset!("vendor/licences/fast-json-patch.txt", TEXT),
    asset!("vendor/licences/json-stringify-pretty-compact.txt", TEXT),
    asset!("vendor/licences/semver.txt", TEXT),
    asset!("vendor/licences/tslib.txt", TEXT),
];

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The digest of every asset: the version in their paths.
pub fn asset_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut digest = Sha256::new();
        for (path, _, body) in ASSETS {
            digest.update(path.as_bytes());
            digest.update(body);
        }
        let hex: String = digest.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        hex
    })
}

/// `GET /`: the page, pointing at this binary's assets; never kept by a cache without
/// asking again, so that a new version is seen at once.
pub async fn index() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page =
        PAGE.get_or_init(|| INDEX.replace("{{ASSETS}}", &format!("/assets/{}", asset_version())));
    let mut response = page.as_str().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    guarded(response)
}

/// `GET /assets/{version}/{*path}`: an asset of this binary's version, kept for good.
pub async fn asset(Path((version, path)): Path<(String, String)>) -> Result<Response, Problem> {
    let found = ASSETS.iter().find(|(p, _, _)| *p == path);
    let Some((_, media_type, body)) = found.filter(|_| version == asset_version()) else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!(
                "no asset {path} of version {version} (this server's is {})",
                asset_version()
            ),
        ));
    };
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(guarded(response))
}

/// The security headers of the page and its assets.
fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
