//! The home page's task list: what this user should do next, by role, each with one tap to
//! the place (issue 17, item 2). A commune sees its reviews due, returned (with the reason) or
//! in draft, its roadmap's state, its overdue activities and feedback near its last day; an
//! approver sees what waits for approval, the units that have not reported, overdue feedback.

use chrono::{Duration, NaiveDate};
use danvan_domain::access::Action;
use danvan_domain::period::scheme_periods;
use danvan_domain::units::Unit;
use danvan_domain::workflow::State;
use danvan_store::{SchemeSummary, StoredScheme};

use crate::shell::auth::{may, CurrentUser};
use crate::shell::error::WebError;
use crate::shell::i18n::Lang;
use crate::shell::AppState;

/// Feedback is "near its day" this many days before it.
const FEEDBACK_SOON_DAYS: i64 = 3;
/// A period with no review stays "to do" this long after its deadline (then it is history,
/// read on the dashboard).
const DUE_AFTER_DEADLINE_DAYS: i64 = 90;

/// One thing to do.
pub struct Task {
    /// What kind: returned, late, due, draft, waiting, overdue, feedback, info.
    pub kind: &'static str,
    pub text: String,
    /// A second line: the reason of a return, a deadline.
    pub detail: String,
    pub href: String,
    /// An element id, for the tests and for links.
    pub id: String,
}

/// Whether a scheme runs on a day (its years include it).
fn running(s: &SchemeSummary, today: NaiveDate) -> bool {
    use chrono::Datelike;
    (s.first_year..=s.last_year).contains(&today.year())
}

