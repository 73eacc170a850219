//! Extract checks that protect the engine's arithmetic: no silently skipped files, no
//! month without rows inside the data span.

use wirkung::extract::{Extract, ExtractError, LoadMode};

use crate::support::fixture::Fixture;

fn one_person(from: &str, to: &str) -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.person("a", "f", "1980-01-01")
        .benefit("a", "J1-A", from, to, true);
    f
}

#[test]
fn a_month_without_rows_inside_the_span_is_refused() {
    let mut f = one_person("2016-01", "2016-03");
    f.benefit("a", "J1-A", "2016-06", "2016-07", true); // 2016-04 and 2016-05 missing
    let dir = tempfile::TempDir::new().expect("tempdir");
    f.write(dir.path());
    for mode in [LoadMode::Strict, LoadMode::Lenient] {
        match Extract::load(dir.path(), mode) {
            Err(ExtractError::Structural(errors)) => {
                let message = errors[0].to_string();
                assert!(
                    message.contains("benefit_months")
                        && message.contains("no rows for 2016-04, 2016-05"),
                    "{message}"
                );
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a gap in the span was accepted in {mode:?} mode"),
        }
    }
}

#[test]
fn unexpected_entries_in_a_table_folder_are_refused_not_skipped() {
    let f = one_person("2016-01", "2016-03");
    let dir = tempfile::TempDir::new().expect("tempdir");
    f.write(dir.path());
    let folder = dir.path().join("benefit_months");
    std::fs::create_dir(&folder).expect("folder");
    std::fs::rename(
        dir.path().join("benefit_months.parquet"),
        folder.join("part-0.parquet"),
    )
    .expect("move");
    std::fs::write(folder.join("_SUCCESS"), "").expect("marker");
    std::fs::write(folder.join(".hidden"), "x").expect("hidden");
    assert!(
        Extract::load(dir.path(), LoadMode::Strict).is_ok(),
        "_SUCCESS and hidden files are ignored"
    );

    std::fs::create_dir(folder.join("month=2016-04")).expect("partition folder");
    let err = match Extract::load(dir.path(), LoadMode::Strict) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a partition subfolder would be skipped silently"),
    };
    assert!(
        err.contains("month=2016-04") && err.contains("only `*.parquet` files"),
        "{err}"
    );
}
