//! The `wirkung` binary: `compute` prints the API's `values` body, errors exit non-zero
//! with a message.

use std::process::Command;

use tempfile::TempDir;

use crate::support::fixture::Fixture;

fn wirkung(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirkung"))
        .args(args)
        .output()
        .expect("run wirkung");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn small_extract() -> TempDir {
    let mut f = Fixture::two_jobcenters();
    for i in 0..6 {
        let id = format!("p{i}");
        let district = if i < 4 { "J1-A" } else { "J2-A" };
        f.person(&id, if i % 2 == 0 { "f" } else { "m" }, "1980-01-01")
            .benefit(&id, district, "2015-01", "2016-12", true);
    }
    let dir = TempDir::new().expect("tempdir");
    f.write(dir.path());
    dir
}

#[test]
fn compute_prints_the_values_body_as_json_and_csv() {
    let dir = small_extract();
    let data = dir.path().to_str().expect("utf-8 path");
    let (code, out, err) = wirkung(&[
        "compute",
        "--data",
        data,
        "--indicator",
        "K1E2",
        "--from",
        "2016-11",
        "--to",
        "2016-12",
        "--by",
        "jobcenter_id",
        "--min-count",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["indicator"], "K1E2");
    assert_eq!(json["unit"], "percent");
    assert_eq!(json["disclosure"]["min_count"], 0);
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4, "two months × two jobcenters");
    assert_eq!(rows[0]["month"], "2016-11");
    assert_eq!(rows[0]["jobcenter_id"], "J1");
    assert_eq!(rows[0]["numerator"], 4.0);
    assert_eq!(rows[0]["ratio"], 1.0);
    assert_eq!(rows[0]["value"], 0.0);
    assert_eq!(rows[0]["status"], "available");
    assert!(rows[0]["reason"].is_null() && rows[0]["suppressed"].is_null());

    let csv = |extra: &[&str]| {
        let mut args = vec![
            "compute",
            "--data",
            data,
            "--indicator",
            "K1E2",
            "--from",
            "2016-12",
            "--by",
            "jobcenter_id",
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = wirkung(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let header = "month,jobcenter_id,numerator,denominator,ratio,value,ci_low,ci_high,numerator_count,denominator_count,status,reason,suppressed";
    assert_eq!(
        csv(&["--min-count", "0"]),
        format!(
            "{header}\n2016-12,J1,4,4,1,0,,,4,4,available,,\n2016-12,J2,2,2,1,0,,,2,2,available,,\n"
        )
    );
    // At the default threshold of 3, J2's two persons are withheld, and so is J1, or
    // J2 would be the total minus J1.
    assert_eq!(
        csv(&[]),
        format!(
            "{header}\n2016-12,J1,,,,,,,,,suppressed,,secondary\n2016-12,J2,,,,,,,,,suppressed,,primary\n"
        )
    );
}

#[test]
fn catalogue_exports_every_indicator_by_jobcenter_and_district() {
    let dir = small_extract();
    let data = dir.path().to_str().expect("utf-8 path");
    let out = dir.path().join("catalogue.csv");
    let (code, stdout, err) = wirkung(&[
        "catalogue",
        "--data",
        data,
        "--months",
        "2",
        "--min-count",
        "0",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "{err}");
    let timings: serde_json::Value = serde_json::from_str(&stdout).expect("timings JSON");
    assert!(timings["open_seconds"].as_f64().is_some());
    assert!(timings["catalogue_seconds"].as_f64().is_some());
    let csv = std::fs::read_to_string(&out).expect("CSV written");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("indicator,month,level,unit,numerator,denominator,value,status")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len() as u64, timings["cells"].as_u64().expect("cells"));
    let find = |ind: &str, month: &str, level: &str, unit: &str| {
        rows.iter()
            .find(|r| r[..4] == [ind, month, level, unit])
            .unwrap_or_else(|| panic!("no row {ind} {month} {level} {unit}"))
            .clone()
    };
    // K1E2 (change in eLb over 12 months): 4 persons in J1-A, 2 in J2-A throughout, as
    // `compute` answers above; the last two months of the span, both levels.
    assert_eq!(
        find("K1E2", "2016-12", "jobcenter", "J1")[4..],
        ["4", "4", "0", "available"]
    );
    assert_eq!(
        find("K1E2", "2016-11", "district", "J2-A")[4..],
        ["2", "2", "0", "available"]
    );
    // Every row is one of the two levels and the last two months.
    for r in &rows {
        assert!(["jobcenter", "district"].contains(&r[2]), "{r:?}");
        assert!(["2016-11", "2016-12"].contains(&r[1]), "{r:?}");
    }
    // Unavailable months are left out: the optional tables are missing (S1, S3, S4,
    // S5, S6) and the cohorts' follow-up leaves the span (P1-P4).
    for code in ["S1", "S3", "S4", "S5", "S6", "P1", "P2", "P3", "P4"] {
        assert!(rows.iter().all(|r| r[0] != code), "{code} has rows");
    }
    // At the default threshold the same cells are withheld, never dropped.
    let (code, csv3, err) = wirkung(&["catalogue", "--data", data, "--months", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv3.lines().count(), rows.len() + 1);
    assert!(csv3.contains("K1E2,2016-12,jobcenter,J2,,,,suppressed"));
}

#[test]
fn a_load_of_several_slices_reports_each_slice_on_stderr_when_it_is_not_a_terminal() {
    let dir = small_extract();
    let data = dir.path().to_str().expect("utf-8 path");
    let args = [
        "catalogue",
        "--data",
        data,
        "--months",
        "1",
        "--out",
        "/dev/null",
    ];
    let (code, _, err) = wirkung(&[&args[..], &["--slices", "2"]].concat());
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("computing blocks"))
        .collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("computing blocks: slice 1 of 2 done, "),
        "{err}"
    );
    assert!(lines[0].contains(" left"), "{err}");
    assert!(
        lines[1].starts_with("computing blocks: slice 2 of 2 done, "),
        "{err}"
    );
    // One slice: nothing to report on the way.
    let (code, _, err) = wirkung(&[&args[..], &["--slices", "1"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("computing blocks"), "{err}");
}

#[test]
fn bad_requests_exit_2_and_name_the_parameter() {
    let dir = small_extract();
    let data = dir.path().to_str().expect("utf-8 path");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--indicator", "K99", "--from", "2016-12"],
            "unknown indicator 'K99'",
        ),
        (
            &["--indicator", "K2", "--from", "2016-12", "--to", "2016-01"],
            "parameter 'from'",
        ),
        (
            &[
                "--indicator",
                "K2",
                "--from",
                "2016-12",
                "--by",
                "programme",
            ],
            "does not accept dimension 'programme'",
        ),
        (
            &[
                "--indicator",
                "K2",
                "--from",
                "2016-12",
                "--filter",
                "sex=x",
            ],
            "unknown value 'x' (one of: f, m)",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["compute", "--data", data];
        all.extend_from_slice(args);
        let (code, _, err) = wirkung(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let (code, _, err) = wirkung(&[
        "compute",
        "--data",
        data,
        "--indicator",
        "K2",
        "--from",
        "2016-13",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not a month"), "{err}");
}

#[test]
fn compare_and_contrast_print_the_api_bodies() {
    // The API tests' invitations fixture: S6 by district and format (see tests/api).
    let dir = crate::api::invitations().written();
    let data = dir.path().to_str().expect("utf-8 path");
    let (code, out, err) = wirkung(&[
        "compare",
        "--data",
        data,
        "--indicator",
        "S6",
        "--month",
        "2017-12",
        "--across",
        "district_id",
    ]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    // 34 of 63 invitations attended; J3-A (12 of 19) ranks first.
    assert_eq!(c["pooled"]["numerator"], 34.0);
    assert_eq!(c["pooled"]["denominator"], 63.0);
    assert_eq!(c["units"][3]["unit"], "J3-A");
    assert_eq!(c["units"][3]["rank"], 1);
    let (code, out, err) = wirkung(&[
        "contrast",
        "--data",
        data,
        "--indicator",
        "S6",
        "--month",
        "2017-12",
        "--dimension",
        "invitation_format",
        "--groups",
        "standard,contact_cafe",
        "--min-count",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(c["groups"][0]["numerator"], 15.0);
    assert_eq!(c["groups"][1]["denominator"], 19.0);
    assert_eq!(c["test"]["name"], "two_proportion_z");
    let (code, _, err) = wirkung(&[
        "contrast",
        "--data",
        data,
        "--indicator",
        "K2",
        "--month",
        "2017-12",
        "--dimension",
        "sex",
        "--groups",
        "f,m",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a share indicator"), "{err}");
}

#[test]
fn serve_refuses_an_open_server_on_a_network_address_before_loading() {
    let (code, _, err) = wirkung(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not a loopback address") && err.contains("--auth"),
        "{err}"
    );
    let dir = TempDir::new().expect("tempdir");
    let auth = dir.path().join("keys.toml");
    std::fs::write(
        &auth,
        "[[keys]]\nname = \"x\"\ntoken_sha256 = \"abc\"\nrole = \"reader\"\njobcenters = [\"*\"]\n",
    )
    .expect("write");
    let (code, _, err) = wirkung(&["serve", "--auth", auth.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("64 hexadecimal digits") && err.contains("keys.toml"),
        "{err}"
    );
}

#[test]
fn adjusted_modes_and_targets_print_the_api_bodies() {
    let dir = crate::api::invitations().written();
    let data = dir.path().to_str().expect("utf-8 path");
    let (code, out, err) = wirkung(&[
        "compare",
        "--data",
        data,
        "--indicator",
        "S6",
        "--month",
        "2017-12",
        "--across",
        "district_id",
        "--adjust",
        "sex",
        "--reference",
        "all",
        "--min-count",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(c["adjustment"]["strata"], serde_json::json!(["sex"]));
    assert_eq!(c["adjustment"]["reference"], "all");
    assert!(c["units"][0]["adjusted"]["ratio"].is_number(), "{c}");
    let (code, out, err) = wirkung(&[
        "contrast",
        "--data",
        data,
        "--indicator",
        "S6",
        "--month",
        "2017-12",
        "--dimension",
        "invitation_format",
        "--groups",
        "contact_cafe,standard",
        "--adjust",
        "sex",
        "--min-count",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(c["adjusted"]["odds_ratio"]["estimate"].is_number(), "{c}");
    let (code, _, err) = wirkung(&[
        "compare",
        "--data",
        data,
        "--indicator",
        "S6",
        "--month",
        "2017-12",
        "--across",
        "district_id",
        "--adjust",
        "colour",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("adjust"), "{err}");

    // Targets: listed with --targets, refused with file and line, wanted for `targets`.
    let file = dir.path().with_extension("targets.toml");
    std::fs::write(
        &file,
        "[[target]]\njobcenter_id = \"J1\"\nindicator = \"S6\"\nyear = 2017\nvalue = 50.0\n",
    )
    .expect("write");
    let targets = file.to_str().expect("utf-8 path");
    let (code, out, err) = wirkung(&[
        "targets",
        "--data",
        data,
        "--targets",
        targets,
        "--jobcenter",
        "J1",
        "--min-count",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let t: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(t["targets"][0]["indicator"], "S6");
    assert_eq!(t["targets"][0]["month"], "2017-12");
    assert_eq!(t["targets"][0]["target"]["value"], 50.0);
    let (code, _, err) = wirkung(&["targets", "--data", data, "--jobcenter", "J1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--targets"), "{err}");
    std::fs::write(
        &file,
        "[[target]]\njobcenter_id = \"J1\"\nindicator = \"S9\"\nyear = 2017\nvalue = 50.0\n",
    )
    .expect("write");
    let (code, _, err) = wirkung(&[
        "compute",
        "--data",
        data,
        "--targets",
        targets,
        "--indicator",
        "S6",
        "--from",
        "2017-12",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{targets}:3: unknown indicator 'S9'")),
        "{err}"
    );
}
