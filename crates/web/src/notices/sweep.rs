//! The sweep: the rules of `danvan_domain::reminders` applied to what the database holds on a
//! day, for every active user. It only decides; [`super::run_once`] claims what it decided.
//!
//! A commune (the level a scheme reviews at) is told of its reviews, roadmap and year's plan
//! due and late (stopped once sent), returned (at once, with the reason) and approved (for the
//! digest), of its plan's activities due and overdue, and of its citizens' feedback near its
//! last day or past it. An approver is told of what has waited for them more than N days
//! (then weekly), and once a week of the units in their scope late with a report. An admin is
//! told of a failed backup.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use danvan_domain::access::Action;
use danvan_domain::period::scheme_periods;
use danvan_domain::reminders::{deadline_step, waiting_step, week_key, Step};
use danvan_domain::units::Unit;
use danvan_domain::workflow::State;
use danvan_store::{DocState, NewNotification, SchemeSummary, StoredScheme, User};

use crate::shell::auth::may;
use crate::shell::dates::vn_day as vn_date;
use crate::shell::error::WebError;
use crate::shell::i18n::Lang;
use crate::shell::user::may_own;
use crate::shell::AppState;

/// Late reminders stop this long after the deadline (the home page's "to do" window too).
pub const LATE_WINDOW_DAYS: i64 = 90;
/// A return or an approval is told if it was decided this recently (a server down a few days
/// still tells it; an old one is history).
const DECIDED_WITHIN_DAYS: i64 = 14;
/// Every minute, the decisions of the last hours are read (the hourly whole sweep reaches back
/// [`DECIDED_WITHIN_DAYS`], after a server was down).
const DECIDED_JUST_NOW_HOURS: i64 = 2;
/// A failed backup is told to admins if it is this recent.
const BACKUP_WITHIN_DAYS: i64 = 2;

/// One notification the sweep decided on, with the unit it concerns (for the province's
/// webhook).
#[derive(Debug, Clone)]
pub struct Planned {
    pub note: NewNotification,
    pub unit_id: Option<i64>,
}

/// The messages are in Vietnamese: they are kept and emailed as made.
const LANG: Lang = Lang::Vi;

/// Everything due on `now` for every active user; without `full`, only the decisions (told at
/// once) and failed backups.
pub async fn sweep(
    state: &AppState,
    now: DateTime<Utc>,
    waiting_days: i64,
    full: bool,
) -> Result<Vec<Planned>, WebError> {
    let today = vn_date(now);
    let (users, _) = state.store.users(None, i64::MAX as usize, 0).await?;
    let summaries = state.store.schemes().await?;
    let mut schemes: Vec<(SchemeSummary, StoredScheme)> = Vec::new();
    for s in summaries {
        if let Some(full) = state.store.scheme_by_id(s.id).await? {
            if in_season(&full, today) {
                schemes.push((s, full));
            }
        }
    }
    // Every minute only the recent decisions are read: one query per scheme, whatever the
    // number of users.
    let mut decided: HashMap<(i64, i64), Vec<DocState>> = HashMap::new();
    if !full {
        for (s, _) in &schemes {
            for d in state.store.decided_since(s.id, now - Duration::hours(DECIDED_JUST_NOW_HOURS)).await? {
                decided.entry((s.id, d.unit_id)).or_default().push(d);
            }
        }
    }
    let mut out = Vec::new();
    for user in users.iter().filter(|u| u.active) {
        if may_own(user, Action::Operate) {
            backups(state, user, now, &mut out).await?;
        }
        let Some(unit_id) = user.scope_unit_id else { continue };
        if !full {
            let mine = schemes.iter().filter_map(|(s, _)| decided.get(&(s.id, unit_id)).map(|d| (s, d)));
            let mine: Vec<_> = mine.collect();
            if mine.is_empty() || !may_own(user, Action::Edit) {
                continue;
            }
            let Some(unit) = state.store.unit(unit_id).await? else { continue };
            if unit.valid_to.is_some_and(|t| t < today) {
                continue;
            }
            for (s, docs) in mine {
                if unit.level == s.applies_to {
                    decisions(user, &unit, s, docs, now, &mut out);
                }
            }
            continue;
        }
        let Some(unit) = state.store.unit(unit_id).await? else { continue };
        // An account whose unit a reorganisation ended reads history; it is told nothing.
        if unit.valid_to.is_some_and(|t| t < today) {
            continue;
        }
        // The unit's ancestors, read once for every scheme: a scheme covers it when its root is
        // one of them.
        let above: Vec<i64> = state.store.lineage(unit.id).await?.iter().map(|u| u.id).collect();
        for (s, scheme) in &schemes {
            if !above.contains(&s.root_unit_id) {
                continue;
            }
            if unit.level == s.applies_to {
                if may_own(user, Action::Edit) {
                    reporting(state, user, &unit, s, scheme, now, &mut out).await?;
                }
            } else if may_own(user, Action::ReviewInbox) {
                approving(state, user, &unit, s, scheme, today, waiting_days, &mut out).await?;
            }
        }
        if may_own(user, Action::Edit) || may_own(user, Action::ReviewInbox) {
            feedback(state, user, &unit, today, &mut out).await?;
        }
    }
    Ok(out)
}

