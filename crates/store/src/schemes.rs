//! Schemes, their task groups, targets and yearly coverage goals.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::scheme::{
    Accumulation, Criterion, Direction, PeriodType, SchemeDef, Source, Target, TargetKind, TaskGroup,
};
use danvan_domain::units::UnitLevel;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::WritePool;
use crate::{on_unique, with_pool, Result, Store, StoreError};

/// A scheme as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScheme {
    pub id: i64,
    pub root_unit_id: i64,
    pub def: SchemeDef,
    pub updated_at: DateTime<Utc>,
}

/// A scheme in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeSummary {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub issuing_body: String,
    pub first_year: i32,
    pub last_year: i32,
    pub sample: bool,
    pub root_unit_id: i64,
    /// The level that reviews under the scheme.
    pub applies_to: UnitLevel,
    pub target_count: i64,
}

/// What a scheme import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeImport {
    pub id: i64,
    pub created: bool,
}

#[derive(sqlx::FromRow)]
struct SchemeRow {
    id: i64,
    code: String,
    title: String,
    issuing_body: String,
    document_number: Option<String>,
    root_unit_id: i64,
    root_code: String,
    first_year: i64,
    last_year: i64,
    starts_on: Option<NaiveDate>,
    applies_to: String,
    period: String,
    report_deadline_days: i64,
    lock_after_days: Option<i64>,
    sample: bool,
    objectives: String,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    id: i64,
    group_code: String,
    code: String,
    name: String,
    description: Option<String>,
    kind: String,
    direction: String,
    accumulation: String,
    criterion: f64,
    grades: String,
    numerator_label: Option<String>,
    denominator_label: Option<String>,
    unit_label: Option<String>,
    evidence_required: bool,
    source: String,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Stores a scheme. A scheme with the same code is updated in place (task groups and targets
    /// matched by code; those no longer in the file are removed). The root unit must exist in the
    /// scheme's first year.
    pub async fn import_scheme(
        &self,
        actor: &Actor,
        def: &SchemeDef,
        source_text: &str,
    ) -> Result<SchemeImport> {
        let first_day = def.start_day();
        let root = self.unit_by_code(&def.root_unit, Some(first_day)).await?.ok_or_else(|| {
            StoreError::Invalid(format!(
                "scheme.root_unit: không có đơn vị mã \"{}\" vào ngày bắt đầu đề án {}; hãy nhập danh sách đơn vị trước (danvan units import)",
                def.root_unit,
                first_day.format("%d/%m/%Y")
            ))
        })?;
        if root.level >= def.applies_to {
            return Err(StoreError::Invalid(format!(
                "scheme.applies_to: đề án áp dụng cho cấp \"{}\" phải thấp hơn cấp của đơn vị gốc \"{}\" ({})",
                def.applies_to,
                root.name,
                root.level
            )));
        }
        let now = Utc::now();
        let objectives = json(&def.objectives)?;
        let before = self.scheme(&def.code).await?;
        let before = before.map(|s| s.def);
        let result = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM schemes WHERE code = $1")
                .bind(&def.code)
                .fetch_optional(&mut *tx)
                .await?;
            let created = existing.is_none();
            if let Some(id) = existing {
                // Checked inside the transaction, so no review can slip in before the change.
                let n: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM reviews WHERE scheme_id = $1) + (SELECT COUNT(*) FROM roadmaps WHERE scheme_id = $1) \
                     + (SELECT COUNT(*) FROM activities WHERE scheme_id = $1)",
                )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                if n > 0 {
                    return Err(StoreError::Conflict(format!(
                        "đề án \"{}\" đã có {n} bản rà soát, lộ trình hoặc hoạt động; không thể sửa bằng cách nhập lại tệp vì các chỉ tiêu đã được dùng. \
                         Hãy nhập thành một đề án với mã mới (ví dụ {}-v2).",
                        def.code, def.code
                    )));
                }
            }
            let id: i64 = match existing {
                Some(id) => {
                    sqlx::query(
                        "UPDATE schemes SET title = $1, issuing_body = $2, document_number = $3, root_unit_id = $4, \
                         first_year = $5, last_year = $6, applies_to = $7, period = $8, report_deadline_days = $9, \
                         sample = $10, objectives = $11, source_text = $12, updated_at = $13, starts_on = $15, \
                         lock_after_days = $16 WHERE id = $14",
                    )
                    .bind(&def.title)
                    .bind(&def.issuing_body)
                    .bind(&def.document_number)
                    .bind(root.id)
                    .bind(i64::from(def.first_year))
                    .bind(i64::from(def.last_year))
                    .bind(def.applies_to.as_str())
                    .bind(def.period.as_str())
                    .bind(i64::from(def.report_deadline_days))
                    .bind(def.sample)
                    .bind(&objectives)
                    .bind(source_text)
                    .bind(now)
                    .bind(id)
                    .bind(def.starts_on)
                    .bind(def.lock_after_days.map(i64::from))
                    .execute(&mut *tx)
                    .await?;
                    id
                }
                None => sqlx::query_scalar(
                    "INSERT INTO schemes (code, title, issuing_body, document_number, root_unit_id, first_year, \
                     last_year, applies_to, period, report_deadline_days, sample, objectives, source_text, \
                     created_at, updated_at, starts_on, lock_after_days) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16) RETURNING id",
                )
                .bind(&def.code)
                .bind(&def.title)
                .bind(&def.issuing_body)
                .bind(&def.document_number)
                .bind(root.id)
                .bind(i64::from(def.first_year))
                .bind(i64::from(def.last_year))
                .bind(def.applies_to.as_str())
                .bind(def.period.as_str())
                .bind(i64::from(def.report_deadline_days))
                .bind(def.sample)
                .bind(&objectives)
                .bind(source_text)
                .bind(now)
                .bind(def.starts_on)
                .bind(def.lock_after_days.map(i64::from))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| on_unique(e, || format!("đề án mã \"{}\" đã tồn tại", def.code)))?,
            };

            // Task groups, matched by code.
            let old_groups: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, code FROM task_groups WHERE scheme_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            let old_groups: HashMap<String, i64> = old_groups.into_iter().map(|(i, c)| (c, i)).collect();
            let mut group_ids = HashMap::new();
            for (pos, g) in def.groups.iter().enumerate() {
                let gid: i64 = match old_groups.get(&g.code) {
                    Some(&gid) => {
                        sqlx::query("UPDATE task_groups SET name = $1, position = $2 WHERE id = $3")
                            .bind(&g.name)
                            .bind(pos as i64)
                            .bind(gid)
                            .execute(&mut *tx)
                            .await?;
                        gid
                    }
                    None => sqlx::query_scalar(
                        "INSERT INTO task_groups (scheme_id, code, name, position) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(id)
                    .bind(&g.code)
                    .bind(&g.name)
                    .bind(pos as i64)
                    .fetch_one(&mut *tx)
                    .await?,
                };
                group_ids.insert(g.code.as_str(), gid);
            }

            // Targets, matched by code.
            let old_targets: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, code FROM targets WHERE scheme_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            let mut old_targets: HashMap<String, i64> = old_targets.into_iter().map(|(i, c)| (c, i)).collect();
            for (pos, t) in def.targets.iter().enumerate() {
                let gid = *group_ids.get(t.group.as_str()).ok_or_else(|| {
                    StoreError::Invalid(format!("chỉ tiêu {}: không có nhóm \"{}\"", t.code, t.group))
                })?;
                let grades = json(&t.grades)?;
                let tid: i64 = match old_targets.remove(&t.code) {
                    Some(tid) => {
                        sqlx::query(
                            "UPDATE targets SET group_id = $1, position = $2, name = $3, description = $4, kind = $5, \
                             direction = $6, accumulation = $7, criterion = $8, grades = $9, numerator_label = $10, \
                             denominator_label = $11, unit_label = $12, evidence_required = $13, source = $14 \
                             WHERE id = $15",
                        )
                        .bind(gid)
                        .bind(pos as i64)
                        .bind(&t.name)
                        .bind(&t.description)
                        .bind(t.kind.as_str())
                        .bind(t.direction.as_str())
                        .bind(t.accumulation.as_str())
                        .bind(t.criterion.to_number())
                        .bind(&grades)
                        .bind(&t.numerator_label)
                        .bind(&t.denominator_label)
                        .bind(&t.unit_label)
                        .bind(t.evidence_required)
                        .bind(t.source.as_string())
                        .bind(tid)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("DELETE FROM target_coverage WHERE target_id = $1")
                            .bind(tid)
                            .execute(&mut *tx)
                            .await?;
                        tid
                    }
                    None => sqlx::query_scalar(
                        "INSERT INTO targets (scheme_id, group_id, code, position, name, description, kind, direction, \
                         accumulation, criterion, grades, numerator_label, denominator_label, unit_label, \
                         evidence_required, source) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                    )
                    .bind(id)
                    .bind(gid)
                    .bind(&t.code)
                    .bind(pos as i64)
                    .bind(&t.name)
                    .bind(&t.description)
                    .bind(t.kind.as_str())
                    .bind(t.direction.as_str())
                    .bind(t.accumulation.as_str())
                    .bind(t.criterion.to_number())
                    .bind(&grades)
                    .bind(&t.numerator_label)
                    .bind(&t.denominator_label)
                    .bind(&t.unit_label)
                    .bind(t.evidence_required)
                    .bind(t.source.as_string())
                    .fetch_one(&mut *tx)
                    .await?,
                };
                for (year, percent) in &t.coverage {
                    sqlx::query("INSERT INTO target_coverage (target_id, year, percent) VALUES ($1, $2, $3)")
                        .bind(tid)
                        .bind(i64::from(*year))
                        .bind(*percent)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for (_, tid) in old_targets {
                sqlx::query("DELETE FROM targets WHERE id = $1").bind(tid).execute(&mut *tx).await?;
            }
            for (code, gid) in &old_groups {
                if !group_ids.contains_key(code.as_str()) {
                    sqlx::query("DELETE FROM task_groups WHERE id = $1").bind(gid).execute(&mut *tx).await?;
                }
            }
            let mut event = NewEvent::new(if created { "create" } else { "update" }, "scheme", id)
                .unit(Some(root.id))
                .after(def);
            if let Some(before) = &before {
                event = event.before(before);
            }
            write_audit!(tx, actor, now, &[event]);
            sqlx::query(crate::BUMP).bind(crate::SCHEMES_COUNTER).execute(&mut *tx).await?;
            tx.commit().await?;
            SchemeImport { id, created }
        });
        Ok(result)
    }

    /// Every scheme, newest first.
    pub async fn schemes(&self) -> Result<Vec<SchemeSummary>> {
        type Row = (i64, String, String, String, i64, i64, bool, i64, String, i64);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.id, s.code, s.title, s.issuing_body, s.first_year, s.last_year, s.sample, s.root_unit_id, s.applies_to, \
                 (SELECT COUNT(*) FROM targets t WHERE t.scheme_id = s.id) \
                 FROM schemes s ORDER BY s.last_year DESC, s.code",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(
                    id,
                    code,
                    title,
                    issuing_body,
                    first_year,
                    last_year,
                    sample,
                    root_unit_id,
                    applies_to,
                    target_count,
                )| {
                    Ok(SchemeSummary {
                        applies_to: UnitLevel::parse(&applies_to)
                            .ok_or_else(|| corrupt("level", &applies_to))?,
                        id,
                        code,
                        title,
                        issuing_body,
                        first_year: first_year as i32,
                        last_year: last_year as i32,
                        sample,
                        root_unit_id,
                        target_count,
                    })
                },
            )
            .collect()
    }

    /// The root unit of a scheme, by the scheme's code (one query, for checks on every request).
    pub async fn scheme_root_unit(&self, code: &str) -> Result<Option<i64>> {
        if !crate::plain_code(code) {
            return Ok(None);
        }
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT root_unit_id FROM schemes WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// A scheme by its id (see [`Store::scheme`]).
    pub async fn scheme_by_id(&self, id: i64) -> Result<Option<StoredScheme>> {
        let code: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT code FROM schemes WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        match code {
            Some(code) => self.scheme(&code).await,
            None => Ok(None),
        }
    }

    /// A scheme with its task groups, targets and coverage goals.
    pub async fn scheme(&self, code: &str) -> Result<Option<StoredScheme>> {
        if !crate::plain_code(code) {
            return Ok(None);
        }
        let (row, groups, targets, coverage) = with_pool!(self, pool => {
            let row: Option<SchemeRow> = sqlx::query_as(
                "SELECT s.id, s.code, s.title, s.issuing_body, s.document_number, s.root_unit_id, u.code AS root_code, \
                 s.first_year, s.last_year, s.starts_on, s.applies_to, s.period, s.report_deadline_days, s.lock_after_days, s.sample, s.objectives, \
                 s.updated_at FROM schemes s JOIN units u ON u.id = s.root_unit_id WHERE s.code = $1",
            )
            .bind(code)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let groups: Vec<(String, String)> =
                sqlx::query_as("SELECT code, name FROM task_groups WHERE scheme_id = $1 ORDER BY position")
                    .bind(row.id)
                    .fetch_all(pool)
                    .await?;
            let targets: Vec<TargetRow> = sqlx::query_as(
                "SELECT t.id, g.code AS group_code, t.code, t.name, t.description, t.kind, t.direction, t.accumulation, \
                 t.criterion, t.grades, t.numerator_label, t.denominator_label, t.unit_label, t.evidence_required, \
                 t.source FROM targets t JOIN task_groups g ON g.id = t.group_id \
                 WHERE t.scheme_id = $1 ORDER BY t.position",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?;
            let coverage: Vec<(i64, i64, f64)> = sqlx::query_as(
                "SELECT c.target_id, c.year, c.percent FROM target_coverage c \
                 JOIN targets t ON t.id = c.target_id WHERE t.scheme_id = $1",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?;
            (row, groups, targets, coverage)
        });
        let mut goals: HashMap<i64, BTreeMap<i32, f64>> = HashMap::new();
        for (tid, year, pct) in coverage {
            goals.entry(tid).or_default().insert(year as i32, pct);
        }
        let targets = targets
            .into_iter()
            .map(|t| {
                let kind = TargetKind::parse(&t.kind).ok_or_else(|| corrupt("target kind", &t.kind))?;
                Ok(Target {
                    coverage: goals.remove(&t.id).unwrap_or_default(),
                    code: t.code,
                    group: t.group_code,
                    name: t.name,
                    description: t.description,
                    kind,
                    direction: Direction::parse(&t.direction)
                        .ok_or_else(|| corrupt("direction", &t.direction))?,
                    accumulation: Accumulation::parse(&t.accumulation)
                        .ok_or_else(|| corrupt("accumulation", &t.accumulation))?,
                    criterion: Criterion::from_number(kind, t.criterion),
                    grades: serde_json::from_str(&t.grades).map_err(|_| corrupt("grades", &t.grades))?,
                    numerator_label: t.numerator_label,
                    denominator_label: t.denominator_label,
                    unit_label: t.unit_label,
                    evidence_required: t.evidence_required,
                    source: Source::parse(&t.source).ok_or_else(|| corrupt("source", &t.source))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let def = SchemeDef {
            code: row.code,
            title: row.title,
            issuing_body: row.issuing_body,
            document_number: row.document_number,
            root_unit: row.root_code,
            first_year: row.first_year as i32,
            last_year: row.last_year as i32,
            starts_on: row.starts_on,
            applies_to: UnitLevel::parse(&row.applies_to).ok_or_else(|| corrupt("level", &row.applies_to))?,
            period: PeriodType::parse(&row.period).ok_or_else(|| corrupt("period", &row.period))?,
            report_deadline_days: row.report_deadline_days as u32,
            lock_after_days: row.lock_after_days.map(|d| d as u32),
            sample: row.sample,
            objectives: serde_json::from_str(&row.objectives)
                .map_err(|_| corrupt("objectives", &row.objectives))?,
            groups: groups.into_iter().map(|(code, name)| TaskGroup { code, name }).collect(),
            targets,
        };
        Ok(Some(StoredScheme { id: row.id, root_unit_id: row.root_unit_id, def, updated_at: row.updated_at }))
    }
}
