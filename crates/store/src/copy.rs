//! Copying a whole database to another, of either kind: how a province moves from the embedded
//! SQLite file to PostgreSQL (`danvan copy`), and how a SQLite backup is restored into
//! PostgreSQL. Every table is copied with its ids, in the order its foreign keys need; the
//! target's identity sequences are set past the copied ids; the audit log is only inserted into,
//! so its append-only triggers (created by the target's migrations) stay in force. Afterwards
//! both sides are read again and each table's row count and checksum compared.
//!
//! Values are read by the column's type as PostgreSQL declares it when either side is
//! PostgreSQL (SQLite's declared types are looser), so both sides read alike.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::{Row, ValueRef};

use crate::{with_pool, Backend, Result, Store, StoreError};

/// The kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int2,
    Int4,
    Int8,
    Real,
    Text,
    Blob,
    Bool,
    Time,
    Date,
}

/// One value read from either database.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

impl Value {
    /// A form of the value that is the same whichever database it was read from (times to the
    /// microsecond, which is what PostgreSQL keeps), for the checksum.
    fn canonical(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Value::Null => write!(out, "N;"),
            Value::Int(n) => write!(out, "i{n};"),
            Value::Real(x) => write!(out, "r{:?};", x),
            Value::Text(s) => write!(out, "t{}:{s};", s.len()),
            Value::Blob(b) => {
                let _ = write!(out, "b{}:", b.len());
                for byte in b {
                    let _ = write!(out, "{byte:02x}");
                }
                write!(out, ";")
            }
            Value::Bool(b) => write!(out, "i{};", i64::from(*b)),
            Value::Time(t) => write!(out, "T{};", t.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
            Value::Date(d) => write!(out, "D{d};"),
        };
    }
}

/// A table as both sides hold it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
    /// Columns that refer to the same table (a unit's parent): copied as NULL first, then set
    /// once every row is in, so that no row waits for one with a larger id.
    self_refs: Vec<String>,
}

/// What was copied and checked, table by table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
    pub checksum: String,
}

/// Progress of a copy: the table, rows done, rows in it.
pub type CopyProgress<'a> = &'a mut (dyn FnMut(&str, u64, u64) + Send);

/// Rows sent per INSERT (fewer for wide tables: at most ~8,000 parameters per statement).
const BATCH: usize = 200;

