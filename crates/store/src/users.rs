//! Users, sessions, personal API tokens and failed logins.

use chrono::{DateTime, Utc};
use danvan_domain::access::{LoginFailures, Role};
use serde::Serialize;

use crate::audit::{write_audit, Actor, NewEvent};
use crate::WritePool;
use crate::{on_unique, with_pool, Result, Store, StoreError};

/// A user as the rest of the system sees it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The unit whose subtree the user works in; none for an admin (the whole country).
    pub scope_unit_id: Option<i64>,
    pub active: bool,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What an audit record keeps of a user.
#[derive(Serialize)]
struct UserSnapshot<'a> {
    username: &'a str,
    display_name: &'a str,
    role: &'a str,
    scope_unit_id: Option<i64>,
    active: bool,
}

impl User {
    fn snapshot(&self) -> UserSnapshot<'_> {
        UserSnapshot {
            username: &self.username,
            display_name: &self.display_name,
            role: self.role.as_str(),
            scope_unit_id: self.scope_unit_id,
            active: self.active,
        }
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    password_hash: String,
    role: String,
    scope_unit_id: Option<i64>,
    active: bool,
    last_login_at: Option<DateTime<Utc>>,
}

impl UserRow {
    fn into_user(self) -> Result<(User, String)> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| StoreError::Corrupt(format!("user {} has role {:?}", self.id, self.role)))?;
        Ok((
            User {
                id: self.id,
                username: self.username,
                display_name: self.display_name,
                role,
                scope_unit_id: self.scope_unit_id,
                active: self.active,
                last_login_at: self.last_login_at,
            },
            self.password_hash,
        ))
    }
}

const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, role, scope_unit_id, active, last_login_at";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub scope_unit_id: Option<i64>,
}

/// The editable fields of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    pub display_name: String,
    pub role: Role,
    pub scope_unit_id: Option<i64>,
    pub active: bool,
}

/// A personal API token (its secret is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn check_scope(role: Role, scope: Option<i64>) -> Result<()> {
    if role != Role::Admin && scope.is_none() {
        return Err(StoreError::Invalid(format!("vai trò {} cần một đơn vị phạm vi", role.label_vi())));
    }
    Ok(())
}

