//! One question, whichever front end asks it: a `values`, `compare`, `contrast` or
//! `targets` question with its canonical key, asked of an engine. The API's handlers, the command
//! line and the kept answers all go through it, so a question means the same — and is
//! kept under the same key — however it was put.

use serde::Serialize;

use super::compare::{self, CompareRequest, Comparison};
use super::contrast::{self, Contrast, ContrastRequest};
use super::targets::{self, TargetsRequest, TargetsView};
use super::values::Values;
use crate::engine::{Engine, QuestionError, Request};

/// A question.
#[derive(Debug, Clone)]
pub enum Question {
    /// An indicator over months, broken down.
    Values(Request),
    /// Districts or jobcenters compared for one month.
    Compare(CompareRequest),
    /// Groups of a share indicator contrasted for one month.
    Contrast(ContrastRequest),
    /// One jobcenter's targets and where it stands.
    Targets(TargetsRequest),
}

/// The answer to a [`Question`], serialised as the answer itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// The `values` body.
    Values(Values),
    /// The `compare` body.
    Compare(Comparison),
    /// The `contrast` body.
    Contrast(Contrast),
    /// The `targets` body.
    Targets(TargetsView),
}

impl Question {
    /// The canonical key of the question (its kind, then the request's key: filters
    /// sorted, the scope as a set), for kept answers: equal for the same question put
    /// in another order.
    pub fn key(&self) -> String {
        match self {
            Question::Values(r) => format!("values|{}", r.key()),
            Question::Compare(r) => format!("compare|{}", r.key()),
            Question::Contrast(r) => format!("contrast|{}", r.key()),
            Question::Targets(r) => format!("targets|{}", r.key()),
        }
    }

    /// Asks `engine`.
    pub async fn ask(&self, engine: &Engine) -> Result<Answer, QuestionError> {
        Ok(match self {
            Question::Values(r) => Answer::Values(engine.compute(r).await?),
            Question::Compare(r) => Answer::Compare(compare::compare(engine, r).await?),
            Question::Contrast(r) => Answer::Contrast(contrast::contrast(engine, r).await?),
            Question::Targets(r) => Answer::Targets(targets::targets(engine, r).await?),
        })
    }
}

impl Answer {
    /// The body as CSV with a header line: the table of its sheet
    /// ([`super::sheet`]); `targets` its own lines.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        match self {
            Answer::Values(values) => values.to_csv(),
            Answer::Targets(view) => view.to_csv(),
            Answer::Compare(c) => super::spreadsheet::plain_csv(&super::sheet::compare_table(c)),
            Answer::Contrast(c) => super::spreadsheet::plain_csv(&super::sheet::contrast_table(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::month::Month;

    #[test]
    fn questions_of_different_kinds_never_share_a_key() {
        let month: Month = "2017-12".parse().expect("a month");
        let values = Question::Values(Request::new("K2", month, month));
        let request = CompareRequest {
            indicator: "K2".into(),
            month,
            across: "district_id".into(),
            filters: vec![
                ("sex".into(), "f".into()),
                ("jobcenter_id".into(), "J1".into()),
            ],
            min_count: 3,
            ..CompareRequest::new("K2", month, "district_id")
        };
        let mut reordered = request.clone();
        reordered.filters.reverse();
        let compare = Question::Compare(request);
        assert_ne!(values.key(), compare.key());
        assert!(compare.key().starts_with("compare|"));
        assert_eq!(compare.key(), Question::Compare(reordered).key());
    }
}
