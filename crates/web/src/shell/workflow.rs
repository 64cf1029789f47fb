//! What the workflow areas (reviews, roadmaps) share: the body of a step, the outcome of a
//! save or a step, and the 422 answer of refused input.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use danvan_store::Review;
use serde::Deserialize;
use utoipa::ToSchema;

pub fn unprocessable(problems: Vec<String>) -> Response {
    let body = serde_json::json!({"status": 422, "error": problems.join("\n"), "problems": problems});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// A conflict for the API: a stale version, or a step the record's state does not allow.
pub fn conflicting(message: String) -> Response {
    let body = serde_json::json!({"status": 409, "error": message});
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// What a save or a transition came to (of a review, or of a roadmap).
pub enum Outcome<T = Review> {
    Done(T),
    /// Refused with these problems; nothing changed.
    Invalid(Vec<String>),
    /// Someone changed it in between; nothing changed. As it now is.
    Conflict(String, Option<T>),
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TransitionBody {
    /// Required to return or reopen.
    pub reason: Option<String>,
    /// The version the user saw, if they want the action refused when it changed since.
    pub version: Option<i64>,
}
