//! A plan's Excel round trip: download the year's plan, edit it offline, upload it, see every
//! new activity and every change, confirm to apply. Nothing changes before the confirmation;
//! the confirmation is checked again in full, and refused whole if any activity changed since.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use danvan_domain::plan::{ActivityInput, ActivityStatus};
use danvan_report::plan_xlsx::{plan_workbook, read_plan, PlanRow, PlanSheet};
use danvan_store::{Activity, StoredScheme};
use serde::{Deserialize, Serialize};

use crate::shell::auth::{CurrentUser, ScopedUnit};
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::files::{attachment, read_multipart, Upload};
use crate::shell::i18n::Lang;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn statuses(lang: Lang) -> [(&'static str, String); 4] {
    ActivityStatus::ALL.map(|s| (s.as_str(), lang.t(&format!("activity-{}", s.as_str()))))
}

fn row_of(a: &Activity) -> PlanRow {
    PlanRow {
        id: Some(a.id),
        title: a.input.title.clone(),
        description: a.input.description.clone(),
        targets: a.input.targets.clone(),
        lead_org: a.input.lead_org.clone(),
        supporting_orgs: a.input.supporting_orgs.clone(),
        responsible: a.input.responsible.clone(),
        start: Some(a.input.start),
        due: Some(a.input.due),
        status: a.status.as_str().into(),
        cancel_reason: a.cancel_reason.clone().unwrap_or_default(),
        line: 0,
    }
}

pub async fn download(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, year)): Path<(String, String, i32)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = super::scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let list = state.store.activities_of(scheme.id, unit.id, year).await.in_lang(lang)?;
    let labels = statuses(lang);
    let sheet = PlanSheet {
        scheme: &scheme.def,
        unit_code: &unit.code,
        unit_name: &unit.name,
        year,
        rows: list.iter().map(row_of).collect(),
        statuses: std::array::from_fn(|i| (labels[i].0, labels[i].1.as_str())),
    };
    let bytes = plan_workbook(&sheet).map_err(|e| WebError::Internal(Box::new(e))).in_lang(lang)?;
    Ok(attachment(XLSX, &format!("ke-hoach-{}-{}-{year}.xlsx", scheme.def.code, unit.code), bytes))
}

/// One step of an import, carried from the preview to the confirmation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ImportOp {
    Create {
        input: ActivityInput,
        status: ActivityStatus,
        reason: Option<String>,
    },
    Update {
        id: i64,
        version: i64,
        input: Option<ActivityInput>,
        status: Option<ActivityStatus>,
        reason: Option<String>,
    },
}

