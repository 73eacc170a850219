//! A slice job as a plan Ballista can ship: a table whose scan is the job
//! ([`SliceTable`], what the coordinator submits and the scheduler plans) and the leaf
//! operator that runs it on an executor ([`SliceExec`]).
//!
//! A slice's work is a sequence of queries over tables it builds itself, so it runs as
//! one task on one executor; Ballista places the tasks, retries them and carries their
//! answers back. Its intermediate tables never cross the network.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};

use super::answer;
use super::job::SliceJob;

/// One slice's job as a table: scanning it computes the slice.
#[derive(Debug)]
pub struct SliceTable {
    job: SliceJob,
}

impl SliceTable {
    /// The table of `job`.
    pub fn new(job: SliceJob) -> SliceTable {
        SliceTable { job }
    }

    /// The job it stands for.
    pub fn job(&self) -> &SliceJob {
        &self.job
    }
}

#[async_trait]
impl TableProvider for SliceTable {
    fn schema(&self) -> arrow::datatypes::SchemaRef {
        answer::schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let whole = (0..answer::schema().fields().len()).collect::<Vec<_>>();
        if projection.is_some_and(|p| *p != whole) || !filters.is_empty() || limit.is_some() {
            return Err(DataFusionError::Plan(
                "a person slice's answer is read whole".into(),
            ));
        }
        Ok(Arc::new(SliceExec::new(self.job.clone())))
    }
}

/// The leaf operator that runs one slice job on the executor it is sent to; one
/// partition, the job's answer.
#[derive(Debug)]
pub struct SliceExec {
    job: SliceJob,
    properties: Arc<PlanProperties>,
}

impl SliceExec {
    /// The operator of `job`.
    pub fn new(job: SliceJob) -> SliceExec {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(answer::schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        SliceExec {
            job,
            properties: Arc::new(properties),
        }
    }

    /// The job it runs.
    pub fn job(&self) -> &SliceJob {
        &self.job
    }
}

impl DisplayAs for SliceExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "SliceExec: person slice {} of {} of {}",
            self.job.index + 1,
            self.job.count,
            self.job.data.display()
        )
    }
}

impl ExecutionPlan for SliceExec {
    fn name(&self) -> &'static str {
        "SliceExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "SliceExec has no inputs".to_string(),
            ))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "SliceExec has one partition, not {}",
                partition + 1
            )));
        }
        let answer = futures::stream::once(self.job.clone().run())
            .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
            .try_flatten()
            .boxed();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            answer::schema(),
            answer,
        )))
    }
}
