//! The roadmap page: the plan by target and year, submitting, deciding, its history.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use danvan_domain::access::Action;
use danvan_domain::roadmap::Roadmap;
use danvan_domain::scheme::{format_number, TargetKind};
use danvan_domain::units::Unit;
use danvan_domain::workflow::{State, Transition};
use danvan_store::StoredScheme;

use super::api::change_state;
use super::api::roadmap_json;
use super::api::save;
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::current_year;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::Outcome;
use crate::shell::{find_scheme, Layout, PageCtx};

// ---- the editor ----------------------------------------------------------------------------

pub struct YearCell {
    pub year: i32,
    pub value: String,
}

pub struct TargetRow {
    pub code: String,
    pub name: String,
    pub criterion: String,
    pub kind: &'static str,
    /// For yes/no and level targets: (value, label) choices.
    pub choices: Vec<(String, String)>,
    pub unit_label: String,
    pub baseline: String,
    pub years: Vec<YearCell>,
    pub meet_year: String,
    pub reason: String,
    /// The plan in force, if it differs, shown beside the draft.
    pub in_force: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "roadmaps/roadmap.html")]
pub struct RoadmapPage {
    layout: Layout,
    action: String,
    unit_name: String,
    scheme_title: String,
    status: String,
    status_class: String,
    late: bool,
    deadline: String,
    reason: String,
    version: i64,
    years: Vec<i32>,
    rows: Vec<TargetRow>,
    baseline_period: String,
    suggested: bool,
    in_force: bool,
    editable: bool,
    can_revise: bool,
    can_decide: bool,
    can_reopen: bool,
    /// For the shared decision block: element ids and messages.
    doc_kind: &'static str,
    problems: Vec<String>,
    message: String,
    history_href: String,
    plan_href: String,
}

fn show_planned(lang: Lang, t: &danvan_domain::scheme::Target, v: f64) -> String {
    match t.kind {
        TargetKind::YesNo => lang.t(if v >= 0.5 { "yes" } else { "no" }),
        TargetKind::Level => t.grades.get(v as usize).cloned().unwrap_or_default(),
        TargetKind::Ratio => format!("{}%", format_number(v)),
        TargetKind::Count => format_number(v),
    }
}

