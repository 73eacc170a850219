//! The rows the simulation produces, one plain struct per person-level table.
//!
//! Person indices stand for `person_id`s and `(jobcenter, district)` indices for the
//! unit ids; `writer.rs` turns them into the contract's columns.

/// A `persons` row.
#[derive(Debug, Clone)]
pub(crate) struct PersonRow {
    pub person: usize,
    pub sex: &'static str,
    pub birth: i32,
    pub foreign: bool,
}

/// A `benefit_months` row; `bg_head` is the person index the `bg_id` is built from.
#[derive(Debug, Clone)]
pub(crate) struct BenefitRow {
    pub month: i32,
    pub person: usize,
    pub bg_head: usize,
    pub jc: usize,
    pub district: usize,
    pub elb: bool,
    pub single_parent: bool,
    pub llu: f64,
    pub luh: f64,
}

/// An `employment_starts` row.
#[derive(Debug, Clone)]
pub(crate) struct EmploymentRow {
    pub person: usize,
    pub start: i32,
    pub end: Option<i32>,
    pub kind: &'static str,
    pub subsidy: Option<&'static str>,
}

/// A `measures` row; `seq` numbers the person's participations.
#[derive(Debug, Clone)]
pub(crate) struct MeasureRow {
    pub person: usize,
    pub seq: usize,
    pub programme: &'static str,
    pub category: &'static str,
    pub start: i32,
    pub end: Option<i32>,
}

/// A `services_16a` row.
#[derive(Debug, Clone)]
pub(crate) struct ServiceRow {
    pub person: usize,
    pub service: &'static str,
    pub start: i32,
    pub end: Option<i32>,
}

/// A `health_events` or `exits` row (person, date, code).
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub person: usize,
    pub date: i32,
    pub code: &'static str,
}

/// An `invitations` row; `seq` numbers the person's invitations.
#[derive(Debug, Clone)]
pub(crate) struct InvitationRow {
    pub person: usize,
    pub seq: usize,
    pub date: i32,
    pub format: &'static str,
    pub topic: Option<&'static str>,
    pub attended: bool,
}

/// Rows of the person-level tables.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub persons: Vec<PersonRow>,
    pub benefit: Vec<BenefitRow>,
    pub employment: Vec<EmploymentRow>,
    pub measures: Vec<MeasureRow>,
    pub services: Vec<ServiceRow>,
    pub health: Vec<EventRow>,
    pub exits: Vec<EventRow>,
    pub invitations: Vec<InvitationRow>,
}
