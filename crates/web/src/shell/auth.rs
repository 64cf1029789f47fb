//! Who is asking, and may they: sessions and API tokens, password hashing, the CSRF origin
//! check, and the one guard every route passes through. The decision itself is
//! [`danvan_domain::access::allowed`]; this module only gathers its inputs.

pub use super::state::{parse_public_url, AuthConfig};
pub use super::user::{client_address, may_own, Credential, CurrentUser, MaybeUser, SampleData};
use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::RequestExt;
use chrono::NaiveDate;
use chrono::{Duration, Utc};
use danvan_domain::access::{allowed, Action, Relation, Role};
use danvan_domain::lineage::{a_day_of, resolve, version_label, versions_in_context, Resolved};
use danvan_domain::units::Unit;
use danvan_store::User;

use crate::shell::error::{ApiError, UnitChoice, WebError};
use crate::shell::i18n::Lang;
use crate::shell::parse_on;
use crate::shell::AppState;

pub const SESSION_COOKIE: &str = "danvan_session";

/// A fresh random secret (session id or API token), as 64 hex digits.
pub fn new_secret() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WebError::Internal(format!("no randomness: {e}").into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the database keeps of a secret: its SHA-256, in hex.
pub fn secret_hash(secret: &str) -> String {
    danvan_store::files::sha256_hex(secret.as_bytes())
}

/// Hashes a password with argon2id, off the async runtime.
pub async fn hash_password(password: String) -> Result<String, WebError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|e| WebError::Internal(Box::new(e)))
}

/// Checks a password against a hash, off the async runtime. With no hash (unknown user) it
/// checks against a fixed one, so that the answer takes as long either way.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.get_or_init(|| password_auth::generate_hash("x")).clone());
        password_auth::verify_password(password, &hash).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Finds the user of a request (session cookie or `Authorization: Bearer`), once per request,
/// and leaves it in the request's extensions for the guard and the handlers.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let address = client_address(req.extensions());
    let now = Utc::now();
    let mut current = None;
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| secret_hash(t.trim()));
    if let Some(hash) = bearer {
        match state.store.user_by_api_token(&hash, now).await {
            Ok(Some(user)) => {
                current = Some(CurrentUser { user, credential: Credential::Token, address: address.clone() })
            }
            Ok(None) => {}
            Err(e) => return ApiError(e.into()).into_response(),
        }
    } else if let Some(id) = cookie(req.headers(), SESSION_COOKIE) {
        let hash = secret_hash(id);
        match state.store.session_user(&hash, now, now - state.auth.idle).await {
            Ok(Some((user, session))) => {
                // Note activity at most once a minute, to spare the database.
                if now - session.last_seen_at > Duration::minutes(1) {
                    if let Err(e) = state.store.touch_session(&hash, now).await {
                        tracing::warn!(error = %e, "could not note session activity");
                    }
                }
                current = Some(CurrentUser {
                    user,
                    credential: Credential::Session(hash),
                    address: address.clone(),
                });
            }
            Ok(None) => {}
            Err(e) => return WebError::from(e).page(Lang::from_headers(req.headers())),
        }
    }
    req.extensions_mut().insert(MaybeUser(current));
    req.extensions_mut().insert(SampleData(state.sample));
    next.run(req).await
}

/// What a signed-in user is answered is theirs alone: no browser or proxy keeps it
/// (`Cache-Control: no-store`), unless the handler said otherwise (the stylesheet, the script).
pub async fn private_answers(req: Request, next: Next) -> Response {
    let signed_in = matches!(req.extensions().get::<MaybeUser>(), Some(MaybeUser(Some(_))));
    let mut res = next.run(req).await;
    if signed_in && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<MaybeUser>() {
            Some(MaybeUser(Some(u))) => Ok(u.clone()),
            _ => Err(deny_anonymous(parts.uri.path(), parts.uri.path_and_query().map(|p| p.as_str()))),
        }
    }
}

/// The unit a unit-scoped route acts on, resolved and authorised by the guard.
#[derive(Debug, Clone)]
pub struct ScopedUnit(pub Unit);

