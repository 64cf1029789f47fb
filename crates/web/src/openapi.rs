//! The OpenAPI document of the JSON API under `/api/v1` (served at `/api/openapi.json`), and
//! the API's answer to an address that leads nowhere.

use utoipa::OpenApi;

use crate::shell::error::{ApiError, ErrorBody, WebError};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "danvan API",
        description = "Đề án, chỉ tiêu và đơn vị hành chính / schemes, targets and administrative units"
    ),
    paths(
        crate::units::api::get_unit,
        crate::units::api::get_children,
        crate::units::api::get_lineage,
        crate::units::api::search_units,
        crate::schemes::api::list_schemes,
        crate::schemes::api::get_scheme,
        crate::accounts::account::api_login,
        crate::accounts::account::api_logout,
        crate::accounts::account::api_me,
        crate::units::history::api_unit_history,
        crate::reviews::api::get_review,
        crate::reviews::api::put_review,
        crate::reviews::api::submit_review,
        crate::reviews::api::approve_review,
        crate::reviews::api::return_review,
        crate::reviews::api::reopen_review,
        crate::reviews::api::rollup,
        crate::reviews::api::get_recompute,
        crate::reviews::api::post_recompute,
        crate::reviews::api::api_evidence,
        crate::reviews::api::api_upload_evidence,
        crate::reviews::api::api_delete_evidence,
        crate::dashboard::api::api_dashboard,
        crate::roadmaps::api::get_roadmap,
        crate::roadmaps::api::put_roadmap,
        crate::roadmaps::api::submit_roadmap,
        crate::roadmaps::api::revise_roadmap,
        crate::roadmaps::api::approve_roadmap,
        crate::roadmaps::api::return_roadmap,
        crate::roadmaps::api::reopen_roadmap,
        crate::bloc::api_bloc,
        crate::bloc::api_add_member,
        crate::bloc::api_end_member,
        crate::community::hamlets::api_hamlets,
        crate::community::hamlets::api_add_hamlets,
        crate::community::hamlets::api_update_hamlet,
        crate::community::meetings::api_meetings,
        crate::community::meetings::api_meeting,
        crate::community::meetings::api_add_meeting,
        crate::community::meetings::api_conclusion_activity,
        crate::community::organisations::api_settings,
        crate::community::organisations::api_add_organisation,
        crate::community::organisations::api_put_settings,
        crate::feedback::public::api_submit,
        crate::feedback::public::api_status,
        crate::feedback::staff::api_inbox,
        crate::feedback::staff::api_assign,
        crate::feedback::staff::api_answer,
        crate::feedback::staff::api_close,
        crate::plans::api::api_list,
        crate::plans::api::api_create,
        crate::plans::api::api_get,
        crate::plans::api::api_update,
        crate::plans::api::api_delete,
        crate::plans::api::api_status,
        crate::plans::api::api_note,
        crate::plans::files::api_files,
        crate::plans::files::api_upload_file,
        crate::plans::files::api_delete_file,
        crate::plans::approval::api_plan_state,
        crate::plans::approval::api_submit_plan,
        crate::plans::approval::api_revise_plan,
        crate::plans::approval::api_approve_plan,
        crate::plans::approval::api_return_plan,
        crate::plans::approval::api_reopen_plan,
    ),
    components(schemas(
        crate::units::api::UnitJson,
        crate::units::api::UnitListJson,
        crate::units::api::LineageJson,
        crate::units::api::LinkedUnitJson,
        crate::schemes::api::SchemeSummaryJson,
        crate::schemes::api::SchemeJson,
        danvan_domain::feedback::FeedbackStatus,
        ErrorBody
    ))
)]
pub struct ApiDoc;

pub async fn not_found() -> ApiError {
    ApiError(WebError::NotFound("không có địa chỉ API này".into()))
}

