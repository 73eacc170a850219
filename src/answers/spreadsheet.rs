//! A [`Sheet`] rendered for spreadsheets: CSV as German Excel opens it (`;`, decimal
//! comma, UTF-8 with a byte-order mark), XLSX (numbers as numbers, the table under the
//! question with a filter on its header), and the plain CSV of a table (`,`, decimal
//! point: the API's `format=csv`).
//!
//! Both spreadsheet renderings lay the sheet out alike, top to bottom: the title, the
//! question (label and value per line), an empty line, the table with its header, an
//! empty line, the results (label and value), the notes.

use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use super::sheet::{Cell, Sheet, Table};

/// The media type of XLSX.
pub const XLSX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The table alone as CSV with a header line: numbers as Rust writes them (decimal
/// point, no exponent), nothing for an empty cell.
pub fn plain_csv(table: &Table) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(t) => t.clone(),
            Cell::Number(x) => x.to_string(),
            Cell::Empty => String::new(),
        }))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The sheet as CSV for German Excel: a byte-order mark (so that Excel reads UTF-8),
/// `;` between fields, a decimal comma, CRLF line ends.
pub fn german_csv(sheet: &Sheet) -> Result<Vec<u8>, csv::Error> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(&mut out);
        let text = |c: &Cell| match c {
            Cell::Text(t) => kept_as_text(t),
            Cell::Number(x) => german_number(*x),
            Cell::Empty => String::new(),
        };
        w.write_record([sheet.title.as_str()])?;
        for (label, value) in &sheet.question {
            w.write_record([label.clone(), kept_as_text(value)])?;
        }
        w.write_record([""])?;
        w.write_record(&sheet.table.columns)?;
        for row in &sheet.table.rows {
            w.write_record(row.iter().map(text))?;
        }
        if !sheet.results.is_empty() {
            w.write_record([""])?;
            for (label, value) in &sheet.results {
                w.write_record([label.clone(), text(value)])?;
            }
        }
        w.write_record([""])?;
        for note in &sheet.notes {
            w.write_record([note])?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// Text that Excel would read as something else — an id of digits (`05515` would lose
/// its leading zero), a month (`2017-12` would become a date) — as the formula `="…"`,
/// which Excel shows as the text itself.
fn kept_as_text(text: &str) -> String {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let month = text.len() == 7
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if digits || month {
        format!("=\"{text}\"")
    } else {
        text.to_string()
    }
}

/// A number as German Excel reads it: a decimal comma and no thousands separator.
fn german_number(x: f64) -> String {
    x.to_string().replace('.', ",")
}

/// The sheet as an XLSX workbook of one worksheet.
pub fn xlsx(sheet: &Sheet, name: &str) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name(name)?;
    let bold = Format::new().set_bold();
    let header = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin);
    let mut row: u32 = 0;
    ws.write_string_with_format(row, 0, &sheet.title, &bold)?;
    row += 1;
    for (label, value) in &sheet.question {
        ws.write_string_with_format(row, 0, label, &bold)?;
        ws.write_string(row, 1, value)?;
        row += 1;
    }
    row += 1;
    let first = row;
    for (col, name) in (0u16..).zip(&sheet.table.columns) {
        ws.write_string_with_format(row, col, name, &header)?;
    }
    for cells in &sheet.table.rows {
        row += 1;
        for (col, cell) in (0u16..).zip(cells) {
            write(ws, row, col, cell)?;
        }
    }
    let columns = u16::try_from(sheet.table.columns.len()).unwrap_or(u16::MAX);
    if columns > 0 {
        ws.autofilter(first, 0, row, columns - 1)?;
        ws.set_freeze_panes(first + 1, 0)?;
    }
    row += 1;
    if !sheet.results.is_empty() {
        for (label, value) in &sheet.results {
            row += 1;
            ws.write_string_with_format(row, 0, label, &bold)?;
            write(ws, row, 1, value)?;
        }
        row += 1;
    }
    for note in &sheet.notes {
        row += 1;
        ws.write_string(row, 0, note)?;
    }
    // Fitting the columns to a long table's every row costs more than it helps.
    ws.set_autofit_max_row(first + 500);
    ws.autofit();
    // The title and the notes are long single cells: not the first column's width.
    ws.set_column_width(0, 28)?;
    workbook.save_to_buffer()
}

fn write(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(t) => ws.write_string(row, col, t).map(|_| ()),
        Cell::Number(x) => ws.write_number(row, col, *x).map(|_| ()),
        Cell::Empty => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            title: "wirkung: K2 Integrationsquote, Werte".into(),
            question: vec![("Monate".into(), "2017-01 – 2017-12".into())],
            table: Table {
                columns: vec!["month".into(), "value".into(), "status".into()],
                rows: vec![
                    vec![
                        Cell::Text("2017-01".into()),
                        Cell::Number(24.529),
                        Cell::Text("available".into()),
                    ],
                    vec![
                        Cell::Text("2017-02".into()),
                        Cell::Empty,
                        Cell::Text("suppressed".into()),
                    ],
                ],
            },
            results: vec![("p-Wert".into(), Cell::Number(0.0004))],
            notes: vec!["Geheimhaltung: …; Zelle".into()],
        }
    }

    #[test]
    fn german_csv_has_a_bom_semicolons_decimal_commas_and_the_question_above_the_table() {
        let bytes = german_csv(&sheet()).expect("csv");
        assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "wirkung: K2 Integrationsquote, Werte",
                "Monate;2017-01 – 2017-12",
                "\"\"",
                "month;value;status",
                // A month stays text in Excel.
                "\"=\"\"2017-01\"\"\";24,529;available",
                "\"=\"\"2017-02\"\"\";;suppressed",
                "\"\"",
                "p-Wert;0,0004",
                "\"\"",
                // A field with the separator is quoted.
                "\"Geheimhaltung: …; Zelle\"",
                "",
            ]
        );
    }

    #[test]
    fn plain_csv_is_the_table_alone() {
        assert_eq!(
            plain_csv(&sheet().table).expect("csv"),
            "month,value,status\n2017-01,24.529,available\n2017-02,,suppressed\n"
        );
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let bytes = xlsx(&sheet(), "Werte").expect("xlsx");
        assert_eq!(&bytes[..2], b"PK");
    }
}
