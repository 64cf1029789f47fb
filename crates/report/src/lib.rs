//! Turns domain views into files (spreadsheets now; Word reports, CSV and SVG charts later),
//! and reads back the spreadsheets people fill offline. No IO beyond bytes in and bytes out.

pub mod charts;
pub mod docx;
pub mod matrix;
pub mod pdf;
pub mod plan_xlsx;
pub mod review_xlsx;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod timeline;
mod xlsx;

pub use review_xlsx::{read_review, review_template, FilledEntry, FilledReview, ReviewSheet, TemplateError};
