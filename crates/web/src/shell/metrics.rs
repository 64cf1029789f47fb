//! What this process has served, for `/metrics`: requests by route (the route's pattern, never
//! the path with its codes and ids) and answer class, and their latencies in a histogram; and a
//! request id on every request, carried by every log line written while it is served.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The upper bounds of the latency histogram, in seconds.
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0];

#[derive(Default, Clone)]
struct RouteStats {
    /// Answers by class (2xx…5xx, index 0 for anything else).
    by_class: [u64; 6],
    /// Cumulative counts per bucket, then the total.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Counters of one process.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
    in_flight: AtomicU64,
}

/// The request id header, set on every request that lacks one and sent back on the answer.
pub const REQUEST_ID: &str = "x-request-id";

/// A fresh request id: the process's start and a counter, short and unique enough for logs.
pub fn new_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static START: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let start = START.get_or_init(|| {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        u32::from_le_bytes(b)
    });
    format!("{start:08x}-{:06}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A request id that came from outside is kept only when it is short and plain.
fn plain_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| s.to_string())
}

/// Counts and times every request by its route, gives it a request id (kept from a proxy's
/// `X-Request-Id` when plain), and serves it inside a log span that names the id.
pub async fn track(State(metrics): State<std::sync::Arc<Metrics>>, mut req: Request, next: Next) -> Response {
    let id = req.headers().get(REQUEST_ID).and_then(plain_id).unwrap_or_else(new_request_id);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %req.uri().path());
    let started = Instant::now();
    metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut res = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    // The route's pattern, noted on the answer by [`note_route`]; none for a path no route has.
    let route = res.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let route = route.unwrap_or_else(|| "(none)".into());
    if status >= 500 {
        span.in_scope(|| tracing::warn!(status, seconds, "request failed"));
    }
    metrics.record(&method, &route, status, seconds);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// Notes on the answer which route served it (the outer [`track`] runs before routing and so
/// cannot see it on the request).
pub async fn note_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(m) = matched {
        res.extensions_mut().insert(m);
    }
    res
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let s = routes.entry((method.to_string(), route.to_string())).or_default();
        let class = usize::from(status / 100);
        s.by_class[if (2..=5).contains(&class) { class } else { 0 }] += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
        s.count += 1;
        s.sum_seconds += seconds;
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The request counters and histograms in Prometheus's text format.
    pub fn render_requests(&self, out: &mut String) {
        use std::fmt::Write;
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let _ = writeln!(
            out,
            "# HELP danvan_http_requests_total Requests answered, by route and class of answer."
        );
        let _ = writeln!(out, "# TYPE danvan_http_requests_total counter");
        for ((method, route), s) in &routes {
            for (class, n) in s.by_class.iter().enumerate().filter(|(_, n)| **n > 0) {
                let class = if class == 0 { "other".to_string() } else { format!("{class}xx") };
                let _ = writeln!(
                    out,
                    "danvan_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{class}\"}} {n}",
                    label(route)
                );
            }
        }
        let _ = writeln!(out, "# HELP danvan_http_request_duration_seconds Time to answer, by route.");
        let _ = writeln!(out, "# TYPE danvan_http_request_duration_seconds histogram");
        for ((method, route), s) in &routes {
            let l = format!("method=\"{method}\",route=\"{}\"", label(route));
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ =
                    writeln!(out, "danvan_http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {n}");
            }
            let _ =
                writeln!(out, "danvan_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "danvan_http_request_duration_seconds_sum{{{l}}} {}", s.sum_seconds);
            let _ = writeln!(out, "danvan_http_request_duration_seconds_count{{{l}}} {}", s.count);
        }
        let _ = writeln!(out, "# HELP danvan_http_requests_in_flight Requests being answered now.");
        let _ = writeln!(out, "# TYPE danvan_http_requests_in_flight gauge");
        let _ = writeln!(out, "danvan_http_requests_in_flight {}", self.in_flight());
    }
}

/// A label value as Prometheus reads it: backslash, quote and newline escaped.
pub fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_class_with_cumulative_buckets() {
        let m = Metrics::default();
        m.record("GET", "/units/{code}", 200, 0.003);
        m.record("GET", "/units/{code}", 404, 0.03);
        m.record("POST", "/login", 503, 9.0);
        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(out
            .contains("danvan_http_requests_total{method=\"GET\",route=\"/units/{code}\",status=\"2xx\"} 1"));
        assert!(out
            .contains("danvan_http_requests_total{method=\"GET\",route=\"/units/{code}\",status=\"4xx\"} 1"));
        assert!(out.contains("status=\"5xx\"} 1"));
        assert!(out.contains("route=\"/units/{code}\",le=\"0.005\"} 1"), "{out}");
        assert!(out.contains("route=\"/units/{code}\",le=\"0.05\"} 2"));
        assert!(out.contains("route=\"/login\",le=\"5\"} 0"));
        assert!(
            out.contains("danvan_http_request_duration_seconds_count{method=\"POST\",route=\"/login\"} 1")
        );
        assert_eq!(label("a\"b\\c"), "a\\\"b\\\\c");
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert!(plain_id(&HeaderValue::from_static("abc-123")).is_some());
        assert!(plain_id(&HeaderValue::from_static("a b")).is_none());
    }
}
