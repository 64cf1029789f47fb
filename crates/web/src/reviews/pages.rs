//! The review pages: a unit's reviews by period, the review form (phone-sized), the read view
//! with achievement badges and history, and the approver's inbox with bulk approval.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use danvan_domain::access::Action;
use danvan_domain::achievement::assess;
use danvan_domain::period::scheme_periods;
use danvan_domain::scheme::Source;
use danvan_domain::workflow::{State, Transition};
use danvan_store::{Narrative, Review, StoredScheme};

use super::api::{change_state, save, SaveBody, ValueJson, Which};
use crate::shell::auth::{may, CurrentUser, ScopedUnit};
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::files::attachment;
use crate::shell::format::show_milli;
use crate::shell::format::show_value;
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::DecideForm;
use crate::shell::MessageQuery;
use crate::shell::{scheme_and_period, Outcome};
use crate::shell::{Layout, PageCtx};

fn status_label(lang: Lang, state: Option<State>) -> String {
    lang.t(&format!("review-state-{}", state.map(State::as_str).unwrap_or("not_started")))
}

// ---- the list ------------------------------------------------------------------------------

pub struct PeriodRow {
    pub period: String,
    pub href: String,
    pub status: String,
    pub status_class: String,
    pub deadline: String,
    pub late: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/reviews.html")]
pub struct ReviewsPage {
    layout: Layout,
    unit_name: String,
    scheme_title: String,
    rows: Vec<PeriodRow>,
}

pub async fn list(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code)): Path<(String, String)>,
) -> Result<ReviewsPage, PageError> {
    let lang = ctx.lang;
    let scheme = crate::shell::find_scheme(&state, &scheme).await.in_lang(lang)?;
    let existing = state.store.reviews_within(scheme.id, unit.id, None).await.in_lang(lang)?;
    let rows = scheme_periods(&scheme.def)
        .into_iter()
        .map(|p| {
            let key = p.to_string();
            let r = existing.iter().find(|r| r.unit_id == unit.id && r.period == key);
            PeriodRow {
                href: format!("/schemes/{}/units/{code}/reviews/{key}", scheme.def.code),
                status: status_label(lang, r.map(|r| r.state)),
                status_class: r.map(|r| r.state.as_str()).unwrap_or("not_started").into(),
                deadline: lang.date(p.deadline(scheme.def.report_deadline_days)),
                late: r.is_some_and(|r| r.late),
                period: key,
            }
        })
        .collect();
    Ok(ReviewsPage {
        layout: Layout::new(
            &ctx,
            &lang.t("reviews-title"),
            &format!("/schemes/{}/units/{code}/reviews", scheme.def.code),
        ),
        unit_name: unit.name,
        scheme_title: scheme.def.title,
        rows,
    })
}

// ---- the form and read view ----------------------------------------------------------------

pub struct TargetField {
    pub code: String,
    pub name: String,
    pub criterion: String,
    pub kind: &'static str,
    pub computed: bool,
    /// For a computed target: the page of the records it is counted from.
    pub records_href: String,
    pub evidence_required: bool,
    pub numerator_label: String,
    pub denominator_label: String,
    pub unit_label: String,
    pub grades: Vec<String>,
    /// What the form shows: the saved value or what was just typed.
    pub numerator: String,
    pub denominator: String,
    pub count: String,
    pub yes: Option<bool>,
    pub level: String,
    pub note: String,
    pub status: String,
    pub status_class: String,
    /// The value as the criterion states it ("94,9%", "3 lần"); empty for yes/no and levels.
    pub measured: String,
    /// Percent of the roadmap's plan for the period reached, when there is a plan.
    pub of_plan: String,
    /// When someone else saved first: what they saved, if it differs.
    pub theirs: String,
    pub evidence: Vec<EvidenceLink>,
    /// Whether a value is entered (or counted from records).
    pub entered: bool,
    /// What is wrong with this target's entry, shown at its field.
    pub problems: Vec<String>,
    /// The approver's comments on this target, from the reason of a return.
    pub comments: Vec<String>,
}

pub struct EvidenceLink {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub href: String,
}

pub struct GroupFields {
    pub code: String,
    pub name: String,
    pub targets: Vec<TargetField>,
    /// "2/4 đã nhập".
    pub progress: String,
}

impl GroupFields {
    /// How many of the group's targets have a value.
    pub fn entered(&self) -> usize {
        self.targets.iter().filter(|t| t.entered).count()
    }
}

