//! Every endpoint over HTTP with its status and content type, against values worked out
//! by hand from the invitations fixture (see `INVITATIONS` in `api/mod.rs`).

use serde_json::{Value, json};
use wirkung::api::Limits;
use wirkung::stats;

use super::{Server, invitations};

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - want).abs() < 5e-4, "{got} vs {want}");
}

fn pct(x: f64) -> f64 {
    (x * 100_000.0).round() / 1000.0
}

#[tokio::test]
async fn health_reports_version_load_time_and_span() {
    let server = Server::fixture().await;
    let h = server.ok("/api/v1/health").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(
        h["data"]["span"],
        json!({"from": "2016-01", "to": "2017-12"})
    );
    assert_eq!(h["data"]["version"].as_str().map(str::len), Some(16));
    let loaded = h["data"]["loaded_at"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(loaded).is_ok(),
        "{loaded}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_catalogue_lists_every_indicator_with_its_definition() {
    let server = Server::fixture().await;
    let list = server.ok("/api/v1/indicators").await;
    let codes: Vec<&str> = list["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    // 25 indicators and the four comparison groups of P1–P4 (P1V–P4V).
    assert_eq!(codes.len(), 29);
    assert!(codes.contains(&"K2") && codes.contains(&"S6") && codes.contains(&"P4"));
    let s6 = server.ok("/api/v1/indicators/S6").await;
    assert_eq!(s6["kind"], "extension");
    assert_eq!(s6["display"], "share");
    assert_eq!(s6["polarity"], "higher_is_better");
    assert_eq!(s6["interval"], "wilson");
    assert!(
        s6["dimensions"]
            .as_array()
            .unwrap()
            .contains(&json!("invitation_format"))
    );
    assert_eq!(s6["definition"]["numerator"]["block"], "invitation_counts");
    assert_eq!(s6["definition"]["denominator"]["window"]["months"], 12);
    server.stop().await;
}

#[tokio::test]
async fn values_by_district_match_the_hand_counts() {
    let server = Server::fixture().await;
    let v = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&by=district_id")
        .await;
    assert_eq!(v["indicator"], "S6");
    assert_eq!(v["unit"], "percent");
    assert_eq!(v["disclosure"]["min_count"], 3);
    // Attended / invitations of 2017 per district (the fixture's table).
    let want = [
        ("J1-A", 5.0, 11.0),
        ("J1-B", 9.0, 15.0),
        ("J2-A", 8.0, 18.0),
        ("J3-A", 12.0, 19.0),
    ];
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for (row, (district, n, d)) in rows.iter().zip(want) {
        let (lo, hi) = stats::wilson(n, d, 0.95).unwrap();
        assert_eq!(
            row,
            &json!({"month": "2017-12", "district_id": district,
                "numerator": n, "denominator": d, "value": pct(n / d),
                "ci_low": pct(lo), "ci_high": pct(hi),
                "numerator_count": n, "denominator_count": d,
                "status": "available", "reason": null, "suppressed": null})
        );
    }
    // Without `by`: one row per month over everything; `to` defaults to `from`.
    let total = server
        .ok("/api/v1/indicators/S6/values?from=2017-11&to=2017-12")
        .await;
    let rows = total["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["numerator"], 34.0);
    assert_eq!(rows[1]["denominator"], 63.0);
    server.stop().await;
    // A filter and the S6 dimension `format` (a value other than csv/json is a filter);
    // without disclosure control, so that every cell shows.
    let limits = Limits {
        min_count: 0,
        ..Limits::default()
    };
    let server = Server::start(invitations().written(), None, limits).await;
    let cafe = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&invitation_format=contact_cafe&by=jobcenter_id")
        .await;
    let cells: Vec<(String, f64, f64)> = cafe["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "available")
        .map(|r| {
            (
                r["jobcenter_id"].as_str().unwrap().to_string(),
                r["numerator"].as_f64().unwrap(),
                r["denominator"].as_f64().unwrap(),
            )
        })
        .collect();
    // J1: 1 + 4 of 1 + 5, J2: 5 of 7, J3: 3 of 6 — none small at jobcenter level.
    assert_eq!(
        cells,
        [
            ("J1".into(), 5.0, 6.0),
            ("J2".into(), 5.0, 7.0),
            ("J3".into(), 3.0, 6.0)
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn values_as_csv_by_format_parameter_and_by_accept_header() {
    let server = Server::fixture().await;
    let by_param = server
        .get("/api/v1/indicators/S6/values?from=2017-12&by=jobcenter_id&format=csv")
        .await;
    assert_eq!(by_param.status, 200);
    assert_eq!(by_param.content_type, "text/csv");
    let lines: Vec<&str> = by_param.body.lines().collect();
    assert_eq!(
        lines[0],
        "month,jobcenter_id,numerator,denominator,value,ci_low,ci_high,numerator_count,denominator_count,status,reason,suppressed"
    );
    // J1: 5 + 9 attended of 11 + 15.
    assert!(
        lines[1].starts_with("2017-12,J1,14,26,53.846,"),
        "{}",
        lines[1]
    );
    assert_eq!(lines.len(), 4);
    let by_accept = server
        .get_with(
            "/api/v1/indicators/S6/values?from=2017-12&by=jobcenter_id",
            None,
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(by_accept.content_type, "text/csv");
    assert_eq!(by_accept.body, by_param.body);
    server.stop().await;
}

#[tokio::test]
async fn compare_ranks_districts_against_the_pooled_value_and_its_funnel() {
    let server = Server::fixture().await;
    let c = server
        .ok("/api/v1/indicators/S6/compare?month=2017-12&across=district_id")
        .await;
    assert_eq!(c["indicator"], "S6");
    assert_eq!(c["month"], "2017-12");
    assert_eq!(c["across"], "district_id");
    // Pooled: 34 attended of 63 invitations.
    assert_eq!(c["pooled"]["numerator"], 34.0);
    assert_eq!(c["pooled"]["denominator"], 63.0);
    close(&c["pooled"]["value"], 100.0 * 34.0 / 63.0);
    let p0 = 34.0 / 63.0;
    // Values 45.5, 60.0, 44.4, 63.2 %: higher is better for S6.
    let want = [
        ("J1-A", "Nord", 5.0, 11.0, 3),
        ("J1-B", "Süd", 9.0, 15.0, 2),
        ("J2-A", "Mitte", 8.0, 18.0, 4),
        ("J3-A", "West", 12.0, 19.0, 1),
    ];
    let units = c["units"].as_array().unwrap();
    assert_eq!(units.len(), 4);
    for (u, (id, name, n, d, rank)) in units.iter().zip(want) {
        assert_eq!(u["unit"], id);
        assert_eq!(u["name"], name);
        assert_eq!(u["numerator"], n);
        assert_eq!(u["denominator"], d);
        assert_eq!(u["rank"], rank);
        for (key, level) in [("funnel95", 0.95), ("funnel998", 0.998)] {
            let (lo, hi) = stats::funnel::binomial_funnel(p0, d, level).unwrap();
            close(&u[key][0], 100.0 * lo);
            close(&u[key][1], 100.0 * hi);
        }
        let (lo, hi) = (
            u["funnel998"][0].as_f64().unwrap(),
            u["funnel998"][1].as_f64().unwrap(),
        );
        let (lo95, hi95) = (
            u["funnel95"][0].as_f64().unwrap(),
            u["funnel95"][1].as_f64().unwrap(),
        );
        assert!(lo <= lo95 && lo95 <= 100.0 * p0 && 100.0 * p0 <= hi95 && hi95 <= hi);
        // With 11 to 19 invitations no district is outside even the 95 % limits.
        assert_eq!(u["flag"], "within");
        assert_eq!(u["flag95"], "within");
        assert_eq!(u["status"], "available");
    }
    server.stop().await;
}

#[tokio::test]
async fn compare_of_a_change_indicator_ranks_without_funnels() {
    let server = Server::fixture().await;
    // K1E2, eLb stock against a year before: every district kept its three persons
    // (change 0 %), so all share rank 1; a change has no interval and no funnel.
    let c = server
        .ok("/api/v1/indicators/K1E2/compare?month=2017-12&across=district_id")
        .await;
    assert_eq!(c["pooled"]["numerator"], 12.0);
    assert_eq!(c["pooled"]["denominator"], 12.0);
    assert_eq!(c["pooled"]["value"], 0.0);
    let units = c["units"].as_array().unwrap();
    assert_eq!(units.len(), 4);
    for u in units {
        assert_eq!(u["numerator"], 3.0);
        assert_eq!(u["value"], 0.0);
        assert_eq!(u["rank"], 1);
        for key in [
            "ci_low",
            "ci_high",
            "funnel95",
            "funnel998",
            "flag",
            "flag95",
        ] {
            assert_eq!(u[key], Value::Null, "{key}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn contrast_two_formats_with_z_test_and_newcombe_interval() {
    let limits = Limits {
        min_count: 0,
        ..Limits::default()
    };
    let server = Server::start(invitations().written(), None, limits).await;
    let c = server
        .ok("/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe")
        .await;
    assert_eq!(c["dimension"], "invitation_format");
    assert_eq!(c["disclosure"]["min_count"], 0);
    // standard 15 of 34, contact café 13 of 19 (sums of the fixture's columns).
    assert_eq!(c["groups"][0]["group"], "standard");
    assert_eq!(c["groups"][0]["numerator"], 15.0);
    assert_eq!(c["groups"][0]["denominator"], 34.0);
    assert_eq!(c["groups"][1]["numerator"], 13.0);
    assert_eq!(c["groups"][1]["denominator"], 19.0);
    // statsmodels 0.15: confint_proportions_2indep(15, 34, 13, 19, method="newcomb",
    // compare="diff") = (-0.4655182129307279, 0.0348384146315075)
    close(
        &c["difference"]["value"],
        100.0 * (15.0 / 34.0 - 13.0 / 19.0),
    );
    close(&c["difference"]["ci_low"], -46.55182129307279);
    close(&c["difference"]["ci_high"], 3.48384146315075);
    close(&c["relative_risk"], 0.6447963800904977);
    // Smallest expected count 19·25/53 = 8.96 ≥ 5: z-test. statsmodels 0.15:
    // proportions_ztest([15, 13], [34, 19]) = (-1.699700132253997, 0.08918734446520155)
    assert_eq!(c["test"]["name"], "two_proportion_z");
    close(&c["test"]["statistic"], -1.699700132253997);
    close(&c["test"]["p_value"], 0.08918734446520155);

    // Jobcenter J1 only: standard 7 of 16, contact café 5 of 6; expected 6·12/22 = 3.3 < 5.
    let c = server
        .ok("/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&jobcenter_id=J1")
        .await;
    assert_eq!(c["groups"][0]["numerator"], 7.0);
    assert_eq!(c["groups"][1]["denominator"], 6.0);
    // scipy 1.17: fisher_exact([[7, 9], [5, 1]]) = (0.15555555555555556, 0.16187527642636004)
    assert_eq!(c["test"]["name"], "fisher_exact");
    close(&c["test"]["statistic"], 0.155556);
    close(&c["test"]["p_value"], 0.16187527642636004);
    // statsmodels: confint_proportions_2indep(7, 16, 5, 6, method="newcomb", compare="diff")
    close(&c["difference"]["ci_low"], -64.34439321408594);
    close(&c["difference"]["ci_high"], 6.319617041562853);

    // Three groups: chi-square of homogeneity, no difference or ratio. scipy 1.17:
    // chi2_contingency([[15, 19], [13, 6], [6, 4]], correction=False)
    //   = (3.072060550493282, 0.21523382681468362, dof 2)
    let c = server
        .ok("/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe,group_info")
        .await;
    assert_eq!(c["groups"].as_array().unwrap().len(), 3);
    assert_eq!(c["difference"], Value::Null);
    assert_eq!(c["relative_risk"], Value::Null);
    assert_eq!(c["test"]["name"], "chi_square");
    assert_eq!(c["test"]["df"], 2);
    close(&c["test"]["statistic"], 3.072061);
    close(&c["test"]["p_value"], 0.21523382681468362);
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let server = Server::fixture().await;
    let doc = server.ok("/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/health",
        "/api/v1/indicators",
        "/api/v1/indicators/{code}",
        "/api/v1/indicators/{code}/values",
        "/api/v1/indicators/{code}/compare",
        "/api/v1/indicators/{code}/contrast",
        "/api/v1/openapi.json",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    server.stop().await;
}