impl<S: Send + Sync> FromRequestParts<S> for ScopedUnit {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ScopedUnit>().cloned().ok_or_else(|| {
            WebError::Internal("ScopedUnit used on a route without a unit guard".into()).page(Lang::Vi)
        })
    }
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// The action on the unit named by the route's `{code}` (with `?on=` for a date).
    Unit(Action),
    /// The action on the user's own scope (admin pages; handlers narrow by target).
    Own(Action),
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The answer to an anonymous request for something that needs a user: the login page for
/// browsers, 401 for the API.
pub fn deny_anonymous(path: &str, path_and_query: Option<&str>) -> Response {
    if is_api(path) {
        let mut res =
            ApiError(WebError::Unauthorized("cần đăng nhập (phiên hoặc Authorization: Bearer)".into()))
                .into_response();
        res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return res;
    }
    let next = path_and_query.unwrap_or(path);
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// The answer to a signed-in user who may not do this: 403, as a page (in the user's frame)
/// or JSON.
pub fn deny_forbidden(path: &str, lang: Lang, user: &CurrentUser) -> Response {
    if is_api(path) {
        return ApiError(WebError::Forbidden("bạn không có quyền với dữ liệu này".into())).into_response();
    }
    let ctx = crate::shell::PageCtx {
        lang,
        user: Some(user.clone()),
        sample: false,
        waiting: 0,
        unread: 0,
        backup_failed: None,
    };
    crate::shell::error::error_page_in(&ctx, StatusCode::FORBIDDEN)
}

/// Where a unit stands relative to a user's scope.
pub async fn relation(state: &AppState, user: &User, unit_id: i64) -> Result<Relation, WebError> {
    let Some(scope) = user.scope_unit_id else {
        return Ok(if user.role == Role::Admin { Relation::Below } else { Relation::Outside });
    };
    if scope == unit_id {
        return Ok(Relation::Same);
    }
    if state.store.is_within(unit_id, scope).await? {
        return Ok(Relation::Below);
    }
    // A former unit whose history went into the scope (the 2025 reform): read only.
    Ok(if state.store.is_predecessor_of(unit_id, scope).await? {
        Relation::Predecessor
    } else {
        Relation::Outside
    })
}

/// The address of a request with `on` set to a day, the other parameters kept.
fn with_on(path: &str, query: Option<&str>, day: Option<NaiveDate>) -> String {
    let mut params: Vec<(String, String)> = query
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().filter(|(k, _)| k != "on").collect())
        .unwrap_or_default();
    if let Some(d) = day {
        params.push(("on".into(), d.to_string()));
    }
    if params.is_empty() {
        return path.to_string();
    }
    let q: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{path}?{q}")
}

/// The units a code names, as choices linking to the same address for each.
pub fn choices(units: &[&Unit], path: &str, query: Option<&str>) -> Vec<UnitChoice> {
    units
        .iter()
        .map(|u| UnitChoice {
            code: u.code.clone(),
            name: u.name.clone(),
            valid_from: u.valid_from,
            valid_to: u.valid_to,
            label: version_label(u),
            href: with_on(path, query, a_day_of(u)),
        })
        .collect()
}

/// Where a code in a request is resolved: the request's own address (for the choices), the day
/// asked for (`?on=`), the scheme of the route, and the user.
pub struct CodeContext<'a> {
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub on: Option<NaiveDate>,
    pub scheme: Option<&'a str>,
    pub user: Option<&'a User>,
}

