//! Notifications (issue 19): what a user is told, each claimed once by its key — user, item
//! (`review:12`), rule (`late`) and step (`late-37`) — whichever server or run makes it first.
//! The rules of when are in `danvan_domain::reminders`; this only keeps what they decided.

use chrono::{DateTime, Utc};

use crate::{with_pool, Result, Store};

/// A notification to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: i64,
    /// The rule: `due_soon`, `late`, `returned`, `approved`, `waiting`, `backup_failed`…
    pub kind: String,
    /// What it is about: `review:12`, `plan:5`, `activity:9`, `feedback:77`.
    pub item: String,
    /// The rule's step: `due-7`, `late-37`, `2026-W49`, `returned-4`.
    pub step: String,
    pub title: String,
    /// A second line: the reason of a return, a deadline.
    pub detail: String,
    /// Where it leads in the application.
    pub href: String,
}

/// A notification as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub item: String,
    pub step: String,
    pub title: String,
    pub detail: String,
    pub href: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    id: i64,
    kind: String,
    item: String,
    step: String,
    title: String,
    detail: String,
    href: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl Row {
    pub(crate) fn into_notification(self) -> Notification {
        Notification {
            id: self.id,
            kind: self.kind,
            item: self.item,
            step: self.step,
            title: self.title,
            detail: self.detail,
            href: self.href,
            created_at: self.created_at,
            read_at: self.read_at,
        }
    }
}

pub(crate) const COLUMNS: &str = "id, kind, item, step, title, detail, href, created_at, read_at";

impl Store {
    /// Makes a notification unless one with its key exists: true when this call made it.
    pub async fn notify(&self, n: &NewNotification, now: DateTime<Utc>) -> Result<bool> {
        let made = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO notifications (user_id, kind, item, step, title, detail, href, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, item, kind, step) DO NOTHING",
            )
            .bind(n.user_id)
            .bind(&n.kind)
            .bind(&n.item)
            .bind(&n.step)
            .bind(&n.title)
            .bind(&n.detail)
            .bind(&n.href)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(made == 1)
    }

    /// A user's notifications, newest first, a page at a time.
    pub async fn notifications_of(&self, user_id: i64, limit: i64, offset: i64) -> Result<Vec<Notification>> {
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM notifications \
                 WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(user_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Row::into_notification).collect())
    }

    /// How many notifications a user has in all (for paging).
    pub async fn count_notifications(&self, user_id: i64) -> Result<i64> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// One of a user's notifications (another user's is none).
    pub async fn notification_of(&self, user_id: i64, id: i64) -> Result<Option<Notification>> {
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE id = $1 AND user_id = $2"))
                .bind(id)
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Row::into_notification))
    }

    /// The keys (user, item, kind, step) of the notifications made since a moment: what a run of
    /// the reminders need not claim again.
    pub async fn notification_keys_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<std::collections::HashSet<(i64, String, String, String)>> {
        let rows: Vec<(i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT user_id, item, kind, step FROM notifications WHERE created_at >= $1")
                .bind(since)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// Whether a notification with this key was made already (for a dry run, and to skip the
    /// work of a weekly notice made this week).
    pub async fn notification_exists(
        &self,
        user_id: i64,
        item: &str,
        kind: &str,
        step: &str,
    ) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND item = $2 AND kind = $3 AND step = $4",
            )
            .bind(user_id)
            .bind(item)
            .bind(kind)
            .bind(step)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// How many of a user's notifications are unread.
    pub async fn unread_notifications(&self, user_id: i64) -> Result<i64> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                .bind(user_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// Marks one of a user's notifications read (another user's is left alone): whether it was
    /// theirs and unread.
    pub async fn mark_notification_read(&self, user_id: i64, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL")
                .bind(now)
                .bind(id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks all of a user's notifications read; answers how many were unread.
    pub async fn mark_all_notifications_read(&self, user_id: i64, now: DateTime<Utc>) -> Result<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
                .bind(now)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