impl Store {
    /// Creates a user. A taken username is a conflict.
    pub async fn create_user(&self, actor: &Actor, new: &NewUser) -> Result<User> {
        check_scope(new.role, new.scope_unit_id)?;
        let now = Utc::now();
        let scope = if new.role == Role::Admin { None } else { new.scope_unit_id };
        let user = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, scope_unit_id, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(&new.password_hash)
            .bind(new.role.as_str())
            .bind(scope)
            .bind(true)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, || format!("tên đăng nhập \"{}\" đã có người dùng", new.username)))?;
            let user = User {
                id,
                username: new.username.clone(),
                display_name: new.display_name.clone(),
                role: new.role,
                scope_unit_id: scope,
                active: true,
                last_login_at: None,
            };
            let event = NewEvent::new("create", "user", id).unit(scope).after(&user.snapshot());
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            user
        });
        Ok(user)
    }

    /// Changes a user's name, role, scope or active flag. Disabling a user ends their sessions.
    pub async fn update_user(&self, actor: &Actor, id: i64, change: &UserChange) -> Result<User> {
        check_scope(change.role, change.scope_unit_id)?;
        let before =
            self.user(id).await?.ok_or_else(|| StoreError::NotFound(format!("không có người dùng #{id}")))?;
        let mut after = before.clone();
        after.display_name = change.display_name.clone();
        after.role = change.role;
        after.scope_unit_id = if change.role == Role::Admin { None } else { change.scope_unit_id };
        after.active = change.active;
        if after == before {
            return Ok(before);
        }
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE users SET display_name = $1, role = $2, scope_unit_id = $3, active = $4, updated_at = $5 WHERE id = $6",
            )
            .bind(&after.display_name)
            .bind(after.role.as_str())
            .bind(after.scope_unit_id)
            .bind(after.active)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if !after.active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            }
            let event = NewEvent::new("update", "user", id)
                .unit(after.scope_unit_id.or(before.scope_unit_id))
                .before(&before.snapshot())
                .after(&after.snapshot());
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(after)
    }

    /// Sets a new password hash and ends every session of the user.
    /// Sets a user's password: ends every session of the user and revokes every personal API
    /// token (a token must not outlive the password it was made under). Returns how many tokens
    /// were revoked.
    pub async fn set_password(&self, actor: &Actor, id: i64, password_hash: &str) -> Result<usize> {
        let user =
            self.user(id).await?.ok_or_else(|| StoreError::NotFound(format!("không có người dùng #{id}")))?;
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected() as usize;
            let mut event = NewEvent::new("password", "user", id).unit(user.scope_unit_id);
            if revoked > 0 {
                event.reason = Some(format!("thu hồi {revoked} mã truy cập API"));
            }
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            Ok(revoked)
        })
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(UserRow::into_user).transpose()?.map(|(u, _)| u))
    }

    /// A user and their password hash, by username (for signing in).
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        row.map(UserRow::into_user).transpose()
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        Ok(self.user_for_login(username).await?.map(|(u, _)| u))
    }

    /// Users, by username; with a scope, only those whose scope lies in its subtree.
    pub async fn users(
        &self,
        within: Option<i64>,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<User>, usize)> {
        let scope = "WITH RECURSIVE scope (id) AS ( \
               SELECT id FROM units WHERE id = $1 \
               UNION ALL SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id) ";
        let filter = "WHERE $1 IS NULL OR scope_unit_id IN (SELECT id FROM scope)";
        let (rows, total): (Vec<UserRow>, i64) = with_pool!(self, pool => {
            let rows = sqlx::query_as(&format!(
                "{scope} SELECT {USER_COLUMNS} FROM users {filter} ORDER BY username LIMIT $2 OFFSET $3"
            ))
            .bind(within)
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar(&format!("{scope} SELECT COUNT(*) FROM users {filter}"))
                .bind(within)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        let users = rows.into_iter().map(|r| r.into_user().map(|(u, _)| u)).collect::<Result<_>>()?;
        Ok((users, total as usize))
    }

    /// The users whose scope unit had ended by a day (a unit of a hierarchy that was
    /// reorganised), by username.
    pub async fn users_of_ended_units(&self, on: chrono::NaiveDate) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE scope_unit_id IN (SELECT id FROM units WHERE valid_to < $1) \
                 ORDER BY username"
            ))
            .bind(on)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(|r| r.into_user().map(|(u, _)| u)).collect()
    }

    pub async fn count_users(&self) -> Result<usize> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?
        });
        Ok(n as usize)
    }

    /// Opens a session after a successful login: records it, the login time, and the login.
    pub async fn start_session(
        &self,
        user: &User,
        token_hash: &str,
        address: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let actor = Actor::user(user.id, &user.username, Some(address.to_string()));
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, address) \
                 VALUES ($1, $2, $3, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(user.id)
            .bind(now)
            .bind(expires_at)
            .bind(address)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
                .bind(now)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            // The address is known for this user from now on (login throttling).
            sqlx::query(
                "INSERT INTO login_addresses (user_id, address, last_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at",
            )
            .bind(user.id)
            .bind(address)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let event = NewEvent::new("login", "user", user.id).unit(user.scope_unit_id);
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The user of a live session: active, not past its absolute expiry, and seen within
    /// `idle_since` (the oldest acceptable last activity).
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<(User, Session)>> {
        type Row = (i64, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_id, created_at, last_seen_at, expires_at FROM sessions \
                 WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
            )
            .bind(token_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(pool)
            .await?
        });
        let Some((user_id, created_at, last_seen_at, expires_at)) = row else { return Ok(None) };
        Ok(self
            .user(user_id)
            .await?
            .filter(|u| u.active)
            .map(|u| (u, Session { created_at, last_seen_at, expires_at })))
    }

    /// Marks a session as used now (bookkeeping for idle expiry; not an audited change).
    pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends a session (logout). Returns whether there was one.
    pub async fn end_session(&self, actor: &Actor, token_hash: &str) -> Result<bool> {
        let now = Utc::now();
        let ended = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let user_id: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(uid) = user_id {
                write_audit!(tx, actor, now, &[NewEvent::new("logout", "user", uid)]);
            }
            tx.commit().await?;
            user_id.is_some()
        });
        Ok(ended)
    }

    /// Removes sessions past their absolute expiry or idle since `idle_since` (housekeeping).
    pub async fn purge_sessions(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> Result<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(idle_since)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Forgets failed logins older than a time (housekeeping; the audit log keeps them).
    pub async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(before).execute(pool).await?.rows_affected()
        });
        Ok(n)
    }

    /// Records a failed login (for throttling) and audits it.
    pub async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let username: String = username.chars().take(64).collect();
        let actor = Actor { user_id: None, name: username.clone(), address: Some(address.to_string()) };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)")
                .bind(&username)
                .bind(address)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            write_audit!(tx, actor, now, &[NewEvent::new("login_failed", "login", &username)]);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Failed logins since a time: for this username from this address, for this username from
    /// anywhere, and from this address for any username.
    pub async fn login_failures_since(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<LoginFailures> {
        let (pair, by_user, by_address): (i64, i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND address = $2 AND at > $3), \
                        (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $3), \
                        (SELECT COUNT(*) FROM login_failures WHERE address = $2 AND at > $3)",
            )
            .bind(username)
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(LoginFailures { pair: pair as usize, username: by_user as usize, address: by_address as usize })
    }

    /// Whether the user of this username has signed in successfully from this address since a
    /// time.
    pub async fn signed_in_from(&self, username: &str, address: &str, since: DateTime<Utc>) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_addresses a JOIN users u ON u.id = a.user_id \
                 WHERE u.username = $1 AND a.address = $2 AND a.last_at > $3",
            )
            .bind(username)
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// Creates a personal API token for a user; returns its id.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user: &User,
        name: &str,
        token_hash: &str,
    ) -> Result<i64> {
        let now = Utc::now();
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(user.id)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let event = NewEvent::new("create", "api_token", id)
                .unit(user.scope_unit_id)
                .after(&serde_json::json!({"user_id": user.id, "name": name}));
            write_audit!(tx, actor, now, &[event]);
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        type Row = (i64, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, last_used_at, revoked_at)| ApiToken {
                id,
                name,
                created_at,
                last_used_at,
                revoked_at,
            })
            .collect())
    }

    /// Revokes one of a user's tokens. Returns whether a live token was revoked.
    pub async fn revoke_api_token(&self, actor: &Actor, user_id: i64, token_id: i64) -> Result<bool> {
        let now = Utc::now();
        let revoked = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(token_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 {
                write_audit!(tx, actor, now, &[NewEvent::new("revoke", "api_token", token_id)]);
            }
            tx.commit().await?;
            n > 0
        });
        Ok(revoked)
    }

    /// The active user owning a live token; notes the token's use.
    pub async fn user_by_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let user_id: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL RETURNING user_id",
            )
            .bind(now)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        match user_id {
            Some(id) => Ok(self.user(id).await?.filter(|u| u.active)),
            None => Ok(None),
        }
    }
}
