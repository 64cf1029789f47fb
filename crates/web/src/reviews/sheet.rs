//! The Excel round trip of a review: download a template, fill it offline, upload it, see
//! every change against the current draft, and confirm to apply it through the review form.
//! A file that is broken, foreign, tampered with or for another review changes nothing.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use danvan_domain::scheme::Source;
use danvan_report::{read_review, review_template, FilledReview, ReviewSheet};
use danvan_store::{Entry, Narrative};

use super::api::{check_save, SaveBody, ValueJson};
use crate::shell::auth::ScopedUnit;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::files::{attachment, read_multipart, Upload};
use crate::shell::format::show_value;
use crate::shell::i18n::Lang;
use crate::shell::scheme_and_period;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Downloads the review's template, filled with the current draft.
pub async fn download(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code, period)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let key = period.to_string();
    let review = state.store.review(scheme.id, unit.id, &key).await.in_lang(lang)?;
    let narrative = review.as_ref().map(|r| r.narrative.clone()).unwrap_or_default();
    let sheet = ReviewSheet {
        scheme: &scheme.def,
        unit_code: &unit.code,
        unit_name: &unit.name,
        period: &key,
        version: review.as_ref().map_or(0, |r| r.version),
        entries: review
            .map(|r| r.values.into_iter().map(|(code, e)| (code, (e.value, e.note))).collect())
            .unwrap_or_default(),
        narrative: [narrative.results, narrative.limitations, narrative.next_tasks],
    };
    let bytes = review_template(&sheet).map_err(|e| WebError::Internal(Box::new(e))).in_lang(lang)?;
    let name = format!("ra-soat-{}-{}-{key}.xlsx", scheme.def.code, unit.code);
    Ok(attachment(XLSX, &name, bytes))
}

