//! Who lives in a Bedarfsgemeinschaft: composition, persons' attributes, housing.
//!
//! A household (BG) is drawn from the RNG of its head's person index and takes the
//! following consecutive person indices for partner and children. Compositions follow
//! the SGB II structure (about half single adults, a fifth single parents, couples with
//! and without children); a small "refugee" group (recognised 2015–2017) brings larger,
//! mostly foreign families. Every household also gets a spell type that drives how long
//! it stays in receipt (see `spells.rs`).

use chrono::NaiveDate;
use rand_chacha::ChaCha8Rng;

use super::calendar::{Span, between, chance, pick, unit};
use super::cohort::{CohortSlot, ExitKind};
use super::units::{RHEIN_BERG, Units};
use crate::month::Month;

/// Role of a member in the BG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Head,
    Partner,
    Child,
}

/// Heterogeneity of benefit spells: how likely a BG leaves and comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpellType {
    /// Long-term core: rare exits.
    Core,
    /// Medium spells.
    Mid,
    /// Churning: short spells and frequent returns.
    Churn,
    /// A single short spell in the window.
    Short,
    /// Recognised refugees: first entry 2015–2017, slow exits.
    Refugee,
}

/// One person of a BG.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub idx: usize,
    pub role: Role,
    pub sex: &'static str,
    pub birth: NaiveDate,
    pub foreign: bool,
    /// Health problems (a placement obstacle; more therapy, fewer integrations).
    pub health: bool,
    /// A child receiving Unterhaltsvorschuss (credited as income).
    pub uvg: bool,
    /// Attendance propensity for invitations (mean about 1).
    pub reliability: f64,
}

/// A Bedarfsgemeinschaft.
#[derive(Debug, Clone)]
pub(crate) struct Household {
    pub head: usize,
    pub members: Vec<Member>,
    pub kind: SpellType,
    pub jc: usize,
    pub district: usize,
    /// Monthly housing costs of the full BG at the start of the span, euro.
    pub housing: f64,
    /// Monthly non-employment income credited to the head (maintenance, ALG I), euro.
    pub other_income: f64,
}

