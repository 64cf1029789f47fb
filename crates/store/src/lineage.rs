//! Successions between unit versions (the 2025 reform map): import, and reading which units
//! came before and after a unit.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use danvan_domain::lineage::{Link, MapRow, Succession};
use danvan_domain::units::{Unit, UnitLevel};

use crate::audit::{write_audit, Actor, NewEvent};
use crate::units::{to_units, UnitRow, UNIT_COLUMNS};
use crate::WritePool;
use crate::{with_pool, ImportSummary, Result, Store, StoreError};

/// A unit on the other side of a succession, with how and when.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedUnit {
    pub unit: Unit,
    /// The relation as stored for communes; `None` for a province or district, whose links are
    /// derived from those of its communes.
    pub relation: Option<Succession>,
    pub effective_on: NaiveDate,
}

/// The units a unit came from and went into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitLineage {
    pub predecessors: Vec<LinkedUnit>,
    pub successors: Vec<LinkedUnit>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    old_unit_id: i64,
    new_unit_id: i64,
    relation: String,
    effective_on: NaiveDate,
}

impl TryFrom<LinkRow> for Link {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> Result<Link> {
        Ok(Link {
            old_unit_id: r.old_unit_id,
            new_unit_id: r.new_unit_id,
            relation: Succession::parse(&r.relation)
                .ok_or_else(|| StoreError::Corrupt(format!("succession relation {:?}", r.relation)))?,
            effective_on: r.effective_on,
        })
    }
}

const LINK_COLUMNS: &str = "old_unit_id, new_unit_id, relation, effective_on";

/// The province code of every unit (by id), walking up the stored hierarchy.
fn province_codes(units: &HashMap<i64, Unit>) -> HashMap<i64, String> {
    let mut out = HashMap::new();
    for u in units.values() {
        let mut cur = Some(u);
        let mut steps = 0;
        while let Some(c) = cur {
            if c.level == UnitLevel::Province {
                out.insert(u.id, c.code.clone());
                break;
            }
            steps += 1;
            cur = c.parent_id.and_then(|p| units.get(&p)).filter(|_| steps < 8);
        }
    }
    out
}

