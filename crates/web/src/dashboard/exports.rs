//! The dashboard as files: the matrix in Excel and CSV, the print view, the Word draft.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use danvan_domain::achievement::{assess, Status};
use danvan_domain::period::scheme_periods;
use danvan_domain::units::UnitLevel;
use danvan_domain::value::Value;

use super::compute;
use super::pages::figures;
use super::pages::pct;
use super::pages::with_matrix;
use super::pages::MatrixRow;
use super::resolve;
use super::ChildFigure;
use super::DashboardJson;
use super::DashboardQuery;
use crate::shell::auth::ScopedUnit;
use crate::shell::error::{InLang, PageError, WebError};
use crate::shell::today;
use crate::shell::AppState;
use crate::shell::PageCtx;

/// The units × targets matrix as an Excel workbook.
pub async fn matrix_xlsx(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
) -> Result<axum::response::Response, PageError> {
    let (scheme, d) = figures(&state, &scheme, &unit, &q).await.in_lang(ctx.lang)?;
    let bytes = with_matrix(&scheme, &d, danvan_report::matrix::matrix_workbook)
        .map_err(|e| WebError::Internal(Box::new(e)))
        .in_lang(ctx.lang)?;
    let name = format!("chi-tieu-{}-{}.xlsx", unit.code, d.period);
    Ok(crate::shell::files::attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name,
        bytes,
    ))
}

/// The units × targets matrix as CSV (UTF-8 with BOM).
pub async fn matrix_csv(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
    Query(format): Query<CsvQuery>,
) -> Result<axum::response::Response, PageError> {
    use danvan_report::matrix::CsvDialect;
    let (scheme, d) = figures(&state, &scheme, &unit, &q).await.in_lang(ctx.lang)?;
    let (dialect, suffix) = match format.csv.as_deref() {
        Some("vn") => (CsvDialect::Vietnam, "-excel-vn"),
        _ => (CsvDialect::Plain, ""),
    };
    let bytes = with_matrix(&scheme, &d, |v| danvan_report::matrix::matrix_csv(v, dialect));
    let name = format!("chi-tieu-{}-{}{suffix}.csv", unit.code, d.period);
    Ok(crate::shell::files::attachment("text/csv; charset=utf-8", &name, bytes))
}

