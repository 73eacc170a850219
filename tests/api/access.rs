//! Access with `--auth`: 401 without or with an unknown token on every protected
//! endpoint, 403 for a filter or a compared unit outside the scope, and unfiltered
//! questions that see only the caller's scope.

use serde_json::Value;
use wirkung::api::Limits;
use wirkung::api::auth::Keys;

use super::{Answer, Server, invitations};

// Bearer tokens; the auth file holds their SHA-256 only.
const ADMIN: &str = "admin-token";
const ONLY_J1: &str = "j1-token";
const J1_AND_J3: &str = "j13-token";

fn sha256(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn keys() -> Keys {
    let entry = |name: &str, token: &str, role: &str, scope: &str| {
        format!(
            "[[keys]]\nname = \"{name}\"\ntoken_sha256 = \"{}\"\nrole = \"{role}\"\njobcenters = {scope}\n\n",
            sha256(token)
        )
    };
    let text = [
        entry("ministry", ADMIN, "admin", "[\"*\"]"),
        entry("controlling-j1", ONLY_J1, "reader", "[\"J1\"]"),
        entry("region-j1-j3", J1_AND_J3, "reader", "[\"J1\", \"J3\"]"),
    ]
    .concat();
    Keys::parse(&text).expect("auth file")
}

async fn server() -> Server {
    Server::start(invitations().written(), Some(keys()), Limits::default()).await
}

const PROTECTED: [&str; 8] = [
    "/api/v1/indicators",
    "/api/v1/units",
    "/api/v1/indicators/S6",
    "/api/v1/indicators/S6/values?from=2017-12",
    "/api/v1/indicators/S6/compare?month=2017-12&across=district_id",
    "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe",
    "/api/v1/targets?jobcenter_id=J1",
    "/api/v1/openapi.json",
];

#[tokio::test]
async fn every_protected_endpoint_wants_a_known_token() {
    let server = server().await;
    for path in PROTECTED {
        let missing = server.get(path).await;
        missing.problem(401, None);
        assert!(missing.headers.get("www-authenticate").is_some(), "{path}");
        server
            .get_with(path, Some("not-a-token"), &[])
            .await
            .problem(401, None);
        // The hash itself is not a token.
        server
            .get_with(path, Some(&sha256(ADMIN)), &[])
            .await
            .problem(401, None);
        let ok = server.get_with(path, Some(ADMIN), &[]).await;
        assert_eq!(ok.status, 200, "{path}: {}", ok.body);
    }
    // health stays open.
    assert_eq!(server.get("/api/v1/health").await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_filter_or_compared_unit_outside_the_scope_is_forbidden() {
    let server = server().await;
    let forbidden = |a: Answer, param: &str| {
        a.problem(403, Some(param));
    };
    let t = Some(ONLY_J1);
    let base = "/api/v1/indicators/S6";
    for (path, param) in [
        (
            format!("{base}/values?from=2017-12&jobcenter_id=J2"),
            "jobcenter_id",
        ),
        (
            format!("{base}/values?from=2017-12&district_id=J2-A"),
            "district_id",
        ),
        // Comparison type IIa holds J1 and J3.
        (
            format!("{base}/values?from=2017-12&comparison_type=IIa"),
            "comparison_type",
        ),
        (
            format!("{base}/values?from=2017-12&jobcenter_id=J9"),
            "jobcenter_id",
        ),
        (
            format!("{base}/compare?month=2017-12&across=district_id&jobcenter_id=J2"),
            "jobcenter_id",
        ),
        (
            format!("{base}/compare?month=2017-12&across=jobcenter_id&comparison_type=IIa"),
            "comparison_type",
        ),
        (
            format!(
                "{base}/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&district_id=J3-A"
            ),
            "district_id",
        ),
        (
            format!("{base}/contrast?month=2017-12&dimension=jobcenter_id&groups=J1,J2"),
            "groups",
        ),
    ] {
        forbidden(server.get_with(&path, t, &[]).await, param);
    }
    // Refusals name only the caller's own jobcenters.
    let p = server
        .get_with(
            &format!("{base}/values?from=2017-12&comparison_type=IIa"),
            t,
            &[],
        )
        .await
        .problem(403, Some("comparison_type"));
    assert!(!p["detail"].as_str().unwrap().contains("J3"), "{p}");
    // The same questions inside the scope are answered.
    for path in [
        format!("{base}/values?from=2017-12&jobcenter_id=J1"),
        format!("{base}/values?from=2017-12&district_id=J1-B"),
        format!("{base}/compare?month=2017-12&across=district_id&jobcenter_id=J1"),
    ] {
        assert_eq!(server.get_with(&path, t, &[]).await.status, 200, "{path}");
    }
    // J1 and J3 make up comparison type IIa: the region key may filter by it.
    let region = server
        .get_with(
            &format!("{base}/values?from=2017-12&comparison_type=IIa"),
            Some(J1_AND_J3),
            &[],
        )
        .await;
    assert_eq!(region.status, 200, "{}", region.body);
    let types = server
        .get_with(
            &format!("{base}/values?from=2017-12&by=comparison_type"),
            Some(J1_AND_J3),
            &[],
        )
        .await;
    assert_eq!(types.status, 200, "{}", types.body);
    server.stop().await;
}

/// (jobcenter, format, suppression) of each row of an answer by both.
fn suppression_pattern(v: &Value) -> Vec<(String, String, String)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            (
                text("jobcenter_id"),
                text("invitation_format"),
                text("suppressed"),
            )
        })
        .collect()
}