/// The one unit version a code names in its context. A day asked for decides; a scheme's route
/// looks among the versions that exist while the scheme runs, in its subtree; then the versions
/// the user's scope holds, then those it reads through the lineage, then today's. A code that
/// still names several answers with the list of them (300), never a silent pick.
pub async fn resolve_code(state: &AppState, code: &str, cx: &CodeContext<'_>) -> Result<Unit, WebError> {
    let all = state.store.units_with_code(code).await?;
    // A code that names one unit needs no context (the handler checks it against the scheme).
    if let ([one], None) = (all.as_slice(), cx.on) {
        return Ok(one.clone());
    }
    let scheme = match cx.scheme {
        Some(s) => state.store.scheme(s).await?,
        None => None,
    };
    let span = scheme.as_ref().map(|s| s.def.span());
    let candidates = versions_in_context(&all, cx.on, span);
    if candidates.len() == 1 {
        return Ok(candidates[0].clone());
    }
    if candidates.is_empty() {
        let when = match (cx.on, &scheme) {
            (Some(d), _) => format!(" vào ngày {}", d.format("%d/%m/%Y")),
            (None, Some(s)) => format!(" trong thời gian đề án {}", s.def.code),
            _ => String::new(),
        };
        return Err(WebError::NotFound(format!("không có đơn vị mã \"{code}\"{when}")));
    }
    let mut in_scheme = std::collections::HashSet::new();
    let mut related = std::collections::HashMap::new();
    for c in &candidates {
        if let Some(s) = &scheme {
            if state.store.is_within(c.id, s.root_unit_id).await? {
                in_scheme.insert(c.id);
            }
        }
        if let Some(user) = cx.user {
            related.insert(c.id, relation(state, user, c.id).await?);
        }
    }
    let today = crate::shell::today();
    let own = |u: &Unit| matches!(related.get(&u.id), Some(Relation::Same | Relation::Below));
    let former = |u: &Unit| matches!(related.get(&u.id), Some(Relation::Predecessor));
    let scheme_pref = |u: &Unit| in_scheme.contains(&u.id);
    let current = |u: &Unit| u.valid_on(today);
    let mut prefs: Vec<&dyn Fn(&Unit) -> bool> = vec![&scheme_pref];
    // An admin's scope holds every unit: that says nothing about which one is meant.
    if cx.user.is_some_and(|u| u.scope_unit_id.is_some()) {
        prefs.push(&own);
        prefs.push(&former);
    }
    if scheme.is_none() {
        prefs.push(&current);
    }
    match resolve(candidates, &prefs) {
        Resolved::One(u) => Ok(u.clone()),
        Resolved::None => Err(WebError::NotFound(format!("không có đơn vị mã \"{code}\""))),
        Resolved::Many(list) => {
            Err(WebError::Ambiguous { code: code.to_string(), choices: choices(&list, cx.path, cx.query) })
        }
    }
}

/// Whether a user may do an action on a unit.
pub async fn may(state: &AppState, user: &User, unit_id: i64, action: Action) -> Result<bool, WebError> {
    Ok(allowed(user.role, relation(state, user, unit_id).await?, action))
}

#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub access: Access,
}

/// The guard in front of every route: applies its [`Access`] before the handler runs.
pub async fn guard(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let lang = Lang::from_headers(req.headers());
    let user = req.extensions().get::<MaybeUser>().and_then(|m| m.0.clone());
    let current = match (g.access, user) {
        (Access::Public, _) => return next.run(req).await,
        (_, None) => return deny_anonymous(&path, req.uri().path_and_query().map(|p| p.as_str())),
        (_, Some(u)) => u,
    };
    let user = current.user.clone();
    match g.access {
        Access::Public | Access::SignedIn => next.run(req).await,
        Access::Own(action) => {
            if may_own(&user, action) {
                next.run(req).await
            } else {
                deny_forbidden(&path, lang, &current)
            }
        }
        Access::Unit(action) => {
            let params: HashMap<String, String> =
                match req.extract_parts::<Path<HashMap<String, String>>>().await {
                    Ok(Path(p)) => p,
                    Err(e) => return e.into_response(),
                };
            let on = req.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "on")
                    .map(|(_, v)| v.into_owned())
            });
            let query = req.uri().query().map(str::to_string);
            let resolved =
                async {
                    let code = params
                        .get("code")
                        .ok_or_else(|| WebError::Internal("unit route without {code}".into()))?;
                    let cx = CodeContext {
                        path: &path,
                        query: query.as_deref(),
                        on: if path.starts_with("/api/") {
                            crate::shell::parse_api_day(on.as_deref())?
                        } else {
                            parse_on(on.as_deref())?
                        },
                        scheme: params.get("scheme").map(String::as_str),
                        user: Some(&user),
                    };
                    let unit = resolve_code(&g.state, code, &cx).await?;
                    // A scheme's routes reach only the units of its subtree, whoever asks.
                    if let Some(scheme) = params.get("scheme") {
                        let root =
                            g.state.store.scheme_root_unit(scheme).await?.ok_or_else(|| {
                                WebError::NotFound(format!("không có đề án mã \"{scheme}\""))
                            })?;
                        if !g.state.store.is_within(unit.id, root).await? {
                            return Err(WebError::NotFound(format!(
                                "{} không thuộc phạm vi đề án {scheme}",
                                unit.name
                            )));
                        }
                    }
                    let ok = may(&g.state, &user, unit.id, action).await?;
                    Ok::<_, WebError>((unit, ok))
                }
                .await;
            match resolved {
                Ok((unit, true)) => {
                    req.extensions_mut().insert(ScopedUnit(unit));
                    next.run(req).await
                }
                Ok((_, false)) => deny_forbidden(&path, lang, &current),
                Err(e) if is_api(&path) => ApiError(e).into_response(),
                Err(e) => e.page(lang),
            }
        }
    }
}

