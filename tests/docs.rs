//! The documents in `docs/` are the project's own: the generated ones are what the code
//! renders now, the contract page matches the contract the loader enforces, and no file
//! points at documents outside the repository.
//!
//! `WIRKUNG_UPDATE_DOCS=1 cargo test --test main docs` rewrites the generated files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wirkung::blocks::BlockCatalogue;
use wirkung::definition::Catalogue;
use wirkung::extract::contract::{ColumnType, TABLES};
use wirkung::open::Project;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Compares `rendered` with the committed file, or rewrites it when asked to.
fn assert_current(file: &str, rendered: &str) {
    let path = Path::new(ROOT).join(file);
    if std::env::var_os("WIRKUNG_UPDATE_DOCS").is_some() {
        std::fs::write(&path, rendered).expect("write the generated document");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "{file} is out of date: run `WIRKUNG_UPDATE_DOCS=1 cargo test --test main docs` and commit it"
    );
}

#[test]
fn the_indicator_reference_is_what_the_definitions_render() {
    let blocks = BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES)).expect("blocks");
    let catalogue =
        Catalogue::load(Path::new(Project::DEFAULT_INDICATORS), &blocks).expect("catalogue");
    let text = wirkung::definition::reference::indicators(&catalogue, &blocks);
    for def in catalogue.all() {
        assert!(text.contains(&format!("## {}\n", def.code)), "{}", def.code);
    }
    assert_current("docs/indicators.md", &text);
}

#[test]
fn the_openapi_document_in_docs_is_what_the_server_serves() {
    // A server with --auth over the repository's definitions; a loaded server also
    // lists its extract's unit ids.
    let blocks = BlockCatalogue::load(Path::new(Project::DEFAULT_QUERIES)).expect("blocks");
    let catalogue =
        Catalogue::load(Path::new(Project::DEFAULT_INDICATORS), &blocks).expect("catalogue");
    let document = wirkung::api::openapi::document_for(&wirkung::api::openapi::Served {
        auth: true,
        domains: Some(blocks.domains()),
        catalogue: Some(&catalogue),
        units: &[],
    });
    let text = serde_json::to_string_pretty(&document).expect("serialize") + "\n";
    assert!(text.contains("/api/v1/indicators/{code}/values"));
    assert_current("docs/openapi.json", &text);
}

/// The column tables of docs/extracts.md: table → column → (type, nullable, values).
fn documented_columns() -> BTreeMap<String, BTreeMap<String, (String, String, String)>> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("docs/extracts.md"))
        .expect("docs/extracts.md");
    let mut out: BTreeMap<String, BTreeMap<String, (String, String, String)>> = BTreeMap::new();
    let mut table: Option<String> = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            table = heading.split('`').next().map(str::to_string);
            continue;
        }
        let Some(t) = &table else { continue };
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if !line.trim_start().starts_with("| `") || cells.len() < 5 {
            continue;
        }
        let column = cells[0].trim_matches('`').to_string();
        let fresh = out.entry(t.clone()).or_default().insert(
            column.clone(),
            (cells[1].into(), cells[2].into(), cells[3].into()),
        );
        assert!(fresh.is_none(), "{t}.{column} is documented twice");
    }
    out
}

#[test]
fn the_contract_page_documents_every_table_and_column_as_the_loader_checks_them() {
    let documented = documented_columns();
    let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    assert_eq!(
        documented
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .len(),
        tables.len(),
        "tables documented: {:?}",
        documented.keys()
    );
    for table in TABLES {
        let columns = documented
            .get(table.name)
            .unwrap_or_else(|| panic!("docs/extracts.md lacks table {}", table.name));
        assert_eq!(
            columns.len(),
            table.columns.len(),
            "{}: documented {:?}",
            table.name,
            columns.keys()
        );
        for c in table.columns {
            let (ty, null, values) = columns
                .get(c.name)
                .unwrap_or_else(|| panic!("docs/extracts.md lacks {}.{}", table.name, c.name));
            let expected_ty = match c.ty {
                ColumnType::Utf8 => "Utf8",
                ColumnType::Date32 => "Date32",
                ColumnType::Boolean => "Boolean",
                ColumnType::Float64 => "Float64",
            };
            assert_eq!(ty, expected_ty, "{}.{}", table.name, c.name);
            assert_eq!(
                null,
                if c.nullable { "yes" } else { "no" },
                "{}.{}",
                table.name,
                c.name
            );
            let expected_values = c
                .domain
                .map(|d| {
                    d.iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            assert_eq!(values, &expected_values, "{}.{}", table.name, c.name);
        }
    }
}

/// Every file of the repository that a user reads: sources, queries, definitions,
/// documents, scripts (not build output, data or the repository's own metadata).
fn repository_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(name.as_str(), ".git" | "target" | "bench-data") {
                repository_files(&path, out);
            }
        } else if !name.ends_with(".parquet") {
            out.push(path);
        }
    }
}

#[test]
fn no_file_points_at_documents_outside_the_repository() {
    // Spelled in pieces, so that this file does not name them itself.
    let outside = [
        format!("{}/{}", "..", "shared"),
        format!("{}/{}", "shared", "spec"),
        format!("{}{}", "EXTRACTS", ".md"),
        format!("{}{}", "KENNZAHLEN", ".md"),
        format!("{}{}", "API", ".md"),
        format!("{}{}", "STYLE", ".md"),
    ];
    let mut files = Vec::new();
    repository_files(Path::new(ROOT), &mut files);
    assert!(files.len() > 50, "only {} files found", files.len());
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // not text
        };
        for name in &outside {
            if text.contains(name.as_str()) {
                found.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
