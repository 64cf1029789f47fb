//! Lookups several areas share: a scheme by its code, a scheme's period, a unit's province.

use danvan_domain::period::Period;
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::StoredScheme;

use crate::shell::error::WebError;
use crate::shell::state::AppState;

/// A scheme by its code, or a clear 404.
pub async fn find_scheme(state: &AppState, code: &str) -> Result<danvan_store::StoredScheme, WebError> {
    state.store.scheme(code).await?.ok_or_else(|| WebError::NotFound(format!("không có đề án mã \"{code}\"")))
}

pub async fn scheme_and_period(
    state: &AppState,
    code: &str,
    period: &str,
) -> Result<(StoredScheme, Period), WebError> {
    let scheme = crate::shell::find_scheme(state, code).await?;
    use crate::shell::error::WebError;
    use danvan_domain::period::Period;
    let p = Period::parse(period, scheme.def.period).map_err(WebError::BadRequest)?;
    if p.year < scheme.def.first_year || p.year > scheme.def.last_year {
        return Err(WebError::BadRequest(format!(
            "kỳ {period} nằm ngoài thời gian đề án {}-{}",
            scheme.def.first_year, scheme.def.last_year
        )));
    }
    Ok((scheme, p))
}

/// The province a unit belongs to (itself for a province).
pub async fn province_of(state: &AppState, unit: &Unit) -> Result<Option<i64>, WebError> {
    Ok(state.store.lineage(unit.id).await?.into_iter().find(|u| u.level == UnitLevel::Province).map(|u| u.id))
}
