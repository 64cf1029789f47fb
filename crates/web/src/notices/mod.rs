//! Reminders and notifications (issue 19): the sweep that decides who is told what, the run
//! that claims it (once per user, item, rule and step, whichever server makes it first) and
//! sends it out by email and to the provinces' webhooks, the schedule inside `serve`, and the
//! notification centre (`/thong-bao`) with each user's email settings and the one-click
//! unsubscribe.

pub mod pages;
pub mod send;
pub mod sweep;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use danvan_domain::units::{Unit, UnitLevel};
use danvan_store::{Delivery, NewDelivery};

pub use sweep::Planned;

use crate::shell::error::WebError;
use crate::shell::{AppState, Routes};

/// Notifications made this long ago are read at the start of a run; older ones cannot be
/// planned again (the late window is 90 days; a waiting step grows every week).
const KEYS_REACH_DAYS: i64 = 120;

/// What one run did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Report {
    /// Notifications made now (dry: that would be made).
    pub made: Vec<Planned>,
    /// Emails and webhook calls put in the outbox (dry: none).
    pub queued: Vec<NewDelivery>,
    /// Dry: what waits in the outbox to go.
    pub waiting: Vec<Delivery>,
    pub sent: usize,
    pub failed: usize,
}

/// How much of the sweep a run makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Everything: deadlines, decisions, waits, feedback, backups.
    All,
    /// Only what is told at once: decisions (a return) and failed backups. Deadlines change by
    /// the day; `serve` sweeps them once an hour and decisions every minute.
    Decisions,
}

/// One run at `now`: the sweep's notifications claimed, the webhook calls of the new ones and
/// the emails due put in the outbox, then the outbox sent. A dry run writes and sends nothing
/// and says what it would make and send.
pub async fn run_once(
    state: &AppState,
    now: DateTime<Utc>,
    reach: Reach,
    dry_run: bool,
) -> Result<Report, WebError> {
    let planned = sweep::sweep(state, now, state.notify.waiting_days, reach == Reach::All).await?;
    let mut report = Report::default();
    let mut provinces: HashMap<i64, Option<(String, Unit)>> = HashMap::new();
    // What was claimed already is read at once, not asked for one by one: a whole sweep of
    // the country plans tens of thousands of notices, nearly all of them made before.
    let made_before =
        state.store.notification_keys_since(now - chrono::Duration::days(KEYS_REACH_DAYS)).await?;
    for p in planned {
        let n = &p.note;
        if made_before.contains(&(n.user_id, n.item.clone(), n.kind.clone(), n.step.clone())) {
            continue;
        }
        let made = if dry_run {
            !state.store.notification_exists(n.user_id, &n.item, &n.kind, &n.step).await?
        } else {
            state.store.notify(n, now).await?
        };
        if !made {
            continue;
        }
        if let Some(unit_id) = p.unit_id.filter(|_| !state.notify.webhooks.is_empty()) {
            if let std::collections::hash_map::Entry::Vacant(e) = provinces.entry(unit_id) {
                e.insert(province_and_unit(state, unit_id).await?);
            }
            if let Some(Some((province, unit))) = provinces.get(&unit_id) {
                if let Some(hook) = state.notify.webhooks.get(province) {
                    let d = send::webhook_delivery(
                        province,
                        &hook.url,
                        &state.notify.base_url,
                        n,
                        Some(unit),
                        now,
                    )?;
                    // A dry run says what would go; a run, what it queued (not what another had).
                    if dry_run || state.store.queue_delivery(&d, &[], now).await? {
                        report.queued.push(d);
                    }
                }
            }
        }
        report.made.push(p);
    }
    if state.notify.smtp.is_some() {
        let secret = state.store.server_secret("unsubscribe").await?;
        for (user_id, settings) in state.store.email_recipients().await? {
            let pending = state.store.notifications_not_emailed(user_id, send::digest_reach(now)).await?;
            if pending.is_empty() {
                continue;
            }
            for (d, carries) in
                send::emails_due(&state.notify.base_url, &secret, user_id, &settings, &pending, now)
            {
                if dry_run {
                    if !state.store.delivery_exists(&d.key).await? {
                        report.queued.push(d);
                    }
                } else if state.store.queue_delivery(&d, &carries, now).await? {
                    report.queued.push(d);
                }
            }
        }
    }
    if dry_run {
        report.waiting = state.store.pending_deliveries(500).await?;
        return Ok(report);
    }
    // Sent in batches, each claimed for long enough that no other server takes it meanwhile.
    let mut troubled = std::collections::HashSet::new();
    loop {
        let batch = state.store.claim_deliveries(now, 50, chrono::Duration::minutes(5)).await?;
        if batch.is_empty() {
            break;
        }
        for d in batch {
            // A server in trouble is not tried again in this run: its deliveries stay claimed
            // for a while and go in a later run.
            if troubled.contains(&send::server_of(&d)) {
                continue;
            }
            match send::send(state, &d).await {
                Ok(()) => {
                    state.store.delivery_sent(d.id, Utc::now()).await?;
                    report.sent += 1;
                }
                Err(send::Failure { message: error, server_trouble }) => {
                    if server_trouble {
                        troubled.insert(send::server_of(&d));
                    }
                    let given_up = state.store.delivery_failed(d.id, &error, now).await?;
                    report.failed += 1;
                    if given_up {
                        tracing::error!(key = %d.key, to = %d.recipient, %error, "a notice could not be sent; given up");
                    } else {
                        tracing::warn!(key = %d.key, to = %d.recipient, %error, "a notice could not be sent; retried later");
                    }
                }
            }
        }
    }
    Ok(report)
}

