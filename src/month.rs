//! Calendar months (`YYYY-MM`): the time grain of every extract, block and indicator.
//!
//! A [`Month`] is stored as a month index (`year * 12 + month0`) so that windows, lags
//! and follow-ups are integer arithmetic. It converts to and from the `Date32` of the
//! month's first day, which is how the extract contract stores reference months.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

/// A calendar month such as `2017-06`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

/// Why a text is not a month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a month: expected YYYY-MM (e.g. 2017-06)")]
pub struct MonthParseError(pub String);

/// Days between 0001-01-01 (CE day 1) and the Unix epoch, for `Date32` conversion.
const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

impl Month {
    /// The month with the given year and 1-based month number, if it exists.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1..=9999).contains(&year))
            .then(|| Month(year * 12 + month as i32 - 1))
    }

    /// The month a date falls in.
    pub fn of_date(date: NaiveDate) -> Self {
        Month(date.year() * 12 + date.month0() as i32)
    }

    /// The month a `Date32` value (days since 1970-01-01) falls in.
    pub fn of_date32(days: i32) -> Option<Self> {
        date32_to_date(days).map(Self::of_date)
    }

    /// Year, e.g. 2017.
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// Month number 1..=12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// The month index (`year * 12 + month - 1`), the integer the SQL blocks use as `month_idx`.
    pub fn index(self) -> i32 {
        self.0
    }

    /// The month `n` months later (earlier for negative `n`).
    pub fn plus(self, n: i32) -> Self {
        Month(self.0 + n)
    }

    /// Number of months from `other` to `self` (`self - other`).
    pub fn since(self, other: Month) -> i32 {
        self.0 - other.0
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        self.day(1)
    }

    /// The reference day (Stichtag): the 15th.
    pub fn reference_day(self) -> NaiveDate {
        self.day(15)
    }

    fn day(self, day: u32) -> NaiveDate {
        // Cannot fail: year and month come from a valid index and days 1 and 15 exist in
        // every month.
        NaiveDate::from_ymd_opt(self.year(), self.month(), day).unwrap_or(NaiveDate::MIN)
    }

    /// The first day as `Date32` (days since 1970-01-01).
    pub fn to_date32(self) -> i32 {
        date_to_date32(self.first_day())
    }

    /// Every month from `self` to `last`, both included (empty when `last < self`).
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.0..=last.0).map(Month)
    }
}

/// Converts a date to `Date32` (days since 1970-01-01).
pub fn date_to_date32(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_CE_DAYS
}

/// Converts `Date32` (days since 1970-01-01) to a date, if it is in chrono's range.
pub fn date32_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_CE_DAYS)?)
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl FromStr for Month {
    type Err = MonthParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MonthParseError(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = y.parse().map_err(|_| err())?;
        let month: u32 = m.parse().map_err(|_| err())?;
        Month::new(year, month).ok_or_else(err)
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let m: Month = "2017-06".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2017, 6));
        assert_eq!(m.to_string(), "2017-06");
        for bad in [
            "2017-6",
            "2017-13",
            "2017-00",
            "17-06",
            "2017/06",
            "",
            "2017-06-01",
            "+017-06",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn arithmetic_crosses_years() {
        let m = Month::new(2017, 1).unwrap();
        assert_eq!(m.plus(-1).to_string(), "2016-12");
        assert_eq!(m.plus(23).to_string(), "2018-12");
        assert_eq!(Month::new(2018, 12).unwrap().since(m), 23);
        assert_eq!(m.through(m.plus(2)).count(), 3);
    }

    #[test]
    fn date32_round_trip() {
        let m = Month::new(2015, 1).unwrap();
        assert_eq!(m.to_date32(), 16436); // 2015-01-01 is day 16436 after 1970-01-01
        assert_eq!(Month::of_date32(16436 + 30), Some(m));
        assert_eq!(date32_to_date(0), NaiveDate::from_ymd_opt(1970, 1, 1));
    }
}
