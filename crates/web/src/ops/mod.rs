//! Running the server: the system page (database, files, backups, with a button to back up
//! now) and `/metrics` for Prometheus. Admins only.

pub mod backups;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use danvan_domain::access::Action;

pub use crate::shell::state::BackupSchedule;
pub use backups::{backup_folder, backup_now, make_backup, rotate, run_schedule};

use crate::shell::auth::Access;
use crate::shell::error::{InLang, PageError};
use crate::shell::{done_message, AppState, Layout, MessageQuery, PageCtx, Routes};

/// One backup as the system page lists it.
pub struct BackupRow {
    pub finished: String,
    pub ok: bool,
    pub location: String,
    pub size: String,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ops/system.html")]
pub struct SystemPage {
    layout: Layout,
    database: &'static str,
    schema_version: i64,
    files: &'static str,
    schedule: Option<String>,
    backups: Vec<BackupRow>,
    message: String,
    /// The reminders' outbox: counts, and the emails and webhook calls that failed.
    outbox: danvan_store::DeliveryCounts,
    troubled: Vec<TroubledRow>,
    email_on: bool,
}

/// An email or webhook call that failed, as the system page lists it.
pub struct TroubledRow {
    pub created: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub error: String,
    /// Tries so far, and whether it was given up.
    pub attempts: i64,
    pub given_up: bool,
}

fn megabytes(bytes: i64) -> String {
    danvan_domain::scheme::format_number(((bytes as f64) / 1e5).round() / 10.0) + " MB"
}

pub async fn system(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<MessageQuery>,
) -> Result<SystemPage, PageError> {
    let lang = ctx.lang;
    let recent = state.store.recent_backups(10).await.in_lang(lang)?;
    let backups = recent
        .into_iter()
        .map(|b| BackupRow {
            finished: (b.finished_at + chrono::Duration::hours(7)).format("%H:%M:%S %d/%m/%Y").to_string(),
            ok: b.ok,
            location: b.location,
            size: megabytes(b.bytes),
            message: b.message,
        })
        .collect();
    let s = &state.backups;
    let schedule = s.every.map(|every| {
        lang.t_args(
            "system-schedule",
            &[
                ("hours", danvan_domain::scheme::format_number(every.as_secs_f64() / 3600.0)),
                ("keep", s.keep.to_string()),
                ("dir", s.dir.display().to_string()),
            ],
        )
    });
    let troubled = state
        .store
        .troubled_deliveries(20)
        .await
        .in_lang(lang)?
        .into_iter()
        .map(|d| TroubledRow {
            created: (d.created_at + chrono::Duration::hours(7)).format("%H:%M %d/%m/%Y").to_string(),
            channel: d.channel,
            recipient: d.recipient,
            subject: d.subject,
            error: d.last_error.unwrap_or_default(),
            given_up: d.attempts > danvan_store::RETRY_AFTER_MINUTES.len() as i64,
            attempts: d.attempts.min(danvan_store::RETRY_AFTER_MINUTES.len() as i64 + 1),
        })
        .collect();
    Ok(SystemPage {
        outbox: state.store.delivery_counts().await.in_lang(lang)?,
        troubled,
        email_on: state.notify.smtp.is_some(),
        layout: Layout::new(&ctx, &lang.t("system-title"), "/admin/system"),
        database: match state.store.kind() {
            danvan_store::BackendKind::Sqlite => "SQLite",
            danvan_store::BackendKind::Postgres => "PostgreSQL",
        },
        schema_version: state.store.schema_version().await.in_lang(lang)?,
        files: state.files.setting(),
        schedule,
        backups,
        message: done_message(lang, "system", q.done.as_deref()),
    })
}

/// Starts a backup now, in the background (a large one outlasts a request), into the schedule's
/// folder or the data folder's `backups/`.
pub async fn start_backup(State(state): State<AppState>) -> Response {
    let (root, keep) = (state.backups.dir.clone(), state.backups.keep);
    if state.backup_running.try_lock().is_err() {
        return Redirect::to("/admin/system?done=backup-running").into_response();
    }
    tokio::spawn(async move {
        let _ = backup_now(&state, &root, keep).await;
    });
    Redirect::to("/admin/system?done=backup-started").into_response()
}

/// `/metrics` in Prometheus's text format: requests by route, the database pool, requests in
/// flight, the backups.
pub async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let mut out = String::with_capacity(4096);
    state.metrics.render_requests(&mut out);
    let (size, idle) = state.store.pool_stats();
    let _ = writeln!(out, "# HELP danvan_db_connections Database connections open, by state.");
    let _ = writeln!(out, "# TYPE danvan_db_connections gauge");
    let _ = writeln!(out, "danvan_db_connections{{state=\"idle\"}} {idle}");
    let _ = writeln!(out, "danvan_db_connections{{state=\"busy\"}} {}", (size as usize).saturating_sub(idle));
    match state.store.recent_backups(50).await {
        Ok(recent) => {
            let now = chrono::Utc::now();
            let last_ok = recent.iter().find(|b| b.ok);
            let _ = writeln!(
                out,
                "# HELP danvan_backup_age_seconds Time since the last good backup (absent: none yet)."
            );
            let _ = writeln!(out, "# TYPE danvan_backup_age_seconds gauge");
            if let Some(b) = last_ok {
                let _ =
                    writeln!(out, "danvan_backup_age_seconds {}", (now - b.finished_at).num_seconds().max(0));
            }
            let _ = writeln!(out, "# HELP danvan_backup_last_ok Whether the last backup succeeded.");
            let _ = writeln!(out, "# TYPE danvan_backup_last_ok gauge");
            if let Some(b) = recent.first() {
                let _ = writeln!(out, "danvan_backup_last_ok {}", u8::from(b.ok));
            }
            let failed = recent.iter().filter(|b| !b.ok).count();
            let _ = writeln!(out, "# HELP danvan_backups_failed_recent Failed backups among the last 50.");
            let _ = writeln!(out, "# TYPE danvan_backups_failed_recent gauge");
            let _ = writeln!(out, "danvan_backups_failed_recent {failed}");
        }
        Err(e) => tracing::warn!(error = %e, "backups could not be read for /metrics"),
    }
    match state.store.delivery_counts().await {
        Ok(c) => {
            let _ = writeln!(
                out,
                "# HELP danvan_notices_outbox Emails and webhook calls of reminders, by outcome (failed: given up)."
            );
            let _ = writeln!(out, "# TYPE danvan_notices_outbox gauge");
            let _ = writeln!(out, "danvan_notices_outbox{{state=\"sent\"}} {}", c.sent);
            let _ = writeln!(out, "danvan_notices_outbox{{state=\"pending\"}} {}", c.pending);
            let _ = writeln!(out, "danvan_notices_outbox{{state=\"failed\"}} {}", c.failed);
        }
        Err(e) => tracing::warn!(error = %e, "the outbox could not be counted for /metrics"),
    }
    let _ = writeln!(out, "# HELP danvan_database_ready Whether the database takes writes.");
    let _ = writeln!(out, "# TYPE danvan_database_ready gauge");
    let _ = writeln!(out, "danvan_database_ready {}", u8::from(state.store.ready().await.is_ok()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    r.get("/admin/system", Access::Own(Action::Operate), system)
        .post("/admin/system/backup", Access::Own(Action::Operate), start_backup)
        .get("/metrics", Access::Own(Action::Operate), metrics)
}