/// The text a cell's input holds for a planned value.
fn cell_text(t: &danvan_domain::scheme::Target, v: f64) -> String {
    match t.kind {
        TargetKind::YesNo | TargetKind::Level => format!("{}", v as i64),
        _ => format_number(v),
    }
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    typed: Option<&BTreeMap<String, String>>,
    problems: Vec<String>,
    message: String,
) -> Result<RoadmapPage, WebError> {
    let lang = ctx.lang;
    let stored = state.store.roadmap(scheme.id, unit.id).await?;
    let json = roadmap_json(state, scheme, unit.id, stored.clone()).await?;
    let can_edit = may(state, &user.user, unit.id, Action::Edit).await?;
    let can_decide = may(state, &user.user, unit.id, Action::Approve).await?;
    let st = stored.as_ref().map(|r| r.state);
    let path = format!("/schemes/{}/units/{}/roadmap", scheme.def.code, unit.code);
    let years: Vec<i32> = scheme.def.years().collect();
    let rows = scheme
        .def
        .targets
        .iter()
        .map(|t| {
            let plan = json.targets.get(&t.code);
            let typed_or =
                |key: String, saved: String| typed.and_then(|m| m.get(&key).cloned()).unwrap_or(saved);
            let choices = match t.kind {
                TargetKind::YesNo => vec![("0".into(), lang.t("no")), ("1".into(), lang.t("yes"))],
                TargetKind::Level => {
                    t.grades.iter().enumerate().map(|(i, g)| (i.to_string(), g.clone())).collect()
                }
                _ => Vec::new(),
            };
            let in_force = json
                .in_force
                .as_ref()
                .and_then(|f| f.get(&t.code))
                .filter(|f| Some(*f) != plan)
                .map(|f| {
                    f.planned
                        .iter()
                        .map(|(y, v)| format!("{y}: {}", show_planned(lang, t, *v)))
                        .collect::<Vec<_>>()
                        .join(" · ")
                })
                .unwrap_or_default();
            TargetRow {
                code: t.code.clone(),
                name: t.name.clone(),
                criterion: t.criterion_text(),
                kind: t.kind.as_str(),
                choices,
                unit_label: match t.kind {
                    TargetKind::Ratio => "%".into(),
                    _ => t.unit_label.clone().unwrap_or_default(),
                },
                baseline: json
                    .baseline
                    .get(&t.code)
                    .map(|v| show_planned(lang, t, *v))
                    .unwrap_or_else(|| "—".into()),
                years: years
                    .iter()
                    .map(|y| YearCell {
                        year: *y,
                        value: typed_or(
                            format!("{}.{y}", t.code),
                            plan.and_then(|p| p.planned.get(y)).map(|v| cell_text(t, *v)).unwrap_or_default(),
                        ),
                    })
                    .collect(),
                meet_year: typed_or(
                    format!("{}.meet_year", t.code),
                    plan.and_then(|p| p.meet_year).map(|y| y.to_string()).unwrap_or_default(),
                ),
                reason: typed_or(
                    format!("{}.reason", t.code),
                    plan.and_then(|p| p.reason.clone()).unwrap_or_default(),
                ),
                in_force,
            }
        })
        .collect();
    Ok(RoadmapPage {
        layout: Layout::new(ctx, &lang.t("roadmap-title"), &path),
        history_href: stored
            .as_ref()
            .map(|_| format!("/schemes/{}/units/{}/roadmap/history", scheme.def.code, unit.code))
            .unwrap_or_default(),
        plan_href: format!(
            "/schemes/{}/units/{}/plan/{}",
            scheme.def.code,
            unit.code,
            current_year(&scheme.def)
        ),
        action: path,
        unit_name: unit.name.clone(),
        scheme_title: scheme.def.title.clone(),
        status: lang.t(&format!("review-state-{}", json.status)),
        status_class: json.status.clone(),
        late: json.late,
        deadline: lang.date(json.deadline),
        reason: json.reason.clone().unwrap_or_default(),
        version: json.version,
        years,
        rows,
        baseline_period: json.baseline_period.clone().unwrap_or_default(),
        suggested: stored.is_none(),
        in_force: json.in_force.is_some(),
        editable: can_edit && st.is_none_or(State::editable),
        can_revise: can_edit && st == Some(State::Approved),
        can_decide: can_decide && st == Some(State::Submitted),
        can_reopen: can_decide && st == Some(State::Approved),
        doc_kind: "roadmap",
        problems,
        message,
    })
}

pub async fn show(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<crate::shell::MessageQuery>,
) -> Result<RoadmapPage, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let message = q.done.map(|d| lang.t(&format!("roadmap-done-{d}"))).unwrap_or_default();
    page(&state, &ctx, &user, &scheme, &unit, None, Vec::new(), message).await.in_lang(lang)
}