impl Household {
    /// Age in months of member `mi` on the reference day of month `t`.
    pub fn age_m(&self, span: &Span, mi: usize, t: usize) -> i32 {
        super::calendar::age_months(self.members[mi].birth, span.month(t))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Composition {
    Single,
    SingleParent,
    Couple,
    CoupleKids,
    CoupleAdultChild,
}

/// A birth date for someone `age_m` months old on the 15th of `from`.
fn birth_for(rng: &mut ChaCha8Rng, from: Month, age_m: u32) -> NaiveDate {
    let m = from.plus(-(age_m as i32));
    super::calendar::birth_date(m.year(), m.month(), between(rng, 1, 15))
}

fn adult_sex(rng: &mut ChaCha8Rng, p_male: f64) -> &'static str {
    if chance(rng, 0.002) {
        "d"
    } else if chance(rng, p_male) {
        "m"
    } else {
        "f"
    }
}

fn reliability(rng: &mut ChaCha8Rng) -> f64 {
    [0.65, 1.0, 1.35][pick(rng, &[0.3, 0.4, 0.3])]
}

/// What all members of a household share.
#[derive(Clone, Copy)]
struct Origin {
    from: Month,
    kind: SpellType,
    foreign: bool,
}

fn adult(
    rng: &mut ChaCha8Rng,
    idx: usize,
    role: Role,
    sex: &'static str,
    age_y: u32,
    o: Origin,
) -> Member {
    let (from, foreign) = (o.from, o.foreign);
    let core = if o.kind == SpellType::Core { 0.08 } else { 0.0 };
    let p_health = (0.08 + 0.007 * f64::from(age_y.saturating_sub(25)) + core).min(0.6);
    Member {
        idx,
        role,
        sex,
        birth: {
            let age_m = age_y * 12 + between(rng, 0, 11);
            birth_for(rng, from, age_m)
        },
        foreign,
        health: chance(rng, p_health),
        uvg: false,
        reliability: reliability(rng),
    }
}

fn child(
    rng: &mut ChaCha8Rng,
    idx: usize,
    age_y: u32,
    from: Month,
    foreign: bool,
    single_parent: bool,
) -> Member {
    Member {
        idx,
        role: Role::Child,
        sex: if chance(rng, 0.5) { "f" } else { "m" },
        birth: {
            let age_m = age_y * 12 + between(rng, 0, 11);
            birth_for(rng, from, age_m)
        },
        foreign,
        health: false,
        uvg: single_parent && age_y < 12 && chance(rng, 0.5),
        reliability: reliability(rng),
    }
}

/// Draws a household headed by person `head` with at most `max_size` members.
pub(crate) fn draw(
    rng: &mut ChaCha8Rng,
    units: &Units,
    span: &Span,
    head: usize,
    max_size: usize,
) -> Household {
    let from = span.from;
    let refugee = chance(rng, 0.05);
    let comp = if refugee {
        [
            Composition::CoupleKids,
            Composition::Single,
            Composition::SingleParent,
        ][pick(rng, &[0.55, 0.35, 0.10])]
    } else {
        [
            Composition::Single,
            Composition::SingleParent,
            Composition::Couple,
            Composition::CoupleKids,
            Composition::CoupleAdultChild,
        ][pick(rng, &[0.53, 0.19, 0.10, 0.14, 0.04])]
    };
    let kind = if refugee {
        SpellType::Refugee
    } else {
        let w: &[f64] = match comp {
            Composition::Single => &[0.42, 0.22, 0.17, 0.19],
            Composition::SingleParent => &[0.6, 0.22, 0.10, 0.08],
            _ => &[0.5, 0.2, 0.14, 0.16],
        };
        [
            SpellType::Core,
            SpellType::Mid,
            SpellType::Churn,
            SpellType::Short,
        ][pick(rng, w)]
    };
    let foreign = chance(rng, if refugee { 0.93 } else { 0.22 });
    let head_age = match comp {
        Composition::Single if refugee => between(rng, 19, 40),
        Composition::Single => {
            let band = pick(rng, &[0.22, 0.43, 0.35]);
            let (lo, hi) = [(18, 24), (25, 49), (50, 63)][band];
            let age = between(rng, lo, hi);
            if kind == SpellType::Core {
                age.max(between(rng, 22, 45))
            } else {
                age
            }
        }
        Composition::SingleParent => 20 + between(rng, 0, 15) + between(rng, 0, 15),
        Composition::Couple => between(rng, 24, 63),
        Composition::CoupleKids => between(rng, 24, 50),
        Composition::CoupleAdultChild => between(rng, 40, 56),
    };
    let p_male = match comp {
        Composition::Single => {
            if refugee {
                0.8
            } else {
                0.56
            }
        }
        Composition::SingleParent => 0.08,
        _ => 0.85,
    };
    let head_sex = adult_sex(rng, p_male);
    let origin = Origin {
        from,
        kind,
        foreign,
    };
    let mut members = vec![adult(rng, head, Role::Head, head_sex, head_age, origin)];
    let couple = matches!(
        comp,
        Composition::Couple | Composition::CoupleKids | Composition::CoupleAdultChild
    );
    if couple {
        let partner_sex = match head_sex {
            "m" => "f",
            "f" => "m",
            _ => adult_sex(rng, 0.5),
        };
        let age = (head_age as i64 + between(rng, 0, 10) as i64 - 6).clamp(18, 64) as u32;
        members.push(adult(
            rng,
            head + 1,
            Role::Partner,
            partner_sex,
            age,
            origin,
        ));
    }
    let kids = match comp {
        Composition::SingleParent => 1 + pick(rng, &[0.5, 0.32, 0.18]),
        Composition::CoupleKids => {
            1 + pick(
                rng,
                if refugee {
                    &[0.15, 0.3, 0.3, 0.25]
                } else {
                    &[0.35, 0.35, 0.2, 0.1]
                },
            )
        }
        Composition::CoupleAdultChild => 1 + pick(rng, &[0.6, 0.4]),
        _ => 0,
    };
    let max_child_age = head_age.saturating_sub(18).min(17);
    for k in 0..kids {
        let age = if comp == Composition::CoupleAdultChild && k == 0 {
            between(rng, 18, 21)
        } else {
            between(rng, 0, max_child_age)
        };
        let idx = head + members.len();
        members.push(child(
            rng,
            idx,
            age,
            from,
            foreign,
            comp == Composition::SingleParent,
        ));
    }
    members.truncate(max_size.max(1));
    let jc = units.pick_jobcenter(rng);
    let district = units.pick_district(rng, jc);
    let n = members.len() as f64;
    Household {
        head,
        housing: units.jobcenter(jc).housing_single
            * (1.0 + 0.22 * (n - 1.0).min(5.0))
            * (0.85 + 0.3 * unit(rng)),
        other_income: if chance(rng, 0.15) {
            f64::from(between(rng, 60, 350))
        } else {
            0.0
        },
        members,
        kind,
        jc,
        district,
    }
}

/// The single-person household of a health-check cohort member in Rhein-Berg: older and
/// more often in poor health than average, so that its outcomes are plausible.
pub(crate) fn draw_cohort(
    rng: &mut ChaCha8Rng,
    units: &Units,
    span: &Span,
    head: usize,
    slot: &CohortSlot,
) -> Household {
    let end_month = span.month(slot.end_t);
    // Age in months on the 15th of the end month, then shifted to the start of the span.
    let (lo, hi, p_health) = match slot.outcome.exit {
        Some(ExitKind::Pension) => (61 * 12, 63 * 12 + 11, 0.7),
        Some(ExitKind::SgbXii) => (45 * 12, 60 * 12, 1.0),
        None => (25 * 12, 57 * 12, 0.6),
    };
    let age_at_end = between(rng, lo, hi);
    let age_m = (age_at_end as i32 - end_month.since(span.from)).max(15 * 12) as u32;
    let sex = adult_sex(rng, 0.5);
    let jc = RHEIN_BERG;
    let district = units.pick_district(rng, jc);
    let member = Member {
        idx: head,
        role: Role::Head,
        sex,
        birth: birth_for(rng, span.from, age_m),
        foreign: chance(rng, 0.25),
        health: chance(rng, p_health),
        uvg: false,
        reliability: reliability(rng),
    };
    Household {
        head,
        members: vec![member],
        kind: if chance(rng, 0.7) {
            SpellType::Core
        } else {
            SpellType::Mid
        },
        jc,
        district,
        housing: units.jobcenter(jc).housing_single * (0.85 + 0.3 * unit(rng)),
        other_income: 0.0,
    }
}
