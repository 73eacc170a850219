//! Which reporting months an indicator can be computed for, and why not.
//!
//! A value for month `t` is available only when every month that its numerator and
//! denominator read — the window `t-lag-months+1 … t-lag`, widened by each measure's
//! look-back (LZB history, the attribution row's month before) and look-ahead
//! (follow-ups) — lies inside the data span, and every extract table behind its blocks
//! is present. Otherwise the value is unavailable with the reason, never partial.

use std::collections::BTreeSet;

use crate::blocks::BlockCatalogue;
use crate::definition::{Definition, Side};
use crate::month::Month;

/// The months one side of a definition reads for reporting month `t`.
pub fn needed_months(side: &Side, blocks: &BlockCatalogue, t: Month) -> (Month, Month) {
    let (lookback, lookahead) = blocks
        .get(&side.block)
        .map(|b| {
            let measures = [
                Some(&side.measure),
                b.measure(&side.measure).and_then(|m| m.count.as_ref()),
            ];
            measures
                .into_iter()
                .flatten()
                .filter_map(|m| b.measure(m))
                .fold((0, 0), |(lb, la), m| {
                    (lb.max(m.lookback), la.max(m.lookahead))
                })
        })
        .unwrap_or((0, 0));
    let w = side.window;
    let first = t.plus(-((w.lag + w.months - 1 + lookback) as i32));
    let last = t.plus(lookahead as i32 - w.lag as i32);
    (first, last)
}

/// Why month `t` of `def` is unavailable, or `None` when it can be computed.
pub fn unavailable_reason(
    def: &Definition,
    blocks: &BlockCatalogue,
    absent_tables: &BTreeSet<String>,
    span: (Month, Month),
    t: Month,
) -> Option<String> {
    for (side_name, side) in def.sides() {
        let mut needed = blocks.tables_behind(&side.block);
        if let Some(measure) = blocks
            .get(&side.block)
            .and_then(|b| b.measure(&side.measure))
        {
            needed.extend(measure.requires.iter().cloned());
        }
        if let Some(table) = needed.intersection(absent_tables).next() {
            return Some(format!(
                "the optional table '{table}' is missing from the extract (needed by the {side_name})"
            ));
        }
    }
    for (side_name, side) in def.sides() {
        let (first, last) = needed_months(side, blocks, t);
        if first < span.0 || last > span.1 {
            // A window that ends after its reporting month is a follow-up (cohorts, K2E3).
            let follow_up = last > span.1 && last > t.plus(-(side.window.lag as i32));
            let what = if follow_up {
                " (incomplete cohort: the follow-up leaves the data)"
            } else {
                ""
            };
            return Some(format!(
                "outside the data span{what}: the {side_name} needs months {first} … {last}, the data span is {} … {}",
                span.0, span.1
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::definition::{Aggregate, Window};

    fn blocks() -> BlockCatalogue {
        let sql = r#"-- name = "stock"
-- kind = "block"
-- description = "d"
-- requires = ["benefit_months", "exits"]
-- [measures]
-- elb = { description = "e" }
-- lzb = { description = "l", lookback = 23 }
-- follow = { description = "f", lookahead = 6, count = "elb" }
SELECT 1"#;
        crate::blocks::catalogue_of("stock.sql", sql)
    }

    fn side(measure: &str, months: u32, aggregate: Aggregate, lag: u32) -> Side {
        Side {
            block: "stock".into(),
            measure: measure.into(),
            filter: Default::default(),
            window: Window {
                months,
                aggregate,
                lag,
            },
        }
    }

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn windows_lags_lookbacks_and_lookaheads() {
        let b = blocks();
        // ØELB⁻(t): mean of ELB(m-1) over t-11 … t → months t-12 … t-1.
        let avg = side("elb", 12, Aggregate::Mean, 1);
        assert_eq!(
            needed_months(&avg, &b, m("2016-01")),
            (m("2015-01"), m("2015-12"))
        );
        // LZB(t-12) = LZB(2017-12) needs its 24 months 2016-01 … 2017-12.
        let lzb = side("lzb", 1, Aggregate::Sum, 12);
        assert_eq!(
            needed_months(&lzb, &b, m("2018-12")),
            (m("2016-01"), m("2017-12"))
        );
        // Events of t-17 … t-6 with a six-month follow-up reach t.
        let follow = side("follow", 12, Aggregate::Sum, 6);
        assert_eq!(
            needed_months(&follow, &b, m("2018-12")),
            (m("2017-07"), m("2018-12"))
        );
    }
}