/// A message of the page, linked to the target it is about (`href` empty otherwise).
pub struct ProblemLine {
    pub href: String,
    pub text: String,
}

impl std::fmt::Display for ProblemLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Messages linked to their targets' fields, and each target's own messages beside it.
fn place_problems(groups: &mut [GroupFields], problems: Vec<String>) -> Vec<ProblemLine> {
    problems
        .into_iter()
        .map(|text| {
            let codes = groups.iter().flat_map(|g| g.targets.iter().map(|t| t.code.as_str()));
            let code = danvan_domain::workflow::target_of_problem(&text, codes).map(str::to_string);
            let href = code.as_deref().map(|c| format!("#t-{c}")).unwrap_or_default();
            if let Some(t) =
                groups.iter_mut().flat_map(|g| g.targets.iter_mut()).find(|t| Some(&t.code) == code.as_ref())
            {
                t.problems.push(text.clone());
            }
            ProblemLine { href, text }
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/review.html")]
pub struct ReviewPage {
    layout: Layout,
    action: String,
    unit_name: String,
    scheme_title: String,
    period: String,
    deadline: String,
    status: String,
    status_class: String,
    late: bool,
    reason: String,
    version: i64,
    editable: bool,
    can_decide: bool,
    can_reopen: bool,
    /// For the shared decision block: element ids and messages.
    doc_kind: &'static str,
    sample: bool,
    groups: Vec<GroupFields>,
    narrative: Narrative,
    problems: Vec<ProblemLine>,
    /// What the review still lacks before it can be sent (shown beside "Gửi duyệt").
    missing: Vec<ProblemLine>,
    /// Where the page's script sends a file picked, in the background.
    evidence_api: String,
    /// The words the page's script says (data attributes of the form).
    js_words: Vec<(&'static str, String)>,
    message: String,
    history_href: String,
    /// Whether the review exists (files can be attached only then).
    started: bool,
    /// While approved: which roadmap version judged it.
    judged_by: String,
    /// Whether computed targets are kept as frozen at an approval (not counted live).
    computed_kept: bool,
    /// Where to recompute them, when the user may (empty otherwise).
    recompute_href: String,
    /// The period's entry has closed for the unit: why (empty while open).
    locked: String,
    /// Where the approver reopens it (empty for others).
    reopen_entry: String,
}

/// The form's fields from a review, overlaid with what was typed (after a refused save).
#[allow(clippy::too_many_arguments)]
fn fields(
    lang: Lang,
    scheme: &StoredScheme,
    values: &BTreeMap<String, danvan_store::Entry>,
    typed: Option<&SaveBody>,
    theirs: Option<&Review>,
    evidence: &[danvan_store::Evidence],
    base: &str,
    planned: &dyn Fn(&str) -> Option<f64>,
    records: &dyn Fn(&danvan_domain::scheme::Target) -> String,
) -> Vec<GroupFields> {
    use danvan_domain::value::Value;
    let text = |v: &Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let shown = |e: Option<&danvan_store::Entry>, t: &danvan_domain::scheme::Target| {
        show_value(lang, t, e.and_then(|e| e.value.as_ref()))
    };
    scheme
        .def
        .groups
        .iter()
        .map(|g| GroupFields {
            code: g.code.clone(),
            name: g.name.clone(),
            progress: String::new(),
            targets: scheme
                .def
                .targets_of(&g.code)
                .map(|t| {
                    let saved = values.get(&t.code);
                    let a = assess(t, saved.and_then(|e| e.value.as_ref()), planned(&t.code));
                    let mut f = TargetField {
                        code: t.code.clone(),
                        name: t.name.clone(),
                        criterion: t.criterion_text(),
                        kind: t.kind.as_str(),
                        computed: matches!(t.source, Source::Computed(_)),
                        records_href: records(t),
                        evidence_required: t.evidence_required,
                        numerator_label: t
                            .numerator_label
                            .clone()
                            .unwrap_or_else(|| lang.t("review-numerator")),
                        denominator_label: t
                            .denominator_label
                            .clone()
                            .unwrap_or_else(|| lang.t("review-denominator")),
                        unit_label: t.unit_label.clone().unwrap_or_default(),
                        grades: t.grades.clone(),
                        numerator: String::new(),
                        denominator: String::new(),
                        count: String::new(),
                        yes: None,
                        level: String::new(),
                        note: saved.and_then(|e| e.note.clone()).unwrap_or_default(),
                        status: lang.t(&format!("achievement-{}", a.status.as_str())),
                        status_class: a.status.as_str().into(),
                        measured: a.value.map(|v| t.measure_text(v)).unwrap_or_default(),
                        of_plan: a
                            .percent_of_plan
                            .map(|p| {
                                let p = danvan_domain::scheme::format_number((p * 10.0).floor() / 10.0);
                                lang.t_args("review-of-plan", &[("percent", p)])
                            })
                            .unwrap_or_default(),
                        theirs: String::new(),
                        evidence: evidence
                            .iter()
                            .filter(|e| e.target_code == t.code)
                            .map(|e| EvidenceLink {
                                name: e.filename.clone(),
                                size: format!(
                                    "{} KB",
                                    danvan_domain::scheme::format_number((e.size as f64 / 1024.0).ceil())
                                ),
                                href: format!("{base}/evidence/{}", e.id),
                                id: e.id,
                            })
                            .collect(),
                        entered: false,
                        problems: Vec::new(),
                        comments: Vec::new(),
                    };
                    match saved.and_then(|e| e.value.as_ref()) {
                        Some(Value::Ratio { numerator, denominator }) => {
                            f.numerator = show_milli(*numerator);
                            f.denominator = show_milli(*denominator);
                        }
                        Some(Value::Count { count }) => f.count = show_milli(*count),
                        Some(Value::YesNo { yes }) => f.yes = Some(*yes),
                        Some(Value::Level { grade }) => {
                            f.level = t.grades.get(*grade).cloned().unwrap_or_default()
                        }
                        None => {}
                    }
                    if let Some(v) = typed.and_then(|b| b.values.get(&t.code)) {
                        f.numerator = text(&v.numerator);
                        f.denominator = text(&v.denominator);
                        f.count = text(&v.count);
                        f.yes = v.yes;
                        f.level = v.level.clone().unwrap_or_default();
                        f.note = v.note.clone().unwrap_or_default();
                    }
                    f.entered = f.computed
                        || !(f.numerator.is_empty()
                            && f.count.is_empty()
                            && f.yes.is_none()
                            && f.level.is_empty());
                    if let Some(other) = theirs {
                        let mine = shown(saved, t);
                        let their = shown(other.values.get(&t.code), t);
                        if mine != their {
                            f.theirs = if their.is_empty() { "—".into() } else { their };
                        }
                    }
                    f
                })
                .collect(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn review_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    which: Which<'_>,
    review: Option<&Review>,
    typed: Option<&SaveBody>,
    theirs: Option<&Review>,
    problems: Vec<String>,
    message: String,
) -> Result<ReviewPage, WebError> {
    let Which { scheme, period, unit } = which;
    let lang = ctx.lang;
    let can_edit = may(state, &user.user, unit.id, Action::Edit).await?;
    let can_decide = may(state, &user.user, unit.id, Action::Approve).await?;
    let st = review.map(|r| r.state);
    let path = format!("/schemes/{}/units/{}/reviews/{period}", scheme.def.code, unit.code);
    let evidence = match review {
        Some(r) => state.store.evidence_of(r.id).await?,
        None => Vec::new(),
    };
    let plan = state.store.plan_in_force(scheme.id, unit.id).await?;
    let values = state.store.values_now(scheme, unit.id, period, review).await?;
    let mut groups = fields(
        lang,
        scheme,
        &values,
        typed,
        theirs,
        &evidence,
        &path,
        &|code| danvan_store::planned_for(review, plan.as_ref(), code, period.year),
        &|t| super::api::records_href(t, &scheme.def.code, &unit.code, period.year),
    );
    if let Some(reason) = review.filter(|r| r.state.editable()).and_then(|r| r.reason.as_deref()) {
        let codes = scheme.def.targets.iter().map(|t| t.code.as_str());
        for (code, text) in danvan_domain::workflow::target_comments(reason, codes) {
            if let Some(t) = groups.iter_mut().flat_map(|g| g.targets.iter_mut()).find(|t| t.code == code) {
                t.comments.push(text);
            }
        }
    }
    for g in &mut groups {
        let args = [("entered", g.entered().to_string()), ("total", g.targets.len().to_string())];
        g.progress = lang.t_args("review-group-progress", &args);
    }
    let locked = super::api::entry_closed(state, scheme, period, unit.id).await?.unwrap_or_default();
    let editable = can_edit && st.is_none_or(State::editable) && locked.is_empty();
    let missing = if editable {
        let missing = danvan_domain::workflow::missing_for_submit(
            &scheme.def.targets,
            |c| values.get(c).is_some_and(|e| e.value.is_some()),
            |c| evidence.iter().any(|e| e.target_code == c),
        );
        let codes = scheme.def.targets.iter().map(|t| t.code.as_str());
        missing
            .into_iter()
            .map(|text| {
                let code = danvan_domain::workflow::target_of_problem(&text, codes.clone());
                ProblemLine { href: code.map(|c| format!("#t-{c}")).unwrap_or_default(), text }
            })
            .collect()
    } else {
        Vec::new()
    };
    let problems = place_problems(&mut groups, problems);
    let name = || [("name", "{name}".to_string()), ("reason", "{reason}".to_string())];
    let target = || [("code", "{code}".to_string()), ("name", "{name}".to_string())];
    let js_words = vec![
        ("leave", lang.t("unsaved-leave")),
        ("uploading", lang.t_args("evidence-uploading", &name())),
        ("uploaded", lang.t_args("evidence-uploaded", &name())),
        ("failed", lang.t_args("evidence-upload-failed", &name())),
        ("delete-label", lang.t("evidence-delete")),
        ("delete-confirm", lang.t("evidence-delete-confirm")),
        ("missing-title", lang.t("review-missing")),
        ("missing-value", lang.t_args("review-missing-value", &target())),
        ("missing-evidence", lang.t_args("review-missing-evidence", &target())),
    ];
    Ok(ReviewPage {
        missing,
        js_words,
        evidence_api: format!(
            "/api/v1/schemes/{}/units/{}/reviews/{period}/evidence",
            scheme.def.code, unit.code
        ),
        layout: Layout::new(ctx, &format!("{} · {period}", lang.t("review-title")), &path),
        history_href: review.map(|r| format!("{path}/history?id={}", r.id)).unwrap_or_default(),
        action: path.clone(),
        unit_name: unit.name.clone(),
        scheme_title: scheme.def.title.clone(),
        period: period.to_string(),
        deadline: lang.date(period.deadline(scheme.def.report_deadline_days)),
        status: status_label(lang, st),
        status_class: st.map(State::as_str).unwrap_or("not_started").into(),
        late: review.is_some_and(|r| r.late),
        reason: review.and_then(|r| r.reason.clone()).unwrap_or_default(),
        version: theirs.or(review).map(|r| r.version).unwrap_or(0),
        editable,
        can_decide: can_decide && st == Some(State::Submitted),
        doc_kind: "review",
        can_reopen: can_decide && st == Some(State::Approved),
        sample: scheme.def.sample,
        groups,
        started: review.is_some(),
        judged_by: match review.filter(|r| r.state == State::Approved).and_then(|r| r.judged_plan.as_ref()) {
            Some(danvan_store::JudgedPlan { version: Some(v), approved_at, .. }) => lang.t_args(
                "review-judged-by",
                &[
                    ("version", v.to_string()),
                    (
                        "date",
                        approved_at.map(|d| lang.date(crate::shell::dates::vn_day(d))).unwrap_or_default(),
                    ),
                ],
            ),
            Some(_) => lang.t("review-judged-none"),
            None => String::new(),
        },
        reopen_entry: if can_decide && !locked.is_empty() { format!("{path}/entry") } else { String::new() },
        locked,
        computed_kept: review.is_some_and(|r| r.frozen_at.is_some()),
        recompute_href: if can_edit && review.is_some_and(|r| r.frozen_at.is_some() && r.state.editable()) {
            format!("{path}/recompute")
        } else {
            String::new()
        },
        narrative: typed
            .and_then(|b| b.narrative.clone())
            .or_else(|| review.map(|r| r.narrative.clone()))
            .unwrap_or_default(),
        problems,
        message,
    })
}

pub async fn show(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
    Query(q): Query<MessageQuery>,
) -> Result<ReviewPage, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let review = state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
    let message = q.done.map(|d| lang.t(&format!("review-done-{d}"))).unwrap_or_default();
    let which = Which { scheme: &scheme, period: &period, unit: &unit };
    review_page(&state, &ctx, &user, which, review.as_ref(), None, None, Vec::new(), message)
        .await
        .in_lang(lang)
}

/// Reads the form: `{code}.numerator`, `{code}.denominator`, `{code}.count`, `{code}.yes`
/// ("yes"/"no"), `{code}.level`, `{code}.note`, `results`, `limitations`, `next_tasks`, `version`.
fn read_form(pairs: &[(String, String)]) -> (SaveBody, Option<String>) {
    let mut values: BTreeMap<String, ValueJson> = BTreeMap::new();
    let mut narrative = Narrative::default();
    let mut version = 0;
    let mut intent = None;
    for (k, v) in pairs {
        let nonempty = || (!v.trim().is_empty()).then(|| v.clone());
        match k.as_str() {
            "version" => version = v.trim().parse().unwrap_or(-1),
            "results" => narrative.results = v.clone(),
            "limitations" => narrative.limitations = v.clone(),
            "next_tasks" => narrative.next_tasks = v.clone(),
            "intent" => intent = Some(v.clone()),
            _ => {
                let Some((code, field)) = k.rsplit_once('.') else { continue };
                let e = values.entry(code.to_string()).or_default();
                match field {
                    "numerator" => e.numerator = nonempty().map(serde_json::Value::String),
                    "denominator" => e.denominator = nonempty().map(serde_json::Value::String),
                    "count" => e.count = nonempty().map(serde_json::Value::String),
                    "yes" => {
                        e.yes = match v.as_str() {
                            "yes" => Some(true),
                            "no" => Some(false),
                            _ => None,
                        }
                    }
                    "level" => e.level = nonempty(),
                    "note" => e.note = nonempty(),
                    _ => {}
                }
            }
        }
    }
    (SaveBody { version, values, narrative: Some(narrative) }, intent)
}

/// Keeps the files picked in the review form (fields `{code}.files`, several per target) as
/// evidence of the saved review; a file refused (its kind, its size) is named in the answer and
/// the others are kept.
async fn keep_picked(
    state: &AppState,
    user: &CurrentUser,
    review: &Review,
    files: &[crate::shell::files::Picked],
    lang: Lang,
) -> Result<(usize, Vec<String>), WebError> {
    let mut kept = 0;
    let mut refused = Vec::new();
    for f in files {
        let Some(target) = f.field.strip_suffix(".files") else { continue };
        match super::evidence::keep_evidence(state, user, review.id, target, &f.name, &f.bytes, lang).await {
            Ok(_) => kept += 1,
            Err(e @ (WebError::Internal(_) | WebError::Unavailable(_))) => return Err(e),
            Err(e) => refused.push(format!("{target} · {}: {e}", f.name)),
        }
    }
    Ok((kept, refused))
}

/// The review form: values, the three parts of the narrative and the evidence files picked for
/// each target all come in one request (multipart, or URL-encoded when no file is picked), so
/// that no button of the page loses what was typed. `intent` is `save`, `submit`, or
/// `delete:{evidence id}` (the values are saved, then that file removed).
pub async fn submit_form(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
    req: axum::extract::Request,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let too_big = || WebError::PayloadTooLarge(lang.t("evidence-too-large"));
    let form = crate::shell::files::read_any_form(req, too_big).await.in_lang(lang)?;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let (body, intent) = read_form(&form.pairs);
    let which = || Which { scheme: &scheme, period: &period, unit: &unit };
    let here = format!("/schemes/{}/units/{code}/reviews/{period}", scheme.def.code);
    let page = |review: Option<Review>, typed: bool, theirs: Option<Review>, problems: Vec<String>| {
        let (state, ctx, user, body) = (&state, &ctx, &user, &body);
        let which = which();
        async move {
            let typed = typed.then_some(body);
            review_page(
                state,
                ctx,
                user,
                which,
                review.as_ref(),
                typed,
                theirs.as_ref(),
                problems,
                String::new(),
            )
            .await
            .in_lang(lang)
        }
    };
    let not_kept = |mut problems: Vec<String>| {
        if !form.files.is_empty() {
            problems.push(lang.t_args("evidence-not-kept", &[("count", form.files.len().to_string())]));
        }
        problems
    };
    let saved = match save(&state, &user, &scheme, &period, &unit, &body).await.in_lang(lang)? {
        Outcome::Done(saved) => saved,
        Outcome::Invalid(mut problems) => {
            // The values wait for a fix; the files need not: kept when the review exists.
            let review = state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
            let review = match review {
                Some(r) if r.state.editable() && !form.files.is_empty() => {
                    let (kept, refused) =
                        keep_picked(&state, &user, &r, &form.files, lang).await.in_lang(lang)?;
                    problems.push(lang.t_args("evidence-kept-values-not", &[("count", kept.to_string())]));
                    problems.extend(refused);
                    state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?
                }
                Some(r) if r.state.editable() => Some(r),
                other => {
                    problems = not_kept(problems);
                    other
                }
            };
            let page = page(review, true, None, problems).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Outcome::Conflict(m, theirs) => {
            let problems = not_kept(vec![m, lang.t("review-conflict-help")]);
            return Ok((StatusCode::CONFLICT, page(None, true, theirs, problems).await?).into_response());
        }
    };
    let (kept, refused) = keep_picked(&state, &user, &saved, &form.files, lang).await.in_lang(lang)?;
    let mut anchor = String::new();
    if let Some(id) = intent.as_deref().and_then(|i| i.strip_prefix("delete:")) {
        let id: i64 =
            id.parse().map_err(|_| WebError::BadRequest("tệp không hợp lệ".into())).in_lang(lang)?;
        let ev =
            super::evidence::remove_evidence(&state, &user, &unit, &scheme.def.code, &period.to_string(), id)
                .await
                .in_lang(lang)?;
        anchor = format!("#t-{}", ev.target_code);
    }
    if !refused.is_empty() {
        let mut problems = vec![lang.t_args("evidence-some-refused", &[("count", kept.to_string())])];
        problems.extend(refused);
        let review = state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
        let page = page(review, false, None, problems).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    if intent.as_deref() != Some("submit") {
        let done = match intent.as_deref() {
            Some("import") => "imported",
            Some(i) if i.starts_with("delete:") => "evidence-deleted",
            _ if kept > 0 => "saved-files",
            _ => "saved",
        };
        return Ok(Redirect::to(&format!("{here}?done={done}{anchor}")).into_response());
    }
    let version = state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
    let version = version.map(|r| r.version).unwrap_or(saved.version);
    match change_state(&state, &user, which(), Transition::Submit, None, Some(version)).await.in_lang(lang)? {
        Outcome::Done(_) => Ok(Redirect::to(&format!("{here}?done=submit")).into_response()),
        Outcome::Invalid(problems) => {
            let mut all = vec![lang.t("review-saved-not-submitted")];
            all.extend(problems);
            let review = state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(review, false, None, all).await?).into_response())
        }
        Outcome::Conflict(m, theirs) => {
            Ok((StatusCode::CONFLICT, page(Some(saved), true, theirs, vec![m]).await?).into_response())
        }
    }
}

/// Approve, return or reopen, from the review page.
pub async fn decide(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let t = match Transition::parse(&form.intent) {
        Some(t) if !t.by_unit() => t,
        _ => return Err(WebError::BadRequest("thao tác không hợp lệ".into())).in_lang(lang),
    };
    let which = Which { scheme: &scheme, period: &period, unit: &unit };
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let (status, review, problems) =
        match change_state(&state, &user, which, t, reason, form.version).await.in_lang(lang)? {
            Outcome::Done(_) => {
                let done =
                    format!("/schemes/{}/units/{code}/reviews/{period}?done={}", scheme.def.code, t.as_str());
                return Ok(Redirect::to(&done).into_response());
            }
            Outcome::Invalid(problems) => {
                let review =
                    state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
                (StatusCode::UNPROCESSABLE_ENTITY, review, problems)
            }
            Outcome::Conflict(m, current) => (StatusCode::CONFLICT, current, vec![m]),
        };
    // Refused: the page again, as the review now is, with why.
    let which = Which { scheme: &scheme, period: &period, unit: &unit };
    let page = review_page(&state, &ctx, &user, which, review.as_ref(), None, None, problems, String::new())
        .await
        .in_lang(lang)?;
    Ok((status, page).into_response())
}

/// The history of one review.
pub async fn history(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let review = state
        .store
        .review(scheme.id, unit.id, &period.to_string())
        .await
        .in_lang(lang)?
        .ok_or_else(|| WebError::NotFound(format!("chưa có bản rà soát kỳ {period}")))
        .in_lang(lang)?;
    let events = state.store.entity_history("review", &review.id.to_string()).await.in_lang(lang)?;
    let back = format!("/schemes/{}/units/{code}/reviews/{period}", scheme.def.code);
    crate::shell::history::history_page(&state, &ctx, format!("{} · {period}", unit.name), back, events)
        .await
        .in_lang(lang)
        .map(IntoResponse::into_response)
}

// ---- the inbox -----------------------------------------------------------------------------

pub struct InboxRow {
    pub id: i64,
    pub unit: String,
    pub period: String,
    pub href: String,
    pub submitted: String,
    pub late: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/inbox.html")]
pub struct InboxPage {
    layout: Layout,
    scheme_code: String,
    scheme_title: String,
    rows: Vec<InboxRow>,
    message: String,
    problems: Vec<String>,
}

async fn inbox_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    scheme: &str,
    message: String,
    problems: Vec<String>,
) -> Result<InboxPage, WebError> {
    let lang = ctx.lang;
    let scheme = crate::shell::find_scheme(state, scheme).await?;
    let root = user.user.scope_unit_id.unwrap_or(scheme.root_unit_id);
    let submitted = state.store.reviews_within(scheme.id, root, Some(State::Submitted)).await?;
    let units = state.store.units_by_ids(&submitted.iter().map(|r| r.unit_id).collect::<Vec<_>>()).await?;
    let mut rows = Vec::new();
    for r in submitted {
        // Only what this user may approve (not their own unit's).
        if !may(state, &user.user, r.unit_id, Action::Approve).await? {
            continue;
        }
        let Some(u) = units.get(&r.unit_id) else { continue };
        rows.push(InboxRow {
            id: r.id,
            unit: u.name.clone(),
            href: format!("/schemes/{}/units/{}/reviews/{}", scheme.def.code, u.code, r.period),
            period: r.period,
            submitted: r.submitted_at.map(crate::shell::history::local).unwrap_or_default(),
            late: r.late,
        });
    }
    Ok(InboxPage {
        layout: Layout::new(ctx, &lang.t("inbox-title"), &format!("/schemes/{}/inbox", scheme.def.code)),
        scheme_code: scheme.def.code,
        scheme_title: scheme.def.title,
        rows,
        message,
        problems,
    })
}

pub async fn inbox(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(scheme): Path<String>,
    Query(q): Query<MessageQuery>,
) -> Result<InboxPage, PageError> {
    let message = q.done.map(|n| ctx.lang.t_args("inbox-approved", &[("count", n)])).unwrap_or_default();
    inbox_page(&state, &ctx, &user, &scheme, message, Vec::new()).await.in_lang(ctx.lang)
}

/// Approves several submitted reviews at once; each is checked as if approved alone.
pub async fn bulk_approve(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(scheme_code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let ids: Vec<i64> =
        pairs.iter().filter(|(k, _)| k == "review").filter_map(|(_, v)| v.parse().ok()).collect();
    let scheme = crate::shell::find_scheme(&state, &scheme_code).await.in_lang(lang)?;
    let mut done = 0;
    let mut problems = Vec::new();
    for id in ids {
        let Some(r) = state.store.review_by_id(id).await.in_lang(lang)? else { continue };
        if r.scheme_id != scheme.id
            || !may(&state, &user.user, r.unit_id, Action::Approve).await.in_lang(lang)?
        {
            problems.push(format!("#{id}: {}", lang.t("error-403-title")));
            continue;
        }
        match state
            .store
            .transition_review(&user.actor(), id, Some(r.version), Transition::Approve, None, false)
            .await
        {
            Ok(_) => done += 1,
            Err(e) => problems.push(format!("#{id}: {e}")),
        }
    }
    if problems.is_empty() {
        return Ok(Redirect::to(&format!("/schemes/{scheme_code}/inbox?done={done}")).into_response());
    }
    let message = lang.t_args("inbox-approved", &[("count", done.to_string())]);
    let page = inbox_page(&state, &ctx, &user, &scheme_code, message, problems).await.in_lang(lang)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

// ---- evidence ------------------------------------------------------------------------------

/// Uploads an evidence file for a target (multipart: `target`, `file`). The kind is read from
/// the content; files over 10 MB, or past 50 MB for the review, are refused.
pub async fn upload_evidence(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let ev = super::evidence::add_evidence(&state, &user, &unit, &scheme, &period, multipart, lang)
        .await
        .in_lang(lang)?;
    Ok(Redirect::to(&format!(
        "/schemes/{scheme}/units/{code}/reviews/{period}?done=evidence#t-{}",
        ev.target_code
    ))
    .into_response())
}

/// Downloads an evidence file: only with the review's unit in scope, always as an attachment.
pub async fn download_evidence(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period, id)): Path<(String, String, String, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let ev = super::evidence::evidence_in(&state, &unit, &scheme, &period, id).await.in_lang(lang)?;
    let bytes = crate::shell::files::read(&state.files, &ev.sha256).await.in_lang(lang)?;
    Ok(attachment(&ev.content_type, &ev.filename, bytes))
}

pub async fn delete_evidence(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period, id)): Path<(String, String, String, i64)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let ev =
        super::evidence::remove_evidence(&state, &user, &unit, &scheme, &period, id).await.in_lang(lang)?;
    Ok(Redirect::to(&format!(
        "/schemes/{scheme}/units/{code}/reviews/{period}?done=evidence-deleted#t-{}",
        ev.target_code
    ))
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/recompute.html")]
pub struct RecomputePage {
    layout: Layout,
    review_href: String,
    action: String,
    unit_name: String,
    period: String,
    version: i64,
    editable: bool,
    any_change: bool,
    changes: Vec<super::api::RecomputeChange>,
    problem: String,
}

async fn recompute_view(
    state: &AppState,
    ctx: &PageCtx,
    which: Which<'_>,
    problem: String,
) -> Result<RecomputePage, WebError> {
    let review_href =
        format!("/schemes/{}/units/{}/reviews/{}", which.scheme.def.code, which.unit.code, which.period);
    let unit_name = which.unit.name.clone();
    let period = which.period.to_string();
    let (review, changes) = super::api::recompute_preview(state, which).await?;
    Ok(RecomputePage {
        layout: Layout::new(ctx, &ctx.lang.t("recompute-title"), &review_href),
        action: format!("{review_href}/recompute"),
        review_href,
        unit_name,
        period,
        version: review.version,
        editable: review.state.editable(),
        any_change: changes.iter().any(|c| c.changed),
        changes,
        problem,
    })
}

/// "Tính lại từ hồ sơ": each computed target as the review keeps it and as the records give it
/// now; nothing changes until the user confirms.
pub async fn recompute_page(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
) -> Result<RecomputePage, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let which = Which { scheme: &scheme, period: &period, unit: &unit };
    recompute_view(&state, &ctx, which, String::new()).await.in_lang(lang)
}

#[derive(serde::Deserialize)]
pub struct RecomputeForm {
    version: i64,
}

/// Applies the recomputation the user saw, then shows the review.
pub async fn recompute_form(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
    Form(form): Form<RecomputeForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let which = || Which { scheme: &scheme, period: &period, unit: &unit };
    let problem = match super::api::recompute(&state, &user, which(), form.version).await.in_lang(lang)? {
        Outcome::Done(_) => {
            let done = format!("/schemes/{}/units/{code}/reviews/{period}?done=recompute", scheme.def.code);
            return Ok(Redirect::to(&done).into_response());
        }
        Outcome::Invalid(problems) => problems.join("; "),
        Outcome::Conflict(m, _) => m,
    };
    let page = recompute_view(&state, &ctx, which(), problem).await.in_lang(lang)?;
    Ok((StatusCode::CONFLICT, page).into_response())
}

#[derive(serde::Deserialize)]
pub struct ReopenEntryForm {
    #[serde(default)]
    pub reason: String,
}

/// The approver reopens a closed period's entry for the unit, with a reason (audited).
pub async fn reopen_entry(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
    Form(form): Form<ReopenEntryForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let path = format!("/schemes/{}/units/{}/reviews/{period}", scheme.def.code, unit.code);
    let reason = danvan_domain::text::clean(&form.reason);
    if reason.is_empty() {
        return Err(WebError::BadRequest(lang.t("entry-reason-needed"))).in_lang(lang);
    }
    if super::api::entry_closed(&state, &scheme, &period, unit.id).await.in_lang(lang)?.is_none() {
        return Ok(Redirect::to(&format!("{path}?done=entry-open")).into_response());
    }
    state
        .store
        .reopen_entry(&user.actor(), scheme.id, unit.id, &period.to_string(), &reason)
        .await
        .in_lang(lang)?;
    Ok(Redirect::to(&format!("{path}?done=entry-reopened")).into_response())
}