pub struct ChangeRow {
    pub kind: String,
    pub title: String,
    pub what: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/plan_import.html")]
pub struct PlanImportPage {
    layout: Layout,
    plan_href: String,
    apply_href: String,
    unit_name: String,
    year: i32,
    problems: Vec<String>,
    changes: Vec<ChangeRow>,
    payload: String,
}

/// Checks the rows of a file against the plan as it is: the steps that apply them, what they
/// change (for people), or what is wrong, by row.
fn plan_ops(
    lang: Lang,
    scheme: &StoredScheme,
    year: i32,
    current: &[Activity],
    rows: Vec<PlanRow>,
    orgs: &[String],
) -> Result<(Vec<ImportOp>, Vec<ChangeRow>), Vec<String>> {
    let mut ops = Vec::new();
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    for row in rows {
        let line = row.line;
        let (Some(start), Some(due)) = (row.start, row.due) else {
            problems.push(format!("Dòng {line}: cần ngày bắt đầu và hạn hoàn thành"));
            continue;
        };
        let raw = ActivityInput {
            title: row.title.clone(),
            description: row.description.clone(),
            targets: row.targets.clone(),
            lead_org: row.lead_org.clone(),
            supporting_orgs: row.supporting_orgs.clone(),
            responsible: row.responsible.clone(),
            start,
            due,
        };
        let input = match raw.cleaned_for(&scheme.def, year, orgs) {
            Ok(i) => i,
            Err(p) => {
                problems.extend(p.into_iter().map(|m| format!("Dòng {line}: {m}")));
                continue;
            }
        };
        let Some(status) = ActivityStatus::parse(&row.status) else { continue };
        let reason = Some(row.cancel_reason.clone()).filter(|r| !r.is_empty());
        if status == ActivityStatus::Cancelled && reason.is_none() {
            problems.push(format!("Dòng {line}: cần ghi lý do hủy"));
            continue;
        }
        let label = |s: ActivityStatus| lang.t(&format!("activity-{}", s.as_str()));
        match row.id.and_then(|id| current.iter().find(|a| a.id == id)) {
            None if row.id.is_some() => problems.push(format!(
                "Dòng {line}: hoạt động số {} không còn trong kế hoạch",
                row.id.unwrap_or_default()
            )),
            None => {
                changes.push(ChangeRow {
                    kind: lang.t("import-new"),
                    title: input.title.clone(),
                    what: vec![label(status)],
                });
                ops.push(ImportOp::Create { input, status, reason });
            }
            Some(a) => {
                let mut what = Vec::new();
                let fields = [
                    ("activity-title", a.input.title.clone(), input.title.clone()),
                    ("activity-description", a.input.description.clone(), input.description.clone()),
                    ("plan-target", a.input.targets.join(", "), input.targets.join(", ")),
                    ("activity-lead", a.input.lead_org.clone(), input.lead_org.clone()),
                    (
                        "activity-supporting",
                        a.input.supporting_orgs.join(", "),
                        input.supporting_orgs.join(", "),
                    ),
                    ("activity-responsible", a.input.responsible.clone(), input.responsible.clone()),
                    ("activity-start", lang.date(a.input.start), lang.date(input.start)),
                    ("activity-due", lang.date(a.input.due), lang.date(input.due)),
                ];
                for (key, old, new) in fields {
                    if old != new {
                        what.push(format!(
                            "{}: {} → {}",
                            lang.t(key),
                            if old.is_empty() { "—" } else { &old },
                            new
                        ));
                    }
                }
                let input_changed = !what.is_empty();
                let status_changed =
                    a.status != status || (status == ActivityStatus::Cancelled && a.cancel_reason != reason);
                if status_changed {
                    what.push(format!("{}: {} → {}", lang.t("plan-status"), label(a.status), label(status)));
                }
                if what.is_empty() {
                    continue;
                }
                changes.push(ChangeRow {
                    kind: lang.t("import-changed"),
                    title: a.input.title.clone(),
                    what,
                });
                ops.push(ImportOp::Update {
                    id: a.id,
                    version: a.version,
                    input: input_changed.then_some(input),
                    status: status_changed.then_some(status),
                    reason,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok((ops, changes))
    } else {
        Err(problems)
    }
}

pub async fn upload(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, year)): Path<(String, String, i32)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = super::scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let plan_href = format!("/schemes/{}/units/{code}/plan/{year}", scheme.def.code);
    let mut page = PlanImportPage {
        layout: Layout::new(&ctx, &lang.t("plan-import-title"), &format!("{plan_href}/xlsx")),
        apply_href: format!("{plan_href}/import"),
        plan_href,
        unit_name: unit.name.clone(),
        year,
        problems: Vec::new(),
        changes: Vec::new(),
        payload: String::new(),
    };
    let too_big = || WebError::PayloadTooLarge(lang.t("import-too-large"));
    let Upload { file, .. } = read_multipart(multipart, too_big).await.in_lang(lang)?;
    let refuse = |mut page: PlanImportPage, problems: Vec<String>| {
        page.problems = problems;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let Some((_, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse(page, vec![lang.t("import-missing")]);
    };
    // Parsed off the async workers: a hostile workbook must not stall the server.
    let labels = statuses(lang);
    let (def, code) = (scheme.def.clone(), unit.code.clone());
    let read = tokio::task::spawn_blocking(move || {
        let pairs: [(&str, &str); 4] = std::array::from_fn(|i| (labels[i].0, labels[i].1.as_str()));
        read_plan(&bytes, &def, &code, year, &pairs)
    })
    .await
    .map_err(|e| WebError::Internal(Box::new(e)))
    .in_lang(lang)?;
    let rows = match read {
        Ok(r) => r,
        Err(e) => return refuse(page, vec![e.to_string()]),
    };
    let current = state.store.activities_of(scheme.id, unit.id, year).await.in_lang(lang)?;
    let orgs = super::organisations_for(&state, &unit).await.in_lang(lang)?;
    match plan_ops(lang, &scheme, year, &current, rows, &orgs) {
        Ok((ops, changes)) => {
            page.payload =
                if ops.is_empty() { String::new() } else { serde_json::to_string(&ops).unwrap_or_default() };
            page.changes = changes;
            Ok(page.into_response())
        }
        Err(problems) => refuse(page, problems),
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    pub payload: String,
}

/// Applies a previewed import. Every step is checked again; if any activity changed since the
/// preview, nothing is applied.
pub async fn apply(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, year)): Path<(String, String, i32)>,
    Form(form): Form<ApplyForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let scheme = super::scheme_and_year(&state, &scheme, year).await.in_lang(lang)?;
    let ops: Vec<ImportOp> = serde_json::from_str(&form.payload)
        .map_err(|_| WebError::BadRequest("dữ liệu xác nhận không hợp lệ; hãy tải tệp lên lại".into()))
        .in_lang(lang)?;
    let current = state.store.activities_of(scheme.id, unit.id, year).await.in_lang(lang)?;
    let orgs = super::organisations_for(&state, &unit).await.in_lang(lang)?;
    check_ops(&scheme, year, &current, &ops, &orgs).in_lang(lang)?;
    let actor = user.actor();
    for op in ops {
        match op {
            ImportOp::Create { input, status, reason } => {
                let a = state
                    .store
                    .create_activity(&actor, scheme.id, unit.id, year, &input)
                    .await
                    .in_lang(lang)?;
                if status != ActivityStatus::NotStarted {
                    state
                        .store
                        .set_activity_status(&actor, a.id, None, status, reason.as_deref(), None)
                        .await
                        .in_lang(lang)?;
                }
            }
            ImportOp::Update { id, version, input, status, reason } => {
                let mut version = Some(version);
                if let Some(input) = input {
                    let a = state
                        .store
                        .update_activity(&actor, id, version.unwrap_or_default(), &input)
                        .await
                        .in_lang(lang)?;
                    version = Some(a.version);
                }
                if let Some(status) = status {
                    state
                        .store
                        .set_activity_status(&actor, id, version, status, reason.as_deref(), None)
                        .await
                        .in_lang(lang)?;
                }
            }
        }
    }
    Ok(Redirect::to(&format!("/schemes/{}/units/{code}/plan/{year}?done=imported", scheme.def.code))
        .into_response())
}

/// The confirmation comes back from the browser: check it as if it were new input.
fn check_ops(
    scheme: &StoredScheme,
    year: i32,
    current: &[Activity],
    ops: &[ImportOp],
    orgs: &[String],
) -> Result<(), WebError> {
    for op in ops {
        let (input, status, reason) = match op {
            ImportOp::Create { input, status, reason } => (Some(input), Some(*status), reason),
            ImportOp::Update { id, version, input, status, reason } => {
                let a = current.iter().find(|a| a.id == *id).ok_or_else(|| {
                    WebError::NotFound(format!("không có hoạt động #{id} trong kế hoạch năm {year}"))
                })?;
                if a.version != *version {
                    return Err(WebError::Conflict(format!(
                        "hoạt động \"{}\" vừa được thay đổi sau khi xem trước; không áp dụng gì cả — hãy tải tệp lên lại",
                        a.input.title
                    )));
                }
                (input.as_ref(), *status, reason)
            }
        };
        if let Some(input) = input {
            let cleaned =
                input.cleaned_for(&scheme.def, year, orgs).map_err(|p| WebError::BadRequest(p.join("; ")))?;
            if &cleaned != input {
                return Err(WebError::BadRequest(
                    "dữ liệu xác nhận không hợp lệ; hãy tải tệp lên lại".into(),
                ));
            }
        }
        if status == Some(ActivityStatus::Cancelled) && reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(WebError::BadRequest("cần ghi lý do hủy hoạt động".into()));
        }
    }
    Ok(())
}
