//! The health-check cohort of Rhein-Berg in 2017, with exactly planned outcomes.
//!
//! For the sample size ([`SAMPLE_PERSONS`], 120,000 persons) the cohort has exactly 148 participations
//! (one week each, `end_date` in 2017, twelve or thirteen per month), of which exactly
//! 30 are followed by an integration, 49 by another measure, 7 by a therapy start and 6
//! by an exit into pension (4) or SGB XII (2) within the follow-up
//! (`end_date`, `end_date` + 6 months]. For other sizes every count is scaled by
//! `persons / SAMPLE_PERSONS` and rounded. The cohort needs the months 2016-12 ..
//! 2018-06 inside the span; otherwise it is empty.
//!
//! Which participant gets which outcome and end month is decided by a shuffled slot
//! vector drawn from a dedicated stream of the seeded RNG, so the counts are exact.
//! Cohort members are single-person households at evenly spread person indices; the
//! simulation forces their receipt in Rhein-Berg around the health check and removes
//! any random event that would change the planned outcome counts.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::calendar::{Span, between, days_in, plus_months};
use super::events::{job, measure};
use super::rows::{EmploymentRow, EventRow, MeasureRow, Rows};
use crate::month::Month;

/// Persons of [`super::GenerateOptions::sample`]: the size the cohort counts are exact for.
pub(crate) const SAMPLE_PERSONS: usize = 120_000;

/// Cohort counts at the sample size: participations, integrations, further measures,
/// therapy starts, exits into pension, exits into SGB XII.
const SAMPLE_COUNTS: [usize; 6] = [148, 30, 49, 7, 4, 2];

/// Exit into pension or SGB XII within the follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitKind {
    Pension,
    SgbXii,
}

impl ExitKind {
    pub fn reason(self) -> &'static str {
        match self {
            ExitKind::Pension => "pension",
            ExitKind::SgbXii => "sgb_xii",
        }
    }
}

/// The planned follow-up of one participation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Outcome {
    pub integration: bool,
    pub measure: bool,
    pub therapy: bool,
    pub exit: Option<ExitKind>,
}

/// One cohort member.
#[derive(Debug, Clone)]
pub(crate) struct CohortSlot {
    /// Person index.
    pub index: usize,
    /// Relative month (in the span) of the health check's `end_date`.
    pub end_t: usize,
    pub outcome: Outcome,
}

/// All cohort members, sorted by person index.
#[derive(Debug, Default)]
pub(crate) struct CohortPlan {
    slots: Vec<CohortSlot>,
}

fn scaled(n: usize, persons: usize) -> usize {
    ((n * persons) as f64 / SAMPLE_PERSONS as f64).round() as usize
}

impl CohortPlan {
    pub fn new(persons: usize, span: &Span, rng: &mut ChaCha8Rng) -> Self {
        let (Some(jan), Some(last)) = (Month::new(2017, 1), Month::new(2018, 6)) else {
            return CohortPlan::default();
        };
        let first = span.rel(jan) - 1;
        if first < 0 || span.rel(last) >= span.len as i64 {
            return CohortPlan::default();
        }
        let k = scaled(SAMPLE_COUNTS[0], persons).min(persons);
        if k == 0 {
            return CohortPlan::default();
        }
        let [_, n_int, n_meas, n_ther, n_pen, n_xii] = SAMPLE_COUNTS.map(|n| scaled(n, persons));
        let n_exit = (n_pen + n_xii).min(k);
        let n_int = n_int.min(k - n_exit);
        let mut outcomes = vec![Outcome::default(); k];
        for (i, o) in outcomes.iter_mut().enumerate().take(n_exit) {
            o.exit = Some(if i < n_pen {
                ExitKind::Pension
            } else {
                ExitKind::SgbXii
            });
        }
        for o in &mut outcomes[n_exit..n_exit + n_int] {
            o.integration = true;
        }
        // Further measures: a fifth alongside an integration, the rest among those
        // without integration or exit. Therapies: up to two among the exits (poor
        // health), the rest among the others.
        let overlap = (n_int / 5).min(n_meas);
        let rest = &mut outcomes[n_exit + n_int..];
        let n_meas_rest = (n_meas - overlap).min(rest.len());
        for o in rest.iter_mut().take(n_meas_rest) {
            o.measure = true;
        }
        for o in &mut outcomes[n_exit..n_exit + overlap] {
            o.measure = true;
        }
        let ther_exit = n_ther.min(2).min(n_exit);
        for o in outcomes.iter_mut().take(ther_exit) {
            o.therapy = true;
        }
        // The remaining therapies go to participants without another measure or integration.
        let mut left = n_ther - ther_exit;
        for o in outcomes.iter_mut().rev() {
            if left == 0 {
                break;
            }
            if o.exit.is_none() && !o.integration && !o.measure && !o.therapy {
                o.therapy = true;
                left -= 1;
            }
        }
        outcomes.shuffle(rng);
        let mut months: Vec<usize> = (0..k).map(|i| (first + 1) as usize + i % 12).collect();
        months.shuffle(rng);
        let slots = outcomes
            .into_iter()
            .zip(months)
            .enumerate()
            .map(|(j, (outcome, end_t))| CohortSlot {
                index: ((j as f64 + 0.5) * persons as f64 / k as f64) as usize,
                end_t,
                outcome,
            })
            .collect();
        CohortPlan { slots }
    }