impl Store {
    /// Whether the database holds data of its own: any user, audit event, scheme, or unit besides
    /// the country that the migrations create. A database without is "empty" for a copy or a
    /// restore.
    pub async fn holds_data(&self) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM audit_events) \
                 + (SELECT COUNT(*) FROM schemes) + (SELECT COUNT(*) FROM units WHERE level <> 'country')",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// The schema version: the last migration applied.
    pub async fn schema_version(&self) -> Result<i64> {
        let v: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await?
        });
        Ok(v.unwrap_or(0))
    }

    /// Copies every table of `self` into `to`, which must be migrated to the same version and
    /// hold no data of its own (what its migrations put there is replaced). Then compares both
    /// sides table by table; any difference is an error. Answers each table's rows and checksum.
    pub async fn copy_into(&self, to: &Store, progress: CopyProgress<'_>) -> Result<Vec<TableCopy>> {
        let (from_v, to_v) = (self.schema_version().await?, to.schema_version().await?);
        if from_v != to_v {
            return Err(StoreError::Invalid(format!(
                "hai cơ sở dữ liệu khác phiên bản cấu trúc ({from_v} và {to_v}); chạy danvan migrate cho cả hai trước"
            )));
        }
        if to.holds_data().await? {
            return Err(StoreError::Conflict(
                "cơ sở dữ liệu đích đã có dữ liệu (người dùng, đơn vị, đề án hoặc nhật ký); cần một cơ sở dữ liệu trống"
                    .into(),
            ));
        }
        let tables = tables_of(self, to).await?;
        // What the target's migrations seeded goes first, dependants before what they refer to.
        for t in tables.iter().rev() {
            with_pool!(to, pool => {
                sqlx::query(&format!("DELETE FROM {}", quote(&t.name))).execute(pool).await?;
            });
        }
        for t in &tables {
            copy_table(self, to, t, progress).await?;
        }
        if let Backend::Postgres(pool) = &to.backend {
            for t in tables.iter().filter(|t| t.columns.iter().any(|(c, _)| c == "id")) {
                let name = quote(&t.name);
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {name}"
                ))
                .execute(pool)
                .await?;
            }
        }
        let mut out = Vec::with_capacity(tables.len());
        for t in &tables {
            let (a, b) = (checksum(self, t).await?, checksum(to, t).await?);
            if a != b {
                return Err(StoreError::Corrupt(format!(
                    "bảng {}: nguồn {} dòng (tổng kiểm {}), đích {} dòng (tổng kiểm {})",
                    t.name, a.0, a.1, b.0, b.1
                )));
            }
            out.push(TableCopy { table: t.name.clone(), rows: a.0, checksum: a.1 });
        }
        Ok(out)
    }

    /// Each table's row count and checksum, in the order a copy takes them (for comparing two
    /// databases, e.g. a restore with its backup).
    pub async fn table_checksums(&self) -> Result<Vec<TableCopy>> {
        let tables = tables_of(self, self).await?;
        let mut out = Vec::with_capacity(tables.len());
        for t in &tables {
            let (rows, checksum) = checksum(self, t).await?;
            out.push(TableCopy { table: t.name.clone(), rows, checksum });
        }
        Ok(out)
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables both databases hold, with their columns' kinds, ordered so that every table comes
/// after the tables it refers to.
async fn tables_of(a: &Store, b: &Store) -> Result<Vec<Table>> {
    let (ta, tb) = (describe(a).await?, describe(b).await?);
    let names_a: BTreeSet<&String> = ta.0.keys().collect();
    let names_b: BTreeSet<&String> = tb.0.keys().collect();
    if names_a != names_b {
        let only: Vec<String> = names_a.symmetric_difference(&names_b).map(|s| s.to_string()).collect();
        return Err(StoreError::Invalid(format!(
            "hai cơ sở dữ liệu không cùng các bảng (khác nhau ở: {})",
            only.join(", ")
        )));
    }
    // PostgreSQL's types where one side is PostgreSQL; SQLite's otherwise.
    let ((columns, refs), other) =
        if matches!(a.backend, Backend::Postgres(_)) { (&ta, &tb.0) } else { (&tb, &ta.0) };
    let mut tables = Vec::new();
    for (name, cols) in columns {
        let mut mine: Vec<&String> = cols.iter().map(|(c, _)| c).collect();
        let mut theirs: Vec<&String> = other[name].iter().map(|(c, _)| c).collect();
        mine.sort();
        theirs.sort();
        if mine != theirs {
            return Err(StoreError::Invalid(format!("bảng {name}: hai cơ sở dữ liệu không cùng các cột")));
        }
        let self_refs =
            refs.get(name).map(|r| r.iter().filter(|(t, _)| t == name).map(|(_, c)| c.clone()).collect());
        tables.push(Table {
            name: name.clone(),
            columns: cols.clone(),
            self_refs: self_refs.unwrap_or_default(),
        });
    }
    // Topological order by foreign keys (self-references aside).
    let mut ordered: Vec<Table> = Vec::new();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while !tables.is_empty() {
        let ready = tables.iter().position(|t| {
            refs.get(&t.name)
                .map(|r| r.iter().all(|(to, _)| to == &t.name || placed.contains(to)))
                .unwrap_or(true)
        });
        let Some(i) = ready else {
            let left: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            return Err(StoreError::Invalid(format!("các bảng tham chiếu vòng tròn: {}", left.join(", "))));
        };
        let t = tables.remove(i);
        placed.insert(t.name.clone());
        ordered.push(t);
    }
    Ok(ordered)
}

type Columns = BTreeMap<String, Vec<(String, Kind)>>;
/// Per table, the (referred table, column) of each foreign key.
type Refs = BTreeMap<String, Vec<(String, String)>>;

/// The tables of a database (without the migrations' own), their columns and foreign keys.
async fn describe(store: &Store) -> Result<(Columns, Refs)> {
    let mut columns = Columns::new();
    let mut refs = Refs::new();
    match &store.backend {
        Backend::Sqlite(pool) => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(pool)
            .await?;
            for name in names {
                let cols: Vec<(String, String)> =
                    sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                        .bind(&name)
                        .fetch_all(pool)
                        .await?;
                let kinds = cols.into_iter().map(|(c, t)| (c, sqlite_kind(&t))).collect();
                columns.insert(name.clone(), kinds);
                let fks: Vec<(String, String)> =
                    sqlx::query_as("SELECT \"table\", \"from\" FROM pragma_foreign_key_list($1)")
                        .bind(&name)
                        .fetch_all(pool)
                        .await?;
                refs.insert(name, fks);
            }
        }
        Backend::Postgres(pool) => {
            let cols: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
                 FROM information_schema.columns c JOIN information_schema.tables t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                   AND c.table_name <> '_sqlx_migrations' \
                 ORDER BY c.table_name, c.ordinal_position",
            )
            .fetch_all(pool)
            .await?;
            for (table, column, ty) in cols {
                let kind = pg_kind(&ty).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "cột {table}.{column} có kiểu {ty} chưa được hỗ trợ khi sao chép"
                    ))
                })?;
                columns.entry(table).or_default().push((column, kind));
            }
            let fks: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT cl.relname::text, ref.relname::text, a.attname::text \
                 FROM pg_constraint co \
                 JOIN pg_class cl ON cl.oid = co.conrelid \
                 JOIN pg_class ref ON ref.oid = co.confrelid \
                 JOIN pg_namespace ns ON ns.oid = cl.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = ANY (co.conkey) \
                 WHERE co.contype = 'f' AND ns.nspname = current_schema()",
            )
            .fetch_all(pool)
            .await?;
            for (table, to, column) in fks {
                refs.entry(table).or_default().push((to, column));
            }
        }
    }
    Ok((columns, refs))
}

