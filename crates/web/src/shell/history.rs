//! The history of a record or a unit, drawn from the audit log: who changed what, field by
//! field.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use danvan_store::AuditEvent;

use crate::shell::error::WebError;
use crate::shell::AppState;
use crate::shell::{Layout, PageCtx};

/// Vietnam's time (UTC+7, no daylight saving) for showing times.
pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&danvan_domain::period::VIETNAM).format("%d/%m/%Y %H:%M:%S").to_string()
}

// ---- audit and history ---------------------------------------------------------------------

pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub unit: String,
    pub changes: Vec<Change>,
    pub reason: String,
    pub address: String,
}

/// One field an event changed.
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

fn show_value(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "—".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) if a.len() > 3 => format!("({} mục)", a.len()),
        Some(other) => {
            let text = other.to_string();
            if text.chars().count() > 120 {
                text.chars().take(117).collect::<String>() + "…"
            } else {
                text
            }
        }
    }
}

/// The fields that differ between the before and after of an event (all of them for a
/// creation); nested objects are followed, their fields named by path ("values.1.3.note").
pub fn changes(before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    let (before, after) = (parse(before), parse(after));
    let mut out = Vec::new();
    diff("", before.as_ref(), after.as_ref(), before.is_some(), 0, &mut out);
    out
}

fn diff(
    prefix: &str,
    b: Option<&serde_json::Value>,
    a: Option<&serde_json::Value>,
    had_before: bool,
    depth: usize,
    out: &mut Vec<Change>,
) {
    let empty = serde_json::Map::new();
    fn obj(v: Option<&serde_json::Value>) -> Option<&serde_json::Map<String, serde_json::Value>> {
        v.and_then(|v| v.as_object())
    }
    let follow = depth < 4
        && (obj(a).is_some() || a.is_none())
        && (obj(b).is_some() || b.is_none())
        && (a.is_some() || b.is_some());
    if follow {
        let (bo, ao) = (obj(b).unwrap_or(&empty), obj(a).unwrap_or(&empty));
        let mut keys: Vec<&String> = ao.keys().collect();
        keys.extend(bo.keys().filter(|k| !ao.contains_key(*k)));
        for k in keys {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            diff(&path, bo.get(k), ao.get(k), had_before, depth + 1, out);
        }
    } else if b != a {
        out.push(Change {
            field: prefix.to_string(),
            before: if had_before { show_value(b) } else { String::new() },
            after: show_value(a),
        });
    }
}

pub async fn event_rows(
    state: &AppState,
    ctx: &PageCtx,
    events: Vec<AuditEvent>,
) -> Result<Vec<EventRow>, WebError> {
    let unit_ids: Vec<i64> = events.iter().filter_map(|e| e.unit_id).collect();
    let units = state.store.units_by_ids(&unit_ids).await?;
    Ok(events
        .into_iter()
        .map(|e| EventRow {
            at: local(e.at),
            actor: e.actor,
            action: ctx.lang.t(&format!("action-{}", e.action)),
            entity: format!("{} #{}", ctx.lang.t(&format!("entity-{}", e.entity_type)), e.entity_id),
            unit: e.unit_id.and_then(|u| units.get(&u)).map(|u| u.name.clone()).unwrap_or_default(),
            changes: changes(e.before_json.as_deref(), e.after_json.as_deref()),
            reason: e.reason.unwrap_or_default(),
            address: e.address.unwrap_or_default(),
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "shell/history.html")]
pub struct HistoryPage {
    pub layout: Layout,
    pub heading: String,
    pub back: String,
    pub events: Vec<EventRow>,
}

/// A history page of any entity.
pub async fn history_page(
    state: &AppState,
    ctx: &PageCtx,
    heading: String,
    back: String,
    events: Vec<AuditEvent>,
) -> Result<HistoryPage, WebError> {
    Ok(HistoryPage {
        layout: Layout::new(ctx, &ctx.lang.t("history-title"), &back),
        heading,
        back,
        events: event_rows(state, ctx, events).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_list_only_what_differs() {
        let c = changes(
            Some(r#"{"name":"A","role":"viewer","n":1}"#),
            Some(r#"{"name":"B","role":"viewer","n":null}"#),
        );
        let shown: Vec<(&str, &str, &str)> =
            c.iter().map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str())).collect();
        assert_eq!(shown, [("n", "1", "—"), ("name", "A", "B")]);
        let created = changes(None, Some(r#"{"name":"A"}"#));
        assert_eq!((created[0].before.as_str(), created[0].after.as_str()), ("", "A"));
        let nested = changes(
            Some(r#"{"values":{"1.1":{"count":2,"note":null}}}"#),
            Some(r#"{"values":{"1.1":{"count":3,"note":null},"1.2":{"yes":true}}}"#),
        );
        let shown: Vec<(&str, &str, &str)> =
            nested.iter().map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str())).collect();
        assert_eq!(shown, [("values.1.1.count", "2", "3"), ("values.1.2.yes", "—", "true")]);
        assert!(changes(None, None).is_empty());
    }
}
