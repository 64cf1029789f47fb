//! The plan page (filters, an SVG timeline, adding and carrying over activities), an
//! activity's page (edit, status, progress notes), and the district's overview of its communes'
//! roadmaps and overdue activities.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use danvan_domain::access::Action;
use danvan_domain::plan::{is_overdue, ActivityInput, ActivityStatus};
use danvan_domain::text;
use danvan_domain::units::Unit;
use danvan_domain::workflow::State;
use danvan_store::{Activity, StoredScheme};
use serde::Deserialize;

use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::i18n::Lang;
use crate::shell::today;
use crate::shell::AppState;
use crate::shell::{find_scheme, Layout, PageCtx};

// ---- pages ---------------------------------------------------------------------------------

use super::activity_in;
use super::api::note_text;
use super::api::parse_status;
use super::scheme_and_year;
use super::ORGANISATIONS;
use crate::shell::parse_date;

pub struct ActivityRow {
    pub href: String,
    pub title: String,
    pub targets: String,
    pub lead_org: String,
    pub dates: String,
    pub status: String,
    pub status_class: &'static str,
    pub overdue: bool,
}

#[derive(Deserialize, Default)]
pub struct PlanFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub overdue: String,
    pub done: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/plan.html")]
pub struct PlanPage {
    layout: Layout,
    action: String,
    unit_name: String,
    scheme_title: String,
    year: i32,
    years: Vec<(i32, String)>,
    rows: Vec<ActivityRow>,
    total: usize,
    timeline: String,
    filter: PlanFilter,
    statuses: Vec<(&'static str, String)>,
    orgs: Vec<String>,
    /// The organisations an activity may name: the bloc's.
    offered: Vec<String>,
    targets: Vec<(String, String)>,
    editable: bool,
    problems: Vec<String>,
    message: String,
    form: ActivityForm,
    roadmap_href: String,
    /// The plan's place in the workflow: its label and class, the reason of a return.
    plan_state: String,
    plan_state_class: String,
    plan_reason: String,
    plan_late: bool,
    /// The unit may send the plan, or revise an approved one.
    can_submit: bool,
    can_revise: bool,
    /// For the shared decision block (approve, return, reopen).
    can_decide: bool,
    can_reopen: bool,
    version: i64,
    doc_kind: &'static str,
}

/// What the add/edit form shows.
#[derive(Default)]
pub struct ActivityForm {
    pub title: String,
    pub description: String,
    pub targets: Vec<String>,
    pub lead_org: String,
    pub supporting_orgs: String,
    pub responsible: String,
    pub start: String,
    pub due: String,
}

impl ActivityForm {
    /// Whether an organisation is among the supporting ones.
    pub fn supports(&self, org: &str) -> bool {
        self.supporting_orgs.split([',', ';']).any(|o| o.trim() == org)
    }

    /// A new activity's form: the whole year.
    pub(crate) fn blank(year: i32) -> Self {
        Self {
            start: NaiveDate::from_ymd_opt(year, 1, 1).map(|d| d.to_string()).unwrap_or_default(),
            due: NaiveDate::from_ymd_opt(year, 12, 31).map(|d| d.to_string()).unwrap_or_default(),
            ..Default::default()
        }
    }

    fn of(i: &ActivityInput) -> Self {
        Self {
            title: i.title.clone(),
            description: i.description.clone(),
            targets: i.targets.clone(),
            lead_org: i.lead_org.clone(),
            supporting_orgs: i.supporting_orgs.join(", "),
            responsible: i.responsible.clone(),
            start: i.start.to_string(),
            due: i.due.to_string(),
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v.clone(),
                "description" => f.description = v.clone(),
                "targets" => f.targets.push(v.clone()),
                "lead_org" => f.lead_org = v.clone(),
                "supporting_orgs" if f.supporting_orgs.is_empty() => f.supporting_orgs = v.clone(),
                "supporting_orgs" => f.supporting_orgs = format!("{}, {v}", f.supporting_orgs),
                "responsible" => f.responsible = v.clone(),
                "start" => f.start = v.clone(),
                "due" => f.due = v.clone(),
                _ => {}
            }
        }
        f
    }

