//! Today, as Vietnam counts it, and the days people type.

use chrono::Utc;

pub use danvan_domain::period::parse_day as parse_date;

/// Today in Vietnam (UTC+7), for deadlines.
pub fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&danvan_domain::period::VIETNAM).date_naive()
}

/// The day a moment falls on in Vietnam.
pub fn vn_day(t: chrono::DateTime<Utc>) -> chrono::NaiveDate {
    t.with_timezone(&danvan_domain::period::VIETNAM).date_naive()
}

/// This year, within the scheme's years (the plan a page opens on).
pub fn current_year(def: &danvan_domain::scheme::SchemeDef) -> i32 {
    use chrono::Datelike;
    today().year().clamp(def.first_year, def.last_year)
}
