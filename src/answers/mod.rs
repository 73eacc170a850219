//! The answers people read, built from the engine's numbers: `values` (a breakdown over
//! months, JSON and CSV), `compare` (units ranked against funnel limits), `contrast`
//! (groups of a share indicator tested against each other; stratified in
//! `adjusted_contrast`), the adjusted mode of `compare` (`standardised`) and the whole
//! catalogue at once (`export`); the one question type every front end asks them by
//! (`question`); and every answer as a sheet (`sheet`) for spreadsheets
//! (`spreadsheet`: CSV for German Excel, XLSX).

pub mod adjusted_contrast;
pub mod compare;
pub mod contrast;
pub mod export;
pub mod question;
pub mod sheet;
pub mod spreadsheet;
pub mod standardised;
pub mod targets;
pub mod values;