/// The code of a unit's province (the unit itself for a province) and the unit.
async fn province_and_unit(state: &AppState, unit_id: i64) -> Result<Option<(String, Unit)>, WebError> {
    let lineage = state.store.lineage(unit_id).await?;
    let province = lineage.iter().find(|u| u.level == UnitLevel::Province).map(|u| u.code.clone());
    Ok(province.zip(lineage.into_iter().find(|u| u.id == unit_id)))
}

/// The reminders inside `serve`: every `notify.every` (a minute), decisions told and the outbox
/// sent; the whole sweep once an hour (and at start). A run in progress finishes before a
/// graceful stop ends the task.
pub async fn run_schedule(state: AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(state.notify.every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_full: Option<DateTime<Utc>> = None;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopped.changed() => return,
        }
        let now = Utc::now();
        let full = last_full.is_none_or(|at| {
            now - at >= chrono::Duration::hours(1)
                || crate::shell::dates::vn_day(at) != crate::shell::dates::vn_day(now)
        });
        let reach = if full { Reach::All } else { Reach::Decisions };
        match run_once(&state, now, reach, false).await {
            Ok(r) => {
                if full {
                    last_full = Some(now);
                }
                if !r.made.is_empty() || r.sent > 0 || r.failed > 0 {
                    tracing::info!(
                        made = r.made.len(),
                        queued = r.queued.len(),
                        sent = r.sent,
                        failed = r.failed,
                        "reminders"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "the reminders could not run"),
        }
    }
}

/// The routes of this area, each with its access rule.
pub fn routes(r: Routes) -> Routes {
    use crate::shell::auth::Access;
    r.get("/thong-bao", Access::SignedIn, pages::centre)
        .post("/thong-bao/da-doc", Access::SignedIn, pages::read_all)
        .get("/thong-bao/cai-dat", Access::SignedIn, pages::settings)
        .post("/thong-bao/cai-dat", Access::SignedIn, pages::save_settings)
        .get("/thong-bao/huy", Access::Public, pages::unsubscribe_page)
        .post("/thong-bao/huy", Access::Public, pages::unsubscribe)
        .get("/thong-bao/{id}", Access::SignedIn, pages::open)
        .post("/thong-bao/{id}/da-doc", Access::SignedIn, pages::read_one)
}
