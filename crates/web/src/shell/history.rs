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

/// One changed field, as the JSON holds it.
pub struct RawChange {
    pub path: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// Whether there was a before at all (a creation has none).
    pub had_before: bool,
}

/// Unit and user names for the ids an event's changes carry.
#[derive(Debug, Default)]
pub struct Names {
    pub units: std::collections::HashMap<i64, String>,
    pub users: std::collections::HashMap<i64, String>,
}

/// What a changed field holds, by the last part of its path.
fn kind_of_field(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// Fields holding a unit's id, and those holding a user's.
const UNIT_FIELDS: [&str; 4] = ["scope_unit_id", "unit_id", "parent_id", "successor_id"];
const USER_FIELDS: [&str; 4] = ["user_id", "decided_by", "created_by", "assigned_to"];

/// A changed field as people read it: "Chỉ tiêu 2.1 — mẫu số", "Trạng thái", "Báo cáo —
/// kết quả"; the path itself only for a field no message names.
pub fn field_label(lang: crate::shell::i18n::Lang, path: &str) -> String {
    const PER_TARGET: [&str; 5] = ["values.", "computed.", "plan.targets.", "in_force.targets.", "targets."];
    if let Some(rest) = PER_TARGET.iter().find_map(|p| path.strip_prefix(p)) {
        // The target code has dots of its own ("2.1.value.denominator"): it runs up to the
        // first part that names a field.
        const PARTS: [&str; 11] = [
            "value",
            "note",
            "planned",
            "meet_year",
            "reason",
            "numerator",
            "denominator",
            "count",
            "yes",
            "grade",
            "kind",
        ];
        let segments: Vec<&str> = rest.split('.').collect();
        let at = segments.iter().position(|s| PARTS.contains(s)).unwrap_or(segments.len());
        let target = lang.t_args("field-target", &[("code", segments[..at].join("."))]);
        let part = segments[at..].iter().rev().find(|s| PARTS.contains(s) && **s != "value");
        let year = segments[at..].last().filter(|y| y.len() == 4 && y.parse::<i32>().is_ok());
        return match (part.and_then(|p| lang.try_t(&format!("field-{p}"))), year) {
            (Some(p), Some(y)) => format!("{target} — {p} {y}"),
            (Some(p), None) => format!("{target} — {p}"),
            (None, _) => target,
        };
    }
    if let Some(section) = path.strip_prefix("narrative.") {
        if let Some(s) = lang.try_t(&format!("field-narrative-{section}")) {
            return s;
        }
    }
    lang.try_t(&format!("field-{}", kind_of_field(path))).unwrap_or_else(|| path.to_string())
}

/// A changed value as people read it: Vietnamese numbers, state and role names, unit and user
/// names for ids, "Có"/"Không".
pub fn value_text(
    lang: crate::shell::i18n::Lang,
    entity: &str,
    path: &str,
    v: Option<&serde_json::Value>,
    names: &Names,
) -> String {
    use serde_json::Value as J;
    let key = kind_of_field(path);
    match v {
        Some(J::Number(n)) => {
            let id = n.as_i64();
            if let Some(name) = id.filter(|_| UNIT_FIELDS.contains(&key)).and_then(|i| names.units.get(&i)) {
                return name.clone();
            }
            if let Some(name) = id.filter(|_| USER_FIELDS.contains(&key)).and_then(|i| names.users.get(&i)) {
                return name.clone();
            }
            let plain = key.ends_with("id") || ["year", "version", "code", "rank"].contains(&key);
            match n.as_f64() {
                Some(f) if !plain => danvan_domain::scheme::format_number(f),
                _ => n.to_string(),
            }
        }
        Some(J::Bool(b)) => lang.t(if *b { "yes" } else { "no" }),
        Some(J::String(s)) => {
            let label = match (entity, key) {
                (_, "state") => lang.try_t(&format!("review-state-{s}")),
                ("feedback", "status") => lang.try_t(&format!("feedback-status-{s}")),
                (_, "status") => {
                    danvan_domain::plan::ActivityStatus::parse(s).map(|a| a.label_vi().to_string())
                }
                (_, "role") => lang.try_t(&format!("role-{s}")),
                (_, "kind") => lang.try_t(&format!("field-kind-{s}")),
                _ => None,
            };
            label.unwrap_or_else(|| show_value(v))
        }
        _ => show_value(v),
    }
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
pub fn raw_changes(before: Option<&str>, after: Option<&str>) -> Vec<RawChange> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    let (before, after) = (parse(before), parse(after));
    let mut out = Vec::new();
    diff("", before.as_ref(), after.as_ref(), before.is_some(), 0, &mut out);
    out
}

/// The changes of an event in words, in a language.
pub fn changes(
    lang: crate::shell::i18n::Lang,
    entity: &str,
    before: Option<&str>,
    after: Option<&str>,
    names: &Names,
) -> Vec<Change> {
    raw_changes(before, after)
        .into_iter()
        .map(|c| Change {
            field: field_label(lang, &c.path),
            before: if c.had_before {
                value_text(lang, entity, &c.path, c.before.as_ref(), names)
            } else {
                String::new()
            },
            after: value_text(lang, entity, &c.path, c.after.as_ref(), names),
        })
        .collect()
}

fn diff(
    prefix: &str,
    b: Option<&serde_json::Value>,
    a: Option<&serde_json::Value>,
    had_before: bool,
    depth: usize,
    out: &mut Vec<RawChange>,
) {
    let empty = serde_json::Map::new();
    fn obj(v: Option<&serde_json::Value>) -> Option<&serde_json::Map<String, serde_json::Value>> {
        v.and_then(|v| v.as_object())
    }
    let follow = depth < 5
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
    } else if b.filter(|v| !v.is_null()) != a.filter(|v| !v.is_null()) {
        // A field that is absent and one that is null say the same: nothing.
        out.push(RawChange { path: prefix.to_string(), before: b.cloned(), after: a.cloned(), had_before });
    }
}

