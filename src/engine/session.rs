//! The memory budget of a load and the DataFusion sessions it runs in: how many person
//! slices an extract is cut into, how many of them run at once, and the settings every
//! session relies on.

use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::EngineError;

/// Memory one slice's computation may use, unless `--memory-limit` says otherwise.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// Working memory the building blocks need per row of the person-keyed tables (mostly
/// `benefit_months`) while a slice is computed: `person_months` with its attributes,
/// `flows`' window (which holds its eLb rows and a copy of them at once) and the joins
/// of `attribution` hold several copies of each row. Measured at 1,000,000 persons
/// (32.5 M rows, default limit): 256 bytes cut eight slices and `wirkung catalogue`
/// peaked at 2.99 GiB, above the limit plus the summed blocks; ten slices (`--slices
/// 10`, what 320 bytes cut) peaked at 2.50 GiB in the same time (BENCHMARKS.md, "One pass over a person's
/// months").
pub const WORK_BYTES_PER_ROW: usize = 320;

/// How a load runs its person slices: how many there are, how many are computed at once,
/// and how many partitions each one's session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlicePlan {
    /// Person slices the extract is cut into.
    pub slices: usize,
    /// Slices computed at the same time, each in its own session.
    pub workers: usize,
    /// Target partitions of each slice's session.
    pub partitions: usize,
}

/// How much memory a load may use, and so how many person slices it is cut into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryBudget {
    /// Bytes one slice's computation may use; also the limit of the session's memory
    /// pool (DataFusion refuses a query that would need more).
    pub limit: usize,
    /// A fixed number of slices instead of one derived from `limit` (tests, benchmarks).
    pub slices: Option<usize>,
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget {
            limit: DEFAULT_MEMORY_LIMIT,
            slices: None,
        }
    }
}

impl MemoryBudget {
    /// The number of slices for an extract with `person_rows` rows in its person-keyed
    /// tables: enough that one slice's working memory fits the limit.
    pub fn slices_for(&self, person_rows: usize) -> usize {
        if let Some(n) = self.slices {
            return n.max(1);
        }
        let work = person_rows.saturating_mul(WORK_BYTES_PER_ROW);
        work.div_ceil(self.limit.max(1)).max(1)
    }

    /// This budget for a load that runs beside a snapshot of `held` bytes that stays in
    /// memory while it runs (the snapshot a reload replaces keeps serving): the limit
    /// less twice what is held — the served snapshot, and the new load's own block sums,
    /// which grow to about its size as the slices are added — so that the three
    /// together stay near the limit, but at least a quarter of it, so that a large
    /// snapshot slows a reload down (more, smaller slices) rather than starving it. A
    /// fixed slice count stays as it is.
    pub fn beside(self, held: usize) -> MemoryBudget {
        MemoryBudget {
            limit: self
                .limit
                .saturating_sub(held.saturating_mul(2))
                .max(self.limit / 4),
            ..self
        }
    }

    /// How to run a load of `person_rows` rows on `cores` cores. Slices are independent,
    /// so as many run at once as there are cores, each on one partition: that keeps
    /// every core busy with no exchange of rows between partitions (a slice on two
    /// partitions kept 1.6 of two cores busy and took a sixth more CPU time than on
    /// one, BENCHMARKS.md). The slices running at once share the
    /// limit, so the extract is cut as if each had `limit / cores`; an extract that fits
    /// one such share is one slice, computed on all cores.
    pub fn plan(&self, person_rows: usize, cores: usize) -> SlicePlan {
        let cores = cores.max(1);
        let share = MemoryBudget {
            limit: self.limit / cores,
            ..*self
        };
        let slices = share.slices_for(person_rows);
        let workers = cores.min(slices);
        SlicePlan {
            slices,
            workers,
            partitions: (cores / workers).max(1),
        }
    }

    /// A DataFusion session with the settings wirkung relies on and this budget as its
    /// memory pool, on as many partitions as the machine has cores.
    pub fn session(&self) -> Result<SessionContext, EngineError> {
        self.configured(SessionConfig::new(), self.limit)
    }

    /// The session of one slice of `plan`: its share of the limit and its partitions.
    pub fn slice_session(&self, plan: &SlicePlan) -> Result<SessionContext, EngineError> {
        let config = SessionConfig::new().with_target_partitions(plan.partitions);
        self.configured(config, self.limit / plan.workers.max(1))
    }

