//! What happens to an eLb person during receipt: work, programmes, services, health,
//! invitations.
//!
//! Each month a person is eLb (has a row, aged 15 or more) draws, from the person's own
//! RNG, whether an integration (`svb`/`training`/`self_employed`), a `minijob`, a
//! measure, a § 16a service, a health event and invitations start. Hazards depend on
//! sex, age, health, single parenthood, the spell type and the year; jobs that start
//! during receipt make the person an "Aufstocker" (income credited in later months).

use rand_chacha::ChaCha8Rng;

use super::calendar::{Span, between, chance, exponential, pick, rel_month_of, unit};
use super::household::{Household, Role, SpellType};
use super::rows::{EmploymentRow, EventRow, InvitationRow, MeasureRow, Rows, ServiceRow};
use super::spells::{ELB_AGE_M, Life};
use super::units::Units;

/// A programme of the `measures` table.
struct Programme {
    code: &'static str,
    category: &'static str,
    weight: f64,
    days: (u32, u32),
}

const PROGRAMMES: &[Programme] = &[
    Programme {
        code: "avgs",
        category: "active",
        weight: 0.28,
        days: (30, 120),
    },
    Programme {
        code: "fbw",
        category: "active",
        weight: 0.12,
        days: (90, 365),
    },
    Programme {
        code: "profiling",
        category: "active",
        weight: 0.10,
        days: (14, 42),
    },
    Programme {
        code: "coaching",
        category: "active",
        weight: 0.15,
        days: (60, 180),
    },
    Programme {
        code: "agh",
        category: "public_employment",
        weight: 0.17,
        days: (120, 300),
    },
    Programme {
        code: "16i",
        category: "public_employment",
        weight: 0.03,
        days: (365, 730),
    },
    Programme {
        code: "language",
        category: "other",
        weight: 0.07,
        days: (120, 240),
    },
];

/// The `end_date` of a spell of `days` days from `start` (`None` past the span).
pub(crate) fn end_of(span: &Span, start: i32, days: i64) -> Option<i32> {
    let end = i64::from(start) + days.max(1) - 1;
    (end <= i64::from(span.end())).then_some(end as i32)
}

/// A measure participation of a random programme (16i only from 2018, its start year).
pub(crate) fn measure(
    rng: &mut ChaCha8Rng,
    span: &Span,
    person: usize,
    start: i32,
    foreign: bool,
) -> MeasureRow {
    let year = rel_month_of(span, start);
    let year = span.year(year.clamp(0, span.len as i64 - 1) as usize);
    let w: Vec<f64> = PROGRAMMES
        .iter()
        .map(|p| match p.code {
            "16i" if year < 2018 => 0.0,
            "language" if foreign => p.weight * 4.0,
            _ => p.weight,
        })
        .collect();
    let p = &PROGRAMMES[pick(rng, &w)];
    let days = between(rng, p.days.0, p.days.1);
    MeasureRow {
        person,
        seq: 0,
        programme: p.code,
        category: p.category,
        start,
        end: end_of(span, start, i64::from(days)),
    }
}

/// A take-up of work: `kind` drawn unless given; duration and subsidy by kind.
pub(crate) fn job(
    rng: &mut ChaCha8Rng,
    span: &Span,
    person: usize,
    start: i32,
    age_y: i32,
    kind: Option<&'static str>,
) -> EmploymentRow {
    let kind = kind.unwrap_or_else(|| {
        let training = if age_y < 25 { 0.3 } else { 0.03 };
        ["svb", "training", "self_employed"][pick(rng, &[0.9 - training, training, 0.06])]
    });
    let days = match kind {
        "svb" if chance(rng, 0.3) => 14.0 + exponential(rng, 60.0),
        "svb" => 30.0 + exponential(rng, 900.0),
        "training" if chance(rng, 0.25) => 30.0 + exponential(rng, 120.0),
        "training" => f64::from(between(rng, 730, 1095)),
        "self_employed" => 60.0 + exponential(rng, 600.0),
        _ => 20.0 + exponential(rng, 240.0),
    };
    let subsidy = match kind {
        "svb" => {
            [None, Some("egz"), Some("esg"), Some("16e")][pick(rng, &[0.88, 0.08, 0.03, 0.01])]
        }
        "self_employed" if chance(rng, 0.45) => Some("esg"),
        _ => None,
    };
    EmploymentRow {
        person,
        start,
        end: end_of(span, start, days as i64),
        kind,
        subsidy,
    }
}

