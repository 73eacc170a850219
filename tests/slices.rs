//! Results do not depend on the number of person slices: the same extract loaded in one
//! slice and in many gives the same rows of every building block and the same cells of
//! every indicator (the hand-worked fixture suites run in three slices, see
//! `support::open`).

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use arrow::util::display::array_value_to_string;
use wirkung::answers::export::{self, CatalogueRow};
use wirkung::blocks::BlockKind;
use wirkung::engine::MemoryBudget;
use wirkung::extract::LoadMode;
use wirkung::generate::{GenerateOptions, generate};
use wirkung::open::Project;

async fn open_in(data: &Path, slices: usize) -> Project {
    let budget = MemoryBudget {
        slices: Some(slices),
        ..MemoryBudget::default()
    };
    let opened = Project::open_within(
        data,
        Path::new(Project::DEFAULT_INDICATORS),
        Path::new(Project::DEFAULT_QUERIES),
        LoadMode::Strict,
        budget,
    )
    .await;
    match opened {
        Ok(p) => p,
        Err(e) => panic!("does not open in {slices} slices: {e}"),
    }
}

/// Every block's rows: (block, month and dimensions as text) → measures.
async fn block_rows(p: &Project) -> BTreeMap<(String, Vec<String>), Vec<Option<f64>>> {
    let mut rows = BTreeMap::new();
    for spec in p.engine.blocks().in_order() {
        if spec.kind != BlockKind::Block {
            continue;
        }
        let df = p
            .engine
            .session()
            .table(spec.name.as_str())
            .await
            .expect("block registered");
        for batch in df.collect().await.expect("block rows") {
            let keys = 1 + spec.dimensions.len();
            for row in 0..batch.num_rows() {
                let key: Vec<String> = (0..keys)
                    .map(|c| array_value_to_string(batch.column(c), row).expect("printable key"))
                    .collect();
                let measures: Vec<Option<f64>> = (keys..batch.num_columns())
                    .map(|c| {
                        let a = batch.column(c).as_primitive::<Float64Type>();
                        (!a.is_null(row)).then(|| a.value(row))
                    })
                    .collect();
                let previous = rows.insert((spec.name.clone(), key.clone()), measures);
                assert!(previous.is_none(), "{}: row {key:?} twice", spec.name);
            }
        }
    }
    rows
}

/// Counts are equal exactly; sums of euro amounts up to the order of floating-point
/// addition (relative 1e-12), which already varies with DataFusion's partitions.
fn assert_same_measures(what: &str, a: &[Option<f64>], b: &[Option<f64>]) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Some(x), Some(y)) => assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{what}: {x} against {y}"
            ),
            (x, y) => assert_eq!(x, y, "{what}"),
        }
    }
}

async fn assert_slices_agree(data: &Path, counts: &[usize], min_count: u32) {
    let one = open_in(data, 1).await;
    assert_eq!(one.engine.slices(), 1);
    let blocks = block_rows(&one).await;
    assert!(blocks.len() > 1000, "the extract fills the blocks");
    let (first, last) = one.engine.span();
    let months = u32::try_from(last.since(first) + 1).expect("a span of months");
    let cells = export::catalogue(&one.engine, months, min_count)
        .await
        .expect("catalogue in one slice");
    assert!(cells.iter().any(|c| c.figure.value.is_some()));
    drop(one);
    for &n in counts {
        let many = open_in(data, n).await;
        assert_eq!(many.engine.slices(), n);
        let other = block_rows(&many).await;
        let keys: Vec<_> = blocks.keys().collect();
        let other_keys: Vec<_> = other.keys().collect();
        assert_eq!(keys, other_keys, "{n} slices: the same block rows");
        for (key, measures) in &blocks {
            assert_same_measures(&format!("{n} slices, {key:?}"), measures, &other[key]);
        }
        let other_cells = export::catalogue(&many.engine, months, min_count)
            .await
            .expect("catalogue in many slices");
        assert_eq!(cells.len(), other_cells.len(), "{n} slices: catalogue rows");
        for (a, b) in cells.iter().zip(&other_cells) {
            let what = format!(
                "{n} slices, {} {} {} {}",
                a.indicator, a.month, a.level, a.unit
            );
            let ids = |c: &CatalogueRow| {
                (
                    c.indicator.clone(),
                    c.month.clone(),
                    c.level,
                    c.unit.clone(),
                    c.figure.status,
                )
            };
            assert_eq!(ids(a), ids(b), "{what}");
            assert_same_measures(
                &what,
                &[a.figure.numerator, a.figure.denominator],
                &[b.figure.numerator, b.figure.denominator],
            );
            // Counts add exactly in any order (a mean window divides once per cell), so
            // quotients of counts agree to the last bit; only a quotient of euro sums
            // may differ in the last bits of its sum's order of addition.
            match (a.figure.value, b.figure.value) {
                (Some(x), Some(y)) => assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                    "{what}: {x} against {y}"
                ),
                (x, y) => assert_eq!(x, y, "{what}"),
            }
        }
    }
}

