//! The extract contract (`docs/extracts.md`, version 1) as data.
//!
//! Every table, column, Arrow type, domain and key rule of the contract lives here and
//! nowhere else: the loader validates against it, the generator writes to it and the
//! engine registers empty tables from it when an optional table is absent.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// The logical type of a contract column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text; `Utf8`, `LargeUtf8` and `Utf8View` are accepted, loaded as `Utf8`.
    Utf8,
    /// A calendar date without time.
    Date32,
    /// True or false.
    Boolean,
    /// A 64-bit float (amounts in euro).
    Float64,
}

impl ColumnType {
    /// The Arrow type the engine works with.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Utf8 => DataType::Utf8,
            ColumnType::Date32 => DataType::Date32,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Float64 => DataType::Float64,
        }
    }

    /// Whether a file's Arrow type is acceptable for this column.
    pub fn accepts(self, found: &DataType) -> bool {
        match self {
            ColumnType::Utf8 => matches!(
                found,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ),
            other => &other.arrow() == found,
        }
    }

    /// How the contract writes the type, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            ColumnType::Utf8 => "Utf8 (or LargeUtf8/Utf8View)",
            ColumnType::Date32 => "Date32",
            ColumnType::Boolean => "Boolean",
            ColumnType::Float64 => "Float64",
        }
    }
}

/// One column of a contract table.
#[derive(Debug)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// Logical type.
    pub ty: ColumnType,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// The allowed values of a coded text column.
    pub domain: Option<&'static [&'static str]>,
}

/// A foreign key: `columns` of this table must exist as `target_columns` of `target`.
#[derive(Debug)]
pub struct Reference {
    /// Columns of this table.
    pub columns: &'static [&'static str],
    /// Referenced table.
    pub target: &'static str,
    /// Referenced columns (a unique key of the target).
    pub target_columns: &'static [&'static str],
}

/// One table of the extract contract.
#[derive(Debug)]
pub struct Table {
    /// Table name (file `<name>.parquet` or folder `<name>/`).
    pub name: &'static str,
    /// Optional tables may be absent; indicators that need them are then unavailable.
    pub optional: bool,
    /// Columns in contract order.
    pub columns: &'static [Column],
    /// Primary key columns (empty: no key).
    pub primary_key: &'static [&'static str],
    /// Foreign keys, checked in order.
    pub references: &'static [Reference],
    /// `(start, end)` columns of a spell: the end must not lie before the start.
    pub spell: Option<(&'static str, &'static str)>,
    /// Amount columns that must be `>= 0` (and finite).
    pub non_negative: &'static [&'static str],
    /// Date columns that must hold the first day of a month.
    pub first_of_month: &'static [&'static str],
}

impl Table {
    /// The column of that name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The Arrow schema the engine registers for this table.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }
}

const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column {
        name,
        ty,
        nullable: false,
        domain: None,
    }
}

const fn opt(name: &'static str, ty: ColumnType) -> Column {
    Column {
        name,
        ty,
        nullable: true,
        domain: None,
    }
}

