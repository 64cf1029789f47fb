//! What every area of the web crate uses, and that uses no area. From the bottom up: languages,
//! dates and formats; the user of a request and the frame of a page; errors; the state, the
//! guard and the route builder; lookups, paging and forms several areas share; file keeping;
//! the audit history view.

pub mod auth;
pub mod cache;
pub mod conditional;
pub mod dates;
pub mod error;
pub mod files;
pub mod format;
pub mod frame;
pub mod history;
pub mod i18n;
pub mod lookup;
pub mod metrics;
pub mod page;
pub mod routes;
pub mod state;
pub mod user;
pub mod workflow;

pub use dates::{current_year, parse_date, today};
pub use frame::{Layout, PageCtx};
pub use lookup::{find_scheme, province_of, scheme_and_period};
pub use page::{
    done_message, parse_api_day, parse_on, unit_href, unit_query, DecideForm, MessageQuery, OnQuery, Pager,
    PAGE_SIZE,
};
pub use routes::{RouteInfo, Routes};
pub use state::AppState;
pub use workflow::{conflicting, unprocessable, Outcome, TransitionBody};
