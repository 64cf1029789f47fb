//! Administration of user accounts: list, create, change, reset a password, move an account
//! whose unit a reorganisation ended. Each handler narrows to the users the actor may manage.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use danvan_domain::access::{check_password, may_grant, parse_username, Action, Role};
use danvan_domain::text;
use danvan_store::{NewUser, User, UserChange};
use serde::Deserialize;

use crate::shell::auth::{hash_password, may, may_own, CurrentUser};
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::history::event_rows;
use crate::shell::history::local;
use crate::shell::history::EventRow;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx, Pager};

const PAGE_SIZE: usize = 50;

/// Whether an acting user may manage a target user: an admin anyone, others only non-admin
/// users whose scope they may manage.
async fn manageable(state: &AppState, actor: &User, target: &User) -> Result<bool, WebError> {
    if actor.role == Role::Admin {
        return Ok(true);
    }
    match (target.role, target.scope_unit_id) {
        (Role::Admin, _) | (_, None) => Ok(false),
        (_, Some(scope)) => may(state, actor, scope, Action::ManageUsers).await,
    }
}

fn forbidden() -> WebError {
    WebError::Forbidden("bạn không có quyền quản lý người dùng này".into())
}

// ---- list ----------------------------------------------------------------------------------

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: String,
    pub active: bool,
    pub last_login: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/users.html")]
pub struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    total: usize,
    pager: Option<Pager>,
    /// Accounts whose unit ended in a reorganisation, with the unit that carries it on.
    ended: Vec<EndedRow>,
    done: bool,
}

/// An account whose unit has ended.
pub struct EndedRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    /// "Thị trấn Hậu Nghĩa, đến 30/06/2025".
    pub scope: String,
    /// The unit the lineage suggests, when there is one the acting user may give.
    pub successor: Option<String>,
}

/// The unit that carries an ended unit on: a commune's main successor, or the one unit a
/// province's or district's communes all went into.
fn successor_of(lineage: &danvan_store::UnitLineage) -> Option<danvan_domain::units::Unit> {
    let carriers: Vec<&danvan_store::LinkedUnit> =
        lineage.successors.iter().filter(|l| l.relation.is_none_or(|r| r.carries())).collect();
    match carriers.as_slice() {
        [one] => Some(one.unit.clone()),
        _ => None,
    }
}

/// The accounts of ended units that a user may move: every one for an admin; for others, those
/// of the units whose history went into their scope, to a successor within it.
async fn ended_accounts(
    state: &AppState,
    me: &User,
) -> Result<Vec<(User, danvan_domain::units::Unit, Option<danvan_domain::units::Unit>)>, WebError> {
    let mut out = Vec::new();
    for u in state.store.users_of_ended_units(crate::shell::today()).await? {
        let Some(unit) = (match u.scope_unit_id {
            Some(id) => state.store.unit(id).await?,
            None => None,
        }) else {
            continue;
        };
        let mine = match (me.role, me.scope_unit_id) {
            (Role::Admin, _) => true,
            (_, Some(scope)) if may_own(me, Action::ManageUsers) && u.role != Role::Admin => {
                state.store.is_predecessor_of(unit.id, scope).await?
            }
            _ => false,
        };
        if !mine {
            continue;
        }
        // Only units a recorded reorganisation carried on (a list simply out of date is not one).
        let lineage = state.store.unit_lineage(&unit).await?;
        if lineage.successors.is_empty() {
            continue;
        }
        let successor = match successor_of(&lineage) {
            Some(s) if me.role == Role::Admin => Some(s),
            Some(s) => match me.scope_unit_id {
                Some(scope) if s.id == scope || state.store.is_within(s.id, scope).await? => Some(s),
                _ => None,
            },
            None => None,
        };
        out.push((u, unit, successor));
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub page: Option<usize>,
    pub done: Option<String>,
}

pub async fn users(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Query(q): Query<PageQuery>,
) -> Result<UsersPage, PageError> {
    let lang = ctx.lang;
    let page = q.page.unwrap_or(1).max(1);
    let within = if me.user.role == Role::Admin { None } else { me.user.scope_unit_id };
    let (list, total) = state.store.users(within, PAGE_SIZE, (page - 1) * PAGE_SIZE).await.in_lang(lang)?;
    let scope_ids: Vec<i64> = list.iter().filter_map(|u| u.scope_unit_id).collect();
    let units = state.store.units_by_ids(&scope_ids).await.in_lang(lang)?;
    let users = list
        .into_iter()
        .map(|u| UserRow {
            scope: u
                .scope_unit_id
                .and_then(|s| units.get(&s))
                .map(|s| s.name.clone())
                .unwrap_or_else(|| lang.t("account-scope-all")),
            role: lang.t(&format!("role-{}", u.role.as_str())),
            last_login: u.last_login_at.map(local).unwrap_or_default(),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            active: u.active,
        })
        .collect();
    let ended = ended_accounts(&state, &me.user)
        .await
        .in_lang(lang)?
        .into_iter()
        .map(|(u, unit, successor)| EndedRow {
            id: u.id,
            username: u.username,
            role: lang.t(&format!("role-{}", u.role.as_str())),
            scope: danvan_domain::lineage::version_label(&unit),
            successor: successor.map(|s| danvan_domain::lineage::version_label(&s)),
        })
        .collect();
    Ok(UsersPage {
        layout: Layout::new(&ctx, &lang.t("users-title"), "/admin/users"),
        users,
        total,
        pager: Pager::new(lang, "/admin/users?", page, total, PAGE_SIZE),
        ended,
        done: q.done.as_deref() == Some("moved"),
    })
}

/// Moves an account of an ended unit to the unit that carries it on (as the lineage suggests),
/// in one step; the change is audited like any change of a user.
pub async fn move_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let found =
        ended_accounts(&state, &me.user).await.in_lang(lang)?.into_iter().find(|(u, _, _)| u.id == id);
    let Some((user, unit, successor)) = found else {
        return Err(forbidden()).in_lang(lang);
    };
    let Some(successor) = successor else {
        return Err(WebError::Conflict(format!(
            "không xác định được một đơn vị kế thừa duy nhất của {}; hãy sửa phạm vi tài khoản bằng tay",
            unit.name
        )))
        .in_lang(lang);
    };
    let change = UserChange {
        display_name: user.display_name.clone(),
        role: user.role,
        scope_unit_id: Some(successor.id),
        active: user.active,
    };
    state.store.update_user(&me.actor(), user.id, &change).await.in_lang(lang)?;
    Ok(Redirect::to("/admin/users?done=moved").into_response())
}

