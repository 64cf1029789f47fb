//! The page frame every page is drawn in, its context, paging, and small forms and queries
//! several areas share.

use chrono::NaiveDate;
use danvan_domain::units::Unit;
use serde::Deserialize;

use crate::shell::error::WebError;
use crate::shell::i18n::Lang;

/// The address of a unit's page: a unit no longer in force is addressed on its last day, so
/// that a code reused after the 2025 reform still leads to the right unit.
/// The address of a unit's page: a unit that does not exist today is named by a day it did.
pub fn unit_href(u: &Unit) -> String {
    format!("/units/{}{}", u.code, unit_query(u))
}

/// The query that names a unit in its pages' addresses: `?on=` a day it existed when it does
/// not exist today (its code may name another unit now), nothing otherwise.
pub fn unit_query(u: &Unit) -> String {
    if u.valid_on(crate::shell::today()) {
        return String::new();
    }
    danvan_domain::lineage::a_day_of(u).map(|day| format!("?on={day}")).unwrap_or_default()
}

// ---- unit browser --------------------------------------------------------------------------

pub const PAGE_SIZE: usize = 50;

pub struct Pager {
    pub label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(lang: Lang, base: &str, page: usize, total: usize, size: usize) -> Option<Self> {
        let pages = total.div_ceil(size).max(1);
        if pages <= 1 {
            return None;
        }
        let sep = if base.ends_with('?') {
            ""
        } else if base.contains('?') {
            "&"
        } else {
            "?"
        };
        let link = |p: usize| format!("{base}{sep}page={p}");
        Some(Self {
            label: lang.t_args("pager-page", &[("page", page.to_string()), ("pages", pages.to_string())]),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        })
    }
}

#[derive(Deserialize)]
pub struct OnQuery {
    pub on: Option<String>,
}

/// A date from `?on=`, as yyyy-mm-dd or dd/mm/yyyy.
pub fn parse_on(on: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    let Some(raw) = on.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| {
            WebError::BadRequest(format!("ngày \"{raw}\" không hợp lệ; dùng dạng 2019-06-30 hoặc 30/06/2019"))
        })
}

/// A day of an API query (`?on=2019-06-30`): only the form the document names, so that a client
/// built from it and the server agree; an empty value is refused like any other malformed one.
pub fn parse_api_day(on: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    let Some(raw) = on else { return Ok(None) };
    let b = raw.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    shaped
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
        .filter(|d| danvan_domain::period::day_in_range(*d))
        .map(Some)
        .ok_or_else(|| {
            WebError::BadRequest(format!("ngày \"{raw}\" không hợp lệ; dùng dạng 2019-06-30 (1900 đến 2100)"))
        })
}

#[derive(Deserialize)]
pub struct MessageQuery {
    /// What was just done: saved, submit, approve, return, reopen.
    pub done: Option<String>,
}

#[derive(Deserialize)]
pub struct DecideForm {
    pub intent: String,
    #[serde(default)]
    pub reason: String,
    pub version: Option<i64>,
}

/// The confirmation a page shows after `?done=…` (only simple keys are looked up).
pub fn done_message(lang: Lang, prefix: &str, done: Option<&str>) -> String {
    done.filter(|d| d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(|d| lang.t(&format!("{prefix}-done-{d}")))
        .unwrap_or_default()
}