fn sqlite_kind(declared: &str) -> Kind {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Kind::Int8
    } else if t.contains("REAL") || t.contains("DOUB") || t.contains("FLOA") {
        Kind::Real
    } else if t.contains("BLOB") {
        Kind::Blob
    } else {
        Kind::Text
    }
}

fn pg_kind(data_type: &str) -> Option<Kind> {
    Some(match data_type {
        "smallint" => Kind::Int2,
        "integer" => Kind::Int4,
        "bigint" => Kind::Int8,
        "double precision" | "real" => Kind::Real,
        "text" | "character varying" | "character" => Kind::Text,
        "bytea" => Kind::Blob,
        "boolean" => Kind::Bool,
        "timestamp with time zone" => Kind::Time,
        "date" => Kind::Date,
        _ => return None,
    })
}

fn select_all(t: &Table) -> String {
    let cols: Vec<String> = t.columns.iter().map(|(c, _)| quote(c)).collect();
    format!("SELECT {} FROM {}", cols.join(", "), quote(&t.name))
}

fn read_sqlite(row: &sqlx::sqlite::SqliteRow, kinds: &[Kind]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        if row.try_get_raw(i)?.is_null() {
            out.push(Value::Null);
            continue;
        }
        // SQLite keeps whatever it was given; read it as the kind wanted, leniently.
        out.push(match kind {
            Kind::Int2 | Kind::Int4 | Kind::Int8 => Value::Int(row.try_get_unchecked(i)?),
            Kind::Real => Value::Real(row.try_get_unchecked(i)?),
            Kind::Text => Value::Text(row.try_get_unchecked(i)?),
            Kind::Blob => Value::Blob(row.try_get_unchecked(i)?),
            Kind::Bool => Value::Bool(row.try_get_unchecked::<i64, _>(i)? != 0),
            Kind::Time => Value::Time(row.try_get_unchecked(i)?),
            Kind::Date => Value::Date(row.try_get_unchecked(i)?),
        });
    }
    Ok(out)
}

