//! Signing in and out, one's own account (password, personal API tokens), and the same for API
//! clients.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use danvan_domain::access::check_password;
use danvan_store::{ApiToken, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::shell::auth::{
    clear_session_cookie, client_address, hash_password, login, new_secret, secret_hash, session_cookie,
    verify_password, Credential, CurrentUser, LoginError,
};
use crate::shell::error::{ApiError, InLang, PageError, WebError};
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

/// Only a local path may be a place to return to after login: one that starts with a single
/// `/`, holds no control character, white space or backslash (browsers drop tabs and newlines,
/// so `/\t/evil.example` would become `//evil.example`), and resolves to this site.
pub fn local_next(next: Option<&str>) -> String {
    let local = |n: &&str| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
            && url::Url::parse("http://danvan.invalid/")
                .and_then(|base| base.join(n))
                .is_ok_and(|u| u.host_str() == Some("danvan.invalid"))
    };
    next.filter(local).unwrap_or("/").to_string()
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/login.html")]
pub struct LoginPage {
    layout: Layout,
    next: String,
    username: String,
    error: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

pub async fn login_form(ctx: PageCtx, Query(q): Query<NextQuery>) -> Response {
    let next = local_next(q.next.as_deref());
    if ctx.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    let title = ctx.lang.t("login-title");
    LoginPage {
        layout: Layout::new(&ctx, &title, "/login"),
        next,
        username: String::new(),
        error: String::new(),
    }
    .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let address = client_address(&extensions);
    let next = local_next(form.next.as_deref());
    match login(&state, &form.username, &form.password, &address).await {
        Ok((_, id)) => {
            ([(header::SET_COOKIE, session_cookie(&state, &id))], Redirect::to(&next)).into_response()
        }
        Err(LoginError::Internal(e)) => e.page(ctx.lang),
        Err(e) => {
            let title = ctx.lang.t("login-title");
            let page = LoginPage {
                layout: Layout::new(&ctx, &title, "/login"),
                next,
                username: form.username.chars().take(64).collect(),
                error: ctx.lang.t(e.message_key()),
            };
            (e.status(), page).into_response()
        }
    }
}

pub async fn logout(State(state): State<AppState>, user: CurrentUser) -> Response {
    if let Credential::Session(hash) = &user.credential {
        if let Err(e) = state.store.end_session(&user.actor(), hash).await {
            return WebError::from(e).page(crate::shell::i18n::Lang::Vi);
        }
    }
    ([(header::SET_COOKIE, clear_session_cookie())], Redirect::to("/")).into_response()
}

// ---- my account ----------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    layout: Layout,
    user: User,
    role: String,
    scope: String,
    tokens: Vec<ApiToken>,
    new_token: String,
    message: String,
    error: String,
}

async fn account_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    new_token: String,
    message: String,
    error: String,
) -> Result<AccountPage, WebError> {
    let scope = match user.user.scope_unit_id {
        Some(id) => state.store.unit(id).await?.map(|u| u.name).unwrap_or_default(),
        None => ctx.lang.t("account-scope-all"),
    };
    Ok(AccountPage {
        layout: Layout::new(ctx, &ctx.lang.t("account-title"), "/account"),
        role: ctx.lang.t(&format!("role-{}", user.user.role.as_str())),
        user: user.user.clone(),
        scope,
        tokens: state.store.api_tokens(user.user.id).await?,
        new_token,
        message,
        error,
    })
}