const fn coded(name: &'static str, domain: &'static [&'static str]) -> Column {
    Column {
        name,
        ty: ColumnType::Utf8,
        nullable: false,
        domain: Some(domain),
    }
}

const fn opt_coded(name: &'static str, domain: &'static [&'static str]) -> Column {
    Column {
        name,
        ty: ColumnType::Utf8,
        nullable: true,
        domain: Some(domain),
    }
}

const fn person_ref() -> Reference {
    Reference {
        columns: &["person_id"],
        target: "persons",
        target_columns: &["person_id"],
    }
}

use ColumnType::{Boolean, Date32, Float64, Utf8};

/// Sex codes; breakdowns publish `f` and `m`, counting `d` (divers) under `m` or `f` by
/// birth month (`queries/person_months.sql`).
pub const SEX: &[&str] = &["f", "m", "d"];
/// Citizenship codes.
pub const CITIZENSHIP: &[&str] = &["de", "foreign"];
/// Organisational models of a jobcenter.
pub const MODEL: &[&str] = &["gE", "zkT"];
/// Kinds of `employment_starts`.
pub const EMPLOYMENT_KIND: &[&str] = &["svb", "training", "self_employed", "minijob"];
/// Employment-accompanying subsidies.
pub const SUBSIDY: &[&str] = &["egz", "esg", "16e"];
/// Categories of `measures`.
pub const MEASURE_CATEGORY: &[&str] = &["active", "public_employment", "accompanying", "other"];
/// § 16a services.
pub const SERVICE: &[&str] = &[
    "childcare",
    "home_care",
    "debt_counselling",
    "psychosocial",
    "addiction_counselling",
];
/// Health events.
pub const HEALTH_EVENT: &[&str] = &["therapy_start", "rehab_start"];
/// Exit reasons.
pub const EXIT_REASON: &[&str] = &["employment", "pension", "sgb_xii", "relocation", "other"];
/// Invitation formats.
pub const INVITATION_FORMAT: &[&str] = &["standard", "contact_cafe", "group_info"];

/// All tables, in load order: every table comes after the tables it references.
pub const TABLES: &[Table] = &[
    Table {
        name: "jobcenters",
        optional: false,
        columns: &[
            col("jobcenter_id", Utf8),
            col("name", Utf8),
            opt("state", Utf8),
            opt_coded("model", MODEL),
            opt("comparison_type", Utf8),
        ],
        primary_key: &["jobcenter_id"],
        references: &[],
        spell: None,
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "districts",
        optional: false,
        columns: &[
            col("district_id", Utf8),
            col("jobcenter_id", Utf8),
            col("name", Utf8),
        ],
        primary_key: &["district_id"],
        references: &[Reference {
            columns: &["jobcenter_id"],
            target: "jobcenters",
            target_columns: &["jobcenter_id"],
        }],
        spell: None,
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "persons",
        optional: false,
        columns: &[
            col("person_id", Utf8),
            coded("sex", SEX),
            col("birth_date", Date32),
            coded("citizenship", CITIZENSHIP),
        ],
        primary_key: &["person_id"],
        references: &[],
        spell: None,
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "benefit_months",
        optional: false,
        columns: &[
            col("month", Date32),
            col("person_id", Utf8),
            col("bg_id", Utf8),
            col("jobcenter_id", Utf8),
            col("district_id", Utf8),
            col("elb", Boolean),
            col("single_parent", Boolean),
            col("llu_eur", Float64),
            col("luh_eur", Float64),
        ],
        primary_key: &["month", "person_id"],
        references: &[
            person_ref(),
            Reference {
                columns: &["jobcenter_id"],
                target: "jobcenters",
                target_columns: &["jobcenter_id"],
            },
            // The district must exist *and* belong to the row's jobcenter.
            Reference {
                columns: &["district_id", "jobcenter_id"],
                target: "districts",
                target_columns: &["district_id", "jobcenter_id"],
            },
        ],
        spell: None,
        non_negative: &["llu_eur", "luh_eur"],
        first_of_month: &["month"],
    },
    Table {
        name: "employment_starts",
        optional: false,
        columns: &[
            col("person_id", Utf8),
            col("start_date", Date32),
            opt("end_date", Date32),
            coded("kind", EMPLOYMENT_KIND),
            opt_coded("subsidy", SUBSIDY),
        ],
        primary_key: &[],
        references: &[person_ref()],
        spell: Some(("start_date", "end_date")),
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "measures",
        optional: false,
        columns: &[
            col("participation_id", Utf8),
            col("person_id", Utf8),
            col("programme", Utf8),
            coded("category", MEASURE_CATEGORY),
            col("start_date", Date32),
            opt("end_date", Date32),
        ],
        primary_key: &["participation_id"],
        references: &[person_ref()],
        spell: Some(("start_date", "end_date")),
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "services_16a",
        optional: true,
        columns: &[
            col("person_id", Utf8),
            coded("service", SERVICE),
            col("start_date", Date32),
            opt("end_date", Date32),
        ],
        primary_key: &[],
        references: &[person_ref()],
        spell: Some(("start_date", "end_date")),
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "health_events",
        optional: true,
        columns: &[
            col("person_id", Utf8),
            col("date", Date32),
            coded("event", HEALTH_EVENT),
        ],
        primary_key: &[],
        references: &[person_ref()],
        spell: None,
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "exits",
        optional: true,
        columns: &[
            col("person_id", Utf8),
            col("date", Date32),
            coded("reason", EXIT_REASON),
        ],
        primary_key: &[],
        references: &[person_ref()],
        spell: None,
        non_negative: &[],
        first_of_month: &[],
    },
    Table {
        name: "invitations",
        optional: true,
        columns: &[
            col("invitation_id", Utf8),
            col("person_id", Utf8),
            col("date", Date32),
            coded("format", INVITATION_FORMAT),
            opt("topic", Utf8),
            col("attended", Boolean),
        ],
        primary_key: &["invitation_id"],
        references: &[person_ref()],
        spell: None,
        non_negative: &[],
        first_of_month: &[],
    },
];

/// The contract table of that name.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_point_backwards_to_unique_keys() {
        for (i, t) in TABLES.iter().enumerate() {
            for r in t.references {
                let pos = TABLES.iter().position(|x| x.name == r.target).unwrap();
                assert!(pos < i, "{} must load after {}", t.name, r.target);
                for c in r.columns {
                    assert!(t.column(c).is_some(), "{}.{c}", t.name);
                }
                for c in r.target_columns {
                    assert!(TABLES[pos].column(c).is_some(), "{}.{c}", r.target);
                }
            }
            for c in t
                .primary_key
                .iter()
                .chain(t.non_negative)
                .chain(t.first_of_month)
            {
                assert!(t.column(c).is_some(), "{}.{c}", t.name);
            }
        }
    }
}