/// Whether anything of a scheme can be due: from a week before it starts to the late window
/// after its last report deadline.
fn in_season(scheme: &StoredScheme, today: NaiveDate) -> bool {
    let (start, end) = scheme.def.span();
    let last = end + Duration::days(i64::from(scheme.def.report_deadline_days) + LATE_WINDOW_DAYS);
    start - Duration::days(7) <= today && today <= last
}

/// The step of a deadline on a day, within the late window.
fn step_on(deadline: NaiveDate, today: NaiveDate, done: bool) -> Option<Step> {
    if (today - deadline).num_days() > LATE_WINDOW_DAYS {
        return None;
    }
    deadline_step(deadline, today, done)
}

/// The rule's name of a deadline step for a kind of thing (`review_due`, `review_late`).
fn rule(thing: &str, step: &Step) -> String {
    match step {
        Step::DueSoon { .. } => format!("{thing}_due"),
        Step::Late { .. } => format!("{thing}_late"),
    }
}

/// The text of a deadline step: "hạn 15/01/2027 (còn 7 ngày)", "quá hạn 7 ngày (hạn …)".
fn when_line(step: &Step, deadline: NaiveDate) -> String {
    let date = LANG.date(deadline);
    match step {
        Step::DueSoon { days } => {
            LANG.t_args("notice-due-line", &[("date", date), ("days", days.to_string())])
        }
        Step::Late { days } => LANG.t_args("notice-late-line", &[("date", date), ("days", days.to_string())]),
    }
}

/// A notice to a user about something of a unit: its rule, item and step, its (title,
/// detail), and where it leads.
fn planned(
    user: &User,
    unit: &Unit,
    kind: String,
    item: String,
    step: String,
    (title, detail): (String, String),
    href: String,
) -> Planned {
    Planned {
        note: NewNotification { user_id: user.id, kind, item, step, title, detail, href },
        unit_id: Some(unit.id),
    }
}

/// A review, roadmap or plan in words ("Bản rà soát kỳ 2018"), and its page under `base`.
fn what_and_where(d: &DocState, base: &str) -> (String, String) {
    match d.doc.as_str() {
        "review" => (
            LANG.t_args("notice-what-review", &[("period", d.key.clone())]),
            format!("{base}/reviews/{}", d.key),
        ),
        "roadmap" => (LANG.t("notice-what-roadmap"), format!("{base}/roadmap")),
        _ => (LANG.t_args("notice-what-plan", &[("year", d.key.clone())]), format!("{base}/plan/{}", d.key)),
    }
}

/// Whether a review, roadmap or plan has been sent (a reminder of its deadline stops then).
fn sent(doc: Option<&DocState>) -> bool {
    doc.is_some_and(|d| d.submitted_at.is_some() || d.state != State::Draft)
}

/// A reporting unit's user: its reviews, roadmap and plan, decisions on them, its activities.
async fn reporting(
    state: &AppState,
    user: &User,
    unit: &Unit,
    s: &SchemeSummary,
    scheme: &StoredScheme,
    now: DateTime<Utc>,
    out: &mut Vec<Planned>,
) -> Result<(), WebError> {
    let today = vn_date(now);
    let docs = state.store.docs_of_unit(s.id, unit.id).await?;
    deadlines(user, unit, s, scheme, &docs, today, out);
    activities(state, user, unit, s, today, out).await?;
    decisions(user, unit, s, &docs, now, out);
    Ok(())
}

