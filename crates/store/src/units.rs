//! Administrative units: import of official lists, lookups, the hierarchy, search.

use std::collections::HashMap;

use chrono::NaiveDate;
use danvan_domain::text;
use danvan_domain::units::{pick_version, short_name, Unit, UnitLevel, UnitList};

use crate::audit::{write_audit, Actor, NewEvent};
use crate::WritePool;
use crate::{with_pool, Result, Store, StoreError};

#[derive(sqlx::FromRow, serde::Serialize)]
pub(crate) struct UnitRow {
    id: i64,
    code: String,
    name: String,
    short_name: String,
    kind: String,
    level: String,
    parent_id: Option<i64>,
    lat: Option<f64>,
    lon: Option<f64>,
    area_km2: Option<f64>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;
    fn try_from(r: UnitRow) -> Result<Unit> {
        let level = UnitLevel::parse(&r.level)
            .ok_or_else(|| StoreError::Corrupt(format!("unit {} has level {:?}", r.id, r.level)))?;
        Ok(Unit {
            id: r.id,
            code: r.code,
            name: r.name,
            short_name: r.short_name,
            kind: r.kind,
            level,
            parent_id: r.parent_id,
            lat: r.lat,
            lon: r.lon,
            area_km2: r.area_km2,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        })
    }
}

pub(crate) fn to_units(rows: Vec<UnitRow>) -> Result<Vec<Unit>> {
    rows.into_iter().map(Unit::try_from).collect()
}

pub(crate) const UNIT_COLUMNS: &str =
    "id, code, name, short_name, kind, level, parent_id, lat, lon, area_km2, valid_from, valid_to";

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct UnitPage {
    pub units: Vec<Unit>,
    pub total: usize,
}

/// Sorts units as officials expect: by short name in Vietnamese alphabetical order.
fn sort_units(units: &mut [Unit]) {
    units.sort_by(|a, b| {
        text::compare_vi(&a.short_name, &b.short_name).then_with(|| text::compare_vi(&a.name, &b.name))
    });
}

