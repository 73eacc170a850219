//! Runs the building blocks once per load and checks them and the definitions against
//! the schemas they really produce.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::SortExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_plan::{ExecutionPlan, collect_partitioned, displayable};
use datafusion::prelude::{SessionContext, cast as cast_expr, ident};

use super::EngineError;
use super::codes::is_text;
use crate::blocks::{BlockCatalogue, BlockKind, BlockSpec};
use crate::definition::{Catalogue, DefinitionError, FilterValue};

/// A district with the units above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// District id.
    pub district_id: String,
    /// District name.
    pub district_name: String,
    /// Jobcenter id.
    pub jobcenter_id: String,
    /// Jobcenter name.
    pub jobcenter_name: String,
    /// SGB II comparison type of the jobcenter, if known.
    pub comparison_type: Option<String>,
}

/// Tables that stay registered after the load besides the blocks: the unit hierarchy.
const KEPT: [&str; 2] = ["jobcenters", "districts"];

/// Registers every query: views as views, tables and blocks computed once and kept.
///
/// Memory: as soon as no later query reads an extract table, an intermediate table or a
/// view, it is deregistered, so its batches are freed (the session holds the only
/// reference, see `Extract::register`). After the load only the blocks and the unit
/// hierarchy remain: requests read nothing else.
pub(super) async fn materialize(
    ctx: &SessionContext,
    blocks: &BlockCatalogue,
) -> Result<(), EngineError> {
    materialize_observed(ctx, blocks, |spec, plan| {
        tracing::debug!(
            block = %spec.name,
            plan = %displayable(plan).indent(true),
            "planned"
        );
    })
    .await
}

/// [`materialize`], showing `observe` the physical plan of every table and block before
/// it runs (the tests check that no window sorts again what is already in order).
pub(super) async fn materialize_observed(
    ctx: &SessionContext,
    blocks: &BlockCatalogue,
    mut observe: impl FnMut(&BlockSpec, &dyn ExecutionPlan),
) -> Result<(), EngineError> {
    let specs = blocks.in_order();
    let mut registered: Vec<String> = ctx
        .catalog_names()
        .iter()
        .filter_map(|c| ctx.catalog(c))
        .flat_map(|c| {
            c.schema_names()
                .into_iter()
                .filter_map(move |s| c.schema(&s))
        })
        .flat_map(|s| s.table_names())
        .collect();
    for (i, spec) in specs.iter().enumerate() {
        let started = std::time::Instant::now();
        let fail = |reason: String| EngineError::Block {
            file: spec.file.clone(),
            reason,
        };
        let df = ctx.sql(&spec.sql).await.map_err(|e| fail(e.to_string()))?;
        match spec.kind {
            BlockKind::View => {
                ctx.register_table(spec.name.as_str(), df.into_view())
                    .map_err(|e| fail(e.to_string()))?;
            }
            BlockKind::Table | BlockKind::Block => {
                let df = if spec.kind == BlockKind::Block {
                    shape_block(spec, df)?
                } else {
                    df
                };
                let planned = Arc::new(df.schema().as_arrow().clone());
                let plan = df
                    .create_physical_plan()
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                observe(spec, plan.as_ref());
                let order = kept_order(plan.as_ref());
                let partitions = collect_partitioned(Arc::clone(&plan), ctx.task_ctx())
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                tracing::trace!(
                    block = %spec.name,
                    metrics = %DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true),
                    "ran"
                );
                // The batches' own schema: a plan's nullability can differ from what its
                // operators produce (e.g. after a UNION), which MemTable refuses.
                let schema = partitions
                    .iter()
                    .flatten()
                    .next()
                    .map(|b| b.schema())
                    .unwrap_or(planned);
                let rows: usize = partitions.iter().flatten().map(|b| b.num_rows()).sum();
                let table = MemTable::try_new(schema, partitions)
                    .map_err(|e| fail(e.to_string()))?
                    .with_sort_order(order);
                ctx.register_table(spec.name.as_str(), Arc::new(table))
                    .map_err(|e| fail(e.to_string()))?;
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(block = %spec.name, rows, ms, "computed");
            }
        }
        if spec.kind != BlockKind::Block {
            registered.push(spec.name.clone());
        }
        let needed = inputs_of(blocks, &specs[i + 1..]);
        for name in std::mem::take(&mut registered) {
            if needed.contains(&name) || KEPT.contains(&name.as_str()) {
                registered.push(name);
            } else {
                ctx.deregister_table(name.as_str())
                    .map_err(|e| EngineError::Block {
                        file: spec.file.clone(),
                        reason: e.to_string(),
                    })?;
                tracing::debug!(table = %name, "released");
            }
        }
    }
    Ok(())
}

