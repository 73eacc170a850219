//! Finding a table's files, reading them as Parquet and checking their structure.
//!
//! Reading happens in two steps so that every structural problem of the whole extract is
//! known before any data is decoded: [`open_table`] reads only the Parquet footers and
//! checks columns and types against the contract; [`read_table`] then decodes the
//! contract columns (extra columns are never decoded) and casts text to `Utf8`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::error::StructuralError;
use crate::contract::Table;

/// Rows per decoded batch; DataFusion's default batch size, so registered tables stream
/// through plans without re-chunking.
const BATCH_SIZE: usize = 8192;

/// A slice of one file's rows, already in contract column order and types.
#[derive(Debug)]
pub(crate) struct Chunk {
    /// Contract columns with contract types, every field nullable (see [`loose_schema`]).
    pub batch: RecordBatch,
    /// Index into [`RawTable::files`].
    pub file: usize,
    /// 0-based position of the chunk's first row within its file.
    pub first_row: usize,
}

/// Everything read for one table, before row rules.
#[derive(Debug)]
pub(crate) struct RawTable {
    /// The contract table.
    pub table: &'static Table,
    /// Files in read order.
    pub files: Vec<PathBuf>,
    /// Decoded rows in read order.
    pub chunks: Vec<Chunk>,
}

impl RawTable {
    /// Number of rows read.
    pub fn rows(&self) -> usize {
        self.chunks.iter().map(|c| c.batch.num_rows()).sum()
    }
}

/// A Parquet file whose footer was read and whose columns match the contract.
pub(crate) struct OpenFile {
    path: PathBuf,
    builder: ParquetRecordBatchReaderBuilder<File>,
}

/// The contract schema with every field nullable: the shape of rows before the row rules
/// have removed nulls from not-null columns.
pub(crate) fn loose_schema(table: &Table) -> SchemaRef {
    let schema = table.schema();
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ))
}

/// The files of a table in read order; `None` when an optional table is absent.
pub(crate) fn locate(
    dir: &Path,
    table: &'static Table,
) -> Result<Option<Vec<PathBuf>>, StructuralError> {
    let name = table.name;
    let file = dir.join(format!("{name}.parquet"));
    let folder = dir.join(name);
    let layout = || format!("either a file `{name}.parquet` or a folder `{name}/`");
    if file.is_dir() {
        return Err(StructuralError::new(
            Some(file),
            name,
            None,
            format!(
                "`{name}.parquet` to be a Parquet file (a folder of files must be named `{name}/`)"
            ),
            "a folder",
        ));
    }
    match (file.is_file(), folder.is_dir()) {
        (true, true) => {
            let found = format!("both, {} and {}", file.display(), folder.display());
            Err(StructuralError::new(
                Some(folder),
                name,
                None,
                layout(),
                found,
            ))
        }
        (true, false) => Ok(Some(vec![file])),
        (false, true) => list_folder(&folder, name).map(Some),
        (false, false) if table.optional => Ok(None),
        (false, false) => Err(StructuralError::new(
            None,
            name,
            None,
            format!("{} (a required table)", layout()),
            "neither",
        )),
    }
}

/// The `*.parquet` files of a table folder, sorted by name. Hidden files and Spark's
/// `_SUCCESS` marker are ignored; any other entry (a subfolder such as `month=2017-01/`,
/// a `.csv`) is refused, since skipping it would drop its rows silently.
fn list_folder(folder: &Path, name: &'static str) -> Result<Vec<PathBuf>, StructuralError> {
    let unreadable = |e: std::io::Error| {
        StructuralError::new(
            Some(folder.to_path_buf()),
            name,
            None,
            "a readable folder",
            e.to_string(),
        )
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file_name.starts_with('.') || file_name == "_SUCCESS" {
            continue;
        }
        if !file_name.ends_with(".parquet") {
            return Err(StructuralError::new(
                Some(path),
                name,
                None,
                "only `*.parquet` files in the table folder (hidden files and _SUCCESS are ignored)",
                "another entry, whose rows would be skipped",
            ));
        }
        if path.is_dir() {
            return Err(StructuralError::new(
                Some(path),
                name,
                None,
                "Parquet files inside the table folder",
                "a folder",
            ));
        }
        files.push(path);
    }
    files.sort();
    if files.is_empty() {
        return Err(StructuralError::new(
            Some(folder.to_path_buf()),
            name,
            None,
            "one or more `*.parquet` files in the table folder",
            "none",
        ));
    }
    Ok(files)
}

/// Reads the footers of a table's files and checks columns, types and that all files
/// share one schema. Problems are appended to `errors`; files that could be opened are
/// returned.
pub(crate) fn open_table(
    table: &'static Table,
    files: &[PathBuf],
    errors: &mut Vec<StructuralError>,
) -> Vec<OpenFile> {
    let mut opened: Vec<OpenFile> = Vec::new();
    for path in files {
        let builder = File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string()));
        let builder = match builder {
            Ok(b) => b,
            Err(e) => {
                errors.push(StructuralError::new(
                    Some(path.clone()),
                    table.name,
                    None,
                    "a readable Parquet file",
                    format!("a file that cannot be read as Parquet ({e})"),
                ));
                continue;
            }
        };
        check_columns(table, path, builder.schema(), errors);
        if let Some(first) = opened.first() {
            compare_schemas(table, first, path, builder.schema(), errors);
        }
        opened.push(OpenFile {
            path: path.clone(),
            builder,
        });
    }
    opened
}