fn numbers(v: &Value) -> Vec<(Option<f64>, Option<f64>)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["numerator"].as_f64(), r["denominator"].as_f64()))
        .collect()
}

#[tokio::test]
async fn unfiltered_questions_see_only_the_callers_scope() {
    let server = server().await;
    let get = |path: String, token: &'static str| {
        let server = &server;
        async move {
            let a = server.get_with(&path, Some(token), &[]).await;
            assert_eq!(a.status, 200, "{path}: {}", a.body);
            a.json()
        }
    };
    let base = "/api/v1/indicators/S6";
    // The J1 key's total is J1's total (5 + 9 attended of 11 + 15), not everyone's.
    let mine = get(format!("{base}/values?from=2017-12"), ONLY_J1).await;
    assert_eq!(numbers(&mine), [(Some(14.0), Some(26.0))]);
    let admin_j1 = get(format!("{base}/values?from=2017-12&jobcenter_id=J1"), ADMIN).await;
    assert_eq!(mine["rows"], admin_j1["rows"]);
    // By district: J1's two districts only.
    let districts = get(
        format!("{base}/values?from=2017-12&by=district_id"),
        ONLY_J1,
    )
    .await;
    let ids: Vec<&str> = districts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["district_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["J1-A", "J1-B"]);
    // compare without filter: J1's districts, pooled over J1.
    let c = get(
        format!("{base}/compare?month=2017-12&across=district_id"),
        ONLY_J1,
    )
    .await;
    assert_eq!(c["units"].as_array().unwrap().len(), 2);
    assert_eq!(c["pooled"]["numerator"], 14.0);
    assert_eq!(c["pooled"]["denominator"], 26.0);
    // A key for J1 and J3: the total is summed over both (14 + 12 of 26 + 19) ...
    let region = get(format!("{base}/values?from=2017-12"), J1_AND_J3).await;
    assert_eq!(numbers(&region), [(Some(26.0), Some(45.0))]);
    assert_eq!(region["rows"][0]["status"], "available");
    // ... and by format, summed from the jobcenters' cells as everyone sees them: a sum
    // is published only when both parts are. Primary are exactly the counts of 1 and 2
    // (J1's 2 attended group sessions, J2's 2 attended letters and 1 group session).
    let admin_cells = get(
        format!("{base}/values?from=2017-12&by=jobcenter_id,invitation_format"),
        ADMIN,
    )
    .await;
    let cell = |j: &str, f: &str| {
        admin_cells["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["jobcenter_id"] == j && r["invitation_format"] == f)
            .cloned()
            .unwrap()
    };
    let primaries: Vec<(String, String)> = admin_cells["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["suppressed"] == "primary")
        .map(|r| {
            (
                r["jobcenter_id"].as_str().unwrap().into(),
                r["invitation_format"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        primaries,
        [
            ("J1".into(), "group_info".into()),
            ("J2".into(), "standard".into()),
            ("J2".into(), "group_info".into())
        ]
    );
    let by_format = get(
        format!("{base}/values?from=2017-12&by=invitation_format"),
        J1_AND_J3,
    )
    .await;
    for (i, format) in ["standard", "contact_cafe", "group_info"]
        .into_iter()
        .enumerate()
    {
        let (a, b) = (cell("J1", format), cell("J3", format));
        let want = match (a["numerator"].as_f64(), b["numerator"].as_f64()) {
            (Some(x), Some(y)) => (
                Some(x + y),
                Some(a["denominator"].as_f64().unwrap() + b["denominator"].as_f64().unwrap()),
            ),
            _ => (None, None),
        };
        assert_eq!(numbers(&by_format)[i], want, "{format}");
        if want.0.is_none() {
            assert_eq!(by_format["rows"][i]["suppressed"], "secondary");
        }
    }
    let pattern = suppression_pattern(&admin_cells);
    // The breakdown asked in the other order is suppressed alike (one table).
    let reversed = get(
        format!("{base}/values?from=2017-12&by=invitation_format,jobcenter_id"),
        ADMIN,
    )
    .await;
    let mut pattern_reversed = suppression_pattern(&reversed);
    assert_eq!(reversed["rows"][0]["invitation_format"], "standard");
    pattern_reversed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(pattern_reversed, pattern);
    // A contrast without filters is J1's, suppressed as for everyone.
    let mine = get(
        format!(
            "{base}/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe"
        ),
        ONLY_J1,
    )
    .await;
    let admin = get(format!("{base}/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&jobcenter_id=J1"), ADMIN).await;
    assert_eq!(mine["groups"], admin["groups"]);
    assert_eq!(mine["groups"].as_array().map(Vec::len), Some(2));
    // Across jobcenters the region key compares its own two.
    let c = get(
        format!("{base}/compare?month=2017-12&across=jobcenter_id"),
        J1_AND_J3,
    )
    .await;
    let units: Vec<&str> = c["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["J1", "J3"]);
    server.stop().await;
}

#[tokio::test]
async fn kept_answers_are_per_scope() {
    // The server keeps finished answers; a kept answer must never reach a caller with
    // another scope. Ask the same path in turns and check each caller's numbers.
    let server = server().await;
    let path = "/api/v1/indicators/S6/values?from=2017-12";
    let mut seen = Vec::new();
    for _ in 0..2 {
        for (token, expected) in [
            (ONLY_J1, (14.0, 26.0)),
            (J1_AND_J3, (26.0, 45.0)),
            (ONLY_J1, (14.0, 26.0)),
        ] {
            let a = server.get_with(path, Some(token), &[]).await;
            assert_eq!(a.status, 200, "{}", a.body);
            let v = a.json();
            assert_eq!(
                numbers(&v),
                [(Some(expected.0), Some(expected.1))],
                "{token}"
            );
            seen.push((token, a.body));
        }
    }
    // Repeated answers are byte-identical.
    for (token, body) in &seen {
        let first = &seen.iter().find(|(t, _)| t == token).unwrap().1;
        assert_eq!(body, first);
    }
    // Sixteen callers asking a new question at once share one computation; each gets
    // the whole answer.
    let path = "/api/v1/indicators/S6/values?from=2017-11&to=2017-12&by=district_id";
    let answers =
        futures::future::join_all((0..16).map(|_| server.get_with(path, Some(ADMIN), &[]))).await;
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body, answers[0].body);
    }
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_declares_security_only_when_tokens_are_checked() {
    let operations = |doc: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((format!("{method} {path}"), op.clone()));
            }
        }
        out
    };
    let open = Server::start(invitations().written(), None, Limits::default()).await;
    let doc = open.ok("/api/v1/openapi.json").await;
    for (name, op) in operations(&doc) {
        assert!(
            op.get("security").is_none(),
            "{name} wants a token on an open server"
        );
    }
    assert!(doc["components"].get("securitySchemes").is_none());
    open.stop().await;

    let guarded = server().await;
    let doc = guarded
        .get_with("/api/v1/openapi.json", Some(ONLY_J1), &[])
        .await
        .json();
    for (name, op) in operations(&doc) {
        let wants = op["security"][0].get("bearer").is_some();
        assert_eq!(wants, name != "get /api/v1/health", "{name}");
    }
    guarded.stop().await;
}

#[tokio::test]
async fn an_adjusted_comparison_in_scope_may_use_the_published_reference_rates() {
    // J1's key compares J1's districts adjusted for sex against the whole extract's or
    // the comparison type's rates (published aggregates) and sees no other unit.
    let server = server().await;
    for reference in ["compared", "all", "comparison_type"] {
        let a = server
            .get_with(
                &format!(
                    "/api/v1/indicators/S6/compare?month=2017-12&across=district_id&adjust=sex&reference={reference}"
                ),
                Some(ONLY_J1),
                &[],
            )
            .await;
        assert_eq!(a.status, 200, "{reference}: {}", a.body);
        let c = a.json();
        let units: Vec<&str> = c["units"]
            .as_array()
            .expect("units")
            .iter()
            .map(|u| u["unit"].as_str().expect("id"))
            .collect();
        assert_eq!(units, ["J1-A", "J1-B"], "{reference}");
        assert_eq!(c["adjustment"]["reference"], reference);
        for u in c["units"].as_array().expect("units") {
            assert!(u["adjusted"].is_object(), "{u}");
        }
    }
    // Targets of a foreign jobcenter are forbidden; its own (none in this fixture) are
    // an empty list.
    server
        .get_with("/api/v1/targets?jobcenter_id=J2", Some(ONLY_J1), &[])
        .await
        .problem(403, Some("jobcenter_id"));
    let own = server
        .get_with("/api/v1/targets?jobcenter_id=J1", Some(ONLY_J1), &[])
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["targets"], serde_json::json!([]));
    // The stratified contrast stays in scope too.
    let a = server
        .get_with(
            "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&adjust=sex&district_id=J2-A",
            Some(ONLY_J1),
            &[],
        )
        .await;
    a.problem(403, Some("district_id"));
    server.stop().await;
}

#[tokio::test]
async fn units_are_only_those_of_the_callers_scope() {
    let server = server().await;
    let ids = |v: Value| -> Vec<String> {
        v["jobcenters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["jobcenter_id"].as_str().unwrap().to_string())
            .collect()
    };
    for (token, want) in [
        (ADMIN, vec!["J1", "J2", "J3"]),
        (ONLY_J1, vec!["J1"]),
        (J1_AND_J3, vec!["J1", "J3"]),
    ] {
        let answer = server.get_with("/api/v1/units", Some(token), &[]).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(ids(answer.json()), want, "{token}");
    }
    server.stop().await;
}
