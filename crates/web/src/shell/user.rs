//! The user of a request, as the pages and the guard see it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use danvan_domain::access::{allowed, Action, Relation};
use danvan_store::{Actor, User};

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub credential: Credential,
    pub address: String,
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.username, Some(self.address.clone()))
    }
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session cookie; the hash of its id.
    Session(String),
    /// A personal API token.
    Token,
}

/// The signed-in user, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<MaybeUser>().cloned().unwrap_or(MaybeUser(None)))
    }
}

/// Whether the database holds generated sample data (the demo): every page then says so.
#[derive(Debug, Clone, Copy)]
pub struct SampleData(pub bool);

/// Whether a user may do an action on their own scope.
pub fn may_own(user: &User, action: Action) -> bool {
    allowed(user.role, Relation::Same, action)
}

/// Whether the signed-in user has an inbox at all (for the navigation).
pub fn has_inbox(user: &CurrentUser) -> bool {
    may_own(&user.user, Action::ReviewInbox)
}

/// The client's address: the socket peer (a reverse proxy should pass its own logs).
pub fn client_address(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
