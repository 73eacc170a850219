//! The life course of one household over the span, from draw to finished rows.
//!
//! Order: composition (`household.rs`) → receipt months (`spells.rs`, forced around
//! the health check for cohort members) → residence and leaving → spell ends with exit
//! reasons and the integrations that end receipt → each member's monthly events
//! (`events.rs`) → cohort filtering (`cohort.rs`) → amounts (`benefits.rs`). Household
//! draws use the head's household stream, member events each member's own stream, both
//! derived from (seed, person index), so households are independent of each other.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::benefits;
use super::calendar::{Span, between, chance, days_in, pick};
use super::cohort::{CohortSlot, Planned};
use super::events::{MemberCtx, job, member_events};
use super::household::{self, Household};
use super::rows::{EventRow, Rows};
use super::spells::{self, Life};
use super::units::{RHEIN_BERG, Units};

/// Streams `HOUSEHOLD | index` are household draws; plain `index` a person's events.
const HOUSEHOLD: u64 = 1 << 63;

/// A ChaCha8 stream of the run's key.
pub(crate) fn stream(key: &[u8; 32], stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(*key);
    rng.set_stream(stream);
    rng
}

/// What every household shares.
pub(crate) struct Ctx<'a> {
    pub span: Span,
    pub units: &'a Units,
    pub key: [u8; 32],
}

/// Simulates the household whose head is person `head` (at most `max_size` persons, or
/// the cohort member of `slot`) into `rows`; returns the number of persons it used.
pub(crate) fn household(
    ctx: &Ctx,
    head: usize,
    max_size: usize,
    slot: Option<&CohortSlot>,
    rows: &mut Rows,
) -> usize {
    let span = &ctx.span;
    let mut rng = stream(&ctx.key, HOUSEHOLD | head as u64);
    let h = match slot {
        Some(s) => household::draw_cohort(&mut rng, ctx.units, span, head, s),
        None => household::draw(&mut rng, ctx.units, span, head, max_size),
    };
    let mut on = spells::receipt(&mut rng, span, &h, ctx.units);
    let planned = slot.map(|s| s.force(&mut rng, span, &mut on));
    let life = spells::life(&mut rng, span, &h, ctx.units, on, slot.is_some());
    let mut income = vec![vec![0.0; span.len]; h.members.len()];
    spell_ends(&mut rng, span, ctx.units, &h, &life, planned.as_ref(), rows);
    let rhein_berg = life.ever_in(RHEIN_BERG);
    for (mi, m) in h.members.iter().enumerate() {
        let mut prng = stream(&ctx.key, m.idx as u64);
        let c = MemberCtx {
            span,
            units: ctx.units,
            h: &h,
            life: &life,
            mi,
            rhein_berg,
        };
        member_events(&mut prng, &c, &mut income[mi], rows);
    }
    if let Some(p) = &planned {
        p.apply(&mut rng, span, h.members[0].foreign, rows);
    }
    benefits::rows(
        span,
        &h,
        &life,
        &income,
        &mut rows.persons,
        &mut rows.benefit,
    );
    tidy(span, rows);
    h.members.len()
}

/// The reason a whole BG stops receiving after month `last`, and who took up work.
fn bg_reason(
    rng: &mut ChaCha8Rng,
    span: &Span,
    units: &Units,
    h: &Household,
    life: &Life,
    last: usize,
) -> (&'static str, Option<usize>) {
    if life.relocated == Some(last) {
        return ("relocation", None);
    }
    if life.left.iter().any(|l| l.is_some_and(|(t, _)| t == last)) {
        return ("other", None);
    }
    let adults: Vec<usize> = (0..h.members.len())
        .filter(|&k| life.member_on(h, span, k, last) && h.age_m(span, k, last) >= 18 * 12)
        .collect();
    let age_y = |k: usize| h.age_m(span, k, last) / 12;
    let head_on = adults.first() == Some(&0);
    if head_on && age_y(0) >= 60 && chance(rng, 0.35) {
        return ("pension", None);
    }
    if h.members.len() == 1 && head_on && h.members[0].health && age_y(0) >= 45 && chance(rng, 0.1)
    {
        return ("sgb_xii", None);
    }
    let employable = adults
        .iter()
        .any(|&k| !h.members[k].health && age_y(k) < 58);
    let labour_market = units.jobcenter(life.loc[last].0).labour_market;
    if !adults.is_empty() && chance(rng, labour_market * if employable { 0.62 } else { 0.15 }) {
        let w: Vec<f64> = adults
            .iter()
            .map(|&k| {
                let m = &h.members[k];
                let sex = if m.sex == "m" { 2.2 } else { 1.0 };
                let health = if m.health { 0.4 } else { 1.0 };
                let old = if age_y(k) >= 58 { 0.3 } else { 1.0 };
                sex * health * old
            })
            .collect();
        return ("employment", Some(adults[pick(rng, &w)]));
    }
    ("other", None)
}

