//! The spreadsheet downloads of `values`, `compare` and `contrast` (issue #16): the
//! German CSV (`format=csv&locale=de`) and XLSX (`format=xlsx`, or by `Accept`) carry
//! the question, the same numbers as the JSON answer and the disclosure note; the plain
//! CSV of `compare` and `contrast` is their table.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;
use wirkung::api::Limits;

use super::{Answer, Server, invitations};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A German CSV read back with the csv crate (`;`, quotes), after its byte-order mark;
/// a field Excel is to keep as text (`="05515"`) is read as that text.
fn german_lines(answer: &Answer) -> Vec<Vec<String>> {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, "text/csv");
    assert_eq!(&answer.bytes[..3], b"\xef\xbb\xbf", "a byte-order mark");
    assert!(answer.bytes.ends_with(b"\r\n"), "CRLF line ends");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(&answer.bytes[3..]);
    reader
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(
                    |f| match f.strip_prefix("=\"").and_then(|f| f.strip_suffix('"')) {
                        Some(text) => text.to_string(),
                        None => f.to_string(),
                    },
                )
                .collect::<Vec<String>>()
        })
        .filter(|l| l.iter().any(|f| !f.is_empty()))
        .collect()
}

/// The row of the table whose header starts with `first` and whose first cell is
/// `key`, as column → field.
fn row(lines: &[Vec<String>], first: &str, key: &str) -> BTreeMap<String, String> {
    let header = lines
        .iter()
        .position(|l| l[0] == first)
        .unwrap_or_else(|| panic!("no table header {first}: {lines:?}"));
    let line = lines[header + 1..]
        .iter()
        .find(|l| l[0] == key)
        .unwrap_or_else(|| panic!("no row {key}"));
    lines[header]
        .iter()
        .cloned()
        .zip(line.iter().cloned())
        .collect()
}

/// The value after `label` in a line `label;value`.
fn labelled<'a>(lines: &'a [Vec<String>], label: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l[0] == label)
        .map(|l| l[1].as_str())
        .unwrap_or_else(|| panic!("no line {label}: {lines:?}"))
}

/// A German number as a number.
fn german(field: &str) -> f64 {
    field
        .replace(',', ".")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {field}"))
}

fn close(a: f64, b: &Value) {
    let b = b.as_f64().unwrap();
    assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} against {b}");
}

/// The cells of an XLSX's first worksheet by reference (`B7`): numbers as they are
/// stored, text resolved from the shared strings.
fn xlsx_cells(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut read = |name: &str| {
        let mut text = String::new();
        zip.by_name(name)
            .unwrap_or_else(|_| panic!("no {name}"))
            .read_to_string(&mut text)
            .expect("XML");
        text
    };
    let shared: Vec<String> = read("xl/sharedStrings.xml")
        .split("<t")
        .skip(1)
        .map(|s| {
            let text = s.split_once('>').map_or("", |(_, rest)| rest);
            text.split("</t>").next().unwrap_or("").to_string()
        })
        .collect();
    let sheet = read("xl/worksheets/sheet1.xml");
    let mut cells = BTreeMap::new();
    for cell in sheet.split("<c r=\"").skip(1) {
        let reference = cell.split('"').next().unwrap().to_string();
        let Some(value) = cell
            .split("<v>")
            .nth(1)
            .and_then(|v| v.split("</v>").next())
        else {
            continue;
        };
        let text = if cell.split('>').next().unwrap().contains("t=\"s\"") {
            shared[value.parse::<usize>().unwrap()].clone()
        } else {
            value.to_string()
        };
        cells.insert(reference, text);
    }
    cells
}

