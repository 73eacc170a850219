//! Declarative definitions: a new file is served without Rust changes; a broken file is
//! refused with its path, field and reason.

use std::path::Path;

use tempfile::TempDir;
use wirkung::extract::LoadMode;
use wirkung::open::{OpenError, Project};

use crate::support::fixture::Fixture;
use crate::support::{assert_available, compute, request, row};

/// A copy of the project's definitions plus extra files.
fn definitions_with(extra: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    for entry in std::fs::read_dir(Project::DEFAULT_INDICATORS).expect("indicators/") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    for (name, text) in extra {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

const SINGLE_PARENTS_U25: &str = r#"
code = "K2AEU25"
name_de = "Integrationsquote der Alleinerziehenden unter 25"
name_en = "Integration rate of single parents under 25"
goal = 2
kind = "extension"
display = "rate"
polarity = "higher_is_better"
legal_basis = "Eigene Kennzahl nach dem Muster von K2E4"
description_de = "Integrationen Alleinerziehender unter 25 je durchschnittlichem Bestand dieser Gruppe."
dimensions = ["jobcenter_id", "district_id", "sex"]

[numerator]
block = "events"
measure = "persons"
filter = { event = "integration", single_parent = true, age_group = "u25" }
window = { months = 12 }

[denominator]
block = "stock"
measure = "elb"
filter = { single_parent = true, age_group = "u25" }
window = { months = 12, aggregate = "mean", lag = 1 }
"#;

#[tokio::test]
async fn a_new_definition_file_is_served_without_code_changes() {
    // Two single mothers under 25 in J1 all of 2016 (one integrates in 2016-06), one
    // single mother of 30 who integrates too (outside the group), span from 2015-01.
    let mut f = Fixture::two_jobcenters();
    f.person("anchor", "m", "1970-01-01")
        .benefit("anchor", "J1-A", "2015-01", "2016-12", true);
    f.person("y1", "f", "1995-01-01")
        .benefit_with("y1", "J1-A", "2015-12", "2016-12", true, true, 400.0, 300.0);
    f.person("y2", "f", "1996-01-01")
        .benefit_with("y2", "J1-B", "2015-12", "2016-12", true, true, 400.0, 300.0);
    f.person("o1", "f", "1986-01-01")
        .benefit_with("o1", "J1-B", "2015-12", "2016-12", true, true, 400.0, 300.0);
    f.start("y1", "2016-06-15", "svb")
        .start("o1", "2016-06-15", "svb");
    let data = TempDir::new().expect("tempdir");
    f.write(data.path());
    let defs = definitions_with(&[("K2AEU25.toml", SINGLE_PARENTS_U25)]);

    let p = match Project::open(
        data.path(),
        defs.path(),
        Path::new(Project::DEFAULT_QUERIES),
        LoadMode::Strict,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert!(p.engine.catalogue().get("K2AEU25").is_some());
    // 2016-12: numerator y1 = 1; denominator ELB of the group 2015-12 … 2016-11 = 2 × 12.
    let v = compute(&p, &request("K2AEU25", "2016-12", "2016-12", &[])).await;
    assert_available(row(&v, "2016-12", &[]), 1.0, 2.0, 50.0);
}

#[tokio::test]
async fn broken_definitions_are_refused_with_file_field_and_reason() {
    let data = TempDir::new().expect("tempdir");
    let mut f = Fixture::two_jobcenters();
    f.person("a", "f", "1980-01-01")
        .benefit("a", "J1-A", "2015-01", "2015-12", true);
    f.write(data.path());
    let cases = [
        (
            "BAD1.toml",
            SINGLE_PARENTS_U25
                .replace("K2AEU25", "BAD1")
                .replace("block = \"events\"", "block = \"nowhere\""),
            "field `numerator.block`: unknown building block 'nowhere'",
        ),
        (
            "BAD2.toml",
            SINGLE_PARENTS_U25
                .replace("K2AEU25", "BAD2")
                .replace("\"sex\"]", "\"programme\"]"),
            "field `dimensions`: 'programme'",
        ),
        (
            "BAD3.toml",
            SINGLE_PARENTS_U25
                .replace("K2AEU25", "BAD3")
                .replace("display = \"rate\"", "display = rate"),
            "BAD3.toml: ",
        ),
        (
            "BAD4.toml",
            SINGLE_PARENTS_U25.replace("K2AEU25", "BAD4").replace(
                "single_parent = true, age_group",
                "single_parent = \"yes\", age_group",
            ),
            "field `numerator.filter.single_parent`",
        ),
    ];
    for (name, text, expected) in cases {
        let defs = definitions_with(&[(name, &text)]);
        let err = match Project::open(
            data.path(),
            defs.path(),
            Path::new(Project::DEFAULT_QUERIES),
            LoadMode::Strict,
        )
        .await
        {
            Ok(_) => panic!("{name} was accepted"),
            Err(e) => e,
        };
        let message = err.to_string();
        assert!(
            matches!(err, OpenError::Definitions(_) | OpenError::Engine(_)),
            "{message}"
        );
        assert!(
            message.contains(name) && message.contains(expected),
            "{name}: {message}"
        );
    }
}