// ---- create --------------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
    /// A checkbox: present when ticked.
    pub active: Option<String>,
}

pub struct RoleOption {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

fn role_options(ctx: &PageCtx, granter: Role, selected: &str) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .filter(|r| may_grant(granter, *r))
        .map(|r| RoleOption {
            value: r.as_str(),
            label: ctx.lang.t(&format!("role-{}", r.as_str())),
            selected: r.as_str() == selected,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/user_form.html")]
pub struct UserFormPage {
    layout: Layout,
    /// None when creating.
    target: Option<User>,
    form: UserForm,
    roles: Vec<RoleOption>,
    error: String,
    message: String,
    history: Vec<EventRow>,
}

pub async fn new_user(ctx: PageCtx, me: CurrentUser) -> UserFormPage {
    let form = UserForm { role: "commune".into(), ..Default::default() };
    UserFormPage {
        layout: Layout::new(&ctx, &ctx.lang.t("users-new"), "/admin/users/new"),
        target: None,
        roles: role_options(&ctx, me.user.role, &form.role),
        form,
        error: String::new(),
        message: String::new(),
        history: Vec::new(),
    }
}

/// Checks the role and unit of a form against what the acting user may grant; returns them.
async fn granted_scope(
    state: &AppState,
    me: &User,
    form: &UserForm,
) -> Result<(Role, Option<i64>), WebError> {
    let role =
        Role::parse(form.role.trim()).ok_or_else(|| WebError::BadRequest("vai trò không hợp lệ".into()))?;
    if !may_grant(me.role, role) {
        return Err(WebError::Forbidden("bạn không thể cấp vai trò này".into()));
    }
    if role == Role::Admin {
        return Ok((role, None));
    }
    let code = form.unit.trim();
    if code.is_empty() {
        return Err(WebError::BadRequest("cần mã đơn vị phạm vi (ví dụ 27988)".into()));
    }
    let unit = state
        .store
        .unit_by_code(code, None)
        .await?
        .ok_or_else(|| WebError::BadRequest(format!("không có đơn vị mã \"{code}\"")))?;
    if !may(state, me, unit.id, Action::ManageUsers).await? {
        return Err(WebError::Forbidden(format!("đơn vị \"{}\" nằm ngoài phạm vi của bạn", unit.name)));
    }
    Ok((role, Some(unit.id)))
}

fn display_name(form: &UserForm) -> Result<String, WebError> {
    let name = text::clean(&form.display_name);
    if name.is_empty() || name.chars().count() > 100 {
        return Err(WebError::BadRequest("họ tên hiển thị cần từ 1 đến 100 ký tự".into()));
    }
    Ok(name)
}

pub async fn create_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let attempt = async {
        let username = parse_username(&form.username).map_err(WebError::BadRequest)?;
        let display_name = display_name(&form)?;
        let (role, scope) = granted_scope(&state, &me.user, &form).await?;
        if form.password != form.confirm {
            return Err(WebError::BadRequest(lang.t("password-mismatch")));
        }
        check_password(&form.password, &username).map_err(WebError::BadRequest)?;
        let password_hash = hash_password(form.password.clone()).await?;
        let user = state
            .store
            .create_user(
                &me.actor(),
                &NewUser { username, display_name, password_hash, role, scope_unit_id: scope },
            )
            .await?;
        Ok::<_, WebError>(user)
    }
    .await;
    match attempt {
        Ok(user) => Ok(Redirect::to(&format!("/admin/users/{}?created=1", user.id)).into_response()),
        Err(e @ (WebError::BadRequest(_) | WebError::Conflict(_) | WebError::Forbidden(_))) => {
            let status = if matches!(e, WebError::Forbidden(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = UserFormPage {
                layout: Layout::new(&ctx, &lang.t("users-new"), "/admin/users/new"),
                target: None,
                roles: role_options(&ctx, me.user.role, &form.role),
                form: UserForm { password: String::new(), confirm: String::new(), ..form },
                error: e.to_string(),
                message: String::new(),
                history: Vec::new(),
            };
            Ok((status, page).into_response())
        }
        Err(e) => Err(e).in_lang(lang),
    }
}

// ---- edit ----------------------------------------------------------------------------------

async fn target_user(state: &AppState, me: &User, id: i64) -> Result<User, WebError> {
    let target = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("không có người dùng #{id}")))?;
    if !manageable(state, me, &target).await? {
        return Err(forbidden());
    }
    Ok(target)
}

async fn edit_page(
    state: &AppState,
    ctx: &PageCtx,
    me: &User,
    target: User,
    form: Option<UserForm>,
    error: String,
    message: String,
) -> Result<UserFormPage, WebError> {
    let unit_code = match target.scope_unit_id {
        Some(id) => state.store.unit(id).await?.map(|u| u.code).unwrap_or_default(),
        None => String::new(),
    };
    let form = form.unwrap_or_else(|| UserForm {
        username: target.username.clone(),
        display_name: target.display_name.clone(),
        role: target.role.as_str().into(),
        unit: unit_code,
        active: target.active.then(|| "on".into()),
        ..Default::default()
    });
    let history =
        event_rows(state, ctx, state.store.entity_history("user", &target.id.to_string()).await?).await?;
    Ok(UserFormPage {
        layout: Layout::new(ctx, &target.display_name, &format!("/admin/users/{}", target.id)),
        roles: role_options(ctx, me.role, &form.role),
        target: Some(target),
        form,
        error,
        message,
        history,
    })
}

#[derive(Deserialize)]
pub struct CreatedQuery {
    pub created: Option<String>,
}

pub async fn edit_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<CreatedQuery>,
) -> Result<UserFormPage, PageError> {
    let lang = ctx.lang;
    let target = target_user(&state, &me.user, id).await.in_lang(lang)?;
    let message = if q.created.is_some() { lang.t("user-created") } else { String::new() };
    edit_page(&state, &ctx, &me.user, target, None, String::new(), message).await.in_lang(lang)
}

pub async fn update_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let target = target_user(&state, &me.user, id).await.in_lang(lang)?;
    let attempt = async {
        let display_name = display_name(&form)?;
        let (role, scope) = granted_scope(&state, &me.user, &form).await?;
        let active = form.active.is_some();
        if target.id == me.user.id && (role != target.role || !active) {
            return Err(WebError::BadRequest(lang.t("user-self-lockout")));
        }
        state
            .store
            .update_user(
                &me.actor(),
                target.id,
                &UserChange { display_name, role, scope_unit_id: scope, active },
            )
            .await?;
        Ok::<_, WebError>(())
    }
    .await;
    match attempt {
        Ok(()) => {
            let target = state
                .store
                .user(id)
                .await
                .in_lang(lang)?
                .ok_or_else(|| WebError::NotFound(String::new()))
                .in_lang(lang)?;
            let page = edit_page(&state, &ctx, &me.user, target, None, String::new(), lang.t("user-saved"))
                .await
                .in_lang(lang)?;
            Ok(page.into_response())
        }
        Err(e @ (WebError::BadRequest(_) | WebError::Forbidden(_))) => {
            let status = if matches!(e, WebError::Forbidden(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = edit_page(&state, &ctx, &me.user, target, Some(form), e.to_string(), String::new())
                .await
                .in_lang(lang)?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e).in_lang(lang),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let target = target_user(&state, &me.user, id).await.in_lang(lang)?;
    let problem = if form.password != form.confirm {
        Some(lang.t("password-mismatch"))
    } else {
        check_password(&form.password, &target.username).err()
    };
    if let Some(error) = problem {
        let page =
            edit_page(&state, &ctx, &me.user, target, None, error, String::new()).await.in_lang(lang)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let hash = hash_password(form.password).await.in_lang(lang)?;
    state.store.set_password(&me.actor(), target.id, &hash).await.in_lang(lang)?;
    let page = edit_page(&state, &ctx, &me.user, target, None, String::new(), lang.t("password-reset-done"))
        .await
        .in_lang(lang)?;
    Ok(page.into_response())
}
