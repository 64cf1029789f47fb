//! The append-only audit log: who changed what, when, from what to what, and why. Every store
//! function that changes data writes its events in the same transaction as the change.

use chrono::{DateTime, Utc};
use danvan_domain::bloc::mask_phones_in_json;
use serde::Serialize;

use crate::{with_pool, Result, Store};

/// Who is acting: a signed-in user, or the command line / system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    /// The client's address, for web requests.
    pub address: Option<String>,
}

impl Actor {
    /// The command line or the system itself, named (e.g. "cli", "demo").
    pub fn system(name: &str) -> Self {
        Self { user_id: None, name: name.to_string(), address: None }
    }

    pub fn user(id: i64, username: &str, address: Option<String>) -> Self {
        Self { user_id: Some(id), name: username.to_string(), address }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub unit_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

impl NewEvent {
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl ToString) -> Self {
        Self {
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            unit_id: None,
            before: None,
            after: None,
            reason: None,
        }
    }

    pub fn unit(mut self, unit_id: Option<i64>) -> Self {
        self.unit_id = unit_id;
        self
    }

    /// The state before the change. Phone numbers are kept masked (the audit log outlives the
    /// need to call anyone, and more people read it than handle the records).
    pub fn before<T: Serialize>(mut self, v: &T) -> Self {
        self.before = serde_json::to_string(v).ok().map(|j| mask_phones_in_json(&j));
        self
    }

    /// The state after the change, phone numbers masked.
    pub fn after<T: Serialize>(mut self, v: &T) -> Self {
        self.after = serde_json::to_string(v).ok().map(|j| mask_phones_in_json(&j));
        self
    }
}

/// Writes audit events through an executor (a transaction), in batches. A macro so that the
/// same code compiles for each backend inside [`with_pool!`].
macro_rules! write_audit {
    ($exec:expr, $actor:expr, $at:expr, $events:expr) => {{
        let events: &[$crate::audit::NewEvent] = $events;
        for chunk in events.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO audit_events (at, actor_id, actor, action, entity_type, entity_id, unit_id, \
                 before_json, after_json, reason, address) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind($at)
                    .push_bind($actor.user_id)
                    .push_bind(&$actor.name)
                    .push_bind(e.action)
                    .push_bind(e.entity_type)
                    .push_bind(&e.entity_id)
                    .push_bind(e.unit_id)
                    .push_bind(&e.before)
                    .push_bind(&e.after)
                    .push_bind(&e.reason)
                    .push_bind(&$actor.address);
            });
            qb.build().execute(&mut *$exec).await?;
        }
    }};
}
pub(crate) use write_audit;

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub unit_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub reason: Option<String>,
    pub address: Option<String>,
}

/// Which events to list. Unit filters take the unit's whole subtree.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// List the oldest first (for exports) instead of the newest.
    pub oldest_first: bool,
}

/// One page of events, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub total: usize,
}

const AUDIT_COLUMNS: &str = "id, at, actor_id, actor, action, entity_type, entity_id, unit_id, before_json, \
                             after_json, reason, address";

impl AuditEvent {
    /// The event as it may be shown: phone numbers masked, also in events recorded before
    /// masking began.
    fn masked(mut self) -> Self {
        self.before_json = self.before_json.map(|j| mask_phones_in_json(&j));
        self.after_json = self.after_json.map(|j| mask_phones_in_json(&j));
        self
    }
}

impl Store {
    /// Events matching a filter, newest first.
    pub async fn audit_events(&self, f: &AuditFilter, limit: usize, offset: usize) -> Result<AuditPage> {
        // The unit filter covers the unit's subtree, found with a recursive query.
        let where_sql = "WHERE ($1 IS NULL OR actor_id = $1) \
             AND ($2 IS NULL OR unit_id IN (SELECT id FROM scope)) \
             AND ($3 IS NULL OR entity_type = $3) \
             AND ($4 IS NULL OR entity_id = $4) \
             AND ($5 IS NULL OR at >= $5) \
             AND ($6 IS NULL OR at <= $6)";
        let scope = "WITH RECURSIVE scope (id) AS ( \
               SELECT id FROM units WHERE id = $2 \
               UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) ";
        let order = if f.oldest_first { "at, id" } else { "at DESC, id DESC" };
        let (events, total): (Vec<AuditEvent>, i64) = with_pool!(self, pool => {
            let events = sqlx::query_as(&format!(
                "{scope} SELECT {AUDIT_COLUMNS} FROM audit_events {where_sql} ORDER BY {order} LIMIT $7 OFFSET $8"
            ))
            .bind(f.actor_id)
            .bind(f.unit_id)
            .bind(&f.entity_type)
            .bind(&f.entity_id)
            .bind(f.from)
            .bind(f.to)
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar(&format!("{scope} SELECT COUNT(*) FROM audit_events {where_sql}"))
                .bind(f.actor_id)
                .bind(f.unit_id)
                .bind(&f.entity_type)
                .bind(&f.entity_id)
                .bind(f.from)
                .bind(f.to)
                .fetch_one(pool)
                .await?;
            (events, total)
        });
        Ok(AuditPage { events: events.into_iter().map(AuditEvent::masked).collect(), total: total as usize })
    }

    /// The history of one entity, oldest first.
    pub async fn entity_history(&self, entity_type: &str, entity_id: &str) -> Result<Vec<AuditEvent>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE entity_type = $1 AND entity_id = $2 ORDER BY at, id"
            ))
            .bind(entity_type)
            .bind(entity_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(AuditEvent::masked).collect())
    }

    /// How many events the log holds (for tests and the admin view).
    pub async fn audit_count(&self) -> Result<usize> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(pool).await?
        });
        Ok(n as usize)
    }
}

impl Store {
    /// Whether generated sample data was ever loaded (the demo): its load is audited as "sample".
    pub async fn has_sample_data(&self) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'sample'").fetch_one(pool).await?
        });
        Ok(n > 0)
    }
}
