//! A new breakdown from files alone: a building block that derives a dimension in SQL
//! (`lzb_status`, from the LZB flag of `person_months`, and the flag itself as the
//! Boolean `long_term`) and a definition that uses them,
//! added beside the project's own `queries/` and `indicators/` with no Rust change, are
//! asked for by `by=`, as a filter, as CSV and through `compare`, at the public
//! threshold; the served OpenAPI document lists the dimension.

use std::path::Path;

use wirkung::api::Limits;
use wirkung::open::{Project, Sources};

use super::{Server, invitations};

const BLOCK: &str = r#"-- name = "stock_by_lzb_status"
-- kind = "block"
-- description = """eLb rows by unit and LZB status, a breakdown derived in SQL."""
-- requires = ["person_months"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "lzb_status", "long_term"]
-- [measures]
-- elb = { description = "eLb rows", lookback = 23 }
-- elb_women = { description = "eLb rows of women", lookback = 23 }
SELECT
    month, jobcenter_id, district_id, comparison_type,
    CASE WHEN lzb THEN 'long_term' ELSE 'short_term' END AS lzb_status,
    lzb AS long_term,
    CAST(SUM(CASE WHEN elb THEN 1 ELSE 0 END) AS DOUBLE) AS elb,
    CAST(SUM(CASE WHEN elb AND sex = 'f' THEN 1 ELSE 0 END) AS DOUBLE) AS elb_women
FROM person_months
GROUP BY month, jobcenter_id, district_id, comparison_type,
    CASE WHEN lzb THEN 'long_term' ELSE 'short_term' END, lzb
"#;

const DEFINITION: &str = r#"code = "X1"
name_de = "Frauenanteil am eLb-Bestand"
name_en = "Share of women in the eLb stock"
goal = 4
kind = "extension"
display = "share"
polarity = "neutral"
legal_basis = "Beispiel einer abgeleiteten Aufteilung"
description_de = "Anteil der Frauen an den eLb des Berichtsmonats, nach LZB-Status aufteilbar."

[numerator]
block = "stock_by_lzb_status"
measure = "elb_women"

[denominator]
block = "stock_by_lzb_status"
measure = "elb"
"#;

/// The project's own definitions and blocks, plus the two files above.
fn with_new_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (queries, indicators) = (dir.join("queries"), dir.join("indicators"));
    for (from, to) in [
        (Project::DEFAULT_QUERIES, &queries),
        (Project::DEFAULT_INDICATORS, &indicators),
    ] {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    std::fs::write(queries.join("stock_by_lzb_status.sql"), BLOCK).expect("block");
    std::fs::write(indicators.join("X1.toml"), DEFINITION).expect("definition");
    (queries, indicators)
}

#[tokio::test]
async fn a_breakdown_derived_in_sql_is_asked_for_with_no_rust_change() {
    let files = tempfile::TempDir::new().expect("tempdir");
    let (queries, indicators) = with_new_files(files.path());
    let data = invitations().written();
    let sources = Sources {
        data: data.path().to_path_buf(),
        indicators,
        queries,
        ..super::sources(data.path())
    };
    let server = Server::load(sources, None, Limits::default(), None).await;
    let x1 = "/api/v1/indicators/X1";

    // J1's row of an answer by jobcenter: (numerator, denominator).
    let j1 = |v: &serde_json::Value, extra: &[(&str, serde_json::Value)]| {
        let row = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["jobcenter_id"] == "J1" && extra.iter().all(|(k, x)| r[*k] == *x))
            .cloned()
            .unwrap_or_else(|| panic!("no row J1 {extra:?}: {v}"));
        (
            row["numerator"].clone(),
            row["denominator"].clone(),
            row["status"].clone(),
        )
    };

    // By the new dimension: every person of the fixture is eLb from 2016-01, so by
    // 2017-12 all are LZB (eLb in 24 of 24 months); three per district, two of them
    // women. Jobcenter J1 has two districts: 4 women of 6.
    let v = server
        .ok(&format!(
            "{x1}/values?from=2017-12&by=jobcenter_id,lzb_status"
        ))
        .await;
    assert_eq!(
        j1(&v, &[("lzb_status", "long_term".into())]),
        (4.0.into(), 6.0.into(), "available".into())
    );

    // A Boolean column of the block is a Boolean dimension, whatever its name: JSON
    // Booleans in answers, `true`/`false` as a filter.
    let v = server
        .ok(&format!(
            "{x1}/values?from=2017-12&by=long_term&long_term=true"
        ))
        .await;
    assert_eq!(v["rows"][0]["long_term"], true, "{v}");
    assert_eq!(v["rows"][0]["denominator"], 12.0, "{v}");

    // As a filter: long-term keeps J1's 4 of 6, short-term (nobody) leaves 0 of 0.
    let filtered = |status: &'static str| {
        let server = &server;
        async move {
            server
                .ok(&format!(
                    "{x1}/values?from=2017-12&by=jobcenter_id&lzb_status={status}"
                ))
                .await
        }
    };
    assert_eq!(j1(&filtered("long_term").await, &[]).1, 6.0);
    assert_eq!(j1(&filtered("short_term").await, &[]).1, 0.0);

    // As CSV.
    let csv = server
        .get(&format!(
            "{x1}/values?from=2017-12&by=lzb_status&format=csv"
        ))
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.starts_with("month,lzb_status,"), "{}", csv.body);
    assert!(csv.body.contains("2017-12,long_term,8,12,"), "{}", csv.body);

    // Through compare, filtered by it: the four districts, pooled over 12 long-term
    // eLb, and over none short-term.
    for (status, pooled) in [("long_term", 12.0), ("short_term", 0.0)] {
        let c = server
            .ok(&format!(
                "{x1}/compare?month=2017-12&across=district_id&lzb_status={status}"
            ))
            .await;
        assert_eq!(c["units"].as_array().unwrap().len(), 4, "{c}");
        assert_eq!(c["pooled"]["denominator"], pooled, "{c}");
    }

    // The OpenAPI document lists it, as a breakdown and as a filter.
    let doc = server.ok("/api/v1/openapi.json").await;
    let params = doc["paths"]["/api/v1/indicators/{code}/values"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    assert!(params.iter().any(|p| p["name"] == "lzb_status"));
    let by = params.iter().find(|p| p["name"] == "by").unwrap();
    assert!(
        by["schema"]["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&"lzb_status".into())
    );
    server.stop().await;
}
