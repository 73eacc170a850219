//! The codecs that carry a slice job through a Ballista cluster: a [`SliceTable`] from
//! the coordinator to the scheduler, a [`SliceExec`] from the scheduler to an executor.
//! Everything else is left to Ballista's own codecs. The coordinator, the scheduler and
//! every executor must use them, which is why wirkung ships its own scheduler and
//! executor (`wirkung scheduler`, `wirkung executor`).

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::common::TableReference;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::job::SliceJob;
use super::plan::{SliceExec, SliceTable};

/// What a slice job's bytes begin with; never the start of a protobuf message (whose
/// first byte would be field 14 of wire type 7, which does not exist), so Ballista's
/// own nodes are told apart.
const TAG: &[u8] = b"wirkung slice job\n";

/// The job in `buf` if it is one of ours.
fn job_in(buf: &[u8]) -> Option<Result<SliceJob>> {
    buf.strip_prefix(TAG).map(SliceJob::from_bytes)
}

fn write_job(job: &SliceJob, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(TAG);
    buf.extend_from_slice(&job.to_bytes()?);
    Ok(())
}

/// Ballista's logical codec, and the slice table.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: arrow::datatypes::SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match job_in(buf) {
            Some(job) => Ok(Arc::new(SliceTable::new(job?))),
            None => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        match (node.as_ref() as &dyn std::any::Any).downcast_ref::<SliceTable>() {
            Some(table) => write_job(table.job(), buf),
            None => self
                .ballista
                .try_encode_table_provider(table_ref, node, buf),
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// Ballista's physical codec, and the slice operator.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match job_in(buf) {
            Some(job) => Ok(Arc::new(SliceExec::new(job?))),
            None => self.ballista.try_decode(buf, inputs, ctx, converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        match node.downcast_ref::<SliceExec>() {
            Some(exec) => write_job(exec.job(), buf),
            None => self.ballista.try_encode(node, buf, converter),
        }
    }
}