/// Exit rows at the end of each spell before the last month (about 3 % lack one), and
/// the job start one or two months before an exit into employment.
#[allow(clippy::too_many_arguments)]
fn spell_ends(
    rng: &mut ChaCha8Rng,
    span: &Span,
    units: &Units,
    h: &Household,
    life: &Life,
    planned: Option<&Planned>,
    rows: &mut Rows,
) {
    let n = span.len;
    let mut reasons: Vec<Option<(&'static str, Option<usize>)>> = vec![None; n];
    for (mi, m) in h.members.iter().enumerate() {
        for (last, cached) in reasons.iter_mut().enumerate().take(n.saturating_sub(1)) {
            if !life.member_on(h, span, mi, last) || life.member_on(h, span, mi, last + 1) {
                continue;
            }
            if planned.is_some_and(|p| p.exit.is_some_and(|(t, _)| t == last)) {
                continue;
            }
            let reason = match life.left[mi] {
                Some((t, r)) if t == last => r,
                _ => {
                    let (r, earner) =
                        *cached.get_or_insert_with(|| bg_reason(rng, span, units, h, life, last));
                    if r == "employment" && earner == Some(mi) {
                        let before =
                            last > 0 && life.member_on(h, span, mi, last - 1) && chance(rng, 0.6);
                        let start = if before {
                            span.day(last - 1, between(rng, 1, 28))
                        } else {
                            span.day(last, between(rng, 1, 14))
                        };
                        let age_y = h.age_m(span, mi, last) / 12;
                        rows.employment
                            .push(job(rng, span, m.idx, start, age_y, None));
                    }
                    r
                }
            };
            if chance(rng, 0.03) {
                continue;
            }
            let offset = between(rng, 0, days_in(span.month(last)) - 15 + 13) as i32;
            rows.exits.push(EventRow {
                person: m.idx,
                date: span.day(last, 15) + offset,
                code: reason,
            });
        }
    }
}

/// Drops events after the span, sorts each table by person and date and numbers the
/// persons' measures and invitations.
fn tidy(span: &Span, rows: &mut Rows) {
    let end = span.end();
    rows.employment.retain(|x| x.start <= end);
    rows.measures.retain(|x| x.start <= end);
    rows.services.retain(|x| x.start <= end);
    rows.health.retain(|x| x.date <= end);
    rows.invitations.retain(|x| x.date <= end);
    rows.employment.sort_by_key(|x| (x.person, x.start));
    rows.measures.sort_by_key(|x| (x.person, x.start));
    rows.services.sort_by_key(|x| (x.person, x.start));
    rows.health.sort_by_key(|x| (x.person, x.date));
    rows.exits.sort_by_key(|x| (x.person, x.date));
    rows.invitations.sort_by_key(|x| (x.person, x.date));
    number_per_person(rows.measures.iter_mut().map(|x| (x.person, &mut x.seq)));
    number_per_person(rows.invitations.iter_mut().map(|x| (x.person, &mut x.seq)));
}

/// Numbers rows 1, 2, … within each person (rows sorted by person).
fn number_per_person<'a>(rows: impl Iterator<Item = (usize, &'a mut usize)>) {
    let mut last = (usize::MAX, 0);
    for (person, seq) in rows {
        last = if last.0 == person {
            (person, last.1 + 1)
        } else {
            (person, 1)
        };
        *seq = last.1;
    }
}