    /// The input the form holds, or what is wrong with its dates.
    fn input(&self) -> Result<ActivityInput, Vec<String>> {
        let date = |label: &str, s: &str| {
            parse_date(s)
                .ok_or_else(|| format!("{label} \"{}\" không phải ngày hợp lệ (ngày/tháng/năm)", s.trim()))
        };
        let (start, due) = (date("ngày bắt đầu", &self.start), date("hạn hoàn thành", &self.due));
        match (start, due) {
            (Ok(start), Ok(due)) => Ok(ActivityInput {
                title: self.title.clone(),
                description: self.description.clone(),
                targets: self.targets.clone(),
                lead_org: self.lead_org.clone(),
                supporting_orgs: self.supporting_orgs.split([',', ';']).map(str::to_string).collect(),
                responsible: self.responsible.clone(),
                start,
                due,
            }),
            (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
        }
    }
}

fn status_label(lang: Lang, s: ActivityStatus) -> String {
    lang.t(&format!("activity-{}", s.as_str()))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn plan_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    year: i32,
    filter: PlanFilter,
    form: ActivityForm,
    problems: Vec<String>,
) -> Result<PlanPage, WebError> {
    let lang = ctx.lang;
    let base = format!("/schemes/{}/units/{}", scheme.def.code, unit.code);
    let all = state.store.activities_of(scheme.id, unit.id, year).await?;
    let now = today();
    let shown: Vec<&Activity> = all
        .iter()
        .filter(|a| filter.status.is_empty() || a.status.as_str() == filter.status)
        .filter(|a| {
            filter.org.is_empty()
                || a.input.lead_org == filter.org
                || a.input.supporting_orgs.contains(&filter.org)
        })
        .filter(|a| filter.target.is_empty() || a.input.targets.contains(&filter.target))
        .filter(|a| filter.overdue.is_empty() || is_overdue(a.status, a.input.due, now))
        .collect();
    let months: [String; 12] =
        std::array::from_fn(|i| lang.t_args("month-short", &[("month", (i + 1).to_string())]));
    let month_refs: [&str; 12] = std::array::from_fn(|i| months[i].as_str());
    let hrefs: Vec<String> = shown.iter().map(|a| format!("{base}/activities/{}", a.id)).collect();
    let bars: Vec<danvan_report::timeline::Bar<'_>> = shown
        .iter()
        .zip(&hrefs)
        .map(|(a, href)| danvan_report::timeline::Bar {
            label: &a.input.title,
            start: a.input.start,
            due: a.input.due,
            status: a.status.as_str(),
            overdue: is_overdue(a.status, a.input.due, now),
            href,
        })
        .collect();
    let timeline = danvan_report::timeline::timeline(year, &bars, now, &month_refs, &lang.t("plan-timeline"));
    let mut orgs: Vec<String> = ORGANISATIONS.iter().map(|s| s.to_string()).collect();
    for a in &all {
        for o in std::iter::once(&a.input.lead_org).chain(&a.input.supporting_orgs) {
            if !orgs.contains(o) {
                orgs.push(o.clone());
            }
        }
    }
    let rows = shown
        .iter()
        .zip(hrefs)
        .map(|(a, href)| ActivityRow {
            href,
            title: a.input.title.clone(),
            targets: a.input.targets.join(", "),
            lead_org: a.input.lead_org.clone(),
            dates: format!("{} – {}", lang.date(a.input.start), lang.date(a.input.due)),
            status: status_label(lang, a.status),
            status_class: a.status.as_str(),
            overdue: is_overdue(a.status, a.input.due, now),
        })
        .collect();
    let message = filter.done.as_deref().map(|d| lang.t(&format!("plan-done-{d}"))).unwrap_or_default();
    let record = state.store.plan_record(scheme.id, unit.id, year).await?;
    let st = record.as_ref().map(|p| p.state);
    let editable = may(state, &user.user, unit.id, Action::Edit).await?;
    let approver = may(state, &user.user, unit.id, Action::Approve).await?;
    Ok(PlanPage {
        layout: Layout::new(ctx, &format!("{} {year}", lang.t("plan-title")), &format!("{base}/plan/{year}")),
        action: format!("{base}/plan/{year}"),
        unit_name: unit.name.clone(),
        scheme_title: scheme.def.title.clone(),
        year,
        years: scheme.def.years().map(|y| (y, format!("{base}/plan/{y}"))).collect(),
        total: all.len(),
        rows,
        timeline,
        statuses: ActivityStatus::ALL.iter().map(|s| (s.as_str(), status_label(lang, *s))).collect(),
        orgs,
        offered: super::organisations_for(state, unit).await?,
        targets: scheme.def.targets.iter().map(|t| (t.code.clone(), t.name.clone())).collect(),
        editable: editable && super::can_submit(record.as_ref()),
        can_submit: editable && super::can_submit(record.as_ref()) && !all.is_empty(),
        can_revise: editable && super::can_revise(record.as_ref()),
        can_decide: approver && st == Some(State::Submitted),
        can_reopen: approver && st == Some(State::Approved),
        version: record.as_ref().map(|p| p.version).unwrap_or(0),
        doc_kind: "plan",
        plan_state: lang.t(&format!("review-state-{}", st.map(State::as_str).unwrap_or("draft"))),
        plan_state_class: st.map(State::as_str).unwrap_or("draft").into(),
        plan_reason: record
            .as_ref()
            .filter(|p| p.state.editable())
            .and_then(|p| p.reason.clone())
            .unwrap_or_default(),
        plan_late: record.as_ref().is_some_and(|p| p.late),
        problems,
        message,
        form,
        filter,
        roadmap_href: format!("{base}/roadmap"),
    })
}

pub async fn show_plan(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, year)): Path<(String, String, i32)>,
    Query(filter): Query<PlanFilter>,
) -> Result<PlanPage, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let form = ActivityForm::blank(year);
    plan_page(&state, &ctx, &user, &scheme, &unit, year, filter, form, Vec::new()).await.in_lang(lang)
}

