//! Reminders going out (issue 19): each user's email settings, the outbox of emails and webhook
//! calls (each made once by its key, claimed by one server at a time, retried with backoff), the
//! server's own secrets, and the reads the reminder sweep makes.

use chrono::{DateTime, NaiveDate, Utc};
use danvan_domain::workflow::State;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::notifications::{Notification, Row as NotificationRow, COLUMNS as NOTIFICATION_COLUMNS};
use crate::WritePool;
use crate::{with_pool, Result, Store, StoreError};

/// How a user is told by email (issue 19, item 3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotifySettings {
    /// Empty: no email.
    pub email: String,
    /// `immediate`, `daily` (the default), `weekly` or `off`.
    pub delivery: String,
    /// Kinds sent at once whatever the delivery (`returned`, `feedback_overdue`).
    pub immediate_kinds: Vec<String>,
    /// Kinds unsubscribed from.
    pub muted_kinds: Vec<String>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            email: String::new(),
            delivery: "daily".into(),
            immediate_kinds: Vec::new(),
            muted_kinds: Vec::new(),
        }
    }
}

fn split_kinds(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect()
}

/// An email or a webhook call to send, once per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// `n:{notification}`, `digest:{user}:{time}`, `hook:{province}:{item}:{kind}:{step}`.
    pub key: String,
    /// `email` or `webhook`.
    pub channel: String,
    pub user_id: Option<i64>,
    /// An email address, or the webhook's address.
    pub recipient: String,
    pub subject: String,
    /// The plain text of an email, or a webhook's JSON.
    pub body: String,
    /// An email's HTML (empty for a webhook).
    pub html: String,
    /// An email about one kind of notice: its one-click unsubscribe link (RFC 8058).
    pub unsubscribe: String,
}

/// A delivery as kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub key: String,
    pub channel: String,
    pub user_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub html: String,
    pub unsubscribe: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

const DELIVERY_COLUMNS: &str =
    "id, key, channel, user_id, recipient, subject, body, html, unsubscribe, attempts, next_at, sent_at, last_error, created_at";

/// Deliveries by outcome, for the system page and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub sent: i64,
    /// Waiting for their first try or a retry.
    pub pending: i64,
    /// Given up after the last try.
    pub failed: i64,
}

/// A review, roadmap or plan of a unit as the reminder sweep reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocState {
    /// `review`, `roadmap` or `plan`.
    pub doc: String,
    pub id: i64,
    pub unit_id: i64,
    /// A review's period, a plan's year, empty for a roadmap.
    pub key: String,
    pub state: State,
    pub version: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

type DocRow =
    (String, i64, i64, String, String, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>);

fn doc_state(r: DocRow) -> Result<DocState> {
    let (doc, id, unit_id, key, state, version, submitted_at, decided_at, reason) = r;
    let state =
        State::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("{doc} {id} has state {state:?}")))?;
    Ok(DocState { doc, id, unit_id, key, state, version, submitted_at, decided_at, reason })
}

/// The reviews, roadmaps and plans of a scheme (`$1`) that meet a condition, as one list. The
/// condition stands in each table's own WHERE, so that each is read by its indexes (a filter
/// around the union would read the whole scheme's documents first).
fn docs(condition: &str) -> String {
    format!(
        "SELECT 'review', id, unit_id, period, state, version, submitted_at, decided_at, reason \
           FROM reviews WHERE scheme_id = $1 AND {condition} \
         UNION ALL SELECT 'roadmap', id, unit_id, '', state, version, submitted_at, decided_at, reason \
           FROM roadmaps WHERE scheme_id = $1 AND {condition} \
         UNION ALL SELECT 'plan', id, unit_id, CAST(year AS TEXT), state, version, submitted_at, decided_at, reason \
           FROM plans WHERE scheme_id = $1 AND {condition}"
    )
}

/// A retry waits this long after each failed try (then the delivery is given up).
pub const RETRY_AFTER_MINUTES: [i64; 6] = [1, 5, 30, 120, 720, 1440];

impl Store {
    /// A user's email settings (the defaults when never set).
    pub async fn notify_settings(&self, user_id: i64) -> Result<NotifySettings> {
        let row: Option<(String, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT email, delivery, immediate_kinds, muted_kinds FROM notify_settings WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row
            .map(|(email, delivery, immediate, muted)| NotifySettings {
                email,
                delivery,
                immediate_kinds: split_kinds(&immediate),
                muted_kinds: split_kinds(&muted),
            })
            .unwrap_or_default())
    }

