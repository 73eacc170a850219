//! The monthly `benefit_months` rows of a household, with plausible amounts.
//!
//! `llu_eur` follows the Regelbedarfsstufen of the year (partners and children lower;
//! the Mehrbedarf for single parents; Kindergeld and Unterhaltsvorschuss credited to the
//! child; employment and other income credited to the earner). `luh_eur` is the
//! person's head share of the BG's housing costs (Kopfteilprinzip), which depend on the
//! jobcenter, the BG size and a yearly rent increase. Income above the person's `llu`
//! reduces the `luh` share; both are rounded to cents and never negative.

use super::calendar::{Span, cents, rates};
use super::household::{Household, Role};
use super::rows::{BenefitRow, PersonRow};
use super::spells::{ELB_AGE_M, Life};
use crate::month::date_to_date32;

fn housing_factor(n: usize) -> f64 {
    1.0 + 0.22 * (n.saturating_sub(1)).min(5) as f64
}

/// Appends the household's `persons` and `benefit_months` rows.
pub(crate) fn rows(
    span: &Span,
    h: &Household,
    life: &Life,
    income: &[Vec<f64>],
    persons: &mut Vec<PersonRow>,
    out: &mut Vec<BenefitRow>,
) {
    for m in &h.members {
        persons.push(PersonRow {
            person: m.idx,
            sex: m.sex,
            birth: date_to_date32(m.birth),
            foreign: m.foreign,
        });
    }
    let base = h.housing / housing_factor(h.members.len());
    let mut present = Vec::with_capacity(h.members.len());
    for (mi, m) in h.members.iter().enumerate() {
        for (t, income) in income[mi].iter().enumerate() {
            if !life.member_on(h, span, mi, t) {
                continue;
            }
            present.clear();
            present.extend((0..h.members.len()).filter(|&k| life.member_on(h, span, k, t)));
            let n = present.len();
            let year = span.year(t);
            let r = rates(year);
            let age = h.age_m(span, mi, t);
            let role_on = |role: Role| present.iter().any(|&k| h.members[k].role == role);
            let minors: Vec<i32> = present
                .iter()
                .filter(|&&k| h.members[k].role == Role::Child)
                .map(|&k| h.age_m(span, k, t))
                .filter(|a| *a < 18 * 12)
                .collect();
            let single_parent =
                m.role == Role::Head && !role_on(Role::Partner) && !minors.is_empty();
            let mut llu = match m.role {
                Role::Head | Role::Partner => {
                    let other = if m.role == Role::Head {
                        Role::Partner
                    } else {
                        Role::Head
                    };
                    if role_on(other) {
                        r.partner
                    } else if single_parent {
                        let youngest = minors.iter().copied().min().unwrap_or(0);
                        let share = if youngest < 7 * 12 || minors.len() >= 2 {
                            (0.12 * minors.len() as f64).max(0.36)
                        } else {
                            0.12 * minors.len() as f64
                        };
                        r.single * (1.0 + share.min(0.6))
                    } else {
                        r.single
                    }
                }
                Role::Child => {
                    let stage = match age / 12 {
                        ..6 => r.infant,
                        6..14 => r.child,
                        14..18 => r.teen,
                        _ => r.adult_child,
                    };
                    let uvg = if m.uvg && age < 12 * 12 { 150.0 } else { 0.0 };
                    stage - r.kindergeld - uvg
                }
            };
            if m.role == Role::Head {
                llu -= h.other_income;
            }
            llu -= income;
            let rent = base * housing_factor(n) * 1.015f64.powi(year - 2015);
            let mut luh = rent / n as f64;
            if llu < 0.0 {
                luh += llu;
                llu = 0.0;
            }
            let (jc, district) = life.loc[t];
            out.push(BenefitRow {
                month: span.month(t).to_date32(),
                person: m.idx,
                bg_head: h.head,
                jc,
                district,
                elb: age >= ELB_AGE_M,
                single_parent,
                llu: cents(llu),
                luh: cents(luh),
            });
        }
    }
}