/// The document as the server serves it: the operations above, with how each is reached — the
/// session cookie or a Bearer token unless the route is public — and every error it can answer
/// (400, 401, 403, 404, 409, 415, 422, 503 as `ErrorBody`), read from the route table so that
/// the document and the server cannot drift apart.
pub fn document(routes: &[crate::shell::RouteInfo]) -> utoipa::openapi::OpenApi {
    use crate::shell::auth::Access;
    use axum::http::Method;
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "danvan_session",
            "Phiên đăng nhập (POST /api/v1/auth/login) / the session cookie set by signing in",
        ))),
    );
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "Mã truy cập tạo ở trang Tài khoản / an API token made on the account page",
                ))
                .build(),
        ),
    );
    let error = |text: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(text)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let access = routes.iter().find(|r| r.method == method && r.path == path).map(|r| r.access);
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, text: &str| {
                responses.entry(code.to_string()).or_insert_with(|| error(text));
            };
            add("400", "Yêu cầu không hợp lệ (tham số, mã đơn vị, kỳ) / bad request");
            add("404", "Không có (đơn vị, bản ghi) / not found");
            if op.request_body.is_some() {
                add("413", "Nội dung gửi lên quá lớn / the body is over the limit");
                add("415", "Không phải JSON / not JSON");
                add("422", "Nội dung không đúng mẫu hoặc không hợp lệ / the body is refused");
            }
            if method != Method::GET {
                add("409", "Xung đột: bản ghi đã đổi (phiên bản cũ) hoặc trạng thái không cho phép bước này / conflict");
                add("503", "Cơ sở dữ liệu đang bận; thử lại sau Retry-After giây / busy, retry");
            }
            match access {
                Some(Access::Public) | None => {}
                Some(access) => {
                    add("401", "Chưa đăng nhập / not signed in");
                    if !matches!(access, Access::SignedIn) {
                        add("403", "Ngoài phạm vi của tài khoản / outside the account's scope");
                    }
                    op.security = Some(vec![
                        SecurityRequirement::new("session", Vec::<String>::new()),
                        SecurityRequirement::new("token", Vec::<String>::new()),
                    ]);
                }
            }
        }
    }
    finish(doc)
}

/// What the derive cannot say, said on the document as JSON: a nullable value keeps its format
/// (`{"type": ["string", "null"], "format": "date"}` becomes a `oneOf` of the dated string and
/// null, which generators read as meant), and the feedback form's fields carry the domain's
/// bounds and categories.
fn finish(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use danvan_domain::feedback::{CATEGORIES, MAX_CONTENT, MIN_CONTENT};
    use serde_json::{json, Value};
    fn nullable_formats(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let nullable_format = map.contains_key("format")
                    && matches!(map.get("type"), Some(Value::Array(t)) if t.contains(&json!("string")))
                    && matches!(map.get("type"), Some(Value::Array(t)) if t.len() == 2 && t.contains(&json!("null")));
                if let (true, Some(Value::Array(types))) = (nullable_format, map.get("type").cloned()) {
                    map.remove("type");
                    let ty = types.into_iter().find(|t| t != "null").unwrap_or(Value::Null);
                    let mut inner = serde_json::Map::new();
                    inner.insert("type".into(), ty);
                    for key in ["format", "pattern", "minimum", "maximum", "minLength", "maxLength"] {
                        if let Some(x) = map.remove(key) {
                            inner.insert(key.into(), x);
                        }
                    }
                    map.insert("oneOf".into(), json!([Value::Object(inner), {"type": "null"}]));
                }
                map.values_mut().for_each(nullable_formats);
            }
            Value::Array(items) => items.iter_mut().for_each(nullable_formats),
            _ => {}
        }
    }
    let Ok(mut v) = serde_json::to_value(&doc) else { return doc };
    nullable_formats(&mut v);
    if let Some(props) = v.pointer_mut("/components/schemas/PublicFeedback/properties") {
        props["category"]["enum"] = json!(CATEGORIES);
        props["content"]["minLength"] = json!(MIN_CONTENT);
        props["content"]["maxLength"] = json!(MAX_CONTENT);
        props["unit"]["minLength"] = json!(1);
    }
    serde_json::from_value(v).unwrap_or(doc)
}
