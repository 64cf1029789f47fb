//! A scheme's page, and its history.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use danvan_domain::access::Role;
use danvan_domain::scheme::{Direction, SchemeDef, Source, Target, TargetKind};

use crate::shell::auth::CurrentUser;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::history::event_rows;
use crate::shell::history::HistoryPage;
use crate::shell::i18n::Lang;
use crate::shell::unit_href;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

// ---- scheme --------------------------------------------------------------------------------

pub struct TargetRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub criterion: String,
    pub notes: Vec<String>,
    pub source: String,
    pub evidence: String,
    pub coverage: Vec<String>,
}

pub struct GroupView {
    pub code: String,
    pub name: String,
    pub targets: Vec<TargetRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "schemes/scheme.html")]
pub struct SchemePage {
    layout: Layout,
    def: SchemeDef,
    root_name: String,
    root_href: String,
    applies_to: String,
    period: String,
    deadline: String,
    years: Vec<i32>,
    groups: Vec<GroupView>,
}

fn target_row(lang: Lang, t: &Target, years: &[i32]) -> TargetRow {
    let mut notes = Vec::new();
    if t.direction == Direction::Lower {
        notes.push(lang.t("direction-lower"));
    }
    if t.kind == TargetKind::Count && t.accumulation == danvan_domain::scheme::Accumulation::Cumulative {
        notes.push(lang.t("cumulative"));
    }
    if let (Some(n), Some(d)) = (&t.numerator_label, &t.denominator_label) {
        notes.push(format!("{n} / {d}"));
    }
    if t.kind == TargetKind::Level {
        notes.push(t.grades.join(" < "));
    }
    let source = match t.source {
        Source::Reported => lang.t("source-reported"),
        Source::Computed(rule) => {
            format!("{}: {}", lang.t("source-computed"), lang.t(&format!("rule-{}", rule.as_str())))
        }
    };
    TargetRow {
        code: t.code.clone(),
        name: t.name.clone(),
        description: t.description.clone().unwrap_or_default(),
        kind: lang.t(&format!("kind-{}", t.kind.as_str())),
        criterion: t.criterion_text(),
        notes,
        source,
        evidence: lang.t(if t.evidence_required { "evidence-required" } else { "evidence-optional" }),
        coverage: years
            .iter()
            .map(|y| {
                t.coverage
                    .get(y)
                    .map(|p| format!("{}%", danvan_domain::scheme::format_number(*p)))
                    .unwrap_or_default()
            })
            .collect(),
    }
}

pub async fn scheme(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<SchemePage, PageError> {
    let lang = ctx.lang;
    let scheme = crate::shell::find_scheme(&state, &code).await.in_lang(lang)?;
    let root = state.store.unit(scheme.root_unit_id).await.in_lang(lang)?;
    let def = scheme.def;
    let years: Vec<i32> = def.years().collect();
    let groups = def
        .groups
        .iter()
        .map(|g| GroupView {
            code: g.code.clone(),
            name: g.name.clone(),
            targets: def.targets_of(&g.code).map(|t| target_row(lang, t, &years)).collect(),
        })
        .collect();
    Ok(SchemePage {
        layout: Layout::new(&ctx, &def.title, &format!("/schemes/{}", def.code)),
        root_name: root.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        root_href: root.as_ref().map(unit_href).unwrap_or_default(),
        applies_to: lang.t(&format!("level-{}", def.applies_to.as_str())),
        period: lang.t(&format!("period-{}", def.period.as_str())),
        deadline: lang.t_args("scheme-deadline-days", &[("days", def.report_deadline_days.to_string())]),
        years,
        groups,
        def,
    })
}

/// The change history of a scheme.
pub async fn scheme_history(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: CurrentUser,
    Path(code): Path<String>,
) -> Result<HistoryPage, PageError> {
    let lang = ctx.lang;
    let scheme = crate::shell::find_scheme(&state, &code).await.in_lang(lang)?;
    // Only users whose scope meets the scheme's subtree (or went into it) see its history.
    let sees = match (me.user.role, me.user.scope_unit_id) {
        (Role::Admin, _) => true,
        (_, Some(scope)) => {
            let root = scheme.root_unit_id;
            scope == root
                || state.store.is_within(scope, root).await.in_lang(lang)?
                || state.store.is_within(root, scope).await.in_lang(lang)?
                || state.store.is_predecessor_of(root, scope).await.in_lang(lang)?
        }
        (_, None) => false,
    };
    if !sees {
        return Err(WebError::Forbidden("đề án này không thuộc phạm vi của bạn".into())).in_lang(lang);
    }
    let events = state.store.entity_history("scheme", &scheme.id.to_string()).await.in_lang(lang)?;
    Ok(HistoryPage {
        layout: Layout::new(&ctx, &lang.t("history-title"), &format!("/schemes/{code}/history")),
        heading: scheme.def.title,
        back: format!("/schemes/{code}"),
        events: event_rows(&state, &ctx, events).await.in_lang(lang)?,
    })
}