#[tokio::test]
async fn values_as_german_csv_carry_the_question_the_numbers_and_the_note() {
    let server = Server::fixture().await;
    let path = "/api/v1/indicators/S6/values?from=2017-12&by=jobcenter_id";
    let json = server.ok(path).await;
    let answer = server.get(&format!("{path}&format=csv&locale=de")).await;
    assert_eq!(
        answer.headers["content-disposition"],
        "attachment; filename=\"wirkung-S6-values-2017-12-2017-12.csv\""
    );
    let lines = german_lines(&answer);
    assert!(lines[0][0].starts_with("wirkung: S6 "), "{:?}", lines[0]);
    assert!(labelled(&lines, "Kennzahl").starts_with("S6 – "));
    assert_eq!(labelled(&lines, "Monate"), "2017-12 – 2017-12");
    assert_eq!(labelled(&lines, "Aufgliederung"), "jobcenter_id");
    assert_eq!(labelled(&lines, "Filter"), "–");
    let version = answer.headers["wirkung-data-version"].to_str().unwrap();
    assert!(labelled(&lines, "Datenstand").starts_with(version));
    // J1: 14 of 26 attended, as in the JSON, with a decimal comma.
    let j1 = row(&lines, "month", "2017-12");
    assert_eq!(j1["jobcenter_id"], "J1");
    assert_eq!(j1["numerator"], "14");
    assert_eq!(j1["denominator"], "26");
    let first = &json["rows"][0];
    close(german(&j1["value"]), &first["value"]);
    close(german(&j1["ci_low"]), &first["ci_low"]);
    assert!(j1["value"].contains(','), "{}", j1["value"]);
    assert_eq!(j1["status"], "available");
    let note = lines.last().unwrap()[0].as_str();
    assert!(
        note.starts_with("Geheimhaltung: Zahlen, die auf 1 bis 2 "),
        "{note}"
    );
    // The plain CSV is unchanged: commas and decimal points, no question.
    let plain = server.get(&format!("{path}&format=csv&locale=en")).await;
    assert_eq!(
        plain.body,
        server.get(&format!("{path}&format=csv")).await.body
    );
    assert!(plain.body.starts_with("month,jobcenter_id,"));
    server.stop().await;
}

#[tokio::test]
async fn compare_downloads_as_xlsx_and_german_csv_with_the_json_numbers() {
    let server = Server::fixture().await;
    let path = "/api/v1/indicators/S6/compare?month=2017-12&across=district_id";
    let json = server.ok(path).await;
    let lines = german_lines(&server.get(&format!("{path}&format=csv&locale=de")).await);
    assert_eq!(labelled(&lines, "Verglichen über"), "district_id");
    let pooled = row(&lines, "unit", "pooled");
    assert_eq!(pooled["numerator"], "34");
    assert_eq!(pooled["denominator"], "63");
    for (i, id) in ["J1-A", "J1-B", "J2-A", "J3-A"].into_iter().enumerate() {
        let unit = &json["units"][i];
        let line = row(&lines, "unit", id);
        assert_eq!(line["name"], unit["name"].as_str().unwrap());
        assert_eq!(line["rank"], unit["rank"].to_string());
        close(german(&line["funnel998_low"]), &unit["funnel998"][0]);
        close(german(&line["funnel95_high"]), &unit["funnel95"][1]);
        assert_eq!(line["flag"], "within");
    }

    // XLSX by the parameter and by Accept: the same workbook; numbers are numbers.
    let by_param = server.get(&format!("{path}&format=xlsx")).await;
    assert_eq!(by_param.status, 200, "{}", by_param.body);
    assert_eq!(by_param.content_type, XLSX);
    assert_eq!(
        by_param.headers["content-disposition"],
        "attachment; filename=\"wirkung-S6-compare-2017-12.xlsx\""
    );
    let by_accept = server.get_with(path, None, &[("accept", XLSX)]).await;
    assert_eq!(by_accept.content_type, XLSX);
    // The German CSV keeps ids of digits and months as text for Excel.
    let raw = server
        .get(&format!("{path}&format=csv&locale=de"))
        .await
        .body;
    assert!(raw.contains("\"=\"\"2017-12\"\"\""), "{raw}");
    let cells = xlsx_cells(&by_param.bytes);
    assert_eq!(cells, xlsx_cells(&by_accept.bytes));
    assert!(cells["A1"].starts_with("wirkung: S6 "));
    assert_eq!(cells["A2"], "Kennzahl");
    // The table: find the header row by its first column, then J3-A's row.
    let header = cells
        .iter()
        .find(|(r, v)| r.starts_with('A') && v.as_str() == "unit")
        .map(|(r, _)| r[1..].parse::<u32>().unwrap())
        .expect("the table's header");
    let j3 = header + 5; // pooled, J1-A, J1-B, J2-A, J3-A
    assert_eq!(cells[&format!("A{j3}")], "J3-A");
    assert_eq!(cells[&format!("B{j3}")], "West");
    assert_eq!(cells[&format!("C{j3}")], "12");
    assert_eq!(cells[&format!("D{j3}")], "19");
    close(
        cells[&format!("E{j3}")].parse().unwrap(),
        &json["units"][3]["value"],
    );
    // English labels on request.
    let english = xlsx_cells(
        &server
            .get(&format!("{path}&format=xlsx&locale=en"))
            .await
            .bytes,
    );
    assert_eq!(english["A2"], "Indicator");

    // The plain CSV of compare is its table.
    let plain = server.get(&format!("{path}&format=csv")).await;
    assert_eq!(plain.status, 200);
    assert!(
        plain
            .body
            .starts_with("unit,name,numerator,denominator,value,")
    );
    assert!(plain.body.contains("\nJ3-A,West,12,19,"), "{}", plain.body);
    server.stop().await;
}