/// Which CSV: `?csv=vn` for Excel in Vietnam (`;` and decimal commas), the plain file otherwise.
#[derive(serde::Deserialize, Default)]
pub struct CsvQuery {
    pub csv: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/dashboard_print.html")]
pub struct PrintPage {
    lang: crate::shell::i18n::Lang,
    d: DashboardJson,
    scheme_title: String,
    issuing_body: String,
    sample: bool,
    today: String,
    rows: Vec<MatrixRow>,
}

/// An A4 print view of the dashboard's figures (the browser prints or saves it as PDF).
pub async fn print(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
) -> Result<PrintPage, PageError> {
    let lang = ctx.lang;
    let (scheme, d) = figures(&state, &scheme, &unit, &q).await.in_lang(lang)?;
    let mut rows: Vec<MatrixRow> = d
        .children
        .iter()
        .map(|c| MatrixRow {
            href: String::new(),
            name: c.name.clone(),
            rank: c.rank,
            score: pct(c.score),
            completeness: format!("{}/{}", c.received, c.expected),
            cells: Vec::new(),
            lagging: c.lagging.join("; "),
            former: c.former.join(", "),
        })
        .collect();
    rows.sort_by_key(|r| r.rank);
    let t = today();
    Ok(PrintPage {
        lang,
        scheme_title: scheme.def.title.clone(),
        issuing_body: scheme.def.issuing_body.clone(),
        sample: scheme.def.sample,
        today: format!("ngày {} tháng {} năm {}", t.format("%d"), t.format("%m"), t.format("%Y")),
        rows,
        d,
    })
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// The draft interim or final report (báo cáo sơ kết / tổng kết) of a unit as a Word document:
/// a commune's from its review (sections from its narrative, the appendix from its values), a
/// district's or province's from its figures.
pub async fn report_docx(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
) -> Result<axum::response::Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = resolve(&state, &scheme, q.period.as_deref()).await.in_lang(lang)?;
    let d = compute(&state, &scheme, &unit, &period, q.units_on().in_lang(lang)?).await.in_lang(lang)?;
    let def = &scheme.def;
    let is_final = scheme_periods(def).last() == Some(&period);
    let subtitle = if is_final {
        format!("Tổng kết thực hiện {} ({}-{})", def.title, def.first_year, def.last_year)
    } else {
        format!("Sơ kết thực hiện {} kỳ {}", def.title, period)
    };
    let pct0 = |v: Option<f64>| {
        v.map(|v| format!("{}%", danvan_domain::scheme::format_number(v.round()))).unwrap_or_default()
    };
    let mut table = Vec::new();
    let (parent_body, body, sections) = if unit.level == def.applies_to {
        let review = state.store.review(scheme.id, unit.id, &period.to_string()).await.in_lang(lang)?;
        let values =
            state.store.values_now(&scheme, unit.id, &period, review.as_ref()).await.in_lang(lang)?;
        let plan = state.store.plan_in_force(scheme.id, unit.id).await.in_lang(lang)?;
        let mut met = 0;
        for t in &def.targets {
            let v = values.get(&t.code).and_then(|e| e.value.as_ref());
            let a =
                assess(t, v, danvan_store::planned_for(review.as_ref(), plan.as_ref(), &t.code, period.year));
            met += usize::from(a.status == Status::Achieved);
            let mut result = crate::shell::format::show_value(lang, t, v);
            if let Some(m) = a.value.filter(|_| matches!(v, Some(Value::Ratio { .. }))) {
                result = format!("{result} ({})", t.measure_text(m));
            }
            table.push(vec![
                t.code.clone(),
                t.name.clone(),
                t.criterion_text(),
                result,
                a.status.label_vi().to_string(),
            ]);
        }
        let narrative = review.map(|r| r.narrative).unwrap_or_default();
        let mut results = vec![format!(
            "Khối dân vận đạt {met}/{} chỉ tiêu của Đề án trong kỳ {period} (chi tiết ở phụ lục).",
            def.targets.len()
        )];
        results.extend(lines(&narrative.results));
        (
            format!("ĐẢNG ỦY {}", unit.name.to_uppercase()),
            "KHỐI DÂN VẬN".to_string(),
            vec![
                ("I. KẾT QUẢ THỰC HIỆN", results),
                ("II. HẠN CHẾ, NGUYÊN NHÂN", lines(&narrative.limitations)),
                ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ", lines(&narrative.next_tasks)),
            ],
        )
    } else {
        for t in &d.targets {
            let verdict = match t.meets_goal {
                Some(true) => "Đạt mục tiêu năm",
                Some(false) => "Chưa đạt mục tiêu năm",
                None => "",
            };
            table.push(vec![
                t.code.clone(),
                t.name.clone(),
                t.goal
                    .map(|g| format!("{}% đơn vị đạt", danvan_domain::scheme::format_number(g)))
                    .unwrap_or_default(),
                format!("{}/{} đơn vị đạt ({})", t.met, t.expected, pct0(t.coverage)),
                verdict.to_string(),
            ]);
        }
        let mut results = vec![format!(
            "Đã nhận {}/{} báo cáo ({}), trong đó {} báo cáo đúng hạn. Tỷ lệ chỉ tiêu đạt bình quân của các đơn vị: {}; {}/{} chỉ tiêu đạt mục tiêu của năm.",
            d.received,
            d.expected,
            pct0(d.completeness),
            d.on_time,
            pct0(d.score),
            d.targets_meeting_goal,
            d.targets_with_goal
        )];
        let mut ranked: Vec<&ChildFigure> = d.children.iter().filter(|c| c.score.is_some()).collect();
        ranked.sort_by_key(|c| c.rank);
        if !ranked.is_empty() {
            let top: Vec<String> =
                ranked.iter().take(3).map(|c| format!("{} ({})", c.name, pct0(c.score))).collect();
            results.push(format!("Dẫn đầu: {}.", top.join(", ")));
        }
        let lagging: Vec<String> = d
            .children
            .iter()
            .filter(|c| !c.lagging.is_empty())
            .map(|c| format!("{}: {}.", c.name, c.lagging.join("; ")))
            .collect();
        let (parent, body) = match unit.level {
            UnitLevel::Country => ("BAN CHẤP HÀNH TRUNG ƯƠNG".to_string(), "BAN DÂN VẬN TRUNG ƯƠNG"),
            UnitLevel::Province => (format!("TỈNH ỦY {}", unit.short_name.to_uppercase()), "BAN DÂN VẬN"),
            _ => {
                (format!("{} ỦY {}", unit.kind.to_uppercase(), unit.short_name.to_uppercase()), "BAN DÂN VẬN")
            }
        };
        (
            parent,
            body.to_string(),
            vec![
                ("I. KẾT QUẢ THỰC HIỆN", results),
                ("II. HẠN CHẾ, NGUYÊN NHÂN", lagging),
                ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ", Vec::new()),
            ],
        )
    };
    let head = ["Mã", "Chỉ tiêu", "Mức chỉ tiêu", "Kết quả", "Đánh giá"].map(String::from).to_vec();
    table.insert(0, head);
    let sections: Vec<(&str, Vec<String>)> = sections.into_iter().collect();
    let doc = danvan_report::docx::ReportDoc {
        parent_body: &parent_body,
        body: &body,
        number: "Số        -BC/DV",
        place: &unit.short_name,
        date: today(),
        title: "BÁO CÁO",
        subtitle: &subtitle,
        sections: &sections,
        appendix_title: "PHỤ LỤC: KẾT QUẢ THỰC HIỆN CHỈ TIÊU",
        table: &table,
        sample_note: def.sample.then_some("(Dự thảo trên dữ liệu mẫu — không phải số liệu thật)"),
    };
    let bytes = danvan_report::docx::report_docx(&doc)
        .map_err(|e| WebError::Internal(Box::new(std::io::Error::other(e))))
        .in_lang(lang)?;
    Ok(crate::shell::files::attachment(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &format!("bao-cao-{}-{}.docx", unit.code, d.period),
        bytes,
    ))
}