/// The unit and user names an audit page needs: its events' units, the ids in their changes,
/// and their actors.
async fn names_for(state: &AppState, events: &[AuditEvent]) -> Result<Names, WebError> {
    let mut unit_ids: Vec<i64> = events.iter().filter_map(|e| e.unit_id).collect();
    let mut user_ids: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    // The record an event is about, when it is a user or a unit: named, not "#3".
    for e in events {
        match (e.entity_type.as_str(), e.entity_id.parse::<i64>()) {
            ("user", Ok(id)) => user_ids.push(id),
            ("unit", Ok(id)) => unit_ids.push(id),
            _ => {}
        }
    }
    for e in events {
        for c in raw_changes(e.before_json.as_deref(), e.after_json.as_deref()) {
            let key = kind_of_field(&c.path);
            for v in [c.before.as_ref(), c.after.as_ref()].into_iter().flatten() {
                if let Some(id) = v.as_i64() {
                    if UNIT_FIELDS.contains(&key) {
                        unit_ids.push(id);
                    } else if USER_FIELDS.contains(&key) {
                        user_ids.push(id);
                    }
                }
            }
        }
    }
    let units = state.store.units_by_ids(&unit_ids).await?.into_iter().map(|(id, u)| (id, u.name)).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let mut users = std::collections::HashMap::new();
    for id in user_ids {
        if let Some(u) = state.store.user(id).await? {
            users.insert(id, format!("{} ({})", u.display_name, u.username));
        }
    }
    Ok(Names { units, users })
}