    fn configured(
        &self,
        mut config: SessionConfig,
        limit: usize,
    ) -> Result<SessionContext, EngineError> {
        // Dates only, but pin the zone so that no function depends on the machine's.
        config.options_mut().execution.time_zone = Some("UTC".into());
        // The extract is loaded as Utf8; SQL casts to VARCHAR should give the same type,
        // so that unions and joins in the building blocks need no coercion.
        config.options_mut().sql_parser.map_string_types_to_utf8view = false;
        // Keep an order the data already has when spreading rows over partitions (merge
        // instead of re-sort): a slice's rows are in person and month order
        // (`extract::order`), which the windows over a person's months need.
        config.options_mut().optimizer.prefer_existing_sort = true;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(limit, 1.0)
            .build_arc()?;
        Ok(SessionContext::new_with_config_rt(config, runtime))
    }
}

/// Parses a memory size: bytes, or a number with `K`, `M`, `G` or `T` (binary units,
/// `KiB`/`KB` spellings too), e.g. `4G`, `512MiB`, `1.5G`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size such as 4G or 512M"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use K, M, G or T)"
            ));
        }
    };
    let bytes = number * (1u64 << shift) as f64;
    if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(format!("'{text}' is not a positive size"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_fit_the_limit() {
        let budget = MemoryBudget {
            limit: 1 << 30,
            slices: None,
        };
        assert_eq!(budget.slices_for(0), 1);
        // The most rows whose work fits 1 GiB: exactly one slice; one row more needs two.
        let fits = (1 << 30) / WORK_BYTES_PER_ROW;
        assert_eq!(budget.slices_for(fits), 1);
        assert_eq!(budget.slices_for(fits + 1), 2);
        assert_eq!(budget.slices_for(10 * fits), 10);
        let fixed = MemoryBudget {
            slices: Some(0),
            ..budget
        };
        assert_eq!(fixed.slices_for(10 * fits), 1);
    }

    #[test]
    fn a_reload_loads_beside_the_snapshot_it_replaces() {
        let budget = MemoryBudget {
            limit: 2 << 30,
            slices: None,
        };
        // 1 GiB of budget beside half a GiB of snapshot and the half GiB of sums the new
        // load grows to: together the limit.
        assert_eq!(budget.beside(512 << 20).limit, 1 << 30);
        // Nothing held: the whole limit.
        assert_eq!(budget.beside(0).limit, 2 << 30);
        // A snapshot as large as the limit leaves a quarter, not nothing.
        assert_eq!(budget.beside(4 << 30).limit, 512 << 20);
        // A fixed slice count stays.
        let fixed = MemoryBudget {
            slices: Some(7),
            ..budget
        };
        assert_eq!(fixed.beside(1 << 30).slices, Some(7));
        // Less budget, more slices for the same extract.
        let rows = 30_000_000;
        assert!(budget.beside(1 << 30).slices_for(rows) > budget.slices_for(rows));
    }

    #[test]
    fn slices_run_one_per_core_sharing_the_limit() {
        let plan = |slices, workers, partitions| SlicePlan {
            slices,
            workers,
            partitions,
        };
        let budget = MemoryBudget {
            limit: 1 << 30,
            slices: None,
        };
        // The most rows whose work fits 512 MiB, one core's share of 1 GiB on two cores:
        // one slice on both cores; one row more, two slices side by side on one core each.
        let half = (512 << 20) / WORK_BYTES_PER_ROW;
        assert_eq!(budget.plan(half, 2), plan(1, 1, 2));
        assert_eq!(budget.plan(half + 1, 2), plan(2, 2, 1));
        // Twenty shares of 512 MiB of work.
        assert_eq!(budget.plan(20 * half, 2), plan(20, 2, 1));
        // One core: the whole limit for one slice at a time.
        assert_eq!(budget.plan(20 * half, 1), plan(10, 1, 1));
        // A fixed count: three slices on four cores run at once, one partition each.
        let fixed = MemoryBudget {
            slices: Some(3),
            ..budget
        };
        assert_eq!(fixed.plan(20 * half, 4), plan(3, 3, 1));
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("0").is_err());
        assert!(parse_size("4X").unwrap_err().contains("unknown unit"));
        assert!(parse_size("lots").is_err());
    }
}