fn check_columns(
    table: &'static Table,
    path: &Path,
    schema: &Schema,
    errors: &mut Vec<StructuralError>,
) {
    for column in table.columns {
        match schema.field_with_name(column.name) {
            Err(_) => errors.push(StructuralError::new(
                Some(path.to_path_buf()),
                table.name,
                Some(column.name),
                format!("a column of type {}", column.ty.describe()),
                "no such column",
            )),
            Ok(field) if !column.ty.accepts(field.data_type()) => {
                errors.push(StructuralError::new(
                    Some(path.to_path_buf()),
                    table.name,
                    Some(column.name),
                    format!("type {}", column.ty.describe()),
                    format!("type {}", field.data_type()),
                ))
            }
            Ok(_) => {}
        }
    }
}

/// Files of one table must agree on the name and type of every column. Column order,
/// nullability flags and metadata may differ: columns are read by name.
fn compare_schemas(
    table: &'static Table,
    first: &OpenFile,
    path: &Path,
    schema: &Schema,
    errors: &mut Vec<StructuralError>,
) {
    let reference = first.builder.schema();
    let as_in = format!("as in {}", first.path.display());
    let mut differ = |column: &str, expected: String, found: String| {
        errors.push(StructuralError::new(
            Some(path.to_path_buf()),
            table.name,
            Some(column),
            format!("the schema of the other files of the table: {expected} {as_in}"),
            found,
        ))
    };
    for f in reference.fields() {
        match schema.field_with_name(f.name()) {
            Err(_) => differ(
                f.name(),
                format!("type {}", f.data_type()),
                "no such column".into(),
            ),
            Ok(g) if g.data_type() != f.data_type() => differ(
                f.name(),
                format!("type {}", f.data_type()),
                format!("type {}", g.data_type()),
            ),
            Ok(_) => {}
        }
    }
    for g in schema.fields() {
        if reference.field_with_name(g.name()).is_err() {
            differ(
                g.name(),
                "no such column".into(),
                format!("a column of type {}", g.data_type()),
            );
        }
    }
}

/// Decodes the contract columns of every file of a table.
pub(crate) fn read_table(
    table: &'static Table,
    opened: Vec<OpenFile>,
) -> Result<RawTable, StructuralError> {
    let loose = loose_schema(table);
    let mut raw = RawTable {
        table,
        files: Vec::new(),
        chunks: Vec::new(),
    };
    for (file, open) in opened.into_iter().enumerate() {
        let OpenFile { path, builder } = open;
        let corrupt = |e: &dyn std::fmt::Display| {
            StructuralError::new(
                Some(path.clone()),
                table.name,
                undecodable_column(table, &path),
                "a readable Parquet file",
                format!("a file whose data cannot be decoded ({e})"),
            )
        };
        // Only the contract columns are decoded; `open_table` made sure they all exist.
        let roots: Vec<usize> = table
            .columns
            .iter()
            .filter_map(|c| builder.schema().index_of(c.name).ok())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH_SIZE)
            .build()
            .map_err(|e| corrupt(&e))?;
        let mut first_row = 0;
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(&e))?;
            let rows = batch.num_rows();
            if rows > 0 {
                let batch = conform(table, &loose, &path, &batch)?;
                raw.chunks.push(Chunk {
                    batch,
                    file,
                    first_row,
                });
            }
            first_row += rows;
        }
        raw.files.push(path);
    }
    Ok(raw)
}

/// The first contract column of a file that fails to decode on its own, to name in the
/// error: Parquet's message (e.g. "encountered non UTF-8 data") does not say which column.
/// Only called once decoding has failed, so it may read the file again.
fn undecodable_column(table: &'static Table, path: &Path) -> Option<&'static str> {
    let decodes = |name: &str| {
        let Ok(builder) = File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string()))
        else {
            return true; // the footer was readable before: cannot tell, name no column
        };
        let Ok(root) = builder.schema().index_of(name) else {
            return true;
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), [root]);
        match builder.with_projection(mask).build() {
            Ok(mut reader) => reader.all(|batch| batch.is_ok()),
            Err(_) => false,
        }
    };
    table
        .columns
        .iter()
        .map(|c| c.name)
        .find(|name| !decodes(name))
}

/// Puts a decoded batch into contract column order and contract types.
fn conform(
    table: &'static Table,
    loose: &SchemaRef,
    path: &Path,
    batch: &RecordBatch,
) -> Result<RecordBatch, StructuralError> {
    let error = |column: &str, found: String| {
        StructuralError::new(
            Some(path.to_path_buf()),
            table.name,
            Some(column),
            "a column convertible to its contract type",
            found,
        )
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(loose.fields().len());
    for field in loose.fields() {
        let array = batch
            .column_by_name(field.name())
            .ok_or_else(|| error(field.name(), "no such column".into()))?;
        let array = if array.data_type() == field.data_type() {
            Arc::clone(array)
        } else {
            cast(array, field.data_type()).map_err(|e| error(field.name(), e.to_string()))?
        };
        columns.push(array);
    }
    RecordBatch::try_new(Arc::clone(loose), columns).map_err(|e| error("*", e.to_string()))
}