/// A reporting unit's reviews, roadmap and this year's plan, due or late until sent.
fn deadlines(
    user: &User,
    unit: &Unit,
    s: &SchemeSummary,
    scheme: &StoredScheme,
    docs: &[DocState],
    today: NaiveDate,
    out: &mut Vec<Planned>,
) {
    // Only what falls in the unit's own life: a commune made on 1 July 2025 owes no 2024 report.
    let lived = |day: NaiveDate| unit.valid_from.is_none_or(|f| f <= day);
    let base = format!("/schemes/{}/units/{}", s.code, unit.code);
    let find = |doc: &str, key: &str| docs.iter().find(|d| d.doc == doc && d.key == key);
    let days = scheme.def.report_deadline_days;
    for p in scheme_periods(&scheme.def) {
        let key = p.to_string();
        let deadline = p.deadline(days);
        if !lived(p.end()) {
            continue;
        }
        if let Some(step) = step_on(deadline, today, sent(find("review", &key))) {
            let title = LANG.t_args("notice-review", &[("period", key.clone()), ("scheme", s.code.clone())]);
            out.push(planned(
                user,
                unit,
                rule("review", &step),
                format!("review:{}:{}:{key}", s.id, unit.id),
                step.key(),
                (title, when_line(&step, deadline)),
                format!("{base}/reviews/{key}"),
            ));
        }
    }
    let running = (s.first_year..=s.last_year).contains(&today.year());
    if running {
        let deadline = danvan_domain::roadmap::deadline(&scheme.def);
        if lived(deadline) {
            if let Some(step) = step_on(deadline, today, sent(find("roadmap", ""))) {
                out.push(planned(
                    user,
                    unit,
                    rule("roadmap", &step),
                    format!("roadmap:{}:{}", s.id, unit.id),
                    step.key(),
                    (
                        LANG.t_args("notice-roadmap", &[("scheme", s.code.clone())]),
                        when_line(&step, deadline),
                    ),
                    format!("{base}/roadmap"),
                ));
            }
        }
        let year = today.year();
        let deadline = danvan_domain::plan::plan_deadline(year, days);
        if let Some(step) = step_on(deadline, today, sent(find("plan", &year.to_string()))) {
            out.push(planned(
                user,
                unit,
                rule("plan", &step),
                format!("plan:{}:{}:{year}", s.id, unit.id),
                step.key(),
                (
                    LANG.t_args("notice-plan", &[("year", year.to_string()), ("scheme", s.code.clone())]),
                    when_line(&step, deadline),
                ),
                format!("{base}/plan/{year}"),
            ));
        }
    }
}

/// Decisions on what the unit sent: a return at once with its reason, an approval for the
/// digest. Each decision is its own step (named by when it was made).
fn decisions(
    user: &User,
    unit: &Unit,
    s: &SchemeSummary,
    docs: &[DocState],
    now: DateTime<Utc>,
    out: &mut Vec<Planned>,
) {
    let base = format!("/schemes/{}/units/{}", s.code, unit.code);
    for d in docs {
        let recent = d.decided_at.is_some_and(|at| now - at <= Duration::days(DECIDED_WITHIN_DAYS));
        let kind = match d.state {
            State::Returned if recent => "returned",
            State::Approved if recent => "approved",
            _ => continue,
        };
        let (what, href) = what_and_where(d, &base);
        let title = LANG.t_args(&format!("notice-{kind}"), &[("what", what), ("scheme", s.code.clone())]);
        let detail = match (&d.reason, kind) {
            (Some(r), "returned") if !r.trim().is_empty() => {
                LANG.t_args("task-reason", &[("reason", r.clone())])
            }
            _ => String::new(),
        };
        out.push(planned(
            user,
            unit,
            kind.into(),
            format!("{}:{}", d.doc, d.id),
            // The decision's moment names it: saving a returned draft bumps the version, not it.
            format!("d{}", d.decided_at.map(|t| t.timestamp()).unwrap_or_default()),
            (title, detail),
            href,
        ));
    }
}

/// The plan's activities not done, due within a week or overdue (within the late window), told
/// to the unit with their lead organisation named.
async fn activities(
    state: &AppState,
    user: &User,
    unit: &Unit,
    s: &SchemeSummary,
    today: NaiveDate,
    out: &mut Vec<Planned>,
) -> Result<(), WebError> {
    let base = format!("/schemes/{}/units/{}", s.code, unit.code);
    for a in state.store.overdue_within(s.id, unit.id, today + Duration::days(8)).await? {
        let due = a.input.due;
        if let Some(step) = step_on(due, today, false) {
            let title = LANG.t_args(
                "notice-activity",
                &[("title", a.input.title.clone()), ("lead", a.input.lead_org.clone())],
            );
            out.push(planned(
                user,
                unit,
                rule("activity", &step),
                format!("activity:{}", a.id),
                step.key(),
                (title, when_line(&step, due)),
                format!("{base}/activities/{}", a.id),
            ));
        }
    }
    Ok(())
}

