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
/// The body of a workflow step; it may be left out altogether (submit, approve, revise).
pub struct TransitionBody {
    /// Required to return or reopen (422 without it); ignored otherwise.
    pub reason: Option<String>,
    /// The version the user saw, if they want the action refused when it changed since.
    #[serde(default, deserialize_with = "whole_version_opt")]
    pub version: Option<i64>,
}

/// A workflow step's body, which may be left out: no body, or JSON `null`, is an empty one.
pub fn transition_body(body: &[u8]) -> Result<TransitionBody, crate::shell::error::WebError> {
    use crate::shell::error::WebError;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(TransitionBody::default());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| WebError::BadRequest(format!("nội dung JSON không hợp lệ: {e}")))?;
    // An object or null, as the document says; serde would also take `[reason, version]`.
    if !(value.is_object() || value.is_null()) {
        return Err(WebError::BadRequest("nội dung phải là một đối tượng JSON hoặc null".into()));
    }
    // Well-formed JSON of the right shape whose values are refused (a version of 2.5, a reason
    // that is a number): 422, as for any body refused.
    let body: Option<TransitionBody> = serde_json::from_value(value)
        .map_err(|e| WebError::Unprocessable(format!("nội dung không đúng mẫu: {e}")))?;
    Ok(body.unwrap_or_default())
}

/// A version number as JSON may carry it: 628, or 628.0 (JSON Schema counts both as integers);
/// 628.5 is refused.
pub fn whole_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Ok(i),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!("phiên bản phải là số nguyên, không phải {n}"))),
    }
}

/// The same, for an optional version (absent or null: none).
pub fn whole_version_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "whole_version")] i64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(v)| v))
}