#[tokio::test]
async fn the_sample_gives_the_same_cells_in_one_slice_and_in_many() {
    assert_slices_agree(Path::new(Project::DEFAULT_SAMPLE), &[2, 7], 3).await;
}

/// A generated extract of `persons` in `jobcenters`, in a new temporary folder.
fn generated(persons: usize, jobcenters: usize, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = GenerateOptions {
        persons,
        jobcenters,
        seed,
        ..GenerateOptions::sample(dir.path().to_path_buf())
    };
    generate(&options).expect("the generator writes the extract");
    dir
}

#[tokio::test]
async fn a_generated_extract_of_many_jobcenters_gives_the_same_cells_in_any_slicing() {
    let dir = generated(4_000, 12, 7);
    // With disclosure control: on this extract, 3 slices once withheld a district cell
    // of K2 (2016-11, 90008-08) that one slice published, because a mean window's count
    // was added as weighted rows in a HashMap's order (now divided once per cell).
    assert_slices_agree(dir.path(), &[3, 16], 3).await;
}

#[tokio::test]
async fn a_load_reports_each_slice_with_its_rows_until_all_are_done() {
    let dir = generated(500, 3, 11);
    let heard = std::sync::Mutex::new(Vec::new());
    let budget = MemoryBudget {
        slices: Some(4),
        ..MemoryBudget::default()
    };
    let opened = Project::open_reporting(
        dir.path(),
        Path::new(Project::DEFAULT_INDICATORS),
        Path::new(Project::DEFAULT_QUERIES),
        LoadMode::Strict,
        budget,
        &wirkung::open::RunOn::Local,
        &|p| heard.lock().unwrap().push(*p),
    )
    .await;
    assert!(opened.is_ok(), "the extract opens");
    let heard = heard.into_inner().unwrap();
    assert_eq!(
        heard
            .iter()
            .map(|p| (p.slices_done, p.slices))
            .collect::<Vec<_>>(),
        [(1, 4), (2, 4), (3, 4), (4, 4)]
    );
    let rows = heard[0].rows;
    assert!(rows > 10_000, "the generated extract's person rows: {rows}");
    assert!(heard.iter().all(|p| p.rows == rows));
    assert!(
        heard
            .windows(2)
            .all(|w| w[0].rows_done < w[1].rows_done && w[0].elapsed <= w[1].elapsed)
    );
    assert_eq!(heard[3].rows_done, rows);
}

/// Rewrites `<dir>/benefit_months.parquet`: its rows as one batch, passed through
/// `change`, written with `props`.
fn rewrite_benefit_months(
    dir: &Path,
    props: Option<parquet::file::properties::WriterProperties>,
    change: impl FnOnce(arrow::array::RecordBatch) -> Vec<arrow::array::RecordBatch>,
) {
    use arrow::array::RecordBatchReader;
    use arrow::compute::concat_batches;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let path = dir.join("benefit_months.parquet");
    let file = std::fs::File::open(&path).expect("benefit_months.parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a Parquet file")
        .build()
        .expect("a reader");
    let schema = reader.schema();
    let batches: Vec<_> = reader.map(|b| b.expect("a batch")).collect();
    let all = concat_batches(&schema, &batches).expect("one batch");
    let out = std::fs::File::create(&path).expect("rewrite benefit_months.parquet");
    let mut writer = ArrowWriter::try_new(out, schema, props).expect("a writer");
    for batch in change(all) {
        writer.write(&batch).expect("rows written");
    }
    writer.close().expect("file closed");
}