impl Store {
    /// Imports an official list in one transaction: a unit already stored with the same code and
    /// the same start of validity is updated, others are inserted. Running the same import again
    /// changes nothing. `progress` is called with the number of units done so far.
    pub async fn import_units(
        &self,
        actor: &Actor,
        list: &UnitList,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ImportSummary> {
        let (valid_from, valid_to) = list.format.validity();
        let mut summary = ImportSummary::default();
        let mut events = Vec::new();
        let now = chrono::Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let existing: Vec<UnitRow> = sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units"))
                .fetch_all(&mut *tx)
                .await?;
            let mut stored: HashMap<String, UnitRow> = existing
                .into_iter()
                .filter(|u| u.valid_from == valid_from)
                .map(|u| (u.code.clone(), u))
                .collect();
            let mut ids: HashMap<&str, i64> = HashMap::new();
            // Provinces hang from the country (created by the migrations).
            let country: Option<i64> =
                sqlx::query_scalar("SELECT MIN(id) FROM units WHERE level = 'country'").fetch_one(&mut *tx).await?;
            for (i, rec) in list.units.iter().enumerate() {
                let parent_id = match &rec.parent_code {
                    None if rec.level == UnitLevel::Province => country,
                    None => None,
                    Some(code) => Some(*ids.get(code.as_str()).ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "dòng {}: đơn vị cấp trên mã \"{code}\" không có trong tệp",
                            rec.line
                        ))
                    })?),
                };
                let short = short_name(&rec.name, &rec.kind);
                let key = text::fold(&rec.name);
                let id = match stored.remove(&rec.code) {
                    Some(old) => {
                        let same = old.name == rec.name
                            && old.kind == rec.kind
                            && old.level == rec.level.as_str()
                            && old.parent_id == parent_id
                            && old.lat == rec.lat
                            && old.lon == rec.lon
                            && old.area_km2 == rec.area_km2
                            && old.valid_to == valid_to
                            && old.short_name == short;
                        if same {
                            summary.unchanged += 1;
                        } else {
                            sqlx::query(
                                "UPDATE units SET name = $1, short_name = $2, search_key = $3, kind = $4, \
                                 level = $5, parent_id = $6, lat = $7, lon = $8, area_km2 = $9, valid_to = $10 \
                                 WHERE id = $11",
                            )
                            .bind(&rec.name)
                            .bind(&short)
                            .bind(&key)
                            .bind(&rec.kind)
                            .bind(rec.level.as_str())
                            .bind(parent_id)
                            .bind(rec.lat)
                            .bind(rec.lon)
                            .bind(rec.area_km2)
                            .bind(valid_to)
                            .bind(old.id)
                            .execute(&mut *tx)
                            .await?;
                            summary.updated += 1;
                            let new = UnitRow {
                                name: rec.name.clone(),
                                short_name: short.clone(),
                                kind: rec.kind.clone(),
                                level: rec.level.as_str().to_string(),
                                parent_id,
                                lat: rec.lat,
                                lon: rec.lon,
                                area_km2: rec.area_km2,
                                valid_to,
                                code: old.code.clone(),
                                ..old
                            };
                            events.push(NewEvent::new("update", "unit", old.id).unit(Some(old.id)).before(&old).after(&new));
                        }
                        old.id
                    }
                    None => {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO units (code, name, short_name, search_key, kind, level, parent_id, \
                             lat, lon, area_km2, valid_from, valid_to) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                        )
                        .bind(&rec.code)
                        .bind(&rec.name)
                        .bind(&short)
                        .bind(&key)
                        .bind(&rec.kind)
                        .bind(rec.level.as_str())
                        .bind(parent_id)
                        .bind(rec.lat)
                        .bind(rec.lon)
                        .bind(rec.area_km2)
                        .bind(valid_from)
                        .bind(valid_to)
                        .fetch_one(&mut *tx)
                        .await?;
                        summary.inserted += 1;
                        let new = UnitRow {
                            id,
                            code: rec.code.clone(),
                            name: rec.name.clone(),
                            short_name: short.clone(),
                            kind: rec.kind.clone(),
                            level: rec.level.as_str().to_string(),
                            parent_id,
                            lat: rec.lat,
                            lon: rec.lon,
                            area_km2: rec.area_km2,
                            valid_from,
                            valid_to,
                        };
                        events.push(NewEvent::new("create", "unit", id).unit(Some(id)).after(&new));
                        id
                    }
                };
                ids.insert(rec.code.as_str(), id);
                if i % 256 == 255 {
                    progress(i + 1);
                }
            }
            sqlx::query(crate::BUMP).bind(crate::UNITS_COUNTER).execute(&mut *tx).await?;
            write_audit!(tx, actor, now, &events);
            tx.commit().await?;
        });
        progress(list.units.len());
        Ok(summary)
    }

    pub async fn unit(&self, id: i64) -> Result<Option<Unit>> {
        let row: Option<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Unit::try_from).transpose()
    }

    /// Every unit bearing a code, in any period.
    pub async fn units_with_code(&self, code: &str) -> Result<Vec<Unit>> {
        if !crate::plain_code(code) {
            return Ok(Vec::new());
        }
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units WHERE code = $1 ORDER BY id"))
                .bind(code)
                .fetch_all(pool)
                .await?
        });
        to_units(rows)
    }

    /// The unit bearing a code: the one valid on `on` when a date is given, otherwise the newest.
    pub async fn unit_by_code(&self, code: &str, on: Option<NaiveDate>) -> Result<Option<Unit>> {
        let units = self.units_with_code(code).await?;
        Ok(pick_version(&units, on).cloned())
    }

    /// Units by id.
    pub async fn units_by_ids(&self, ids: &[i64]) -> Result<HashMap<i64, Unit>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units WHERE id IN ({list})"))
                .fetch_all(pool)
                .await?
        });
        Ok(to_units(rows)?.into_iter().map(|u| (u.id, u)).collect())
    }

    /// The children of a unit in Vietnamese alphabetical order.
    pub async fn children(&self, id: i64) -> Result<Vec<Unit>> {
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units WHERE parent_id = $1"))
                .bind(id)
                .fetch_all(pool)
                .await?
        });
        let mut units = to_units(rows)?;
        sort_units(&mut units);
        Ok(units)
    }

    /// Every unit of a subtree (the root included) that exists on a day, in no particular order.
    pub async fn subtree(&self, root_id: i64, on: NaiveDate) -> Result<Vec<Unit>> {
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $1 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 SELECT {UNIT_COLUMNS} FROM units WHERE id IN (SELECT id FROM scope) \
                   AND (valid_from IS NULL OR valid_from <= $2) AND (valid_to IS NULL OR $2 <= valid_to)"
            ))
            .bind(root_id)
            .bind(on)
            .fetch_all(pool)
            .await?
        });
        to_units(rows)
    }

    /// Every unit that exists on a day, in no particular order.
    pub async fn units_on(&self, on: NaiveDate) -> Result<Vec<Unit>> {
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {UNIT_COLUMNS} FROM units \
                 WHERE (valid_from IS NULL OR valid_from <= $1) AND (valid_to IS NULL OR $1 <= valid_to)"
            ))
            .bind(on)
            .fetch_all(pool)
            .await?
        });
        to_units(rows)
    }

    /// The top units under the country (provinces), valid on a date when one is given, in
    /// Vietnamese alphabetical order.
    pub async fn roots(&self, on: Option<NaiveDate>) -> Result<Vec<Unit>> {
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {UNIT_COLUMNS} FROM units WHERE level <> 'country' AND (parent_id IS NULL \
                 OR parent_id IN (SELECT id FROM units WHERE level = 'country'))"
            ))
                .fetch_all(pool)
                .await?
        });
        let mut units: Vec<Unit> =
            to_units(rows)?.into_iter().filter(|u| on.is_none_or(|d| u.valid_on(d))).collect();
        sort_units(&mut units);
        Ok(units)
    }

    /// How many children each of the given units has.
    pub async fn child_counts(&self, ids: &[i64]) -> Result<HashMap<i64, i64>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows: Vec<(i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT parent_id, COUNT(*) FROM units WHERE parent_id IN ({list}) GROUP BY parent_id"
            ))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The unit's ancestors from the top down, the unit itself last.
    pub async fn lineage(&self, id: i64) -> Result<Vec<Unit>> {
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE up (id, depth) AS ( \
                   SELECT id, 0 FROM units WHERE id = $1 \
                   UNION ALL \
                   SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id \
                   WHERE u.parent_id IS NOT NULL) \
                 SELECT {} FROM units u JOIN up ON u.id = up.id ORDER BY up.depth DESC",
                UNIT_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
            ))
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        to_units(rows)
    }

    /// Whether `unit` is `ancestor` or lies in its subtree.
    pub async fn is_within(&self, unit: i64, ancestor: i64) -> Result<bool> {
        Ok(self.lineage(unit).await?.iter().any(|u| u.id == ancestor))
    }

    /// Units whose name (accent- and case-insensitively) or code contains the query. Provinces
    /// come first, then districts, communes, hamlets; each level in Vietnamese alphabetical order.
    pub async fn search_units(&self, query: &str, limit: usize, offset: usize) -> Result<UnitPage> {
        let folded = text::fold(query);
        if folded.is_empty() {
            return Ok(UnitPage { units: Vec::new(), total: 0 });
        }
        let escaped = folded.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let rows: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {UNIT_COLUMNS} FROM units \
                 WHERE search_key LIKE $1 ESCAPE '\\' OR code = $2"
            ))
            .bind(&pattern)
            .bind(query.trim())
            .fetch_all(pool)
            .await?
        });
        let mut units = to_units(rows)?;
        units.sort_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then_with(|| text::compare_vi(&a.short_name, &b.short_name))
                .then_with(|| b.valid_from.cmp(&a.valid_from))
        });
        let total = units.len();
        let units = units.into_iter().skip(offset).take(limit).collect();
        Ok(UnitPage { units, total })
    }

    /// How many units of a level exist (on a date, when one is given).
    pub async fn count_units(&self, level: UnitLevel, on: Option<NaiveDate>) -> Result<usize> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM units WHERE level = $1 \
                 AND ($2 IS NULL OR ((valid_from IS NULL OR valid_from <= $2) AND (valid_to IS NULL OR $2 <= valid_to)))",
            )
            .bind(level.as_str())
            .bind(on)
            .fetch_one(pool)
            .await?
        });
        Ok(n as usize)
    }
}
