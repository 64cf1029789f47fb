//! Fresh databases for tests: a temporary SQLite file always, and a PostgreSQL database created
//! for the test and dropped after it whenever `DANVAN_TEST_PG` names a server.

use std::future::Future;

use sqlx::Connection;

use crate::Store;

/// Whether a missing prerequisite (PostgreSQL, a browser) fails the test instead of skipping.
/// Set in CI (`DANVAN_TEST_STRICT=1`, or `CI=true`).
pub fn strict() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("DANVAN_TEST_STRICT") || set("CI")
}

/// The PostgreSQL server for tests, from `DANVAN_TEST_PG`; in strict mode its absence panics.
pub fn pg_server() -> Option<String> {
    match std::env::var("DANVAN_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if strict() => {
            panic!("DANVAN_TEST_PG is not set, and strict mode forbids skipping the PostgreSQL suite")
        }
        _ => {
            eprintln!("note: DANVAN_TEST_PG is not set; the PostgreSQL half of this test is skipped");
            None
        }
    }
}

/// A PostgreSQL database made for one test, dropped by [`TestDb::drop_db`].
pub struct TestDb {
    server: String,
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create(server: &str) -> TestDb {
        let name = format!(
            "danvan_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ) + &format!("_{}", nanos());
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at DANVAN_TEST_PG: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = with_database(server, &name);
        TestDb { server: server.to_string(), name, url }
    }

    pub async fn drop_db(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.server).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

/// The server URL with its database replaced.
fn with_database(server: &str, db: &str) -> String {
    match url::Url::parse(server) {
        Ok(mut u) => {
            u.set_path(&format!("/{db}"));
            u.to_string()
        }
        Err(_) => format!("{}/{db}", server.trim_end_matches('/')),
    }
}

/// Runs a test body on a fresh SQLite store, then on a fresh PostgreSQL store when a server is
/// configured. The PostgreSQL database is dropped even when the body fails.
pub async fn on_each_backend<F, Fut>(body: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile_dir();
    let path = dir.join("test.db");
    let sqlite = Store::open(path.to_str().expect("utf-8 temp path")).await.expect("open sqlite");
    let outcome = tokio::spawn(body(sqlite.clone())).await;
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    if let Some(server) = pg_server() {
        let db = TestDb::create(&server).await;
        let pg = Store::open(&db.url).await.expect("open postgres");
        let outcome = tokio::spawn(body(pg.clone())).await;
        pg.close().await;
        db.drop_db().await;
        if let Err(e) = outcome {
            eprintln!("(the failure above is on PostgreSQL)");
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// A fresh empty folder under the system temporary folder.
pub fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "danvan-test-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        nanos()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Runs a statement directly (for tests of what the database itself enforces).
pub async fn execute(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    crate::with_pool!(store, pool => {
        sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected())
    })
}