    /// Sets a user's email settings, audited.
    pub async fn set_notify_settings(&self, actor: &Actor, user_id: i64, s: &NotifySettings) -> Result<()> {
        if !matches!(s.delivery.as_str(), "immediate" | "daily" | "weekly" | "off") {
            return Err(StoreError::Invalid(format!("cách nhận thư \"{}\" không có", s.delivery)));
        }
        let before = self.notify_settings(user_id).await?;
        if &before == s {
            return Ok(());
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO notify_settings (user_id, email, delivery, immediate_kinds, muted_kinds, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET email = $2, delivery = $3, \
                 immediate_kinds = $4, muted_kinds = $5, updated_at = $6",
            )
            .bind(user_id)
            .bind(&s.email)
            .bind(&s.delivery)
            .bind(s.immediate_kinds.join(","))
            .bind(s.muted_kinds.join(","))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let event = NewEvent::new("update", "notify_settings", user_id).before(&before).after(s);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The users who get email: an address set and a delivery other than off, with their
    /// settings.
    pub async fn email_recipients(&self) -> Result<Vec<(i64, NotifySettings)>> {
        let rows: Vec<(i64, String, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT n.user_id, n.email, n.delivery, n.immediate_kinds, n.muted_kinds FROM notify_settings n \
                 JOIN users u ON u.id = n.user_id WHERE u.active AND n.email <> '' AND n.delivery <> 'off' \
                 ORDER BY n.user_id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, email, delivery, immediate, muted)| {
                (
                    id,
                    NotifySettings {
                        email,
                        delivery,
                        immediate_kinds: split_kinds(&immediate),
                        muted_kinds: split_kinds(&muted),
                    },
                )
            })
            .collect())
    }

    /// A user's notifications made since `since` that have not gone out by email, oldest first.
    pub async fn notifications_not_emailed(
        &self,
        user_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<Notification>> {
        let rows: Vec<NotificationRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications \
                 WHERE user_id = $1 AND emailed_at IS NULL AND created_at >= $2 ORDER BY created_at, id"
            ))
            .bind(user_id)
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(NotificationRow::into_notification).collect())
    }

    /// Puts a delivery in the outbox unless one with its key is there, and marks the
    /// notifications it carries as emailed, in one transaction: true when this call made it.
    pub async fn queue_delivery(&self, d: &NewDelivery, carries: &[i64], now: DateTime<Utc>) -> Result<bool> {
        let made = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let made = sqlx::query(
                "INSERT INTO deliveries (key, channel, user_id, recipient, subject, body, html, unsubscribe, attempts, \
                 next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9) ON CONFLICT (key) DO NOTHING",
            )
            .bind(&d.key)
            .bind(&d.channel)
            .bind(d.user_id)
            .bind(&d.recipient)
            .bind(&d.subject)
            .bind(&d.body)
            .bind(&d.html)
            .bind(&d.unsubscribe)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            for id in carries {
                sqlx::query("UPDATE notifications SET emailed_at = $1 WHERE id = $2 AND emailed_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            made
        });
        Ok(made == 1)
    }

    /// Whether a delivery with this key is in the outbox (sent or not).
    pub async fn delivery_exists(&self, key: &str) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE key = $1").bind(key).fetch_one(pool).await?
        });
        Ok(n > 0)
    }

    /// Claims up to `limit` deliveries due by `now` for `hold` (no other server takes them
    /// meanwhile), oldest first.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        hold: chrono::Duration,
    ) -> Result<Vec<Delivery>> {
        let ids: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT id FROM deliveries WHERE sent_at IS NULL AND attempts < $1 AND next_at <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY next_at, id LIMIT $3",
            )
            .bind(RETRY_AFTER_MINUTES.len() as i64 + 1)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::new();
        for id in ids {
            let row: Option<Delivery> = with_pool!(self, pool => {
                sqlx::query_as(&format!(
                    "UPDATE deliveries SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL \
                     AND (claimed_until IS NULL OR claimed_until < $3) RETURNING {DELIVERY_COLUMNS}"
                ))
                .bind(now + hold)
                .bind(id)
                .bind(now)
                .fetch_optional(pool)
                .await?
            });
            out.extend(row);
        }
        Ok(out)
    }

    /// Records a delivery sent.
    pub async fn delivery_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE deliveries SET sent_at = $1, attempts = attempts + 1, claimed_until = NULL, last_error = NULL \
                 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a failed try: retried after the next wait of [`RETRY_AFTER_MINUTES`], or given
    /// up after the last. Answers whether it was given up.
    pub async fn delivery_failed(&self, id: i64, error: &str, now: DateTime<Utc>) -> Result<bool> {
        let attempts: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT attempts FROM deliveries WHERE id = $1").bind(id).fetch_one(pool).await?
        });
        let tried = attempts + 1;
        let wait = RETRY_AFTER_MINUTES.get(attempts as usize).copied();
        let next = now + chrono::Duration::minutes(wait.unwrap_or(0));
        // Given up: the attempts pass the last wait, and it is never claimed again.
        let attempts_after = if wait.is_some() { tried } else { RETRY_AFTER_MINUTES.len() as i64 + 1 };
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE deliveries SET attempts = $1, next_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $4",
            )
            .bind(attempts_after)
            .bind(next)
            .bind(error)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(wait.is_none())
    }

    /// Deliveries with an error (retrying or given up), newest first.
    pub async fn troubled_deliveries(&self, limit: i64) -> Result<Vec<Delivery>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE sent_at IS NULL AND last_error IS NOT NULL \
                 ORDER BY created_at DESC, id DESC LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Deliveries waiting to go (not sent, not given up), oldest first.
    pub async fn pending_deliveries(&self, limit: i64) -> Result<Vec<Delivery>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE sent_at IS NULL AND attempts <= $1 \
                 ORDER BY next_at, id LIMIT $2"
            ))
            .bind(RETRY_AFTER_MINUTES.len() as i64)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Deliveries by outcome.
    pub async fn delivery_counts(&self) -> Result<DeliveryCounts> {
        let (sent, pending, failed): (i64, i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT \
                   (SELECT COUNT(*) FROM deliveries WHERE sent_at IS NOT NULL), \
                   (SELECT COUNT(*) FROM deliveries WHERE sent_at IS NULL AND attempts <= $1), \
                   (SELECT COUNT(*) FROM deliveries WHERE sent_at IS NULL AND attempts > $1)",
            )
            .bind(RETRY_AFTER_MINUTES.len() as i64)
            .fetch_one(pool)
            .await?
        });
        Ok(DeliveryCounts { sent, pending, failed })
    }

    /// A secret of the server's own, made (random, 32 bytes in hex) the first time it is asked
    /// for and the same ever after, for every server on the database.
    pub async fn server_secret(&self, name: &str) -> Result<String> {
        let mut bytes = [0u8; 32];
        getrandom_fill(&mut bytes)?;
        let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let value: String = with_pool!(self, pool => {
            sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(&fresh)
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_one(pool).await?
        });
        Ok(value)
    }

    /// Every review, roadmap and plan of one unit under a scheme.
    pub async fn docs_of_unit(&self, scheme_id: i64, unit_id: i64) -> Result<Vec<DocState>> {
        let rows: Vec<DocRow> = with_pool!(self, pool => {
            sqlx::query_as(&docs("unit_id = $2"))
                .bind(scheme_id)
                .bind(unit_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(doc_state).collect()
    }

    /// The reviews, roadmaps and plans of a scheme returned or approved since a moment (what the
    /// reminders tell every minute).
    pub async fn decided_since(&self, scheme_id: i64, since: DateTime<Utc>) -> Result<Vec<DocState>> {
        let rows: Vec<DocRow> = with_pool!(self, pool => {
            sqlx::query_as(&docs("state IN ('returned', 'approved') AND decided_at >= $2"))
            .bind(scheme_id)
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(doc_state).collect()
    }

    /// The reviews, roadmaps and plans submitted by the units below a root (not the root's
    /// own) under a scheme, waiting for a decision.
    pub async fn submitted_below(&self, scheme_id: i64, root_unit_id: i64) -> Result<Vec<DocState>> {
        let rows: Vec<DocRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "WITH RECURSIVE scope (id) AS ( \
                   SELECT id FROM units WHERE id = $2 \
                   UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) \
                 {}",
                docs("state = 'submitted' AND unit_id <> $2 AND unit_id IN (SELECT id FROM scope)")
            ))
            .bind(scheme_id)
            .bind(root_unit_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(doc_state).collect()
    }

    /// A unit's citizens' feedback still open (received or assigned): id, code, last day.
    pub async fn open_feedback_of(&self, unit_id: i64) -> Result<Vec<(i64, String, NaiveDate)>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, code, due_on FROM feedback WHERE unit_id = $1 AND status IN ('received', 'assigned') \
                 ORDER BY due_on, id",
            )
            .bind(unit_id)
            .fetch_all(pool)
            .await?
        }))
    }
}