/// One target whose value or note the file changes.
pub struct Change {
    pub code: String,
    pub name: String,
    pub before: String,
    pub after: String,
    pub note_before: String,
    pub note_after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews/review_import.html")]
pub struct ImportPage {
    layout: Layout,
    unit_name: String,
    period: String,
    review_href: String,
    problems: Vec<String>,
    stale: String,
    changes: Vec<Change>,
    /// The narrative sections the file changes, by name.
    sections: Vec<(String, String)>,
    /// The review form's fields that apply the file, for the confirm button.
    fields: Vec<(String, String)>,
}

/// The form fields that the review form reads, for a save of `body`.
fn form_fields(body: &SaveBody) -> Vec<(String, String)> {
    let mut out = vec![("version".to_string(), body.version.to_string())];
    let text = |v: &Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    for (code, v) in &body.values {
        out.push((format!("{code}.numerator"), text(&v.numerator)));
        out.push((format!("{code}.denominator"), text(&v.denominator)));
        out.push((format!("{code}.count"), text(&v.count)));
        let yes = v.yes.map(|y| if y { "yes" } else { "no" }).unwrap_or("");
        out.push((format!("{code}.yes"), yes.into()));
        out.push((format!("{code}.level"), v.level.clone().unwrap_or_default()));
        out.push((format!("{code}.note"), v.note.clone().unwrap_or_default()));
    }
    let n = body.narrative.clone().unwrap_or_default();
    out.extend([
        ("results".to_string(), n.results.clone()),
        ("limitations".to_string(), n.limitations.clone()),
        ("next_tasks".to_string(), n.next_tasks.clone()),
    ]);
    out
}

fn save_body(filled: FilledReview, version: i64) -> SaveBody {
    let string = |s: Option<String>| s.map(serde_json::Value::String);
    let values = filled
        .values
        .into_iter()
        .map(|(code, e)| {
            let v = ValueJson {
                numerator: string(e.raw.numerator),
                denominator: string(e.raw.denominator),
                count: string(e.raw.count),
                yes: e.raw.yes,
                level: e.raw.level,
                note: e.note,
                ..Default::default()
            };
            (code, v)
        })
        .collect();
    let [results, limitations, next_tasks] = filled.narrative;
    SaveBody { version, values, narrative: Some(Narrative { results, limitations, next_tasks }) }
}

fn changes(
    lang: Lang,
    scheme: &danvan_store::StoredScheme,
    before: &BTreeMap<String, Entry>,
    after: &BTreeMap<String, Entry>,
) -> Vec<Change> {
    let none = Entry::default();
    scheme
        .def
        .targets
        .iter()
        .filter(|t| matches!(t.source, Source::Reported))
        .filter_map(|t| {
            let b = before.get(&t.code).unwrap_or(&none);
            let a = after.get(&t.code).unwrap_or(&none);
            (b != a).then(|| Change {
                code: t.code.clone(),
                name: t.name.clone(),
                before: show_value(lang, t, b.value.as_ref()),
                after: show_value(lang, t, a.value.as_ref()),
                note_before: b.note.clone().unwrap_or_default(),
                note_after: a.note.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// Reads an uploaded template and shows what it would change; applies nothing.
pub async fn upload(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, code, period)): Path<(String, String, String)>,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = scheme_and_period(&state, &scheme, &period).await.in_lang(lang)?;
    let key = period.to_string();
    let review_href = format!("/schemes/{}/units/{code}/reviews/{key}", scheme.def.code);
    let mut page = ImportPage {
        layout: Layout::new(&ctx, &lang.t("import-title"), &format!("{review_href}/xlsx")),
        unit_name: unit.name.clone(),
        period: key.clone(),
        review_href,
        problems: Vec::new(),
        stale: String::new(),
        changes: Vec::new(),
        sections: Vec::new(),
        fields: Vec::new(),
    };
    let refuse = |mut page: ImportPage, problems: Vec<String>| {
        page.problems = problems;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    if let Some(closed) = super::api::entry_closed(&state, &scheme, &period, unit.id).await.in_lang(lang)? {
        return refuse(page, vec![closed]);
    }
    let too_big = || WebError::PayloadTooLarge(lang.t("import-too-large"));
    let Upload { file, .. } = read_multipart(multipart, too_big).await.in_lang(lang)?;
    let Some((_, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse(page, vec![lang.t("import-missing")]);
    };
    // Parsed off the async workers: a hostile workbook must not stall the server.
    let (def, code, period) = (scheme.def.clone(), unit.code.clone(), key.clone());
    let read = tokio::task::spawn_blocking(move || read_review(&bytes, &def, &code, &period))
        .await
        .map_err(|e| WebError::Internal(Box::new(e)))
        .in_lang(lang)?;
    let filled = match read {
        Ok(f) => f,
        Err(e) => return refuse(page, vec![e.to_string()]),
    };
    let review = state.store.review(scheme.id, unit.id, &key).await.in_lang(lang)?;
    if let Some(r) = review.as_ref().filter(|r| !r.state.editable()) {
        let state = lang.t(&format!("review-state-{}", r.state.as_str()));
        return refuse(page, vec![lang.t_args("import-locked", &[("state", state)])]);
    }
    let current = review.as_ref().map_or(0, |r| r.version);
    if filled.version != current {
        page.stale = lang
            .t_args("import-stale", &[("then", filled.version.to_string()), ("now", current.to_string())]);
    }
    let body = save_body(filled, current);
    let (entries, narrative) = match check_save(&scheme, &body) {
        Ok(ok) => ok,
        Err(problems) => return refuse(page, problems),
    };
    let before_values = review.as_ref().map(|r| r.values.clone()).unwrap_or_default();
    let before = review.map(|r| r.narrative).unwrap_or_default();
    let narrative = narrative.unwrap_or_else(|| before.clone());
    page.changes = changes(lang, &scheme, &before_values, &entries);
    for (label, old, new) in [
        ("review-results", &before.results, &narrative.results),
        ("review-limitations", &before.limitations, &narrative.limitations),
        ("review-next", &before.next_tasks, &narrative.next_tasks),
    ] {
        if old != new {
            page.sections.push((lang.t(label), new.clone()));
        }
    }
    if !page.changes.is_empty() || !page.sections.is_empty() {
        page.fields = form_fields(&body);
    }
    Ok(page.into_response())
}