fn read_pg(row: &sqlx::postgres::PgRow, kinds: &[Kind]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        if row.try_get_raw(i)?.is_null() {
            out.push(Value::Null);
            continue;
        }
        out.push(match kind {
            Kind::Int2 => Value::Int(row.try_get::<i16, _>(i)?.into()),
            Kind::Int4 => Value::Int(row.try_get::<i32, _>(i)?.into()),
            Kind::Int8 => Value::Int(row.try_get(i)?),
            Kind::Real => Value::Real(row.try_get(i)?),
            Kind::Text => Value::Text(row.try_get(i)?),
            Kind::Blob => Value::Blob(row.try_get(i)?),
            Kind::Bool => Value::Bool(row.try_get(i)?),
            Kind::Time => Value::Time(row.try_get(i)?),
            Kind::Date => Value::Date(row.try_get(i)?),
        });
    }
    Ok(out)
}

/// Binds a value to a query of either database.
macro_rules! bind_value {
    ($q:expr, $v:expr, $kind:expr) => {
        match $v {
            // A NULL of the column's own type: PostgreSQL casts no bigint to a date.
            Value::Null => match $kind {
                Kind::Int2 | Kind::Int4 | Kind::Int8 => $q.bind(None::<i64>),
                Kind::Real => $q.bind(None::<f64>),
                Kind::Text => $q.bind(None::<String>),
                Kind::Blob => $q.bind(None::<Vec<u8>>),
                Kind::Bool => $q.bind(None::<bool>),
                Kind::Time => $q.bind(None::<DateTime<Utc>>),
                Kind::Date => $q.bind(None::<NaiveDate>),
            },
            Value::Int(n) => $q.bind(*n),
            Value::Real(x) => $q.bind(*x),
            Value::Text(s) => $q.bind(s.clone()),
            Value::Blob(b) => $q.bind(b.clone()),
            Value::Bool(b) => $q.bind(*b),
            Value::Time(t) => $q.bind(*t),
            Value::Date(d) => $q.bind(*d),
        }
    };
}

/// Copies one table's rows in batches, then sets its self-references.
async fn copy_table(from: &Store, to: &Store, t: &Table, progress: CopyProgress<'_>) -> Result<()> {
    let kinds: Vec<Kind> = t.columns.iter().map(|(_, k)| *k).collect();
    let total: i64 = with_pool!(from, pool => {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quote(&t.name))).fetch_one(pool).await?
    });
    let total = total as u64;
    progress(&t.name, 0, total);
    let self_ref_at: Vec<usize> =
        t.columns.iter().enumerate().filter(|(_, (c, _))| t.self_refs.contains(c)).map(|(i, _)| i).collect();
    let per_batch = (8000 / t.columns.len().max(1)).clamp(1, BATCH);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_batch);
    let mut later: Vec<(Value, Vec<Value>)> = Vec::new();
    let mut done = 0u64;
    let sql = select_all(t);
    macro_rules! take {
        ($values:expr) => {{
            let mut values = $values;
            if !self_ref_at.is_empty() {
                let id = t.columns.iter().position(|(c, _)| c == "id").map(|i| values[i].clone());
                let Some(id) = id else {
                    return Err(StoreError::Invalid(format!(
                        "bảng {} tự tham chiếu mà không có cột id",
                        t.name
                    )));
                };
                let refs: Vec<Value> =
                    self_ref_at.iter().map(|&i| std::mem::replace(&mut values[i], Value::Null)).collect();
                if refs.iter().any(|v| *v != Value::Null) {
                    later.push((id, refs));
                }
            }
            batch.push(values);
            if batch.len() == per_batch {
                insert_rows(to, t, &batch).await?;
                done += batch.len() as u64;
                batch.clear();
                progress(&t.name, done, total);
            }
        }};
    }
    match &from.backend {
        Backend::Sqlite(pool) => {
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                take!(read_sqlite(&row, &kinds)?);
            }
        }
        Backend::Postgres(pool) => {
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                take!(read_pg(&row, &kinds)?);
            }
        }
    }
    if !batch.is_empty() {
        insert_rows(to, t, &batch).await?;
        done += batch.len() as u64;
    }
    let sets: Vec<String> =
        t.self_refs.iter().enumerate().map(|(i, c)| format!("{} = ${}", quote(c), i + 1)).collect();
    let update =
        format!("UPDATE {} SET {} WHERE id = ${}", quote(&t.name), sets.join(", "), t.self_refs.len() + 1);
    let ref_kinds: Vec<Kind> = self_ref_at.iter().map(|&i| kinds[i]).collect();
    for (id, refs) in &later {
        with_pool!(to, pool => {
            let mut q = sqlx::query(&update);
            for (v, k) in refs.iter().zip(&ref_kinds) {
                q = bind_value!(q, v, k);
            }
            q = bind_value!(q, id, Kind::Int8);
            q.execute(pool).await?;
        });
    }
    progress(&t.name, done, total);
    Ok(())
}

