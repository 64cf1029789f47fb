//! What `danvan bench` needs from the store: a fresh PostgreSQL database of its own, and the
//! floor its dashboards are measured against — the same national roll-up as one hand-written
//! SQL query.

use sqlx::{Connection, Row};

use crate::{with_pool, Result, Store, StoreError};

/// Creates an empty database on the PostgreSQL server of `server_url`; returns its name and URL.
pub async fn create_postgres_database(server_url: &str) -> Result<(String, String)> {
    let name = format!("danvan_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(server_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
    let _ = conn.close().await;
    let mut url = url::Url::parse(server_url).map_err(|e| StoreError::Url(e.to_string()))?;
    url.set_path(&format!("/{name}"));
    Ok((name, url.to_string()))
}

/// Drops a database made by [`create_postgres_database`].
pub async fn drop_postgres_database(server_url: &str, name: &str) -> Result<()> {
    let mut conn = sqlx::PgConnection::connect(server_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(())
}

/// One line of the floor roll-up: a province in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorLine {
    pub period: String,
    pub province_id: i64,
    pub expected: i64,
    pub received: i64,
    pub on_time: i64,
    /// Communes meeting each target, in the scheme's order.
    pub met: Vec<i64>,
}

impl Store {
    /// Bumps a change counter of its own (the benchmark's): every conditional answer's tag
    /// changes, so the next request is computed again rather than served from what was kept.
    pub async fn bump_change_counter(&self, name: &str) -> Result<()> {
        crate::with_pool!(self, pool => { sqlx::query(crate::BUMP).bind(name).execute(pool).await?; });
        Ok(())
    }

    /// The national dashboard's roll-up as one hand-written query: per period up to `through`
    /// and per province, the communes expected (those existing on `on`), the approved reviews,
    /// those on time, and per target the communes meeting it. Assumes the three-level hierarchy
    /// (commune → district → province) of the benchmark's dataset.
    pub async fn floor_rollup(
        &self,
        scheme_id: i64,
        targets: usize,
        through: &str,
        on: chrono::NaiveDate,
    ) -> Result<Vec<FloorLine>> {
        let sums: String = (1..=targets)
            .map(|i| format!(", SUM(CASE WHEN substr(r.met, {i}, 1) = '1' THEN 1 ELSE 0 END)"))
            .collect();
        let sql = format!(
            "WITH expected AS ( \
               SELECT d.parent_id AS province, COUNT(*) AS n FROM units c JOIN units d ON d.id = c.parent_id \
               WHERE c.level = 'commune' AND (c.valid_from IS NULL OR c.valid_from <= $3) \
                 AND (c.valid_to IS NULL OR $3 <= c.valid_to) GROUP BY d.parent_id) \
             SELECT r.period, d.parent_id, MAX(e.n), COUNT(*), SUM(CASE WHEN r.late THEN 0 ELSE 1 END){sums} \
             FROM reviews r JOIN units c ON c.id = r.unit_id JOIN units d ON d.id = c.parent_id \
             JOIN expected e ON e.province = d.parent_id \
             WHERE r.scheme_id = $1 AND r.state = 'approved' AND r.period <= $2 \
             GROUP BY r.period, d.parent_id ORDER BY r.period, d.parent_id"
        );
        let lines: Vec<FloorLine> = with_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(scheme_id).bind(through).bind(on).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(FloorLine {
                        period: row.try_get(0)?,
                        province_id: row.try_get(1)?,
                        expected: row.try_get(2)?,
                        received: row.try_get(3)?,
                        on_time: row.try_get(4)?,
                        met: (0..targets).map(|i| row.try_get(5 + i)).collect::<std::result::Result<_, _>>()?,
                    })
                })
                .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(lines)
    }
}
