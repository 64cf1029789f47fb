//! Backups made by the server: into a new folder named by the time, recorded in the database
//! (for the system page, the admin's warning and `/metrics`), the older good ones removed past
//! `backup_keep`, on a schedule, one at a time.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use danvan_store::{BackupRecord, BackupStep, FileStore, Manifest, Store, StoreError};

use crate::shell::state::BackupSchedule;
use crate::shell::AppState;

/// The prefix of every backup folder the server names.
const PREFIX: &str = "danvan-";

/// A new backup folder under `root`, named by the time in Vietnam (`danvan-20261203-070000`).
pub fn backup_folder(root: &Path, at: DateTime<Utc>) -> PathBuf {
    root.join(format!("{PREFIX}{}", (at + chrono::Duration::hours(7)).format("%Y%m%d-%H%M%S")))
}

/// Makes a backup and records its outcome, good or not.
pub async fn make_backup(
    store: &Store,
    files: &FileStore,
    dir: &Path,
    progress: &mut (dyn FnMut(BackupStep) + Send),
) -> Result<Manifest, StoreError> {
    let started_at = Utc::now();
    let made = store.backup_to(files, dir, progress).await;
    let record = BackupRecord {
        started_at,
        finished_at: Utc::now(),
        ok: made.is_ok(),
        location: dir.display().to_string(),
        bytes: made.as_ref().map(|m| m.bytes() as i64).unwrap_or(0),
        message: made.as_ref().err().map(|e| e.to_string()).unwrap_or_default(),
    };
    if let Err(e) = store.record_backup(&record).await {
        tracing::error!(error = %e, "a backup's outcome could not be recorded");
    }
    match &made {
        Ok(m) => {
            tracing::info!(dir = %dir.display(), bytes = m.bytes(), files = m.file_count(), "backup made and verified")
        }
        Err(e) => tracing::error!(dir = %dir.display(), error = %e, "backup failed"),
    }
    made
}

/// Removes the oldest good backups under `root` beyond `keep` (folders this server named, with
/// a manifest); answers the folders removed. Anything else in the folder is left alone.
pub fn rotate(root: &Path, keep: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut good: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX))
                && p.join(danvan_store::backup_manifest()).is_file()
        })
        .collect();
    good.sort();
    let excess = good.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for old in good.into_iter().take(excess) {
        match std::fs::remove_dir_all(&old) {
            Ok(()) => removed.push(old),
            Err(e) => tracing::warn!(dir = %old.display(), error = %e, "an old backup could not be removed"),
        }
    }
    removed
}

/// Runs one backup now, unless one is running (answers None then).
pub async fn backup_now(state: &AppState, root: &Path, keep: usize) -> Option<Result<Manifest, StoreError>> {
    let _running = state.backup_running.try_lock().ok()?;
    let dir = backup_folder(root, Utc::now());
    let made = make_backup(&state.store, &state.files, &dir, &mut |_| {}).await;
    if made.is_ok() {
        let removed = rotate(root, keep);
        if !removed.is_empty() {
            tracing::info!(removed = removed.len(), "old backups removed");
        }
    }
    Some(made)
}

/// Backs up every `every`, counted from the last good backup recorded (so that a restart does
/// not back up again at once, and a second server on the same database finds the work done),
/// until `stop` turns true; a backup running then is finished first.
pub async fn run_schedule(
    state: AppState,
    schedule: BackupSchedule,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let last_ok = state
            .store
            .recent_backups(20)
            .await
            .ok()
            .and_then(|b| b.into_iter().find(|b| b.ok).map(|b| b.finished_at));
        let Some(period) = schedule.every else { return };
        let every = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::days(1));
        let wait = match last_ok {
            Some(at) => (at + every - Utc::now()).to_std().unwrap_or_default(),
            // None yet: a minute after start (sooner on a shorter period).
            None => period.min(std::time::Duration::from_secs(60)),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.max(std::time::Duration::from_secs(1))) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        // One backup per period among all the servers on this database.
        let slot = Utc::now().timestamp() / (period.as_secs().max(1) as i64);
        match state.store.claim_backup_slot(slot, Utc::now()).await {
            Ok(true) => {}
            Ok(false) => {
                // Another server has this period's backup: wait for its record.
                tokio::select! {
                    _ = tokio::time::sleep(period.min(std::time::Duration::from_secs(60))) => {}
                    _ = stop.changed() => return,
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the backup's period could not be claimed; backing up anyway")
            }
        }
        // After a failure, the period is given back and tried again in a tenth of it (at least
        // a minute), by whichever server claims it then.
        if let Some(Err(_)) = backup_now(&state, &schedule.dir, schedule.keep).await {
            if let Err(e) = state.store.release_backup_slot(slot).await {
                tracing::warn!(error = %e, "the failed backup's period could not be given back");
            }
            let retry = (period / 10).max(std::time::Duration::from_secs(60));
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