    /// The slot of person index `i`, if it is a cohort member.
    pub fn slot(&self, i: usize) -> Option<&CohortSlot> {
        self.slots
            .binary_search_by_key(&i, |s| s.index)
            .ok()
            .map(|p| &self.slots[p])
    }

    /// The first cohort index `>= i` (`usize::MAX` when none).
    pub fn next_at_or_after(&self, i: usize) -> usize {
        let p = self.slots.partition_point(|s| s.index < i);
        self.slots.get(p).map_or(usize::MAX, |s| s.index)
    }
}

/// The forced course of one cohort member, fixed before the simulation runs.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub person: usize,
    /// The health check's `end_date`.
    pub end: i32,
    /// Month of the planned integration, further measure and therapy start.
    integration: Option<usize>,
    measure: Option<usize>,
    therapy: Option<usize>,
    /// Last month of receipt and reason of a planned exit.
    pub exit: Option<(usize, &'static str)>,
}

impl CohortSlot {
    /// Plans the follow-up and forces receipt: from the month before the health check
    /// to the last planned event (to the exit month, and nothing after it, for exits).
    pub fn force(&self, rng: &mut ChaCha8Rng, span: &Span, on: &mut [bool]) -> Planned {
        let m = self.end_t;
        let o = self.outcome;
        let mut month =
            |flag: bool, hi: usize| flag.then(|| m + between(rng, 1, hi as u32) as usize);
        let exit_t = month(o.exit.is_some(), 4);
        let integration = month(o.integration, 5);
        let measure = month(o.measure, 5);
        let therapy = month(o.therapy, exit_t.map_or(5, |l| l - m));
        let hold = [Some(m), exit_t, integration, measure, therapy]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(m);
        for x in &mut on[m - 1..=hold] {
            *x = true;
        }
        if exit_t.is_some() {
            for x in &mut on[hold + 1..] {
                *x = false;
            }
        }
        Planned {
            person: self.index,
            end: span.day(m, between(rng, 7, 28)),
            integration,
            measure,
            therapy,
            exit: exit_t.zip(o.exit.map(ExitKind::reason)),
        }
    }
}

impl Planned {
    /// Removes the random events that would change the planned outcome counts and adds
    /// the health check with its planned follow-up.
    pub fn apply(&self, rng: &mut ChaCha8Rng, span: &Span, foreign: bool, rows: &mut Rows) {
        let (from, to) = (self.end, plus_months(self.end, 6));
        let inside = |d: i32| d > from && d <= to;
        let integrating = |e: &EmploymentRow| e.kind != "minijob";
        rows.employment
            .retain(|e| !(integrating(e) && inside(e.start)));
        rows.measures
            .retain(|x| !inside(x.start) && x.programme != "health_check");
        rows.health
            .retain(|x| !(x.code == "therapy_start" && inside(x.date)));
        for x in &mut rows.exits {
            if inside(x.date) && matches!(x.code, "pension" | "sgb_xii" | "employment") {
                x.code = "other";
            }
        }
        let person = self.person;
        rows.measures.push(MeasureRow {
            person,
            seq: 0,
            programme: "health_check",
            category: "active",
            start: self.end - 6,
            end: Some(self.end),
        });
        let mut date = |t: usize| span.day(t, between(rng, 1, 28));
        if let Some(t) = self.integration {
            let start = date(t);
            let kind = ["svb", "training", "self_employed"]
                [super::calendar::pick(rng, &[0.85, 0.05, 0.1])];
            let j = job(rng, span, person, start, 40, Some(kind));
            for x in &mut rows.exits {
                if x.date > start && x.date <= start + 62 {
                    x.code = "employment";
                }
            }
            rows.employment.push(j);
        }
        if let Some(t) = self.measure {
            let start = span.day(t, between(rng, 1, 28));
            rows.measures
                .push(measure(rng, span, person, start, foreign));
        }
        if let Some(t) = self.therapy {
            let d = span.day(t, between(rng, 1, 28));
            rows.health.push(EventRow {
                person,
                date: d,
                code: "therapy_start",
            });
        }
        if let Some((last, reason)) = self.exit {
            let last_m = span.month(last);
            let offset = between(rng, 0, days_in(last_m) - 15 + 13);
            rows.exits.push(EventRow {
                person,
                date: span.day(last, 15) + offset as i32,
                code: reason,
            });
        }
    }
}
