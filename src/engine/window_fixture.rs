//! Test fixture of the window functions over a person's months (`months_within`,
//! `neighbour`): random persons with gaps in person and month order, and a query that
//! counts the rows on which a new expression differs from the SQL it replaces.

use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray, Int32Array, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::WindowUDF;
use datafusion::physical_plan::displayable;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Table `t`: `person_id`, `month_idx` (strictly increasing per person, mostly by one,
/// sometimes with a gap), `flag` (true, false or NULL) and `place` (one of three), for
/// 300 persons, in batches of 700 rows so that persons span batches. The same on every
/// run (xorshift from `seed`).
pub(super) fn person_months(seed: u64) -> (SchemaRef, Vec<RecordBatch>) {
    let mut state = seed;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let (mut persons, mut months, mut flags, mut places) = (vec![], vec![], vec![], vec![]);
    for person in 0..300 {
        let mut month = 600 + next(30) as i32;
        for _ in 0..next(60) {
            persons.push(format!("p{person:03}"));
            months.push(month);
            flags.push(match next(10) {
                0 => None,
                1..=6 => Some(true),
                _ => Some(false),
            });
            places.push(format!("jc{}", next(3)));
            month += [1, 1, 1, 1, 2, 3, 5, 30][next(8) as usize];
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("month_idx", DataType::Int32, false),
        Field::new("flag", DataType::Boolean, true),
        Field::new("place", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(persons)),
            Arc::new(Int32Array::from(months)),
            Arc::new(BooleanArray::from(flags)),
            Arc::new(StringArray::from(places)),
        ],
    )
    .expect("the fixture's columns match its schema");
    let batches = (0..batch.num_rows())
        .step_by(700)
        .map(|at| batch.slice(at, 700.min(batch.num_rows() - at)))
        .collect();
    (schema, batches)
}

/// Over `t` on `partitions` partitions with `function` registered: the physical plan of
/// `SELECT count(*), count(*) FILTER (WHERE differ) FROM (inner)`, the rows and the rows
/// on which `differ` holds.
pub(super) async fn rows_differing(
    (schema, batches): &(SchemaRef, Vec<RecordBatch>),
    function: WindowUDF,
    partitions: usize,
    inner: &str,
    differ: &str,
) -> (String, i64, i64) {
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    ctx.register_udwf(function);
    let table = MemTable::try_new(schema.clone(), vec![batches.clone()]).expect("a table");
    ctx.register_table("t", Arc::new(table))
        .expect("registered");
    let sql = format!("SELECT count(*), count(*) FILTER (WHERE {differ}) FROM ({inner})");
    let frame = ctx.sql(&sql).await.expect("the query plans");
    let plan = frame.clone().create_physical_plan().await.expect("a plan");
    let plan = displayable(plan.as_ref()).indent(false).to_string();
    let result = frame.collect().await.expect("the query runs");
    let count = |c: usize| result[0].column(c).as_primitive::<Int64Type>().value(0);
    let (rows, differing) = (count(0), count(1));
    assert!(rows > 4_000, "the fixture has rows: {rows}");
    (plan, rows, differing)
}
