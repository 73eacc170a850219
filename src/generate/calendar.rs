//! Calendar arithmetic of the generator and the yearly legal amounts.
//!
//! Owns the [`Span`] (the generated months `from ..= to`, addressed by a relative month
//! index `t`), `Date32` helpers, ages on reference days, the Regelbedarf and Kindergeld
//! tables 2015–2018 and the small random helpers every other file uses.

use chrono::{Datelike, Months, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::month::{Month, date_to_date32, date32_to_date};

/// The generated months, `from ..= to`, addressed by `t = 0 .. len`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub from: Month,
    pub len: usize,
}

impl Span {
    pub fn new(from: Month, to: Month) -> Self {
        Span {
            from,
            len: (to.since(from) + 1).max(0) as usize,
        }
    }

    pub fn month(&self, t: usize) -> Month {
        self.from.plus(t as i32)
    }

    /// The relative index of a calendar month (may be negative or beyond the span).
    pub fn rel(&self, m: Month) -> i64 {
        i64::from(m.since(self.from))
    }

    /// `Date32` of day `day` of month `t`, clamped to the month's last day.
    pub fn day(&self, t: usize, day: u32) -> i32 {
        let m = self.month(t);
        let first = m.to_date32();
        first + day.clamp(1, days_in(m)) as i32 - 1
    }

    /// Last day of the span as `Date32`.
    pub fn end(&self) -> i32 {
        self.month(self.len).to_date32() - 1
    }

    /// The calendar year of month `t`.
    pub fn year(&self, t: usize) -> i32 {
        self.month(t).year()
    }
}

/// Number of days of a month.
pub(crate) fn days_in(m: Month) -> u32 {
    (m.plus(1).to_date32() - m.to_date32()) as u32
}

/// The month (relative to `span`) a `Date32` falls in.
pub(crate) fn rel_month_of(span: &Span, date: i32) -> i64 {
    Month::of_date32(date).map_or(i64::MIN / 2, |m| span.rel(m))
}

/// `date + n` calendar months (end of month clamped), as `Date32`.
pub(crate) fn plus_months(date: i32, n: u32) -> i32 {
    date32_to_date(date)
        .and_then(|d| d.checked_add_months(Months::new(n)))
        .map_or(i32::MAX, date_to_date32)
}

/// A birth date from year, month and day (days past the 28th are clamped).
pub(crate) fn birth_date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day.min(28)).unwrap_or(NaiveDate::MIN)
}

/// Age in completed months on the reference day (the 15th) of month `m`.
pub(crate) fn age_months(birth: NaiveDate, m: Month) -> i32 {
    let months = m.index() - (birth.year() * 12 + birth.month0() as i32);
    if birth.day() > 15 { months - 1 } else { months }
}

/// Legal amounts of one year; years outside 2015–2018 use the nearest year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rates {
    /// Regelbedarfsstufe 1 (single adult, single parent).
    pub single: f64,
    /// Stufe 2 (each partner of a couple).
    pub partner: f64,
    /// Stufe 3 (adult 18–24 in the parents' household).
    pub adult_child: f64,
    /// Stufe 4 (14–17).
    pub teen: f64,
    /// Stufe 5 (6–13).
    pub child: f64,
    /// Stufe 6 (0–5).
    pub infant: f64,
    /// Kindergeld for a first or second child, credited as the child's income.
    pub kindergeld: f64,
}

pub(crate) fn rates(year: i32) -> Rates {
    let r = |single, partner, adult_child, teen, child, infant, kindergeld| Rates {
        single,
        partner,
        adult_child,
        teen,
        child,
        infant,
        kindergeld,
    };
    match year {
        ..=2015 => r(399.0, 360.0, 320.0, 302.0, 267.0, 234.0, 188.0),
        2016 => r(404.0, 364.0, 324.0, 306.0, 270.0, 237.0, 190.0),
        2017 => r(409.0, 368.0, 327.0, 311.0, 291.0, 237.0, 192.0),
        _ => r(416.0, 374.0, 332.0, 316.0, 296.0, 240.0, 194.0),
    }
}

/// Multipliers of the hazards by calendar year: `(entry, exit)`. The refugee
/// recognitions of 2015–2016 raise entries, the good labour market of 2018 raises exits.
pub(crate) fn year_factors(year: i32) -> (f64, f64) {
    match year {
        ..=2015 => (1.0, 1.0),
        2016 => (1.04, 0.97),
        2017 => (1.0, 1.0),
        _ => (0.93, 1.1),
    }
}

/// A uniform draw in `[0, 1)`.
pub(crate) fn unit(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

/// True with probability `p` (any `p`; values outside `[0, 1]` are clamped).
pub(crate) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A uniform integer in `lo ..= hi`.
pub(crate) fn between(rng: &mut ChaCha8Rng, lo: u32, hi: u32) -> u32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// An exponential draw with the given mean.
pub(crate) fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * (1.0 - unit(rng)).ln()
}

/// Index drawn from unnormalised weights (the last index if all are zero).
pub(crate) fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = unit(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// Rounds an amount to cents and clamps it at zero.
pub(crate) fn cents(x: f64) -> f64 {
    ((x.max(0.0)) * 100.0).round() / 100.0
}