fn getrandom_fill(bytes: &mut [u8]) -> Result<()> {
    getrandom::fill(bytes).map_err(|e| StoreError::Invalid(format!("không lấy được số ngẫu nhiên: {e}")))
}

/// A period's entry reopened for a unit after its window closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopening {
    pub reason: String,
    pub reopened_at: DateTime<Utc>,
}

impl Store {
    /// Reopens a closed period's entry for one unit, with a reason, audited; reopened already is
    /// a conflict.
    pub async fn reopen_entry(
        &self,
        actor: &Actor,
        scheme_id: i64,
        unit_id: i64,
        period: &str,
        reason: &str,
    ) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid("cần ghi lý do mở lại nhập liệu".into()));
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO entry_reopenings (scheme_id, unit_id, period, reason, reopened_by, reopened_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(scheme_id)
            .bind(unit_id)
            .bind(period)
            .bind(reason)
            .bind(actor.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::on_unique(e, || format!("kỳ {period} đã được mở lại nhập liệu cho đơn vị này")))?;
            let event = NewEvent::new("reopen_entry", "review", format!("{scheme_id}:{unit_id}:{period}"))
                .unit(Some(unit_id))
                .after(&serde_json::json!({"scheme_id": scheme_id, "period": period}));
            let event = NewEvent { reason: Some(reason.to_string()), ..event };
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether (and why) a period's entry was reopened for a unit.
    pub async fn entry_reopening(
        &self,
        scheme_id: i64,
        unit_id: i64,
        period: &str,
    ) -> Result<Option<Reopening>> {
        let row: Option<(String, DateTime<Utc>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT reason, reopened_at FROM entry_reopenings WHERE scheme_id = $1 AND unit_id = $2 AND period = $3",
            )
            .bind(scheme_id)
            .bind(unit_id)
            .bind(period)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(reason, reopened_at)| Reopening { reason, reopened_at }))
    }
}