impl Store {
    /// Stores the successions of a reform map taking effect on `effective_on`, in one
    /// transaction: each old code is the commune version that ends before that day, each new
    /// code the one that starts on it. With a province code, only the rows whose old or new
    /// commune lies in that province are taken. Importing the same map again changes nothing.
    /// Any row that does not resolve refuses the whole file, each named by its line.
    pub async fn import_successions(
        &self,
        actor: &Actor,
        rows: &[MapRow],
        effective_on: NaiveDate,
        province: Option<&str>,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ImportSummary> {
        let all: Vec<UnitRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM units")).fetch_all(pool).await?
        });
        let units: HashMap<i64, Unit> = to_units(all)?.into_iter().map(|u| (u.id, u)).collect();
        let provinces = province_codes(&units);
        let mut old_by_code: HashMap<&str, &Unit> = HashMap::new();
        let mut new_by_code: HashMap<&str, &Unit> = HashMap::new();
        for u in units.values().filter(|u| u.level == UnitLevel::Commune) {
            if u.valid_to.is_some_and(|t| t < effective_on) {
                // Of several versions ending before the day, the latest.
                let slot = old_by_code.entry(&u.code).or_insert(u);
                if slot.valid_to < u.valid_to {
                    *slot = u;
                }
            }
            if u.valid_from == Some(effective_on) {
                new_by_code.insert(&u.code, u);
            }
        }
        let in_province = |u: Option<&&Unit>| match (province, u) {
            (None, _) => true,
            (Some(p), Some(u)) => provinces.get(&u.id).is_some_and(|c| c == p),
            (Some(_), None) => false,
        };
        let mut problems = Vec::new();
        let mut links: Vec<(Link, u64)> = Vec::new();
        for row in rows {
            let old = old_by_code.get(row.old_code.as_str());
            let new = new_by_code.get(row.new_code.as_str());
            if !(in_province(old) || in_province(new)) {
                continue;
            }
            let day = effective_on.format("%d/%m/%Y");
            match (old, new) {
                (Some(o), Some(n)) => links.push((
                    Link {
                        old_unit_id: o.id,
                        new_unit_id: n.id,
                        relation: row.relation,
                        effective_on,
                    },
                    row.line,
                )),
                (None, _) => problems.push(format!(
                    "dòng {}: không có xã mã \"{}\" hết hiệu lực trước ngày {day}; hãy nhập danh sách cũ trước",
                    row.line, row.old_code
                )),
                (_, None) => problems.push(format!(
                    "dòng {}: không có xã mã \"{}\" bắt đầu hiệu lực ngày {day}; hãy nhập danh sách mới trước",
                    row.line, row.new_code
                )),
            }
        }
        if !problems.is_empty() {
            let n = problems.len();
            problems.truncate(50);
            if n > 50 {
                problems.push(format!("… và {} dòng khác", n - 50));
            }
            return Err(StoreError::Invalid(problems.join("\n")));
        }
        if links.is_empty() {
            return Err(StoreError::Invalid(match province {
                Some(p) => format!("không có dòng nào về tỉnh mã \"{p}\""),
                None => "không có dòng nào".into(),
            }));
        }
        let mut summary = ImportSummary::default();
        let now = chrono::Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let existing: Vec<LinkRow> = sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM unit_successions"))
                .fetch_all(&mut *tx)
                .await?;
            let mut stored: HashMap<(i64, i64), Link> = HashMap::new();
            for r in existing {
                let l = Link::try_from(r)?;
                stored.insert((l.old_unit_id, l.new_unit_id), l);
            }
            let mut events = Vec::new();
            for (i, (link, _line)) in links.iter().enumerate() {
                let entity = format!("{}>{}", link.old_unit_id, link.new_unit_id);
                match stored.get(&(link.old_unit_id, link.new_unit_id)) {
                    Some(old) if old == link => summary.unchanged += 1,
                    Some(old) => {
                        sqlx::query(
                            "UPDATE unit_successions SET relation = $1, effective_on = $2 \
                             WHERE old_unit_id = $3 AND new_unit_id = $4",
                        )
                        .bind(link.relation.as_str())
                        .bind(link.effective_on)
                        .bind(link.old_unit_id)
                        .bind(link.new_unit_id)
                        .execute(&mut *tx)
                        .await?;
                        summary.updated += 1;
                        events.push(
                            NewEvent::new("update", "succession", entity)
                                .unit(Some(link.new_unit_id))
                                .before(old)
                                .after(link),
                        );
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO unit_successions (old_unit_id, new_unit_id, relation, effective_on) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(link.old_unit_id)
                        .bind(link.new_unit_id)
                        .bind(link.relation.as_str())
                        .bind(link.effective_on)
                        .execute(&mut *tx)
                        .await?;
                        summary.inserted += 1;
                        events.push(NewEvent::new("create", "succession", entity).unit(Some(link.new_unit_id)).after(link));
                    }
                }
                if i % 256 == 255 {
                    progress(i + 1);
                }
            }
            if !events.is_empty() {
                sqlx::query(crate::BUMP).bind(crate::UNITS_COUNTER).execute(&mut *tx).await?;
            }
            write_audit!(tx, actor, now, &events);
            tx.commit().await?;
        });
        progress(links.len());
        Ok(summary)
    }

    /// Every succession touching a set of units, on the old side (`old = true`) or the new.
    async fn links_of(&self, ids: &[i64], old: bool) -> Result<Vec<Link>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let side = if old { "old_unit_id" } else { "new_unit_id" };
        let rows: Vec<LinkRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM unit_successions WHERE {side} IN ({list}) \
                 ORDER BY old_unit_id, new_unit_id"
            ))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Link::try_from).collect()
    }

    /// Every stored succession.
    pub async fn successions(&self) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM unit_successions ORDER BY old_unit_id, new_unit_id"))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Link::try_from).collect()
    }

    /// The successions whose old unit lies in a subtree (the root included).
    pub async fn links_within(&self, root_id: i64) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE sub (id) AS ( \
                   SELECT id FROM units WHERE id = $1 \
                   UNION ALL SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id) \
                 SELECT {LINK_COLUMNS} FROM unit_successions WHERE old_unit_id IN (SELECT id FROM sub) \
                 ORDER BY old_unit_id, new_unit_id"
            ))
            .bind(root_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Link::try_from).collect()
    }

    /// The ids of the communes (and hamlets) in a subtree, the root included.
    async fn subtree_ids(&self, root_id: i64) -> Result<Vec<i64>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "WITH RECURSIVE sub (id) AS ( \
                   SELECT id FROM units WHERE id = $1 \
                   UNION ALL SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id) \
                 SELECT id FROM sub",
            )
            .bind(root_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The units a unit came from and went into. A commune's are its stored successions; a
    /// province's or district's are the units at its level (or the province, when the other
    /// hierarchy has no such level) that its communes' successions lead to.
    pub async fn unit_lineage(&self, unit: &Unit) -> Result<UnitLineage> {
        let direct = unit.level == UnitLevel::Commune;
        let ids = if direct { vec![unit.id] } else { self.subtree_ids(unit.id).await? };
        let mut out = UnitLineage::default();
        for we_are_old in [true, false] {
            // Links where our units are on the old side give successors, and the reverse.
            let links = self.links_of(&ids, we_are_old).await?;
            let other_of = |l: &Link| if we_are_old { l.new_unit_id } else { l.old_unit_id };
            let other: Vec<i64> = links.iter().map(other_of).collect();
            let mut others = self.units_by_ids(&other).await?;
            let mut found: Vec<LinkedUnit> = Vec::new();
            if direct {
                for l in &links {
                    if let Some(u) = others.get(&other_of(l)) {
                        found.push(LinkedUnit {
                            unit: u.clone(),
                            relation: Some(l.relation),
                            effective_on: l.effective_on,
                        });
                    }
                }
            } else {
                // Climb each other-side unit to this unit's level, or as high as its hierarchy goes.
                let mut seen = HashSet::new();
                for l in &links {
                    let mut cur = others.get(&other_of(l)).cloned();
                    while let Some(c) = cur.clone() {
                        if c.level <= unit.level || c.parent_id.is_none() {
                            break;
                        }
                        let parent = c.parent_id.unwrap_or_default();
                        if !others.contains_key(&parent) {
                            others.extend(self.units_by_ids(&[parent]).await?);
                        }
                        match others.get(&parent) {
                            Some(p) if p.level != UnitLevel::Country => cur = Some(p.clone()),
                            _ => break,
                        }
                    }
                    if let Some(c) = cur {
                        if seen.insert(c.id) {
                            found.push(LinkedUnit { unit: c, relation: None, effective_on: l.effective_on });
                        }
                    }
                }
            }
            danvan_domain::text::sort_vi_by(&mut found, |l| &l.unit.name);
            if we_are_old {
                out.successors = found;
            } else {
                out.predecessors = found;
            }
        }
        Ok(out)
    }

    /// Whether a unit is a former unit whose history went into a scope: a commune with a
    /// successor in the scope, or a larger unit all of whose communes' successors are in it.
    pub async fn is_predecessor_of(&self, unit_id: i64, scope_id: i64) -> Result<bool> {
        let (total, inside, direct): (i64, i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(
                "WITH RECURSIVE sub (id) AS ( \
                   SELECT id FROM units WHERE id = $1 \
                   UNION ALL SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id), \
                 scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope ON u.parent_id = scope.id) \
                 SELECT COUNT(*), \
                   COALESCE(SUM(CASE WHEN s.new_unit_id IN (SELECT id FROM scope) THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN s.old_unit_id = $1 AND s.new_unit_id IN (SELECT id FROM scope) THEN 1 ELSE 0 END), 0) \
                 FROM unit_successions s WHERE s.old_unit_id IN (SELECT id FROM sub)",
            )
            .bind(unit_id)
            .bind(scope_id)
            .fetch_one(pool)
            .await?
        });
        Ok(direct > 0 || (total > 0 && inside == total))
    }
}