/// The orders every partition of `plan`'s output is in, as far as they are by plain
/// columns, so that the table made of it declares them and later queries over the table
/// need not sort again (`flows` reads `person_months` in the order of each person's
/// months). All equivalent orders are kept: `person_months` is in order of person and
/// `month`, and so of person and `month_idx`, and a query may read only one of the two.
fn kept_order(plan: &dyn ExecutionPlan) -> Vec<Vec<SortExpr>> {
    plan.properties()
        .equivalence_properties()
        .oeq_class()
        .iter()
        .map(|ordering| {
            ordering
                .iter()
                .map_while(|e| {
                    let column = e.expr.downcast_ref::<Column>()?;
                    Some(ident(column.name()).sort(!e.options.descending, e.options.nulls_first))
                })
                .collect::<Vec<_>>()
        })
        .filter(|columns| !columns.is_empty())
        .collect()
}

/// Every table or view the queries `rest` read, directly or through views.
fn inputs_of(blocks: &BlockCatalogue, rest: &[BlockSpec]) -> BTreeSet<String> {
    let mut needed = BTreeSet::new();
    let mut stack: Vec<&String> = rest
        .iter()
        .flat_map(|s| s.requires.iter().chain(&s.reads_if_present))
        .collect();
    while let Some(name) = stack.pop() {
        if needed.insert(name.clone())
            && let Some(view) = blocks.get(name).filter(|v| v.kind == BlockKind::View)
        {
            stack.extend(view.requires.iter().chain(&view.reads_if_present));
        }
    }
    needed
}

/// Checks a block's columns against its header and casts its measures to Float64.
fn shape_block(
    spec: &BlockSpec,
    df: datafusion::dataframe::DataFrame,
) -> Result<datafusion::dataframe::DataFrame, EngineError> {
    let fail = |reason: String| EngineError::Block {
        file: spec.file.clone(),
        reason,
    };
    let schema = df.schema().as_arrow().clone();
    let column = |name: &str| schema.field_with_name(name).ok();
    match column("month").map(|f| f.data_type()) {
        Some(DataType::Date32) => {}
        Some(other) => {
            return Err(fail(format!(
                "column 'month' must be Date32, found {other}"
            )));
        }
        None => return Err(fail("has no column 'month'".into())),
    }
    let mut exprs = vec![ident("month")];
    for dim in &spec.dimensions {
        match column(dim).map(|f| f.data_type()) {
            Some(t) if is_text(t) || t == &DataType::Boolean => exprs.push(ident(dim)),
            Some(other) => {
                return Err(fail(format!(
                    "dimension '{dim}' must be text or Boolean, found {other}"
                )));
            }
            None => {
                return Err(fail(format!(
                    "declares dimension '{dim}' but its SQL has no such column"
                )));
            }
        }
    }
    for measure in spec.measures.keys() {
        match column(measure).map(|f| f.data_type().clone()) {
            Some(t) if t.is_numeric() => {
                exprs.push(cast_expr(ident(measure), DataType::Float64).alias(measure))
            }
            Some(other) => {
                return Err(fail(format!(
                    "measure '{measure}' must be numeric, found {other}"
                )));
            }
            None => {
                return Err(fail(format!(
                    "declares measure '{measure}' but its SQL has no such column"
                )));
            }
        }
    }
    df.select(exprs).map_err(|e| fail(e.to_string()))
}