pub async fn event_rows(
    state: &AppState,
    ctx: &PageCtx,
    events: Vec<AuditEvent>,
) -> Result<Vec<EventRow>, WebError> {
    let names = names_for(state, &events).await?;
    let lang = ctx.lang;
    Ok(events
        .into_iter()
        .map(|e| EventRow {
            at: local(e.at),
            actor: e.actor_id.and_then(|id| names.users.get(&id).cloned()).unwrap_or(e.actor),
            action: lang.t(&format!("action-{}", e.action)),
            entity: {
                let kind = lang.t(&format!("entity-{}", e.entity_type));
                let id = e.entity_id.parse::<i64>().ok();
                let name = match e.entity_type.as_str() {
                    "user" => id.and_then(|i| names.users.get(&i)),
                    "unit" => id.and_then(|i| names.units.get(&i)),
                    _ => None,
                };
                match name {
                    Some(n) => format!("{kind}: {n}"),
                    None => format!("{kind} #{}", e.entity_id),
                }
            },
            unit: e.unit_id.and_then(|u| names.units.get(&u)).cloned().unwrap_or_default(),
            changes: changes(lang, &e.entity_type, e.before_json.as_deref(), e.after_json.as_deref(), &names),
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
        use crate::shell::i18n::Lang;
        let names = Names::default();
        let shown = |c: Vec<Change>| -> Vec<(String, String, String)> {
            c.into_iter().map(|c| (c.field, c.before, c.after)).collect()
        };
        let c = changes(
            Lang::Vi,
            "user",
            Some(r#"{"name":"A","role":"viewer","n":1}"#),
            Some(r#"{"name":"B","role":"commune","n":null}"#),
            &names,
        );
        let c = shown(c);
        assert_eq!(c[0], ("n".into(), "1".into(), "—".into()));
        assert_eq!(c[2], ("Vai trò".into(), "Chỉ xem".into(), "Cấp xã".into()));
        let created = changes(Lang::Vi, "user", None, Some(r#"{"name":"A"}"#), &names);
        assert_eq!((created[0].before.as_str(), created[0].after.as_str()), ("", "A"));
        assert!(changes(Lang::Vi, "user", None, None, &names).is_empty());
        let quiet = changes(
            Lang::Vi,
            "review",
            Some(r#"{"values":{}}"#),
            Some(r#"{"values":{"1.1":{"note":null}}}"#),
            &names,
        );
        assert!(quiet.is_empty(), "absent and null are the same: {}", quiet.len());
    }

    /// Issue 16, item 12: history showed raw paths ("values.2.1.value.denominator: 39 → 1300",
    /// "state: approved → draft", "scope_unit_id: 116").
    #[test]
    fn changes_read_as_words_with_names_and_vietnamese_numbers() {
        use crate::shell::i18n::Lang;
        let mut names = Names::default();
        names.units.insert(116, "Xã Hựu Thạnh".into());
        names.users.insert(3, "Ban Dân vận Huyện ủy Đức Hòa (huyen.duchoa)".into());
        let review = changes(
            Lang::Vi,
            "review",
            Some(
                r#"{"state":"approved","values":{"2.1":{"value":{"kind":"ratio","numerator":39,"denominator":39},"note":null}},"narrative":{"results":"A"}}"#,
            ),
            Some(
                r#"{"state":"draft","values":{"2.1":{"value":{"kind":"ratio","numerator":39,"denominator":1300},"note":"Đã sửa"}},"narrative":{"results":"B"}}"#,
            ),
            &names,
        );
        let shown: Vec<(String, String, String)> =
            review.into_iter().map(|c| (c.field, c.before, c.after)).collect();
        assert!(shown.contains(&("Trạng thái".into(), "Đã duyệt".into(), "Đang soạn".into())), "{shown:?}");
        assert!(shown.contains(&("Chỉ tiêu 2.1 — mẫu số".into(), "39".into(), "1.300".into())), "{shown:?}");
        assert!(shown.contains(&("Chỉ tiêu 2.1 — ghi chú".into(), "—".into(), "Đã sửa".into())), "{shown:?}");
        assert!(shown.contains(&("Báo cáo — kết quả".into(), "A".into(), "B".into())), "{shown:?}");
        let user = changes(
            Lang::Vi,
            "user",
            Some(r#"{"scope_unit_id":null,"decided_by":3}"#),
            Some(r#"{"scope_unit_id":116,"decided_by":null}"#),
            &names,
        );
        let shown: Vec<(String, String, String)> =
            user.into_iter().map(|c| (c.field, c.before, c.after)).collect();
        assert!(shown.contains(&("Đơn vị phụ trách".into(), "—".into(), "Xã Hựu Thạnh".into())), "{shown:?}");
        assert!(
            shown.contains(&(
                "Người quyết định".into(),
                "Ban Dân vận Huyện ủy Đức Hòa (huyen.duchoa)".into(),
                "—".into()
            )),
            "{shown:?}"
        );
        let plan = changes(
            Lang::Vi,
            "roadmap",
            Some(r#"{"targets":{"2.1":{"planned":{"2018":50}}}}"#),
            Some(r#"{"targets":{"2.1":{"planned":{"2018":45.5}}}}"#),
            &names,
        );
        assert_eq!(
            (plan[0].field.as_str(), plan[0].after.as_str()),
            ("Chỉ tiêu 2.1 — kế hoạch 2018", "45,5")
        );
        let plan = changes(
            Lang::Vi,
            "roadmap",
            Some(r#"{"plan":{"targets":{"2.1":{"planned":{"2018":50}}}}}"#),
            Some(r#"{"plan":{"targets":{"2.1":{"planned":{"2018":1250}}}}}"#),
            &names,
        );
        assert_eq!(
            (plan[0].field.as_str(), plan[0].after.as_str()),
            ("Chỉ tiêu 2.1 — kế hoạch 2018", "1.250")
        );
        let frozen = changes(
            Lang::Vi,
            "review",
            None,
            Some(r#"{"computed":{"3.1":{"kind":"ratio","numerator":2,"denominator":3}}}"#),
            &names,
        );
        let mut fields: Vec<(&str, &str)> =
            frozen.iter().map(|c| (c.field.as_str(), c.after.as_str())).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                ("Chỉ tiêu 3.1 — loại giá trị", "tỷ lệ"),
                ("Chỉ tiêu 3.1 — mẫu số", "3"),
                ("Chỉ tiêu 3.1 — tử số", "2")
            ]
        );
    }

    /// Issue 16, item 12: keys rendered as "Unknown localization key". Walks every audit action
    /// and entity kind the code writes (read from the sources, plus the ones built at run time)
    /// and fails on one either language cannot name.
    #[test]
    fn every_audit_action_and_entity_is_named_in_both_languages() {
        use crate::shell::i18n::Lang;
        let mut actions: Vec<String> =
            danvan_domain::workflow::Transition::ALL.iter().map(|t| t.as_str().to_string()).collect();
        actions.extend(["assign", "answer", "close", "create", "update"].map(String::from));
        let mut entities: Vec<String> =
            ["review", "roadmap", "feedback", "scheme"].map(String::from).to_vec();
        let mut found = 0;
        for dir in ["../store/src", "src", "../danvan/src"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let mut files = vec![dir];
            while let Some(path) = files.pop() {
                if path.is_dir() {
                    files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("NewEvent::new(\"") {
                    let rest = &text[i + "NewEvent::new(\"".len()..];
                    let mut parts = rest.split('"');
                    let (action, sep, entity) =
                        (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
                    if sep == ", " {
                        actions.push(action.to_string());
                        entities.push(entity.to_string());
                        found += 1;
                    }
                }
            }
        }
        assert!(found > 30, "the sources were read: {found}");
        for lang in [Lang::Vi, Lang::En] {
            for a in &actions {
                assert!(lang.try_t(&format!("action-{a}")).is_some(), "action-{a} in {}", lang.code());
            }
            for e in &entities {
                assert!(lang.try_t(&format!("entity-{e}")).is_some(), "entity-{e} in {}", lang.code());
            }
        }
        // Every field named in Vietnamese is named in English too.
        // Every literal key a template or the code asks for exists in both languages.
        let mut asked = Vec::new();
        for dir in ["templates", "src"] {
            let mut files = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
            while let Some(path) = files.pop() {
                if path.is_dir() {
                    files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for pattern in [".t(\"", "t_args(\""] {
                    for (i, _) in text.match_indices(pattern) {
                        let key = text[i + pattern.len()..].split('"').next().unwrap();
                        if !key.is_empty()
                            && !key.contains('{')
                            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        {
                            asked.push(key.to_string());
                        }
                    }
                }
            }
        }
        assert!(asked.len() > 100, "the templates were read: {}", asked.len());
        let defined = |ftl: &'static str| -> Vec<&'static str> {
            ftl.lines().filter_map(|l| l.split_once(" = ")).map(|(k, _)| k).collect()
        };
        let (vi, en) = (
            defined(include_str!("../../locales/vi/main.ftl")),
            defined(include_str!("../../locales/en/main.ftl")),
        );
        for key in &asked {
            assert!(
                vi.contains(&key.as_str()) && en.contains(&key.as_str()),
                "\"{key}\" is asked for but not defined in both languages"
            );
        }
        let keys = |ftl: &'static str| -> Vec<&'static str> {
            ftl.lines()
                .filter_map(|l| l.split_once(" = "))
                .map(|(k, _)| k)
                .filter(|k| k.starts_with("field-"))
                .collect()
        };
        let en = keys(include_str!("../../locales/en/main.ftl"));
        for key in keys(include_str!("../../locales/vi/main.ftl")) {
            assert!(en.contains(&key), "{key} in en");
        }
    }
}
