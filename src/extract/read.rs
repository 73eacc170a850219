//! Finding a table's files, reading them as Parquet and checking their structure.
//!
//! Reading happens in two steps so that every structural problem of the whole extract is
//! known before any data is decoded: [`open_table`] reads only the Parquet footers and
//! checks columns and types against the contract; [`read_table`] then decodes the
//! contract columns (extra columns are never decoded) and casts text to `Utf8`, once per
//! person slice, keeping the rows of that slice's persons and their rows in the file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    RowFilter,
};
use parquet::errors::ParquetError;

use super::error::StructuralError;
use super::slices::{GroupIds, PERSON_ID, SliceBounds};
use crate::extract::contract::Table;

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
    /// When the chunk holds only some rows of what was decoded (one person slice): each
    /// row's position after `first_row`, so that a report still names the file's row.
    pub positions: Option<Vec<u32>>,
}

impl Chunk {
    /// 0-based position of `row` of the chunk within its file.
    pub fn file_row(&self, row: usize) -> usize {
        self.first_row + self.positions.as_ref().map_or(row, |p| p[row] as usize)
    }
}

/// Which part of a table [`read_table`] decodes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pick<'a> {
    /// The contract columns to decode, `None` for all of them (the pass over the keys
    /// that do not contain `person_id` needs only those).
    pub columns: Option<&'static [&'static str]>,
    /// `Some((index, bounds))`: only the rows of persons in slice `index` of `bounds`.
    pub slice: Option<(usize, &'a SliceBounds)>,
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

/// A Parquet file whose footer was read and whose columns match the contract, kept open:
/// every slice reads the file opened when its structure was checked, so a delivery that
/// replaces files while a load runs cannot mix two versions into one load.
#[derive(Debug)]
pub(crate) struct OpenFile {
    path: PathBuf,
    file: File,
    metadata: ArrowReaderMetadata,
}

impl OpenFile {
    /// The file's rows, from its footer.
    pub fn rows(&self) -> usize {
        usize::try_from(self.metadata.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length and its Parquet footer (the metadata and the 8 bytes after it),
    /// read through the handle opened when the load began.
    pub fn footer(&self) -> std::io::Result<(u64, Vec<u8>)> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self.file.try_clone()?;
        let len = file.metadata()?.len();
        let mut trailer = [0u8; 8];
        file.seek(SeekFrom::Start(len.saturating_sub(8)))?;
        file.read_exact(&mut trailer)?;
        let metadata = u64::from(u32::from_le_bytes([
            trailer[0], trailer[1], trailer[2], trailer[3],
        ]));
        let start = len.saturating_sub(8 + metadata);
        file.seek(SeekFrom::Start(start))?;
        let mut footer = Vec::new();
        file.take(len - start).read_to_end(&mut footer)?;
        Ok((len, footer))
    }

    /// A reader of the file as it was opened, with the footer already read.
    fn builder(&self) -> std::io::Result<ParquetRecordBatchReaderBuilder<File>> {
        let file = self.file.try_clone()?;
        Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            file,
            self.metadata.clone(),
        ))
    }
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
        let opened_file = File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|file| {
                ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
                    .map(|metadata| (file, metadata))
                    .map_err(|e| e.to_string())
            });
        let (file, metadata) = match opened_file {
            Ok(f) => f,
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
        check_columns(table, path, metadata.schema(), errors);
        if let Some(first) = opened.first() {
            compare_schemas(table, first, path, metadata.schema(), errors);
        }
        opened.push(OpenFile {
            path: path.clone(),
            file,
            metadata,
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
    let reference = first.metadata.schema();
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

/// Decodes the picked columns of every file of a table, keeping the picked rows; called
/// once per person slice on the files [`open_table`] opened.
pub(crate) fn read_table(
    table: &'static Table,
    files: &[OpenFile],
    pick: Pick<'_>,
) -> Result<RawTable, StructuralError> {
    let full = loose_schema(table);
    let loose: SchemaRef = Arc::new(Schema::new(
        full.fields()
            .iter()
            .filter(|f| pick.columns.is_none_or(|c| c.contains(&f.name().as_str())))
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let mut raw = RawTable {
        table,
        files: Vec::new(),
        chunks: Vec::new(),
    };
    for (file, open) in files.iter().enumerate() {
        let path = &open.path;
        let corrupt = |e: &dyn std::fmt::Display| {
            StructuralError::new(
                Some(path.clone()),
                table.name,
                undecodable_column(table, path),
                "a readable Parquet file",
                format!("a file whose data cannot be decoded ({e})"),
            )
        };
        let builder = open.builder().map_err(|e| {
            StructuralError::new(
                Some(path.clone()),
                table.name,
                None,
                "a readable Parquet file",
                format!("a file that cannot be read as Parquet ({e})"),
            )
        })?;
        // Only the picked contract columns are decoded; `open_table` made sure they exist.
        let roots: Vec<usize> = loose
            .fields()
            .iter()
            .filter_map(|f| builder.schema().index_of(f.name()).ok())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        // One slice of several: only the row groups whose `person_id` statistics meet the
        // slice's range are read; in them, a row filter decodes `person_id` for every row
        // and the other columns only for the slice's rows, and records which rows those are.
        let slice = pick.slice.filter(|(_, bounds)| bounds.count() > 1);
        let selected = slice.map(|_| Arc::new(Mutex::new(Vec::new())));
        let mut builder = builder.with_projection(mask).with_batch_size(BATCH_SIZE);
        if let (Some(selected), Some((index, bounds))) = (&selected, slice) {
            let person = builder
                .schema()
                .index_of(PERSON_ID)
                .map_err(|e| corrupt(&e))?;
            let groups = groups_of_slice(builder.metadata(), bounds, index);
            let ids = ProjectionMask::roots(builder.parquet_schema(), [person]);
            let mut predicate = SlicePredicate {
                index,
                bounds: bounds.clone(),
                seen: 0,
                groups: groups
                    .iter()
                    .map(|g| (g.read_before, g.first_row))
                    .collect(),
                selected: Arc::clone(selected),
            };
            let filter = ArrowPredicateFn::new(ids, move |batch| predicate.keep(&batch));
            builder = builder
                .with_row_groups(groups.iter().map(|g| g.index).collect())
                .with_row_filter(RowFilter::new(vec![Box::new(filter)]));
        }
        let reader = builder.build().map_err(|e| match e {
            // Building the reader runs the row filter, which wraps what it met.
            ParquetError::External(inner) => corrupt(&inner),
            other => corrupt(&other),
        })?;
        let mut first_row = 0;
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(&e))?;
            let rows = batch.num_rows();
            if rows > 0 {
                let batch = conform(table, &loose, path, &batch)?;
                let positions = selected.as_ref().map(|s| {
                    let s = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    s[first_row..first_row + rows].to_vec()
                });
                raw.chunks.push(Chunk {
                    batch,
                    file,
                    // With a row filter, positions count from the file's first row.
                    first_row: if positions.is_some() { 0 } else { first_row },
                    positions,
                });
            }
            first_row += rows;
        }
        raw.files.push(path.clone());
    }
    Ok(raw)
}

/// A row group a slice reads.
struct SliceGroup {
    /// Its index in the file.
    index: usize,
    /// The file's rows before it.
    first_row: usize,
    /// Rows of the groups the slice reads before it.
    read_before: usize,
}

/// The row groups of a file that may hold rows of slice `index`: those whose
/// `person_id` statistics meet the slice's range (see [`SliceBounds::may_hold`]), and
/// every group when the file has no usable statistics (no min and max, old-style min and
/// max, or text ordered otherwise than by unsigned bytes, as some old writers did).
fn groups_of_slice(
    metadata: &Arc<parquet::file::metadata::ParquetMetaData>,
    bounds: &SliceBounds,
    index: usize,
) -> Vec<SliceGroup> {
    let ranges = person_ranges(metadata);
    let mut groups = Vec::new();
    let (mut first_row, mut read_before) = (0, 0);
    for (i, range) in ranges.into_iter().enumerate() {
        let read = match &range.ids {
            Some((min, max)) => bounds.may_hold(index, min, max, range.nulls),
            None => true,
        };
        if read {
            groups.push(SliceGroup {
                index: i,
                first_row,
                read_before,
            });
            read_before += range.rows;
        }
        first_row += range.rows;
    }
    groups
}

/// What a row group's statistics say of its `person_id`s.
pub(crate) struct PersonRange<'a> {
    /// Bounds of the ids in it (bytes of its min and max), when the statistics are usable.
    pub ids: Option<(&'a [u8], &'a [u8])>,
    /// Its rows without an id, when known.
    pub nulls: Option<u64>,
    pub rows: usize,
}

/// The `person_id` range of every row group of a file, in file order. Statistics are
/// usable when they have a min and a max, are not old-style (`min`/`max` before
/// `min_value`/`max_value`, possibly in signed byte order) and the column is text
/// ordered by unsigned bytes.
pub(crate) fn person_ranges(
    metadata: &parquet::file::metadata::ParquetMetaData,
) -> Vec<PersonRange<'_>> {
    let schema = metadata.file_metadata().schema_descr();
    let leaf = (0..schema.num_columns()).find(|&i| {
        let column = schema.column(i);
        column.path().parts() == [PERSON_ID]
            && column.physical_type() == parquet::basic::Type::BYTE_ARRAY
            && metadata.file_metadata().column_order(i).sort_order()
                == parquet::basic::SortOrder::UNSIGNED
    });
    metadata
        .row_groups()
        .iter()
        .map(|group| {
            let stats = leaf
                .and_then(|leaf| group.column(leaf).statistics())
                .filter(|s| !s.is_min_max_deprecated());
            PersonRange {
                ids: stats.and_then(|s| Some((s.min_bytes_opt()?, s.max_bytes_opt()?))),
                nulls: stats.and_then(|s| s.null_count_opt()),
                rows: usize::try_from(group.num_rows()).unwrap_or(0),
            }
        })
        .collect()
}

/// The `person_id` range and rows of every row group of a table's files, or `None`
/// when a group has no usable statistics (see [`person_ranges`]).
pub(crate) fn person_groups(files: &[OpenFile]) -> Option<Vec<GroupIds>> {
    files
        .iter()
        .flat_map(|f| person_ranges(f.metadata.metadata()))
        .map(|r| {
            let (min, max) = r.ids?;
            Some((min.to_vec(), max.to_vec(), r.rows))
        })
        .collect()
}

/// The row filter of one person slice: keeps the rows whose `person_id` is in slice
/// `index` of `bounds` (a null id, which the `null` rule refuses, counts to slice 0 so
/// that it is reported once) and records their positions in the file, in file order.
struct SlicePredicate {
    index: usize,
    bounds: SliceBounds,
    /// Rows of the groups read seen so far.
    seen: usize,
    /// Per row group read: the rows read before it and its first row in the file.
    groups: Vec<(usize, usize)>,
    selected: Arc<Mutex<Vec<u32>>>,
}

impl SlicePredicate {
    fn keep(&mut self, batch: &RecordBatch) -> Result<BooleanArray, ArrowError> {
        let column = batch
            .columns()
            .first()
            .ok_or_else(|| ArrowError::SchemaError(format!("no column {PERSON_ID}")))?;
        let ids = cast(column, &DataType::Utf8)?;
        let ids = ids.as_string::<i32>();
        let keep: BooleanArray = ids
            .iter()
            .map(|id| Some(self.bounds.slice_of(id) == self.index))
            .collect();
        let mut selected = self
            .selected
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        selected.extend(keep.values().set_indices().map(|row| {
            let read = self.seen + row;
            let group = self.groups.partition_point(|&(before, _)| before <= read) - 1;
            let (before, first_row) = self.groups[group];
            (first_row + read - before) as u32
        }));
        self.seen += batch.num_rows();
        Ok(keep)
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
    use parquet::file::properties::{EnabledStatistics, WriterProperties};

    use super::groups_of_slice;
    use crate::extract::SliceBounds;

    /// A Parquet file of `ids` as `person_id`, in row groups of two rows, and its footer.
    fn footer(ids: &[Option<&str>], statistics: EnabledStatistics) -> ArrowReaderMetadata {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "person_id",
            DataType::Utf8,
            true,
        )]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(ids.to_vec()))],
        )
        .expect("a batch");
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .set_statistics_enabled(statistics)
            .build();
        let file = tempfile::tempfile().expect("a temporary file");
        let out = file.try_clone().expect("the file again");
        let mut writer = ArrowWriter::try_new(out, schema, Some(props)).expect("a writer");
        writer.write(&batch).expect("written");
        writer.close().expect("closed");
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).expect("a footer")
    }

    /// The row groups slice `index` reads, as (group, first row, rows read before).
    fn read(meta: &ArrowReaderMetadata, bounds: &SliceBounds, index: usize) -> Vec<[usize; 3]> {
        groups_of_slice(meta.metadata(), bounds, index)
            .iter()
            .map(|g| [g.index, g.first_row, g.read_before])
            .collect()
    }

    #[test]
    fn a_slice_reads_the_row_groups_its_range_meets() {
        // Groups [p1 p2] [p3 p4] [p5 –] [p6 p7]; slices [.., p3), [p3, p5), [p5, ..)
        // of the persons p1…p6. Slice 0 also reads the group with a row without an id.
        let ids = [
            Some("p1"),
            Some("p2"),
            Some("p3"),
            Some("p4"),
            Some("p5"),
            None,
            Some("p6"),
            Some("p7"),
        ];
        let meta = footer(&ids, EnabledStatistics::Chunk);
        let bounds = SliceBounds::new(["p1", "p2", "p3", "p4", "p5", "p6"], 3);
        assert_eq!(read(&meta, &bounds, 0), [[0, 0, 0], [2, 4, 2]]);
        assert_eq!(read(&meta, &bounds, 1), [[1, 2, 0]]);
        assert_eq!(read(&meta, &bounds, 2), [[2, 4, 0], [3, 6, 2]]);
        // Without statistics every slice reads every group.
        let bare = footer(&ids, EnabledStatistics::None);
        let all = [[0, 0, 0], [1, 2, 2], [2, 4, 4], [3, 6, 6]];
        for index in 0..3 {
            assert_eq!(read(&bare, &bounds, index), all);
        }
    }
}
