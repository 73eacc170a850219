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
            "block = \"nowhere\"",
        ),
        (
            "BAD2.toml",
            SINGLE_PARENTS_U25
                .replace("K2AEU25", "BAD2")
                .replace("\"sex\"]", "\"programme\"]"),
            "field `dimensions`: 'programme'",
            "dimensions =",
        ),
        (
            "BAD3.toml",
            SINGLE_PARENTS_U25
                .replace("K2AEU25", "BAD3")
                .replace("display = \"rate\"", "display = rate"),
            "BAD3.toml:",
            "display = rate",
        ),
        (
            "BAD4.toml",
            SINGLE_PARENTS_U25.replace("K2AEU25", "BAD4").replace(
                "single_parent = true, age_group",
                "single_parent = \"yes\", age_group",
            ),
            "field `numerator.filter.single_parent`",
            "single_parent = \"yes\"",
        ),
        (
            "BAD5.toml",
            SINGLE_PARENTS_U25.replace("K2AEU25", "BAD5").replacen(
                "window = { months = 12 }",
                "window = { months = 240 }",
                1,
            ),
            "field `numerator.window`: months must be 1..=120",
            "months = 240",
        ),
    ];
    for (name, text, expected, marker) in cases {
        // Each refusal names the line of the offending field (or the syntax error).
        let line = text
            .lines()
            .position(|l| l.contains(marker))
            .expect("marker in the fixture")
            + 1;
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
        assert!(
            message.contains(&format!("{name}:{line}: ")),
            "{name}, line {line}: {message}"
        );
    }
}

/// Issue #7, "fuzz the definition parser": mutations of every real definition file
/// (bytes cut out, text spliced in, lines swapped or doubled, values replaced) and
/// random text, loaded through `Catalogue::load` against the real building blocks.
/// Every outcome must be an acceptance or a refusal naming the file with a reason;
/// nothing may panic.
#[test]
fn mutated_definitions_are_accepted_or_refused_never_a_panic() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use wirkung::blocks::BlockCatalogue;
    use wirkung::definition::Catalogue;

    let blocks = BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES)).expect("blocks");
    // (file name, text): a definition's code must match its file name.
    let originals: Vec<(String, String)> = std::fs::read_dir(Project::DEFAULT_INDICATORS)
        .expect("indicators/")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&path).expect("read"))
        })
        .collect();
    let splice = prop_oneof![
        prop::sample::select(vec![
            "\"",
            "[",
            "]]",
            "=",
            "\n",
            "[numerator]",
            "block = \"stock\"",
            "measure = \"\"",
            "window = 99999",
            "lag = -1",
            "dimensions = [\"sex\", \"sex\"]",
            "filter = {}",
            "code = \"\"",
            "kind = 7",
            "\u{0}",
            "\u{feff}",
            "é",
            "#",
            "inf",
            "nan",
            "offsets = []",
            "[[x]]",
        ])
        .prop_map(str::to_string),
        any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ];
    let mutation = (
        0..originals.len(),
        0usize..4,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        splice,
    );
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
    );
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..400 {
        let (which, how, at, len, text) = mutation.new_tree(&mut runner).unwrap().current();
        let (name, original) = &originals[which];
        let chars: Vec<char> = original.chars().collect();
        let i = at.index(chars.len() + 1);
        let j = (i + len.index(40)).min(chars.len());
        let mutated: String = match how {
            // cut a run of characters
            0 => chars[..i].iter().chain(&chars[j..]).collect(),
            // splice text in
            1 => chars[..i]
                .iter()
                .copied()
                .chain(text.chars())
                .chain(chars[i..].iter().copied())
                .collect(),
            // replace a run
            2 => chars[..i]
                .iter()
                .copied()
                .chain(text.chars())
                .chain(chars[j..].iter().copied())
                .collect(),
            // swap two lines
            _ => {
                let mut lines: Vec<&str> = original.lines().collect();
                let (a, b) = (at.index(lines.len()), len.index(lines.len()));
                lines.swap(a, b);
                lines.join("\n")
            }
        };
        let dir = TempDir::new().expect("tempdir");
        std::fs::write(dir.path().join(name), &mutated).expect("write");
        match Catalogue::load(dir.path(), &blocks) {
            Ok(_) => accepted += 1,
            Err(errors) => {
                refused += 1;
                assert!(!errors.is_empty());
                for e in errors {
                    assert!(e.file.ends_with(name), "round {round}: {e}");
                    assert!(!e.reason.trim().is_empty(), "round {round}: {e}");
                    assert!(e.to_string().contains(name.as_str()), "round {round}: {e}");
                }
            }
        }
    }
    eprintln!("{accepted} mutated definitions accepted, {refused} refused");
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

/// A definition whose window reaches further back than the extract (or that needs a
/// missing optional table) is not refused: a young extract grows into it. The engine
/// names it, with the reason for the last month, and logs it at load.
#[tokio::test]
async fn definitions_without_a_computable_month_are_named_not_refused() {
    // 24 months, no optional table.
    let mut f = Fixture::two_jobcenters();
    f.person("p1", "f", "1980-05-01")
        .benefit("p1", "J1-A", "2017-01", "2018-12", true);
    let dir = f.written();
    let project = crate::support::open(dir.path()).await;
    let idle = project.engine.without_months();
    let codes: Vec<&str> = idle.iter().map(|(d, _)| d.code.as_str()).collect();
    // LZB needs 24 months of history: the LZB stock a year earlier (K3), or twelve
    // months of LZB events and flows (K3E1, K3E3, K3E4), reach before 2017-01. K3E2
    // (the LZB stock of 2018-12 alone) is computable. P3/P3V/S3 need health_events,
    // P4/P4V/S4/S5 exits, S1/S2 services_16a, S6 invitations.
    assert_eq!(
        codes,
        [
            "K3", "K3E1", "K3E3", "K3E4", "S1", "S2", "S3", "S4", "S5", "S6", "P3", "P3V", "P4",
            "P4V"
        ]
    );
    let reason = |code: &str| {
        idle.iter()
            .find(|(d, _)| d.code == code)
            .map(|(_, r)| r.as_str())
            .unwrap_or_default()
    };
    assert_eq!(
        reason("K3"),
        "outside the data span: the denominator needs months 2016-01 … 2017-12, the data span is 2017-01 … 2018-12"
    );
    assert_eq!(
        reason("K3E1"),
        "outside the data span: the numerator needs months 2016-01 … 2018-12, the data span is 2017-01 … 2018-12"
    );
    assert_eq!(
        reason("P3"),
        "the optional table 'health_events' is missing from the extract (needed by the numerator)"
    );
}

#[test]
fn the_published_values_the_queries_declare_are_the_contracts_codes() {
    // The headers of queries/ declare what a breakdown shows; the contract what an
    // extract may hold. They must not drift apart: the same codes, except sex, whose
    // `d` is counted under `m` or `f` and so is never published.
    use wirkung::blocks::BlockCatalogue;
    use wirkung::extract::contract;
    let blocks = BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES)).expect("blocks");
    for (dim, codes) in [
        ("citizenship", contract::CITIZENSHIP),
        ("service", contract::SERVICE),
        ("invitation_format", contract::INVITATION_FORMAT),
        ("sex", &["f", "m"][..]),
    ] {
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        assert_eq!(blocks.domain(dim), Some(&codes[..]), "{dim}");
    }
    let sex: Vec<&str> = contract::SEX
        .iter()
        .copied()
        .filter(|s| *s != "d")
        .collect();
    assert_eq!(sex, ["f", "m"]);
}
