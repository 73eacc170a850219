//! Bad requests get RFC 9457 problems naming the parameter; limits answer clearly;
//! unknown routes and methods are problems too.

use std::time::Duration;

use wirkung::api::Limits;

use super::{Server, invitations};

#[tokio::test]
async fn bad_parameters_are_problems_that_name_them() {
    let server = Server::fixture().await;
    let v = "/api/v1/indicators/S6/values";
    let c = "/api/v1/indicators/S6/compare";
    let k = "/api/v1/indicators/S6/contrast";
    let cases: Vec<(String, u16, Option<&str>)> = vec![
        // unknown indicator, on every endpoint that names one
        ("/api/v1/indicators/K99".into(), 404, None),
        (
            "/api/v1/indicators/K99/values?from=2017-12".into(),
            404,
            None,
        ),
        (
            "/api/v1/indicators/K99/compare?month=2017-12&across=district_id".into(),
            404,
            None,
        ),
        (
            "/api/v1/indicators/K99/contrast?month=2017-12&dimension=invitation_format&groups=a,b"
                .into(),
            404,
            None,
        ),
        // months
        (v.to_string(), 400, Some("from")),
        (format!("{v}?from=2017-13"), 400, Some("from")),
        (format!("{v}?from=17-12"), 400, Some("from")),
        (format!("{v}?from=2017-12&to=2017-1x"), 400, Some("to")),
        (format!("{v}?from=2017-12&to=2017-01"), 400, Some("from")),
        (
            format!("{c}?month=2017-00&across=district_id"),
            400,
            Some("month"),
        ),
        (
            format!("{k}?dimension=invitation_format&groups=standard,contact_cafe"),
            400,
            Some("month"),
        ),
        // dimensions
        (format!("{v}?from=2017-12&by=colour"), 400, Some("by")),
        (format!("{v}?from=2017-12&by=sex,sex"), 400, Some("by")),
        (format!("{v}?from=2017-12&by=sex,"), 400, Some("by")),
        (format!("{v}?from=2017-12&colour=red"), 400, Some("colour")),
        (format!("{v}?from=2017-12&sex=x"), 400, Some("sex")),
        (format!("{v}?from=2017-12&sex=d"), 400, Some("sex")),
        (format!("{v}?from=2017-12&sex="), 400, Some("sex")),
        (format!("{v}?from=2017-12&from=2017-11"), 400, Some("from")),
        // dimensions this indicator does not accept
        (
            "/api/v1/indicators/K2/values?from=2017-12&by=invitation_format".into(),
            400,
            Some("by"),
        ),
        (
            "/api/v1/indicators/K2/values?from=2017-12&programme=x".into(),
            400,
            Some("programme"),
        ),
        (
            format!("{v}?from=2017-12&programme=x"),
            400,
            Some("programme"),
        ),
        // compare
        (format!("{c}?month=2017-12"), 400, Some("across")),
        (format!("{c}?month=2017-12&across=sex"), 400, Some("across")),
        // the adjusted mode: unknown dimension, one the indicator lacks, a unit, a
        // change indicator, too many strata for the profile, a bad reference
        (format!("{c}?month=2017-12&across=district_id&adjust=colour"), 400, Some("adjust")),
        (
            "/api/v1/indicators/K2/compare?month=2017-12&across=district_id&adjust=invitation_format"
                .into(),
            400,
            Some("adjust"),
        ),
        (format!("{c}?month=2017-12&across=district_id&adjust=jobcenter_id"), 400, Some("adjust")),
        (format!("{c}?month=2017-12&across=district_id&adjust=sex,"), 400, Some("adjust")),
        (
            "/api/v1/indicators/K1E2/compare?month=2017-12&across=district_id&adjust=sex".into(),
            400,
            Some("adjust"),
        ),
        (
            format!("{c}?month=2017-12&across=district_id&adjust=sex,age_group,citizenship"),
            400,
            Some("adjust"),
        ),
        (
            format!("{c}?month=2017-12&across=district_id&adjust=sex,age_group&invitation_format=standard"),
            400,
            Some("adjust"),
        ),
        (format!("{c}?month=2017-12&across=district_id&adjust=sex&reference=mine"), 400, Some("reference")),
        (format!("{c}?month=2017-12&across=district_id&overdispersion=yes"), 400, Some("overdispersion")),
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&adjust=sex,age_group"),
            400,
            Some("adjust"),
        ),
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe,group_info&adjust=sex"),
            400,
            Some("adjust"),
        ),
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&adjust=invitation_format"),
            400,
            Some("adjust"),
        ),
        // contrast: bad group lists, dimensions, and non-share indicators
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard"),
            400,
            Some("groups"),
        ),
        (
            format!("{k}?month=2017-12&dimension=invitation_format"),
            400,
            Some("groups"),
        ),
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard,,contact_cafe"),
            400,
            Some("groups"),
        ),
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard,standard"),
            400,
            Some("groups"),
        ),
        (
            format!("{k}?month=2017-12&dimension=invitation_format&groups=standard,letter"),
            400,
            Some("groups"),
        ),
        (
            format!("{k}?month=2017-12&groups=standard,contact_cafe"),
            400,
            Some("dimension"),
        ),
        (
            format!("{k}?month=2017-12&dimension=colour&groups=a,b"),
            400,
            Some("dimension"),
        ),
        (
            format!(
                "{k}?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&invitation_format=standard"
            ),
            400,
            Some("invitation_format"),
        ),
        // `format` is the rendering only
        (
            format!("{v}?from=2017-12&format=contact_cafe"),
            400,
            Some("format"),
        ),
        (
            "/api/v1/indicators/K2/contrast?month=2017-12&dimension=sex&groups=f,m".into(),
            400,
            Some("code"),
        ),
        // an unknown indicator is a 404 before any parameter is checked
        ("/api/v1/indicators/K99/values".into(), 404, None),
        ("/api/v1/indicators/K99/compare".into(), 404, None),
        // compare and contrast answer JSON, CSV and spreadsheets, nothing else
        (
            format!("{c}?month=2017-12&across=district_id&format=pdf"),
            400,
            Some("format"),
        ),
        // undecodable query
        (format!("{v}?from=%FF"), 400, None),
    ];
    for (path, status, param) in cases {
        let answer = server.get(&path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        answer.problem(status, param);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let server = Server::fixture().await;
    server.get("/api/v1/nothing").await.problem(404, None);
    server.get("/nothing").await.problem(404, None);
    server.get("/assets/0/app.js").await.problem(404, None);
    let post = server
        .client()
        .post(format!("{}/api/v1/indicators", server.base))
        .send()
        .await
        .expect("request");
    assert_eq!(post.status().as_u16(), 405);
    assert_eq!(
        post.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    server.stop().await;
}

#[tokio::test]
async fn row_and_time_limits_answer_with_a_clear_problem() {
    let limits = Limits {
        max_rows: 10,
        ..Limits::default()
    };
    let server = Server::start(invitations().written(), None, limits).await;
    // 12 months × 4 districts = 48 rows > 10; refused before computing.
    let p = server
        .get("/api/v1/indicators/S6/values?from=2017-01&to=2017-12&by=district_id")
        .await
        .problem(400, None);
    assert_eq!(p["type"], "urn:wirkung:problem:too-many-rows");
    assert!(p["detail"].as_str().unwrap().contains("48 rows"));
    // 2 months × 4 districts = 8 rows are fine.
    let ok = server
        .get("/api/v1/indicators/S6/values?from=2017-11&to=2017-12&by=district_id")
        .await;
    assert_eq!(ok.status, 200);
    server.stop().await;

    let limits = Limits {
        // No time at all: refused deterministically once a slot is free.
        query_timeout: Duration::ZERO,
        ..Limits::default()
    };
    let server = Server::start(invitations().written(), None, limits).await;
    let p = server
        .get("/api/v1/indicators/S6/values?from=2017-12")
        .await
        .problem(503, None);
    assert_eq!(p["type"], "urn:wirkung:problem:query-timeout");
    // health does not run queries and still answers.
    assert_eq!(server.get("/api/v1/health").await.status, 200);
    server.stop().await;
}