/// Checks each definition's fixed filters against the types of the block columns.
pub(super) async fn check_definitions(
    ctx: &SessionContext,
    blocks: &BlockCatalogue,
    catalogue: &Catalogue,
) -> Result<(), EngineError> {
    let mut errors = Vec::new();
    for def in catalogue.all() {
        for (side_name, side) in def.sides() {
            let Some(spec) = blocks.get(&side.block) else {
                continue;
            };
            let table = ctx.table_provider(spec.name.as_str()).await?;
            let schema = table.schema();
            for (column, value) in &side.filter {
                let Ok(field) = schema.field_with_name(column) else {
                    continue;
                };
                let fits = matches!(
                    (value, field.data_type()),
                    (FilterValue::Bool(_), DataType::Boolean)
                ) || matches!(value, FilterValue::Text(_)) && is_text(field.data_type());
                if !fits {
                    // The file was read at start; read again only to name the line.
                    let text = std::fs::read_to_string(&def.file).unwrap_or_default();
                    let error = DefinitionError {
                        line: None,
                        file: def.file.clone(),
                        field: Some(format!("{side_name}.filter.{column}")),
                        reason: format!(
                            "block column '{column}' is {}, the filter value does not match",
                            field.data_type()
                        ),
                    };
                    errors.push(error.located(&text));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Definitions(errors))
    }
}

/// Reads the unit hierarchy from the reference tables.
pub(super) async fn units(ctx: &SessionContext) -> Result<Vec<Unit>, EngineError> {
    let batches = ctx
        .sql(
            "SELECT d.district_id, d.name, d.jobcenter_id, j.name, j.comparison_type \
             FROM districts d JOIN jobcenters j ON j.jobcenter_id = d.jobcenter_id \
             ORDER BY d.district_id",
        )
        .await?
        .collect()
        .await?;
    let mut units = Vec::new();
    for batch in batches {
        let text = |i: usize| -> Result<StringArray, EngineError> {
            let array = cast(batch.column(i), &DataType::Utf8)
                .map_err(datafusion::error::DataFusionError::from)?;
            Ok(array
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .unwrap_or_else(|| StringArray::from(Vec::<Option<String>>::new())))
        };
        let cols = [text(0)?, text(1)?, text(2)?, text(3)?, text(4)?];
        for row in 0..batch.num_rows() {
            let get = |c: usize| (!cols[c].is_null(row)).then(|| cols[c].value(row).to_string());
            units.push(Unit {
                district_id: get(0).unwrap_or_default(),
                district_name: get(1).unwrap_or_default(),
                jobcenter_id: get(2).unwrap_or_default(),
                jobcenter_name: get(3).unwrap_or_default(),
                comparison_type: get(4),
            });
        }
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{MemoryBudget, SlicePlan, udf};
    use crate::extract::{Extract, LoadMode};
    use crate::generate::{GenerateOptions, generate};

    /// The plans of `person_months` and `flows` over a generated extract, in a slice's
    /// session on `partitions` partitions.
    async fn window_plans(partitions: usize) -> Vec<(String, String)> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let options = GenerateOptions {
            persons: 800,
            ..GenerateOptions::sample(dir.path().to_path_buf())
        };
        generate(&options).expect("the generator writes the extract");
        let mut extract = Extract::load(dir.path(), LoadMode::Strict).expect("a valid extract");
        let plan = SlicePlan {
            slices: 1,
            workers: 1,
            partitions,
        };
        let ctx = MemoryBudget::default()
            .slice_session(&plan)
            .expect("a session");
        udf::register(&ctx);
        extract.register(&ctx).expect("tables registered");
        let blocks =
            BlockCatalogue::load(std::path::Path::new(crate::open::Project::DEFAULT_QUERIES))
                .expect("the project's blocks");
        let mut plans = Vec::new();
        materialize_observed(&ctx, &blocks, |spec, plan| {
            if ["person_months", "flows"].contains(&spec.name.as_str()) {
                plans.push((
                    spec.name.clone(),
                    displayable(plan).indent(true).to_string(),
                ));
            }
        })
        .await
        .expect("the blocks compute");
        plans
    }

    /// `benefit_months` is registered in person and month order and `person_months`
    /// keeps the order its window produced, so neither window sorts: not on one
    /// partition (slices side by side) nor on two (one slice on both cores, where rows
    /// are spread by person with their order kept). `person_months`' window streams
    /// (`months_within` row by row); `flows`' takes its rows at once (`neighbour`).
    #[tokio::test]
    async fn the_windows_over_a_persons_months_do_not_sort() {
        for partitions in [1, 2] {
            let plans = window_plans(partitions).await;
            assert_eq!(plans.len(), 2, "{plans:?}");
            for (name, plan) in &plans {
                let window = match name.as_str() {
                    "person_months" => "BoundedWindowAggExec: wdw=[months_within",
                    _ => " WindowAggExec: wdw=[neighbour",
                };
                assert!(
                    plan.contains(window),
                    "{name} on {partitions} partition(s) runs its window:\n{plan}"
                );
                assert!(
                    !plan.contains("SortExec"),
                    "{name} on {partitions} partition(s) sorts:\n{plan}"
                );
            }
        }
    }
}
