//! When a household receives benefits, where it lives, and who leaves when.
//!
//! Receipt is an on/off process per BG with monthly exit and re-entry hazards by
//! [`SpellType`] (heterogeneity: a long-term core, medium spells, churners, one-off short
//! spells, refugees). Non-refugee households start in the process's stationary state
//! conditioned on receiving at least once in the span, so stocks are stable in
//! expectation; calendar-year factors add the 2016–2017 rise and the 2018 fall.
//! Residence moves (districts, rarely jobcenters), relocation away, and persons leaving
//! (pension, SGB XII, children turning 25) are drawn here too.

use rand_chacha::ChaCha8Rng;

use super::calendar::{Span, chance, pick, year_factors};
use super::household::{Household, Role, SpellType};
use super::units::Units;

/// Age (months) from which a person has reached the standard retirement age (65y5m).
pub(crate) const PENSION_AGE_M: i32 = 65 * 12 + 5;
/// eLb from 15.
pub(crate) const ELB_AGE_M: i32 = 15 * 12;

/// The household's months.
#[derive(Debug, Clone)]
pub(crate) struct Life {
    /// BG in receipt in month `t` (at least one eLb member present).
    pub on: Vec<bool>,
    /// Residence `(jobcenter, district)` per month.
    pub loc: Vec<(usize, usize)>,
    /// Per member: last month present and why they left (`pension`, `sgb_xii`, `other`).
    pub left: Vec<Option<(usize, &'static str)>>,
    /// The last month before the whole BG moved away from the three jobcenters.
    pub relocated: Option<usize>,
}

impl Life {
    /// Whether member `mi` has a row in month `t`.
    pub fn member_on(&self, h: &Household, span: &Span, mi: usize, t: usize) -> bool {
        self.on[t] && self.present(h, span, mi, t)
    }

    fn present(&self, h: &Household, span: &Span, mi: usize, t: usize) -> bool {
        if self.left[mi].is_some_and(|(last, _)| t > last) {
            return false;
        }
        let age = h.age_m(span, mi, t);
        match h.members[mi].role {
            Role::Child => age < 25 * 12,
            _ => age < PENSION_AGE_M,
        }
    }

    /// Recomputes `on` so that a month without any eLb member present is off.
    pub fn settle(&mut self, h: &Household, span: &Span) {
        for t in 0..span.len {
            if self.on[t] {
                self.on[t] = (0..h.members.len())
                    .any(|mi| self.present(h, span, mi, t) && h.age_m(span, mi, t) >= ELB_AGE_M);
            }
        }
    }