/// Rewrites `<dir>/benefit_months.parquet` with its rows in reverse order, so that no
/// person's months come in order and persons come in descending order.
fn reverse_benefit_months(dir: &Path) {
    use arrow::array::UInt32Array;
    use arrow::compute::take_record_batch;

    rewrite_benefit_months(dir, None, |all| {
        let n = u32::try_from(all.num_rows()).expect("rows fit u32");
        let reversed = take_record_batch(&all, &UInt32Array::from_iter_values((0..n).rev()))
            .expect("rows reversed");
        // Several batches, so that the order is broken within and across them.
        (0..reversed.num_rows())
            .step_by(5_000)
            .map(|start| reversed.slice(start, 5_000.min(reversed.num_rows() - start)))
            .collect()
    });
}

/// Rewrites `<dir>/benefit_months.parquet` in row groups of `rows` rows, in the same
/// order, so that slices are cut by the groups' rows and skip other slices' groups.
fn regroup_benefit_months(dir: &Path, rows: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    rewrite_benefit_months(dir, Some(props), |all| vec![all]);
}

#[tokio::test]
async fn slices_cut_by_row_groups_give_the_same_cells() {
    // About 130 groups of 1,000 rows: 3 and 16 slices are cut by the groups' rows
    // (at least four groups a slice) and read only their own groups.
    let dir = generated(4_000, 12, 7);
    regroup_benefit_months(dir.path(), 1_000);
    assert_slices_agree(dir.path(), &[3, 16], 3).await;
}

/// A slice's `benefit_months` is put in person and month order before the windows read
/// it (`extract::order`); a delivery in another order is sorted, and gives exactly the
/// same block rows and cells as one written in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_delivered_out_of_order_give_exactly_the_same_cells() {
    let dir = generated(3_000, 4, 13);
    let in_order = open_in(dir.path(), 3).await;
    let blocks = block_rows(&in_order).await;
    let (first, last) = in_order.engine.span();
    let months = u32::try_from(last.since(first) + 1).expect("a span of months");
    let cells = export::catalogue(&in_order.engine, months, 3)
        .await
        .expect("catalogue in order");
    drop(in_order);
    reverse_benefit_months(dir.path());
    for slices in [1, 3] {
        let reversed = open_in(dir.path(), slices).await;
        let other = block_rows(&reversed).await;
        assert_eq!(blocks.len(), other.len(), "{slices} slice(s): block rows");
        for (key, measures) in &blocks {
            assert_same_measures(
                &format!("{slices} slice(s), {key:?}"),
                measures,
                &other[key],
            );
        }
        let other_cells = export::catalogue(&reversed.engine, months, 3)
            .await
            .expect("catalogue out of order");
        if slices == 3 {
            // The same slices, sorted into the same order: the same sums to the last bit.
            assert_eq!(blocks, other, "3 slices: block rows to the last bit");
            assert_eq!(cells, other_cells, "3 slices: cells to the last bit");
        } else {
            assert_eq!(cells.len(), other_cells.len(), "1 slice: catalogue rows");
            for (a, b) in cells.iter().zip(&other_cells) {
                let what = format!("1 slice, {} {} {}", a.indicator, a.month, a.unit);
                assert_eq!(
                    (&a.indicator, &a.month, &a.unit, a.figure.status),
                    (&b.indicator, &b.month, &b.unit, b.figure.status),
                    "{what}"
                );
                assert_same_measures(
                    &what,
                    &[a.figure.numerator, a.figure.denominator],
                    &[b.figure.numerator, b.figure.denominator],
                );
            }
        }
    }
}
