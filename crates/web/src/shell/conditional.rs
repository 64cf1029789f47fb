//! Conditional answers: a route whose answer depends only on what the change counters count
//! (the units, the marks, the activities, the workflow, the schemes, the backups), on the day,
//! on the address asked, on the language and on the user is answered `304 Not Modified` when
//! the client already holds it. The tag is made before the handler runs, from one small query,
//! so an unchanged dashboard costs neither its computation nor its bytes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use danvan_store::Store;

use crate::shell::i18n::Lang;
use crate::shell::user::MaybeUser;

/// The entity tag of an answer made from these parts (weak: the same content, compressed or
/// not).
pub fn tag_of(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.len().to_le_bytes());
        h.update(p.as_bytes());
    }
    let hex: String = h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// Whether an `If-None-Match` header names this tag (or `*`), compared weakly.
pub fn holds(headers: &HeaderMap, tag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = strip(tag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || strip(t) == ours)
}

/// Answers 304 when the client holds the current answer; otherwise serves it with its tag.
/// Private (`no-cache`: kept, but asked about each time), since it may be a user's.
pub async fn conditional(State(store): State<Store>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let counters = match store.all_change_counters().await {
        Ok(c) => c,
        // Without the counters no tag: the answer is made as usual.
        Err(_) => return next.run(req).await,
    };
    let mut parts: Vec<String> = counters.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.push(crate::shell::today().to_string());
    parts.push(req.uri().to_string());
    parts.push(Lang::from_headers(req.headers()).code().to_string());
    match req.extensions().get::<MaybeUser>() {
        Some(MaybeUser(Some(u))) => {
            parts.push(u.user.id.to_string());
            parts.push(u.user.display_name.clone());
            parts.push(u.user.role.as_str().to_string());
            parts.push(format!("{:?}", u.user.scope_unit_id));
        }
        _ => parts.push("anonymous".into()),
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let tag = tag_of(&refs);
    let cache = HeaderValue::from_static("private, no-cache");
    if holds(req.headers(), &tag) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&tag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        res.headers_mut().insert(header::CACHE_CONTROL, cache);
        return res;
    }
    let mut res = next.run(req).await;
    if res.status() == StatusCode::OK {
        if let Ok(v) = HeaderValue::from_str(&tag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        res.headers_mut().insert(header::CACHE_CONTROL, cache);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_is_read_weakly_in_lists_and_as_a_star() {
        let tag = tag_of(&["units=3", "2026-12-03"]);
        assert!(tag.starts_with("W/\"") && tag.len() == 3 + 24 + 1, "{tag}");
        assert_ne!(tag, tag_of(&["units=4", "2026-12-03"]));
        assert_ne!(tag_of(&["ab", "c"]), tag_of(&["a", "bc"]), "parts are told apart");
        let mut h = HeaderMap::new();
        assert!(!holds(&h, &tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", {}", tag.trim_start_matches("W/"))).unwrap(),
        );
        assert!(holds(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(holds(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"other\""));
        assert!(!holds(&h, &tag));
    }
}
