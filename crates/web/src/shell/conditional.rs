//! Conditional answers: a route whose answer depends only on what the change counters count
//! (the units, the marks, the activities, the workflow, the schemes, the backups), on the day,
//! on the address asked, on the language and on the user is answered `304 Not Modified` when
//! the client already holds it. The tag is made before the handler runs, from one small query,
//! so an unchanged dashboard costs neither its computation nor its bytes. The last answers are
//! also kept by their tag (a few megabytes at most): a client that holds none is sent the kept
//! bytes, made no older than the counters say, without the handler.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
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

/// The most the kept answers weigh together (the server's memory budget is 100 MB), and the
/// largest one kept.
const KEPT_BYTES: usize = 4 << 20;
const KEPT_ONE: usize = 1 << 20;

/// The answers kept, oldest first, with their tags; and their bytes together.
type Answers = (VecDeque<(String, Arc<KeptAnswer>)>, usize);

/// The last answers, by tag, oldest first.
#[derive(Default)]
pub struct Kept {
    answers: Mutex<Answers>,
}

pub struct KeptAnswer {
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    fn get(&self, tag: &str) -> Option<Arc<KeptAnswer>> {
        let held = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        held.0.iter().find(|(t, _)| t == tag).map(|(_, a)| a.clone())
    }

    fn put(&self, tag: String, answer: KeptAnswer) {
        let mut held = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let size = answer.body.len();
        held.0.retain(|(t, _)| *t != tag);
        held.1 = held.0.iter().map(|(_, a)| a.body.len()).sum::<usize>() + size;
        held.0.push_back((tag, Arc::new(answer)));
        while held.1 > KEPT_BYTES {
            match held.0.pop_front() {
                Some((_, old)) => held.1 -= old.body.len(),
                None => break,
            }
        }
    }

    /// How many answers are kept (for tests).
    pub fn len(&self) -> usize {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the conditional layer needs: the store (for the counters) and the kept answers.
#[derive(Clone)]
pub struct Fresh {
    pub store: Store,
    pub kept: Arc<Kept>,
}

/// Answers 304 when the client holds the current answer; otherwise serves it with its tag.
/// Private (`no-cache`: kept, but asked about each time), since it may be a user's.
pub async fn conditional(State(fresh): State<Fresh>, req: Request, next: Next) -> Response {
    let store = &fresh.store;
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
    if let Some(kept) = fresh.kept.get(&tag) {
        let mut res = Response::new(axum::body::Body::from(kept.body.clone()));
        *res.headers_mut() = kept.headers.clone();
        return res;
    }
    let mut res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, cache);
    if res.headers().contains_key(header::SET_COOKIE) {
        return res;
    }
    let (parts, body) = res.into_parts();
    // Only answers of a known, small size are kept; others pass as they are.
    let small = axum::body::HttpBody::size_hint(&body).exact().is_some_and(|n| n as usize <= KEPT_ONE);
    if !small {
        return Response::from_parts(parts, body);
    }
    match axum::body::to_bytes(body, KEPT_ONE).await {
        Ok(bytes) => {
            fresh.kept.put(tag, KeptAnswer { headers: parts.headers.clone(), body: bytes.clone() });
            Response::from_parts(parts, axum::body::Body::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be read to keep it");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
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

    #[test]
    fn kept_answers_are_found_by_tag_replaced_and_bounded_in_bytes() {
        let kept = Kept::default();
        let answer = |n: usize| KeptAnswer { headers: HeaderMap::new(), body: Bytes::from(vec![b'x'; n]) };
        kept.put("a".into(), answer(10));
        kept.put("a".into(), answer(20));
        assert_eq!((kept.len(), kept.get("a").map(|a| a.body.len())), (1, Some(20)), "the same tag once");
        assert!(kept.get("b").is_none());
        // Past the bound the oldest go first.
        let n = KEPT_BYTES / KEPT_ONE + 1;
        for i in 0..n {
            kept.put(format!("big{i}"), answer(KEPT_ONE));
        }
        assert!(kept.get("a").is_none() && kept.get("big0").is_none());
        assert!(kept.get(&format!("big{}", n - 1)).is_some());
        let total: usize = (0..n).filter_map(|i| kept.get(&format!("big{i}"))).map(|a| a.body.len()).sum();
        assert!(total <= KEPT_BYTES, "{total}");
    }
}