/// Reads the editor: `{code}.{year}`, `{code}.meet_year`, `{code}.reason`, `version`, `intent`.
fn read_form(
    def: &danvan_domain::scheme::SchemeDef,
    pairs: &[(String, String)],
) -> (i64, Roadmap, Vec<String>, Option<String>, BTreeMap<String, String>) {
    let mut version = 0;
    let mut intent = None;
    let mut plan = Roadmap::default();
    let mut problems = Vec::new();
    let mut typed = BTreeMap::new();
    for (k, v) in pairs {
        match k.as_str() {
            "version" => version = v.trim().parse().unwrap_or(-1),
            "intent" => intent = Some(v.clone()),
            _ => {
                let Some((code, field)) = k.rsplit_once('.') else { continue };
                let Some(t) = def.targets.iter().find(|t| t.code == code) else { continue };
                typed.insert(k.clone(), v.clone());
                let entry = plan.targets.entry(code.to_string()).or_default();
                let v = v.trim();
                match field {
                    "reason" => entry.reason = Some(v.to_string()).filter(|r| !r.is_empty()),
                    "meet_year" if !v.is_empty() => match v.parse() {
                        Ok(y) => entry.meet_year = Some(y),
                        Err(_) => problems.push(format!("Chỉ tiêu {code}: năm đạt \"{v}\" không hợp lệ")),
                    },
                    year if !v.is_empty() => {
                        let Ok(year) = year.parse::<i32>() else { continue };
                        match danvan_domain::value::parse_number(v) {
                            Ok(n) => {
                                entry.planned.insert(year, n);
                            }
                            Err(e) => problems.push(format!("Chỉ tiêu {code} ({}), năm {year}: {e}", t.name)),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    plan.targets.retain(|_, p| !p.planned.is_empty() || p.meet_year.is_some() || p.reason.is_some());
    (version, plan, problems, intent, typed)
}

pub async fn submit_form(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let here = format!("/schemes/{}/units/{}/roadmap", scheme.def.code, unit.code);
    let (version, plan, problems, intent, typed) = read_form(&scheme.def, &pairs);
    let refused = |problems: Vec<String>, status: StatusCode, typed: Option<BTreeMap<String, String>>| {
        let (state, ctx, user, scheme, unit) = (&state, &ctx, &user, &scheme, &unit);
        async move {
            let page = page(state, ctx, user, scheme, unit, typed.as_ref(), problems, String::new())
                .await
                .in_lang(lang)?;
            Ok::<_, PageError>((status, page).into_response())
        }
    };
    if intent.as_deref() == Some("revise") {
        return match change_state(&state, &user, &scheme, &unit, Transition::Revise, None, Some(version))
            .await
            .in_lang(lang)?
        {
            Outcome::Done(_) => Ok(Redirect::to(&format!("{here}?done=revise")).into_response()),
            Outcome::Invalid(p) => refused(p, StatusCode::UNPROCESSABLE_ENTITY, None).await,
            Outcome::Conflict(m, _) => refused(vec![m], StatusCode::CONFLICT, None).await,
        };
    }
    if !problems.is_empty() {
        return refused(problems, StatusCode::UNPROCESSABLE_ENTITY, Some(typed)).await;
    }
    match save(&state, &user, &scheme, &unit, version, plan).await.in_lang(lang)? {
        Outcome::Done(saved) => {
            if intent.as_deref() != Some("submit") {
                return Ok(Redirect::to(&format!("{here}?done=saved")).into_response());
            }
            match change_state(&state, &user, &scheme, &unit, Transition::Submit, None, Some(saved.version))
                .await
                .in_lang(lang)?
            {
                Outcome::Done(_) => Ok(Redirect::to(&format!("{here}?done=submit")).into_response()),
                Outcome::Invalid(p) => {
                    let mut all = vec![lang.t("review-saved-not-submitted")];
                    all.extend(p);
                    refused(all, StatusCode::UNPROCESSABLE_ENTITY, None).await
                }
                Outcome::Conflict(m, _) => refused(vec![m], StatusCode::CONFLICT, None).await,
            }
        }
        Outcome::Invalid(p) => refused(p, StatusCode::UNPROCESSABLE_ENTITY, Some(typed)).await,
        Outcome::Conflict(m, _) => {
            refused(vec![m, lang.t("review-conflict-help")], StatusCode::CONFLICT, Some(typed)).await
        }
    }
}

/// Approve, return or reopen, from the roadmap page.
pub async fn decide(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Form(form): Form<crate::shell::DecideForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let t = match Transition::parse(&form.intent) {
        Some(t) if !t.by_unit() => t,
        _ => return Err(WebError::BadRequest("thao tác không hợp lệ".into())).in_lang(lang),
    };
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let (status, problems) =
        match change_state(&state, &user, &scheme, &unit, t, reason, form.version).await.in_lang(lang)? {
            Outcome::Done(_) => {
                let done =
                    format!("/schemes/{}/units/{}/roadmap?done={}", scheme.def.code, unit.code, t.as_str());
                return Ok(Redirect::to(&done).into_response());
            }
            Outcome::Invalid(p) => (StatusCode::UNPROCESSABLE_ENTITY, p),
            Outcome::Conflict(m, _) => (StatusCode::CONFLICT, vec![m]),
        };
    let page =
        page(&state, &ctx, &user, &scheme, &unit, None, problems, String::new()).await.in_lang(lang)?;
    Ok((status, page).into_response())
}

/// The history of a unit's roadmap.
pub async fn history(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let r = state
        .store
        .roadmap(scheme.id, unit.id)
        .await
        .in_lang(lang)?
        .ok_or_else(|| WebError::NotFound("đơn vị chưa có lộ trình".into()))
        .in_lang(lang)?;
    let events = state.store.entity_history("roadmap", &r.id.to_string()).await.in_lang(lang)?;
    let back = format!("/schemes/{}/units/{code}/roadmap", scheme.def.code);
    let heading = format!("{} · {}", unit.name, lang.t("roadmap-title"));
    crate::shell::history::history_page(&state, &ctx, heading, back, events)
        .await
        .in_lang(lang)
        .map(IntoResponse::into_response)
}