pub async fn add_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, year)): Path<(String, String, i32)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let form = ActivityForm::read(&pairs);
    let orgs = super::organisations_for(&state, &unit).await.in_lang(lang)?;
    match form.input().and_then(|i| i.cleaned_for(&scheme.def, year, &orgs)) {
        Ok(input) => {
            state
                .store
                .create_activity(&user.actor(), scheme.id, unit.id, year, &input)
                .await
                .in_lang(lang)?;
            Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{year}?done=added", scheme.def.code))
                .into_response())
        }
        Err(problems) => {
            let page =
                plan_page(&state, &ctx, &user, &scheme, &unit, year, PlanFilter::default(), form, problems)
                    .await
                    .in_lang(lang)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// "Copy last year's plan": carries over last year's unfinished activities.
pub async fn copy_plan(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, year)): Path<(String, String, i32)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let n = state.store.copy_unfinished(&user.actor(), scheme.id, unit.id, year).await.in_lang(lang)?;
    let done = if n == 0 { "copied-none" } else { "copied" };
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{year}?done={done}", scheme.def.code))
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/activity.html")]
pub struct ActivityPage {
    layout: Layout,
    action: String,
    plan_href: String,
    unit_name: String,
    version: i64,
    status: String,
    status_class: &'static str,
    overdue: bool,
    cancel_reason: String,
    /// The day it was done, shown and as the form's value (yyyy-mm-dd).
    done_on: String,
    done_on_value: String,
    form: ActivityForm,
    statuses: Vec<(&'static str, String)>,
    /// The organisations an activity may name: the bloc's.
    offered: Vec<String>,
    targets: Vec<(String, String)>,
    notes: Vec<(String, String)>,
    /// (name, size, href) of each evidence file.
    files: Vec<(String, String, String)>,
    today: String,
    editable: bool,
    problems: Vec<String>,
    message: String,
}

#[allow(clippy::too_many_arguments)]
async fn activity_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    a: &Activity,
    form: Option<ActivityForm>,
    problems: Vec<String>,
    message: String,
) -> Result<ActivityPage, WebError> {
    let lang = ctx.lang;
    let base = format!("/schemes/{}/units/{}", scheme.def.code, unit.code);
    let notes = state.store.activity_notes(a.id).await?;
    Ok(ActivityPage {
        layout: Layout::new(ctx, &a.input.title, &format!("{base}/activities/{}", a.id)),
        action: format!("{base}/activities/{}", a.id),
        plan_href: format!("{base}/plan/{}", a.year),
        unit_name: unit.name.clone(),
        version: a.version,
        status: status_label(lang, a.status),
        status_class: a.status.as_str(),
        overdue: is_overdue(a.status, a.input.due, today()),
        done_on: a.done_on.map(|d| lang.date(d)).unwrap_or_default(),
        done_on_value: a.done_on.map(|d| d.to_string()).unwrap_or_default(),
        cancel_reason: a.cancel_reason.clone().unwrap_or_default(),
        form: form.unwrap_or_else(|| ActivityForm::of(&a.input)),
        statuses: ActivityStatus::ALL.iter().map(|s| (s.as_str(), status_label(lang, *s))).collect(),
        offered: super::organisations_for(state, unit).await?,
        targets: scheme.def.targets.iter().map(|t| (t.code.clone(), t.name.clone())).collect(),
        notes: notes.into_iter().map(|n| (lang.date(n.on_date), n.text)).collect(),
        files: state
            .store
            .activity_files(a.id)
            .await?
            .into_iter()
            .map(|f| {
                let kb = danvan_domain::scheme::format_number((f.size as f64 / 1024.0).ceil());
                (f.filename, format!("{kb} KB"), format!("{base}/activities/{}/files/{}", a.id, f.id))
            })
            .collect(),
        today: today().to_string(),
        editable: may(state, &user.user, unit.id, Action::Edit).await?,
        problems,
        message,
    })
}