/// Refuses state-changing requests sent by another site: `Sec-Fetch-Site` must be same-origin
/// (or absent), and `Origin`, when sent, must be this site — the scheme, host and port of
/// `public_url` when it is set (behind a reverse proxy the `Host` the server sees is not the
/// one the browser used), else the request's own `Host`. Requests from non-browser clients carry
/// neither header and pass.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
    if safe {
        return next.run(req).await;
    }
    let headers = req.headers();
    let site_ok = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    };
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) if state.auth.public_url.is_some() => {
            let public = state.auth.public_url.as_ref().map(url::Url::origin);
            url::Url::parse(origin).is_ok_and(|o| Some(o.origin()) == public)
        }
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            url::Url::parse(origin)
                .ok()
                .map(|u| match u.port() {
                    Some(p) => format!("{}:{p}", u.host_str().unwrap_or("")),
                    None => u.host_str().unwrap_or("").to_string(),
                })
                .is_some_and(|o| o == host)
        }
    };
    if site_ok && origin_ok {
        return next.run(req).await;
    }
    let lang = Lang::from_headers(headers);
    let err = WebError::Forbidden(
        "yêu cầu bị từ chối vì được gửi từ một trang khác (chống giả mạo yêu cầu, CSRF)".into(),
    );
    if is_api(req.uri().path()) {
        ApiError(err).into_response()
    } else {
        err.page(lang)
    }
}

/// A `Set-Cookie` value for the session.
pub fn session_cookie(state: &AppState, id: &str) -> String {
    let secure = if state.auth.secure_cookies { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        state.auth.absolute.num_seconds()
    )
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Signs a user in: checks throttling and the password, opens a session. The same message and
/// about the same time whether or not the username exists.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    address: &str,
) -> Result<(User, String), LoginError> {
    let now = Utc::now();
    let username = danvan_domain::text::clean(username).to_lowercase();
    let since = now - Duration::minutes(danvan_domain::access::THROTTLE_WINDOW_MINUTES);
    let failures =
        state.store.login_failures_since(&username, address, since).await.map_err(LoginError::store)?;
    let known_since = now - Duration::days(danvan_domain::access::KNOWN_ADDRESS_DAYS);
    // Asked only when a limit other than the pair's is reached: most logins need no such query.
    let throttled = danvan_domain::access::login_throttled(failures, false)
        && danvan_domain::access::login_throttled(
            failures,
            state.store.signed_in_from(&username, address, known_since).await.map_err(LoginError::store)?,
        );
    if throttled {
        return Err(LoginError::Throttled);
    }
    let found = state.store.user_for_login(&username).await.map_err(LoginError::store)?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = verify_password(password.to_string(), hash).await;
    match user {
        Some(user) if ok && user.active => {
            let id = new_secret().map_err(LoginError::Internal)?;
            state
                .store
                .start_session(&user, &secret_hash(&id), address, now, now + state.auth.absolute)
                .await
                .map_err(LoginError::store)?;
            Ok((user, id))
        }
        _ => {
            state.store.record_login_failure(&username, address, now).await.map_err(LoginError::store)?;
            Err(LoginError::Invalid)
        }
    }
}

#[derive(Debug)]
pub enum LoginError {
    Invalid,
    Throttled,
    Internal(WebError),
}

impl LoginError {
    fn store(e: danvan_store::StoreError) -> Self {
        Self::Internal(e.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid => StatusCode::UNAUTHORIZED,
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(e) => e.status(),
        }
    }

    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Invalid => "login-invalid",
            Self::Throttled => "login-throttled",
            Self::Internal(_) => "error-500-text",
        }
    }
}