    /// Whether the household ever lives in jobcenter `jc` while receiving.
    pub fn ever_in(&self, jc: usize) -> bool {
        self.on
            .iter()
            .zip(&self.loc)
            .any(|(on, (j, _))| *on && *j == jc)
    }
}

/// Monthly `(exit, re-entry)` hazards of a spell type.
fn hazards(kind: SpellType) -> (f64, f64) {
    match kind {
        SpellType::Core => (0.006, 0.004),
        SpellType::Mid => (0.03, 0.012),
        SpellType::Churn => (0.09, 0.035),
        SpellType::Short => (0.07, 0.0015),
        SpellType::Refugee => (0.014, 0.01),
    }
}

/// Relative weight of a refugee household's first month of receipt (recognitions
/// peaked in 2016).
fn refugee_entry_weight(year: i32, month: u32) -> f64 {
    match (year, month) {
        (..=2014, _) => 0.2,
        (2015, ..=8) => 0.3,
        (2015, _) => 1.0,
        (2016, _) => 2.0,
        (2017, ..=6) => 1.4,
        (2017, _) => 0.8,
        _ => 0.4,
    }
}

/// Draws the receipt months of a household (before members leave).
pub(crate) fn receipt(
    rng: &mut ChaCha8Rng,
    span: &Span,
    h: &Household,
    units: &Units,
) -> Vec<bool> {
    let n = span.len;
    let mut on = vec![false; n];
    if n == 0 {
        return on;
    }
    let (h_base, q_base) = hazards(h.kind);
    // Poorer districts: longer spells.
    let h_base =
        h_base * units.jobcenter(h.jc).labour_market / units.deprivation(h.jc, h.district).sqrt();
    let factors: Vec<(f64, f64)> = (0..n).map(|t| year_factors(span.year(t))).collect();
    // The first month must find every adult below the retirement age.
    let limit = (0..h.members.len())
        .filter(|&mi| h.members[mi].role != Role::Child)
        .map(|mi| {
            (0..n)
                .take_while(|&t| h.age_m(span, mi, t) < PENSION_AGE_M)
                .count()
        })
        .min()
        .unwrap_or(n)
        .clamp(1, n);
    let start = if h.kind == SpellType::Refugee {
        let w: Vec<f64> = (0..limit)
            .map(|t| refugee_entry_weight(span.month(t).year(), span.month(t).month()))
            .collect();
        pick(rng, &w)
    } else {
        let p0 = q_base / (q_base + h_base);
        let mut survive = 1.0;
        let mut weights = vec![0.0; limit];
        for (t, w) in weights.iter_mut().enumerate().skip(1) {
            let q = q_base * factors[t].0;
            *w = survive * q;
            survive *= 1.0 - q;
        }
        let p_ever = p0 + (1.0 - p0) * (1.0 - survive);
        if limit == 1 || chance(rng, p0 / p_ever) {
            0
        } else {
            pick(rng, &weights)
        }
    };
    on[start] = true;
    for t in start + 1..n {
        let (f_in, f_out) = factors[t];
        on[t] = if on[t - 1] {
            !chance(rng, h_base * f_out)
        } else {
            chance(rng, q_base * f_in)
        };
    }
    on
}

/// Draws residence, relocation away and persons leaving, and settles `on`.
pub(crate) fn life(
    rng: &mut ChaCha8Rng,
    span: &Span,
    h: &Household,
    units: &Units,
    on: Vec<bool>,
    stay: bool,
) -> Life {
    let n = span.len;
    let mut life = Life {
        on,
        loc: Vec::with_capacity(n),
        left: vec![None; h.members.len()],
        relocated: None,
    };
    let (mut jc, mut district) = (h.jc, h.district);
    for t in 0..n {
        if life.relocated.is_some() {
            life.on[t] = false;
            life.loc.push((jc, district));
            continue;
        }
        if life.on[t] && !stay && t > 0 {
            if chance(rng, 0.003) {
                district = units.pick_other_district(rng, jc, district);
            } else if chance(rng, 0.0003) {
                jc = units.pick_other_jobcenter(rng, jc);
                district = units.pick_district(rng, jc);
            }
        }
        life.loc.push((jc, district));
        if life.on[t] && !stay && t + 1 < n && chance(rng, 0.001) {
            life.relocated = Some(t);
        }
    }
    if !stay {
        leaving(rng, span, h, &mut life);
    }
    life.settle(h, span);
    life
}

/// Persons leaving the BG while it receives: retirement (forced at 65y5m, often early
/// from 63), SGB XII for persons with health problems, children at 25.
fn leaving(rng: &mut ChaCha8Rng, span: &Span, h: &Household, life: &mut Life) {
    for (mi, m) in h.members.iter().enumerate() {
        for t in 0..span.len {
            if !life.on[t] {
                continue;
            }
            let next = h.age_m(span, mi, t + 1);
            let age = h.age_m(span, mi, t);
            let reason = match m.role {
                Role::Child if next >= 25 * 12 => Some("other"),
                Role::Child => None,
                _ if next >= PENSION_AGE_M => Some("pension"),
                _ if age >= 63 * 12 && chance(rng, 0.03) => Some("pension"),
                _ if age >= 58 * 12 && chance(rng, 0.002) => Some("pension"),
                _ if m.health && age >= 25 * 12 && chance(rng, 0.0012) => Some("sgb_xii"),
                _ => None,
            };
            if let Some(r) = reason {
                if t + 1 < span.len {
                    life.left[mi] = Some((t, r));
                }
                break;
            }
        }
    }
}