/// Credits `amount` of monthly income in the months after `start` that the job covers.
pub(crate) fn add_income(span: &Span, income: &mut [f64], job: &EmploymentRow, amount: f64) {
    let first = rel_month_of(span, job.start) + 1;
    let last = job
        .end
        .map_or(span.len as i64 - 1, |e| rel_month_of(span, e - 14));
    for t in first.max(0)..=last.min(span.len as i64 - 1) {
        income[t as usize] += amount;
    }
}

fn service(rng: &mut ChaCha8Rng, health: bool, older: bool) -> (&'static str, (u32, u32)) {
    let w = [
        0.55,
        0.22,
        if health { 0.3 } else { 0.12 },
        if older || health { 0.06 } else { 0.015 },
    ];
    [
        ("debt_counselling", (90, 365)),
        ("psychosocial", (90, 270)),
        ("addiction_counselling", (180, 540)),
        ("home_care", (60, 365)),
    ][pick(rng, &w)]
}

fn topic(rng: &mut ChaCha8Rng, format: &str) -> Option<&'static str> {
    let (codes, w): (&[Option<&'static str>], &[f64]) = match format {
        "standard" => (
            &[
                Some("orientation"),
                Some("job_offer"),
                Some("counselling"),
                Some("health"),
                None,
            ],
            &[0.25, 0.3, 0.25, 0.05, 0.15],
        ),
        "contact_cafe" => (
            &[
                Some("orientation"),
                Some("counselling"),
                Some("health"),
                None,
            ],
            &[0.35, 0.35, 0.2, 0.1],
        ),
        _ => (
            &[Some("orientation"), Some("job_offer"), None],
            &[0.5, 0.4, 0.1],
        ),
    };
    codes[pick(rng, w)]
}

/// Context of one member's event draws.
pub(crate) struct MemberCtx<'a> {
    pub span: &'a Span,
    pub units: &'a Units,
    pub h: &'a Household,
    pub life: &'a Life,
    pub mi: usize,
    /// The household is ever in Rhein-Berg: no random health check may end in 2017
    /// (that cohort is planned exactly, see `cohort.rs`).
    pub rhein_berg: bool,
}