pub async fn show_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Query(q): Query<crate::shell::MessageQuery>,
) -> Result<ActivityPage, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let a = activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let message = q.done.map(|d| lang.t(&format!("plan-done-{d}"))).unwrap_or_default();
    activity_page(&state, &ctx, &user, &scheme, &unit, &a, None, Vec::new(), message).await.in_lang(lang)
}

/// What an activity form post came to: back to the activity, or its page again with why not.
async fn after(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &StoredScheme,
    unit: &Unit,
    id: i64,
    result: Result<&'static str, (Vec<String>, Option<ActivityForm>)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    match result {
        Ok(done) => Ok(Redirect::to(&format!(
            "/schemes/{}/units/{}/activities/{id}?done={done}",
            scheme.def.code, unit.code
        ))
        .into_response()),
        Err((problems, form)) => {
            let a = activity_in(state, scheme, unit, id).await.in_lang(lang)?;
            let page = activity_page(state, ctx, user, scheme, unit, &a, form, problems, String::new())
                .await
                .in_lang(lang)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

fn refusal(e: danvan_store::StoreError) -> Result<Vec<String>, WebError> {
    match e {
        danvan_store::StoreError::Invalid(m) | danvan_store::StoreError::Conflict(m) => Ok(vec![m]),
        other => Err(other.into()),
    }
}

pub async fn update_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let a = activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let form = ActivityForm::read(&pairs);
    let version = pairs.iter().find(|(k, _)| k == "version").and_then(|(_, v)| v.parse().ok()).unwrap_or(-1);
    let orgs = super::organisations_for(&state, &unit).await.in_lang(lang)?;
    let result = match form.input().and_then(|i| i.cleaned_for(&scheme.def, a.year, &orgs)) {
        Ok(input) => match state.store.update_activity(&user.actor(), id, version, &input).await {
            Ok(_) => Ok("updated"),
            Err(e) => Err((refusal(e).in_lang(lang)?, Some(form))),
        },
        Err(problems) => Err((problems, Some(form))),
    };
    after(&state, &ctx, &user, &scheme, &unit, id, result).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    pub status: String,
    #[serde(default)]
    pub reason: String,
    pub version: Option<i64>,
    /// When done: the day it was done (dd/mm/yyyy or yyyy-mm-dd; today when empty).
    #[serde(default)]
    pub done_on: String,
}

pub async fn change_status(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let status = parse_status(&form.status).in_lang(lang)?;
    let reason = text::clean(&form.reason);
    let done_on = crate::shell::parse_on(Some(&form.done_on)).in_lang(lang)?;
    let result = match state
        .store
        .set_activity_status(&user.actor(), id, form.version, status, Some(&reason), done_on)
        .await
    {
        Ok(_) => Ok("status"),
        Err(e) => Err((refusal(e).in_lang(lang)?, None)),
    };
    after(&state, &ctx, &user, &scheme, &unit, id, result).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    pub on: String,
    pub text: String,
}

pub async fn add_note(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, id)): Path<(String, String, i64)>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    let on = parse_date(&form.on).ok_or_else(|| format!("ngày \"{}\" không hợp lệ", form.on.trim()));
    let result = match (on, note_text(&form.text)) {
        (Ok(on), Ok(text)) => {
            state.store.add_activity_note(&user.actor(), id, on, &text).await.in_lang(lang)?;
            Ok("noted")
        }
        (a, b) => Err(([a.err(), b.err()].into_iter().flatten().collect(), None)),
    };
    after(&state, &ctx, &user, &scheme, &unit, id, result).await
}