/// Whether a unit existed during a scheme's years.
fn existed_during(u: &Unit, s: &SchemeSummary) -> bool {
    let first = NaiveDate::from_ymd_opt(s.first_year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(s.last_year, 12, 31).unwrap_or(NaiveDate::MAX);
    u.valid_from.is_none_or(|f| f <= last) && u.valid_to.is_none_or(|t| first <= t)
}

/// The tasks of a signed-in user.
pub async fn tasks_of(
    state: &AppState,
    user: &CurrentUser,
    unit: Option<&Unit>,
    schemes: &[SchemeSummary],
    lang: Lang,
    today: NaiveDate,
) -> Result<Vec<Task>, WebError> {
    let Some(unit) = unit else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for s in schemes.iter().filter(|s| existed_during(unit, s)) {
        let Some(scheme) = state.store.scheme_by_id(s.id).await? else { continue };
        if unit.level == s.applies_to {
            reporting_tasks(state, unit, s, &scheme, lang, today, &mut out).await?;
        } else if crate::shell::user::has_inbox(user) {
            approver_tasks(state, user, unit, s, &scheme, lang, today, &mut out).await?;
        }
    }
    // Feedback is the unit's, whatever the scheme.
    let feedback = format!("/units/{}/feedback", unit.code);
    if unit.level == danvan_domain::units::UnitLevel::Commune {
        let soon = state
            .store
            .open_feedback_due_before(unit.id, today + Duration::days(FEEDBACK_SOON_DAYS + 1))
            .await?;
        if soon > 0 {
            let text = lang.t_args("task-feedback-soon", &[("count", soon.to_string())]);
            out.push(Task {
                kind: "feedback",
                text,
                detail: String::new(),
                href: feedback,
                id: "task-feedback".into(),
            });
        }
    } else if crate::shell::user::has_inbox(user) {
        let overdue = state.store.open_feedback_due_before(unit.id, today).await?;
        if overdue > 0 {
            let text = lang.t_args("task-feedback-overdue", &[("count", overdue.to_string())]);
            let href = format!("/units/{}", unit.code);
            out.push(Task { kind: "overdue", text, detail: String::new(), href, id: "task-feedback".into() });
        }
    }
    // The most pressing first: returned, late, overdue, waiting, due, feedback, draft, info.
    let rank = |k: &str| {
        ["returned", "late", "overdue", "waiting", "due", "feedback", "draft", "info"]
            .iter()
            .position(|x| *x == k)
    };
    out.sort_by_key(|t| rank(t.kind));
    Ok(out)
}

/// A reporting unit's tasks under one scheme.
async fn reporting_tasks(
    state: &AppState,
    unit: &Unit,
    s: &SchemeSummary,
    scheme: &StoredScheme,
    lang: Lang,
    today: NaiveDate,
    out: &mut Vec<Task>,
) -> Result<(), WebError> {
    let base = format!("/schemes/{}/units/{}", s.code, unit.code);
    let reviews = state.store.reviews_within(s.id, unit.id, None).await?;
    let reviews: Vec<_> = reviews.into_iter().filter(|r| r.unit_id == unit.id).collect();
    for p in scheme_periods(&scheme.def) {
        let key = p.to_string();
        let deadline = p.deadline(scheme.def.report_deadline_days);
        let href = format!("{base}/reviews/{key}");
        let args = [("period", key.clone()), ("scheme", s.code.clone())];
        let due_line = lang.t_args("task-deadline", &[("date", lang.date(deadline))]);
        match reviews.iter().find(|r| r.period == key).map(|r| r.state) {
            Some(State::Returned) => {
                let reason =
                    state.store.review(s.id, unit.id, &key).await?.and_then(|r| r.reason).unwrap_or_default();
                let detail = lang.t_args("task-reason", &[("reason", reason)]);
                let text = lang.t_args("task-review-returned", &args);
                out.push(Task { kind: "returned", text, detail, href, id: format!("task-review-{key}") });
            }
            Some(State::Draft) => {
                let kind = if deadline < today { "late" } else { "draft" };
                let text = lang.t_args("task-review-draft", &args);
                out.push(Task { kind, text, detail: due_line, href, id: format!("task-review-{key}") });
            }
            None if p.start() <= today && today <= deadline + Duration::days(DUE_AFTER_DEADLINE_DAYS) => {
                let kind = if deadline < today { "late" } else { "due" };
                let text = lang.t_args("task-review-due", &args);
                out.push(Task { kind, text, detail: due_line, href, id: format!("task-review-{key}") });
            }
            _ => {}
        }
    }
    if !running(s, today) {
        return Ok(());
    }
    let roadmap = state.store.roadmap(s.id, unit.id).await?;
    let href = format!("{base}/roadmap");
    let args = [("scheme", s.code.clone())];
    let task = match roadmap.as_ref().map(|r| r.state) {
        None => Some(("due", lang.t_args("task-roadmap-none", &args), String::new())),
        Some(State::Draft) => Some(("draft", lang.t_args("task-roadmap-draft", &args), String::new())),
        Some(State::Returned) => {
            let reason = roadmap.as_ref().and_then(|r| r.reason.clone()).unwrap_or_default();
            Some((
                "returned",
                lang.t_args("task-roadmap-returned", &args),
                lang.t_args("task-reason", &[("reason", reason)]),
            ))
        }
        Some(State::Submitted) => Some(("info", lang.t_args("task-roadmap-submitted", &args), String::new())),
        Some(State::Approved) => None,
    };
    if let Some((kind, text, detail)) = task {
        out.push(Task { kind, text, detail, href, id: "task-roadmap".into() });
    }
    let overdue = state.store.overdue_within(s.id, unit.id, today).await?;
    if let Some(first) = overdue.first() {
        let text = lang.t_args("task-activities-overdue", &[("count", overdue.len().to_string())]);
        let detail = lang.t_args(
            "task-first-overdue",
            &[("title", first.input.title.clone()), ("date", lang.date(first.input.due))],
        );
        let href = format!("{base}/plan/{}", first.year);
        out.push(Task { kind: "overdue", text, detail, href, id: "task-activities".into() });
    }
    Ok(())
}

/// An approver's tasks under one scheme: what waits for them, who has not reported.
#[allow(clippy::too_many_arguments)]
async fn approver_tasks(
    state: &AppState,
    user: &CurrentUser,
    unit: &Unit,
    s: &SchemeSummary,
    scheme: &StoredScheme,
    lang: Lang,
    today: NaiveDate,
    out: &mut Vec<Task>,
) -> Result<(), WebError> {
    // One read of the subtree's reviews serves both what waits and who has not reported.
    let reviews = state.store.reviews_within(s.id, unit.id, None).await?;
    let mut waiting = 0;
    for r in reviews.iter().filter(|r| r.state == State::Submitted) {
        if may(state, &user.user, r.unit_id, Action::Approve).await? {
            waiting += 1;
        }
    }
    let args = |n: usize| [("count", n.to_string()), ("scheme", s.code.clone())];
    if waiting > 0 {
        out.push(Task {
            kind: "waiting",
            text: lang.t_args("task-waiting-reviews", &args(waiting)),
            detail: String::new(),
            href: format!("/schemes/{}/inbox", s.code),
            id: format!("task-inbox-{}", s.code),
        });
    }
    let roadmaps = state.store.roadmaps_within(s.id, unit.id).await?;
    let roadmaps = roadmaps.iter().filter(|r| r.state == State::Submitted && r.unit_id != unit.id).count();
    if roadmaps > 0 {
        out.push(Task {
            kind: "waiting",
            text: lang.t_args("task-waiting-roadmaps", &args(roadmaps)),
            detail: String::new(),
            href: format!("/schemes/{}/units/{}/roadmaps", s.code, unit.code),
            id: format!("task-roadmaps-{}", s.code),
        });
    }
    let plans = state.store.plans_submitted_within(s.id, unit.id).await?;
    if let Some(first) = plans.first() {
        let code = state.store.unit(first.unit_id).await?.map(|u| u.code).unwrap_or_default();
        out.push(Task {
            kind: "waiting",
            text: lang.t_args("task-waiting-plans", &args(plans.len())),
            detail: String::new(),
            href: format!("/schemes/{}/units/{code}/plan/{}", s.code, first.year),
            id: format!("task-plans-{}", s.code),
        });
    }
    if !running(s, today) {
        return Ok(());
    }
    // The period under way or last ended: who has not sent it yet.
    let Some(p) = scheme_periods(&scheme.def).into_iter().rev().find(|p| p.start() <= today) else {
        return Ok(());
    };
    let key = p.to_string();
    let deadline = p.deadline(scheme.def.report_deadline_days);
    let expected = state.store.units_within(unit.id, s.applies_to, today.min(p.end())).await?;
    let sent: std::collections::HashSet<i64> = reviews
        .iter()
        .filter(|r| r.period == key && matches!(r.state, State::Submitted | State::Approved))
        .map(|r| r.unit_id)
        .collect();
    let missing = expected.iter().filter(|u| !sent.contains(u)).count();
    if missing > 0 {
        let kind = if deadline < today { "late" } else { "info" };
        let a = [("count", missing.to_string()), ("total", expected.len().to_string()), ("period", key)];
        out.push(Task {
            kind,
            text: lang.t_args("task-not-reported", &a),
            detail: lang.t_args("task-deadline", &[("date", lang.date(deadline))]),
            href: format!("/schemes/{}/units/{}", s.code, unit.code),
            id: format!("task-not-reported-{}", s.code),
        });
    }
    Ok(())
}