pub async fn account(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<AccountPage, PageError> {
    account_page(&state, &ctx, &user, String::new(), String::new(), String::new()).await.in_lang(ctx.lang)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub current: String,
    pub new: String,
    pub confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let problem = if form.new != form.confirm {
        Some(lang.t("password-mismatch"))
    } else if let Err(m) = check_password(&form.new, &user.user.username) {
        Some(m)
    } else {
        let hash = state.store.user_for_login(&user.user.username).await.in_lang(lang)?.map(|(_, h)| h);
        (!verify_password(form.current.clone(), hash).await).then(|| lang.t("password-current-wrong"))
    };
    if let Some(error) = problem {
        let page =
            account_page(&state, &ctx, &user, String::new(), String::new(), error).await.in_lang(lang)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let hash = hash_password(form.new).await.in_lang(lang)?;
    state.store.set_password(&user.actor(), user.user.id, &hash).await.in_lang(lang)?;
    // Every session ended with the change, this one too: sign in again.
    Ok(([(header::SET_COOKIE, clear_session_cookie())], Redirect::to("/login?next=%2Faccount"))
        .into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    pub name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let name = danvan_domain::text::clean(&form.name);
    if name.is_empty() || name.chars().count() > 100 {
        let page =
            account_page(&state, &ctx, &user, String::new(), String::new(), lang.t("token-name-required"))
                .await
                .in_lang(lang)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let secret = new_secret().in_lang(lang)?;
    state
        .store
        .create_api_token(&user.actor(), &user.user, &name, &secret_hash(&secret))
        .await
        .in_lang(lang)?;
    // The token is shown this once and never again.
    let page = account_page(&state, &ctx, &user, secret, lang.t("token-created"), String::new())
        .await
        .in_lang(lang)?;
    Ok(page.into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let revoked = state.store.revoke_api_token(&user.actor(), user.user.id, id).await.in_lang(ctx.lang)?;
    if !revoked {
        return Err(WebError::NotFound(format!("không có mã truy cập #{id}"))).in_lang(ctx.lang);
    }
    Ok(Redirect::to("/account").into_response())
}

// ---- API -----------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

/// The signed-in user.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MeJson {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// admin, province, district, commune or viewer.
    pub role: String,
    /// The code of the unit whose subtree the user works in (none for an admin).
    pub scope_unit: Option<String>,
}

async fn me_json(state: &AppState, user: &User) -> Result<MeJson, ApiError> {
    let scope_unit = match user.scope_unit_id {
        Some(id) => state.store.unit(id).await?.map(|u| u.code),
        None => None,
    };
    Ok(MeJson {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().into(),
        scope_unit,
    })
}

/// Sign in; the answer sets the same session cookie a browser gets.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginBody,
    responses((status = 200, body = MeJson), (status = 401, body = crate::shell::error::ErrorBody), (status = 429, body = crate::shell::error::ErrorBody)), tag = "auth")]
pub async fn api_login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let address = client_address(&extensions);
    match login(&state, &body.username, &body.password, &address).await {
        Ok((user, id)) => {
            let me = me_json(&state, &user).await?;
            Ok(([(header::SET_COOKIE, session_cookie(&state, &id))], Json(me)).into_response())
        }
        Err(LoginError::Internal(e)) => Err(ApiError(e)),
        Err(e) => {
            let message = crate::shell::i18n::Lang::Vi.t(e.message_key());
            Err(ApiError(match e {
                LoginError::Throttled => WebError::TooManyRequests(message),
                _ => WebError::Unauthorized(message),
            }))
        }
    }
}

/// Sign out: ends the session on the server.
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204), (status = 401, body = crate::shell::error::ErrorBody)), tag = "auth")]
pub async fn api_logout(State(state): State<AppState>, user: CurrentUser) -> Result<Response, ApiError> {
    if let Credential::Session(hash) = &user.credential {
        state.store.end_session(&user.actor(), hash).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear_session_cookie())]).into_response())
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeJson), (status = 401, body = crate::shell::error::ErrorBody)), tag = "auth")]
pub async fn api_me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<MeJson>, ApiError> {
    Ok(Json(me_json(&state, &user.user).await?))
}

#[cfg(test)]
mod tests {
    use super::local_next;

    #[test]
    fn only_a_local_path_is_a_place_to_return_to() {
        for ok in ["/account", "/schemes/LA-KDV-2017-2020/units/80?period=2020", "/units/27931?on=2025-06-30"]
        {
            assert_eq!(local_next(Some(ok)), ok);
        }
        for bad in [
            "/\t/evil.example/",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\u{b}/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil.example",
            "/ /evil.example",
            "",
        ] {
            assert_eq!(local_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_next(None), "/");
    }
}