#[tokio::test]
async fn contrast_downloads_carry_the_difference_and_the_test() {
    let limits = Limits {
        min_count: 0,
        ..Limits::default()
    };
    let server = Server::start(invitations().written(), None, limits).await;
    let path = "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe";
    let json = server.ok(path).await;
    let lines = german_lines(&server.get(&format!("{path}&format=csv&locale=de")).await);
    assert_eq!(labelled(&lines, "Gruppen"), "standard, contact_cafe");
    let standard = row(&lines, "group", "standard");
    assert_eq!(standard["numerator"], "15");
    assert_eq!(standard["denominator"], "34");
    close(
        german(labelled(&lines, "Unterschied (Punkte)")),
        &json["difference"]["value"],
    );
    close(
        german(labelled(&lines, "Unterschied, 95 %-KI unten")),
        &json["difference"]["ci_low"],
    );
    assert_eq!(labelled(&lines, "Test"), "two_proportion_z");
    close(german(labelled(&lines, "p-Wert")), &json["test"]["p_value"]);
    assert!(lines.last().unwrap()[0].starts_with("Geheimhaltung: ausgeschaltet"));
    let xlsx = server.get(&format!("{path}&format=xlsx")).await;
    assert_eq!(xlsx.status, 200);
    let cells = xlsx_cells(&xlsx.bytes);
    let p_row = cells
        .iter()
        .find(|(r, v)| r.starts_with('A') && v.as_str() == "p-Wert")
        .map(|(r, _)| r[1..].to_string())
        .expect("the p-value's line");
    close(
        cells[&format!("B{p_row}")].parse().unwrap(),
        &json["test"]["p_value"],
    );
    server.stop().await;
}

#[tokio::test]
async fn renderings_are_refused_by_name_where_they_do_not_apply() {
    let server = Server::fixture().await;
    let v = "/api/v1/indicators/S6/values?from=2017-12";
    server
        .get(&format!("{v}&format=pdf"))
        .await
        .problem(400, Some("format"));
    server
        .get(&format!("{v}&format=csv&locale=fr"))
        .await
        .problem(400, Some("locale"));
    server
        .get(&format!("{v}&locale=de"))
        .await
        .problem(400, Some("locale"));
    let targets = "/api/v1/targets?jobcenter_id=J1";
    server
        .get(&format!("{targets}&format=xlsx"))
        .await
        .problem(400, Some("format"));
    server
        .get(&format!("{targets}&format=csv&locale=de"))
        .await
        .problem(400, Some("format"));
    assert_eq!(
        server.get(&format!("{targets}&format=csv")).await.status,
        200
    );
    server.stop().await;
}