/// An approver: what has waited for their decision too long, and the units late in their scope.
#[allow(clippy::too_many_arguments)]
async fn approving(
    state: &AppState,
    user: &User,
    unit: &Unit,
    s: &SchemeSummary,
    scheme: &StoredScheme,
    today: NaiveDate,
    waiting_days: i64,
    out: &mut Vec<Planned>,
) -> Result<(), WebError> {
    let mut names: HashMap<i64, Unit> = HashMap::new();
    for d in state.store.submitted_below(s.id, unit.id).await? {
        let Some(at) = d.submitted_at else { continue };
        let Some(waited) = waiting_step(vn_date(at), today, waiting_days, false) else { continue };
        if !may(state, user, d.unit_id, Action::Approve).await? {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(d.unit_id) {
            if let Some(u) = state.store.unit(d.unit_id).await? {
                e.insert(u);
            }
        }
        let Some(of) = names.get(&d.unit_id) else { continue };
        let base = format!("/schemes/{}/units/{}", s.code, of.code);
        let (what, href) = what_and_where(&d, &base);
        let title = LANG.t_args(
            "notice-waiting",
            &[("what", what), ("unit", of.name.clone()), ("days", waited.to_string())],
        );
        out.push(Planned {
            note: NewNotification {
                user_id: user.id,
                kind: "waiting".into(),
                item: format!("{}:{}", d.doc, d.id),
                step: format!("v{}-{waited}", d.version),
                title,
                detail: LANG.t_args("notice-submitted-on", &[("date", LANG.date(vn_date(at)))]),
                href,
            },
            unit_id: Some(d.unit_id),
        });
    }
    // Once a week: the units in scope that have not sent a report whose deadline has passed.
    let week = week_key(today);
    let late_periods: Vec<_> = scheme_periods(&scheme.def)
        .into_iter()
        .filter(|p| {
            let deadline = p.deadline(scheme.def.report_deadline_days);
            deadline < today && (today - deadline).num_days() <= LATE_WINDOW_DAYS
        })
        .collect();
    if late_periods.is_empty() {
        return Ok(());
    }
    let mut reviews = None;
    for p in late_periods {
        let key = p.to_string();
        let item = format!("late_units:{}:{}:{key}", s.id, unit.id);
        if state.store.notification_exists(user.id, &item, "late_units", &week).await? {
            continue;
        }
        let reviews = match &reviews {
            Some(r) => r,
            None => reviews.insert(state.store.reviews_within(s.id, unit.id, None).await?),
        };
        let expected = state.store.units_within(unit.id, s.applies_to, p.end()).await?;
        let reported: BTreeSet<i64> = reviews
            .iter()
            .filter(|r| r.period == key && r.submitted_at.is_some())
            .map(|r| r.unit_id)
            .collect();
        let late = expected.iter().filter(|u| !reported.contains(u)).count();
        if late == 0 {
            continue;
        }
        let title = LANG.t_args(
            "notice-late-units",
            &[
                ("count", late.to_string()),
                ("total", expected.len().to_string()),
                ("period", key.clone()),
                ("scheme", s.code.clone()),
            ],
        );
        out.push(Planned {
            note: NewNotification {
                user_id: user.id,
                kind: "late_units".into(),
                item,
                step: week.clone(),
                title,
                detail: String::new(),
                href: format!("/schemes/{}/units/{}", s.code, unit.code),
            },
            unit_id: Some(unit.id),
        });
    }
    Ok(())
}

/// Citizens' feedback of the user's unit near its last day or past it.
async fn feedback(
    state: &AppState,
    user: &User,
    unit: &Unit,
    today: NaiveDate,
    out: &mut Vec<Planned>,
) -> Result<(), WebError> {
    for (id, code, due) in state.store.open_feedback_of(unit.id).await? {
        let Some(step) = step_on(due, today, false) else { continue };
        out.push(planned(
            user,
            unit,
            rule("feedback", &step),
            format!("feedback:{id}"),
            step.key(),
            (LANG.t_args("notice-feedback", &[("code", code)]), when_line(&step, due)),
            format!("/units/{}/feedback/{id}", unit.code),
        ));
    }
    Ok(())
}

/// A failed backup, for an admin.
async fn backups(
    state: &AppState,
    user: &User,
    now: DateTime<Utc>,
    out: &mut Vec<Planned>,
) -> Result<(), WebError> {
    for b in state.store.recent_backups(5).await? {
        if b.ok || now - b.finished_at > Duration::days(BACKUP_WITHIN_DAYS) {
            continue;
        }
        let at = b.finished_at.with_timezone(&danvan_domain::period::VIETNAM);
        out.push(Planned {
            note: NewNotification {
                user_id: user.id,
                kind: "backup_failed".into(),
                item: format!("backup:{}", b.finished_at.timestamp()),
                step: "1".into(),
                title: LANG
                    .t_args("notice-backup-failed", &[("at", at.format("%H:%M %d/%m/%Y").to_string())]),
                detail: b.message.clone(),
                href: "/admin/system".into(),
            },
            unit_id: None,
        });
    }
    Ok(())
}