/// Draws the monthly events of member `mi`; credits job income to `income`.
pub(crate) fn member_events(
    rng: &mut ChaCha8Rng,
    c: &MemberCtx,
    income: &mut [f64],
    rows: &mut Rows,
) {
    let (span, h, life, mi) = (c.span, c.h, c.life, c.mi);
    let m = &h.members[mi];
    let person = m.idx;
    let single_parent = m.role == Role::Head && h.members.iter().any(|x| x.role == Role::Child);
    let (mut measure_busy, mut service_busy) = (i32::MIN, i32::MIN);
    for t in 0..span.len {
        if !life.member_on(h, span, mi, t) {
            continue;
        }
        let age = h.age_m(span, mi, t);
        if age < ELB_AGE_M {
            continue;
        }
        let age_y = age / 12;
        let pupil = age_y < 18;
        let youngest = (0..h.members.len())
            .filter(|&k| h.members[k].role == Role::Child && life.member_on(h, span, k, t))
            .map(|k| h.age_m(span, k, t))
            .min();
        let small_kid = youngest.is_some_and(|a| a < 36) && (single_parent || m.sex == "f");
        let first_day = span.day(t, 1);
        let (jc, _) = life.loc[t];
        let new_refugee =
            h.kind == SpellType::Refugee && life.on[..t].iter().filter(|x| **x).count() < 12;

        // Integration during receipt (the BG keeps receiving: an Aufstocker).
        let mut f = match m.sex {
            "m" => 1.0,
            "f" => 0.5,
            _ => 0.75,
        };
        f *= match age_y {
            ..18 => 0.1,
            18..25 => 1.2,
            25..50 => 1.0,
            50..58 => 0.6,
            _ => 0.3,
        };
        f *= match h.kind {
            SpellType::Core => 0.6,
            SpellType::Mid => 1.0,
            _ => 1.4,
        };
        if m.health {
            f *= 0.5;
        }
        if small_kid {
            f *= 0.3;
        } else if single_parent {
            f *= 0.75;
        }
        if new_refugee {
            f *= 0.4;
        }
        f *= c.units.jobcenter(jc).labour_market;
        if chance(rng, 0.026 * f) {
            let start = span.day(t, between(rng, 1, 28));
            let j = job(rng, span, person, start, age_y, None);
            add_income(span, income, &j, f64::from(between(rng, 250, 750)));
            if chance(rng, 0.1) {
                let delay = between(rng, 0, 30) as i32;
                let mut b = measure(rng, span, person, start + delay, m.foreign);
                (b.programme, b.category) = ("bb_coaching", "accompanying");
                rows.measures.push(b);
            }
            if chance(rng, 0.04) {
                let second = span.day(t, between(rng, 1, 28));
                rows.employment
                    .push(job(rng, span, person, second, age_y, Some("minijob")));
            }
            rows.employment.push(j);
        }
        // Minijob.
        if chance(
            rng,
            0.007 * if pupil { 0.5 } else { 1.0 } * if m.health { 0.6 } else { 1.0 },
        ) {
            let start = span.day(t, between(rng, 1, 28));
            let j = job(rng, span, person, start, age_y, Some("minijob"));
            add_income(span, income, &j, 280.0);
            rows.employment.push(j);
        }
        // Measures.
        let mut fm = if h.kind == SpellType::Core { 1.25 } else { 1.0 };
        fm *= match age_y {
            ..18 => 0.1,
            18..25 => 1.4,
            25..58 => 1.0,
            _ => 0.5,
        };
        if small_kid {
            fm *= 0.5;
        }
        if first_day > measure_busy && chance(rng, 0.034 * fm) {
            let start = span.day(t, between(rng, 1, 28));
            let row = measure(rng, span, person, start, m.foreign);
            measure_busy = row.end.unwrap_or(i32::MAX);
            rows.measures.push(row);
        }
        if m.health && age_y >= 30 && chance(rng, 0.0015) {
            let end = span.day(t, between(rng, 7, 28));
            if !(c.rhein_berg && span.year(t) == 2017) {
                rows.measures.push(MeasureRow {
                    person,
                    seq: 0,
                    programme: "health_check",
                    category: "active",
                    start: end - 6,
                    end: Some(end),
                });
            }
        }
        // § 16a services.
        if first_day > service_busy && !pupil {
            let childcare = youngest.is_some_and(|a| a < 144)
                && chance(
                    rng,
                    if single_parent {
                        0.006
                    } else if m.sex == "f" {
                        0.0004
                    } else {
                        0.0
                    },
                );
            let general = chance(rng, 0.0025 * if m.health { 1.8 } else { 1.0 });
            if childcare || general {
                let (code, days) = if childcare {
                    ("childcare", (180, 720))
                } else {
                    service(rng, m.health, age_y >= 55)
                };
                let start = span.day(t, between(rng, 1, 28));
                let end = end_of(span, start, i64::from(between(rng, days.0, days.1)));
                service_busy = end.unwrap_or(i32::MAX);
                rows.services.push(ServiceRow {
                    person,
                    service: code,
                    start,
                    end,
                });
            }
        }
        // Health events.
        let fh = if m.health { 4.0 } else { 1.0 };
        for (code, p) in [("therapy_start", 0.0011), ("rehab_start", 0.0008)] {
            if !pupil && chance(rng, p * fh) {
                rows.health.push(EventRow {
                    person,
                    date: span.day(t, between(rng, 1, 28)),
                    code,
                });
            }
        }
        // Invitations.
        let fi = if pupil { 0.3 } else { 1.0 };
        let cafe = if c.units.jobcenter(jc).contact_cafe {
            0.022
        } else {
            0.0
        };
        for (format, p, attend) in [
            ("standard", 0.13, 0.30),
            ("standard", 0.015, 0.30),
            ("contact_cafe", cafe, 0.65),
            ("group_info", 0.015, 0.45),
        ] {
            if chance(rng, p * fi) {
                let health = if m.health { 0.9 } else { 1.0 };
                let attended = unit(rng) < (attend * m.reliability * health).min(0.95);
                rows.invitations.push(InvitationRow {
                    person,
                    seq: 0,
                    date: span.day(t, between(rng, 1, 28)),
                    format,
                    topic: topic(rng, format),
                    attended,
                });
            }
        }
    }
}