pub async fn delete_activity(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, id)): Path<(String, String, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let a = activity_in(&state, &scheme, &unit, id).await.in_lang(lang)?;
    state.store.delete_activity(&user.actor(), id).await.in_lang(lang)?;
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{}?done=deleted", scheme.def.code, a.year))
        .into_response())
}

// ---- the district's view -------------------------------------------------------------------

pub struct UnitRoadmapRow {
    pub name: String,
    pub href: String,
    pub plan_href: String,
    pub state: String,
    pub state_class: String,
    pub in_force: bool,
    pub late: bool,
}

pub struct OverdueRow {
    pub unit: String,
    pub title: String,
    pub href: String,
    pub due: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/roadmaps.html")]
pub struct OverviewPage {
    layout: Layout,
    unit_name: String,
    scheme_title: String,
    rows: Vec<UnitRoadmapRow>,
    counts: Vec<(String, usize)>,
    overdue: Vec<OverdueRow>,
}

/// The roadmaps (submitted, approved, missing) of every unit under this one, and their
/// overdue activities.
pub async fn overview(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code)): Path<(String, String)>,
) -> Result<OverviewPage, PageError> {
    let lang = ctx.lang;
    let scheme = find_scheme(&state, &scheme).await.in_lang(lang)?;
    let now = today();
    // The units as they were within the scheme's years (a 2017-2020 scheme: before the reform).
    let year = crate::shell::current_year(&scheme.def);
    let on = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(now).min(now);
    let ids = state.store.units_within(unit.id, scheme.def.applies_to, on).await.in_lang(lang)?;
    let roadmaps: BTreeMap<i64, danvan_store::RoadmapSummary> = state
        .store
        .roadmaps_within(scheme.id, unit.id)
        .await
        .in_lang(lang)?
        .into_iter()
        .map(|r| (r.unit_id, r))
        .collect();
    let mut units: Vec<Unit> = state.store.units_by_ids(&ids).await.in_lang(lang)?.into_values().collect();
    units.sort_by(|a, b| danvan_domain::text::compare_vi(&a.name, &b.name));
    let names: BTreeMap<i64, String> = units.iter().map(|u| (u.id, u.name.clone())).collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let rows = units
        .iter()
        .map(|u| {
            let r = roadmaps.get(&u.id);
            let key = r.map_or("not_started", |r| r.state.as_str());
            let label =
                if r.is_none() { lang.t("roadmaps-missing") } else { lang.t(&format!("review-state-{key}")) };
            *counts.entry(label.clone()).or_default() += 1;
            UnitRoadmapRow {
                name: u.name.clone(),
                href: format!("/schemes/{}/units/{}/roadmap", scheme.def.code, u.code),
                plan_href: format!("/schemes/{}/units/{}/plan/{year}", scheme.def.code, u.code),
                state: if r.is_none() {
                    lang.t("roadmaps-missing")
                } else {
                    lang.t(&format!("review-state-{key}"))
                },
                state_class: key.into(),
                in_force: r.is_some_and(|r| r.in_force),
                late: r.is_some_and(|r| r.late),
            }
        })
        .collect();
    let mut overdue = Vec::new();
    for a in state.store.overdue_within(scheme.id, unit.id, now).await.in_lang(lang)? {
        let Some(u) = units.iter().find(|u| u.id == a.unit_id) else { continue };
        overdue.push(OverdueRow {
            unit: names.get(&a.unit_id).cloned().unwrap_or_default(),
            href: format!("/schemes/{}/units/{}/activities/{}", scheme.def.code, u.code, a.id),
            title: a.input.title.clone(),
            due: lang.date(a.input.due),
            status: status_label(lang, a.status),
        });
    }
    Ok(OverviewPage {
        layout: Layout::new(
            &ctx,
            &lang.t("roadmaps-title"),
            &format!("/schemes/{}/units/{code}/roadmaps", scheme.def.code),
        ),
        unit_name: unit.name,
        scheme_title: scheme.def.title,
        rows,
        counts: counts.into_iter().collect(),
        overdue,
    })
}