async fn insert_rows(to: &Store, t: &Table, rows: &[Vec<Value>]) -> Result<()> {
    let cols: Vec<String> = t.columns.iter().map(|(c, _)| quote(c)).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", quote(&t.name), cols.join(", "));
    let mut n = 0;
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..row.len() {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    with_pool!(to, pool => {
        let mut q = sqlx::query(&sql);
        for row in rows {
            for (v, (_, k)) in row.iter().zip(&t.columns) {
                q = bind_value!(q, v, k);
            }
        }
        q.execute(pool).await?;
    });
    Ok(())
}

/// A table's row count and the SHA-256 of its rows in canonical form, sorted (so that neither
/// database's order nor collation matters).
async fn checksum(store: &Store, t: &Table) -> Result<(u64, String)> {
    let kinds: Vec<Kind> = t.columns.iter().map(|(_, k)| *k).collect();
    let sql = select_all(t);
    let mut lines: Vec<[u8; 32]> = Vec::new();
    let digest = |values: Vec<Value>| {
        use sha2::Digest;
        let mut s = String::new();
        for v in &values {
            v.canonical(&mut s);
        }
        let d: [u8; 32] = sha2::Sha256::digest(s.as_bytes()).into();
        d
    };
    match &store.backend {
        Backend::Sqlite(pool) => {
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                lines.push(digest(read_sqlite(&row, &kinds)?));
            }
        }
        Backend::Postgres(pool) => {
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                lines.push(digest(read_pg(&row, &kinds)?));
            }
        }
    }
    lines.sort_unstable();
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for l in &lines {
        h.update(l);
    }
    let sum: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok((lines.len() as u64, sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_tell_values_apart_and_times_to_the_microsecond() {
        let mut a = String::new();
        Value::Text("1".into()).canonical(&mut a);
        let mut b = String::new();
        Value::Int(1).canonical(&mut b);
        assert_ne!(a, b);
        let t = DateTime::parse_from_rfc3339("2025-07-01T01:02:03.123456789Z").unwrap().with_timezone(&Utc);
        let mut c = String::new();
        Value::Time(t).canonical(&mut c);
        assert_eq!(c, "T2025-07-01T01:02:03.123456Z;");
        let mut d = String::new();
        Value::Bool(true).canonical(&mut d);
        assert_eq!(d, "i1;");
        assert_eq!(sqlite_kind("INTEGER"), Kind::Int8);
        assert_eq!(pg_kind("timestamp with time zone"), Some(Kind::Time));
        assert_eq!(pg_kind("jsonb"), None);
    }
}
