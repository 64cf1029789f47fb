//! The dashboard as files: the matrix in Excel and CSV, the print view, the Word draft.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State as AxState};
use danvan_domain::achievement::{assess, Status};
use danvan_domain::period::{scheme_periods, Period};
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

/// The title of a report: "Tổng kết thực hiện Đề án “…”" for the last period, "Sơ kết …" for
/// the years so far; the scheme's years only when its title does not already carry them.
pub(crate) fn report_subtitle(
    def: &danvan_domain::scheme::SchemeDef,
    period: &Period,
    is_final: bool,
) -> String {
    let years_in_title = def.title.contains(&def.first_year.to_string());
    if is_final {
        let years = if years_in_title {
            String::new()
        } else {
            format!(" giai đoạn {}-{}", def.first_year, def.last_year)
        };
        format!("Tổng kết thực hiện Đề án “{}”{years}", def.title)
    } else if period.year == def.first_year {
        format!("Sơ kết năm {} thực hiện Đề án “{}”", period.year, def.title)
    } else {
        let n = period.year - def.first_year + 1;
        format!("Sơ kết {n} năm ({}-{}) thực hiện Đề án “{}”", def.first_year, period.year, def.title)
    }
}

/// How a value moved from the baseline to the last period: "+12,5 điểm %", "-1 lần",
/// "Không → Có"; empty when either is missing.
fn change_text(
    lang: crate::shell::i18n::Lang,
    t: &danvan_domain::scheme::Target,
    from: Option<&Value>,
    to: Option<&Value>,
) -> String {
    let (Some(a), Some(b)) = (from, to) else { return String::new() };
    match (a, b) {
        (Value::YesNo { .. }, _) | (Value::Level { .. }, _) => {
            let (a, b) = (
                crate::shell::format::show_value(lang, t, Some(a)),
                crate::shell::format::show_value(lang, t, Some(b)),
            );
            if a == b {
                format!("{a} (không đổi)")
            } else {
                format!("{a} → {b}")
            }
        }
        _ => {
            let d = b.measure() - a.measure();
            let sign = if d > 0.0 { "+" } else { "" };
            let unit = match t.criterion {
                danvan_domain::scheme::Criterion::Percent(_) => " điểm %".to_string(),
                _ => t.unit_label.as_ref().map(|u| format!(" {u}")).unwrap_or_default(),
            };
            format!("{sign}{}{unit}", danvan_domain::scheme::format_number(d))
        }
    }
}

/// The draft interim or final report (báo cáo sơ kết / tổng kết) of a unit as a Word document:
/// a commune's from its reviews (sections from its narrative), a district's or province's from
/// its figures; the appendix holds a table per period so far and the change from the baseline.
/// The issuer, number, signer and recipients follow the unit's level.
pub async fn report_docx(
    AxState(state): AxState<AppState>,
    ctx: PageCtx,
    ScopedUnit(unit): ScopedUnit,
    Path((scheme, _code)): Path<(String, String)>,
    Query(q): Query<DashboardQuery>,
) -> Result<axum::response::Response, PageError> {
    let lang = ctx.lang;
    let (scheme, period) = resolve(&state, &scheme, q.period.as_deref()).await.in_lang(lang)?;
    let units_on = q.units_on().in_lang(lang)?;
    let def = &scheme.def;
    let periods: Vec<Period> =
        scheme_periods(def).into_iter().filter(|p| p.start() <= period.start()).collect();
    let is_final = scheme_periods(def).last() == Some(&period);
    let subtitle = report_subtitle(def, &period, is_final);
    let pct0 = |v: Option<f64>| {
        v.map(|v| format!("{}%", danvan_domain::scheme::format_number(v.round()))).unwrap_or_default()
    };
    let head = |last: &str| ["Mã", "Chỉ tiêu", "Mức chỉ tiêu", "Kết quả", last].map(String::from).to_vec();
    let first = periods.first().copied().unwrap_or(period);
    let change_head = || {
        vec![
            "Mã".to_string(),
            "Chỉ tiêu".into(),
            format!("Năm gốc {first}"),
            format!("Kỳ {period}"),
            "Thay đổi".into(),
        ]
    };
    let mut tables: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let sections = if unit.level == def.applies_to {
        let plan = state.store.plan_in_force(scheme.id, unit.id).await.in_lang(lang)?;
        let mut by_period = Vec::new();
        let mut current = None;
        for p in &periods {
            let review = state.store.review(scheme.id, unit.id, &p.to_string()).await.in_lang(lang)?;
            let values = state.store.values_now(&scheme, unit.id, p, review.as_ref()).await.in_lang(lang)?;
            let mut rows = vec![head("Đánh giá")];
            let mut met = 0;
            for t in &def.targets {
                let v = values.get(&t.code).and_then(|e| e.value.as_ref());
                let a =
                    assess(t, v, danvan_store::planned_for(review.as_ref(), plan.as_ref(), &t.code, p.year));
                met += usize::from(a.status == Status::Achieved);
                let mut result = crate::shell::format::show_value(lang, t, v);
                if let Some(m) = a.value.filter(|_| matches!(v, Some(Value::Ratio { .. }))) {
                    result = format!("{result} ({})", t.measure_text(m));
                }
                rows.push(vec![
                    t.code.clone(),
                    t.name.clone(),
                    t.criterion_text(),
                    result,
                    a.status.label_vi().to_string(),
                ]);
            }
            tables.push((format!("PHỤ LỤC {}: KẾT QUẢ THỰC HIỆN CHỈ TIÊU KỲ {p}", tables.len() + 1), rows));
            by_period.push((*p, met, values));
            if *p == period {
                current = review;
            }
        }
        if periods.len() > 1 {
            let (from, to) = (&by_period[0].2, &by_period[by_period.len() - 1].2);
            let mut rows = vec![change_head()];
            for t in &def.targets {
                let (a, b) = (
                    from.get(&t.code).and_then(|e| e.value.as_ref()),
                    to.get(&t.code).and_then(|e| e.value.as_ref()),
                );
                rows.push(vec![
                    t.code.clone(),
                    t.name.clone(),
                    crate::shell::format::show_value(lang, t, a),
                    crate::shell::format::show_value(lang, t, b),
                    change_text(lang, t, a, b),
                ]);
            }
            tables.push((format!("PHỤ LỤC {}: THAY ĐỔI SO VỚI NĂM GỐC", tables.len() + 1), rows));
        }
        let narrative = current.map(|r| r.narrative).unwrap_or_default();
        let mut results: Vec<String> = by_period
            .iter()
            .map(|(p, met, _)| {
                format!("Kỳ {p}: Khối dân vận đạt {met}/{} chỉ tiêu của Đề án.", def.targets.len())
            })
            .collect();
        results.push("Chi tiết từng chỉ tiêu ở các phụ lục.".into());
        results.extend(lines(&narrative.results));
        vec![
            ("I. KẾT QUẢ THỰC HIỆN", results),
            ("II. HẠN CHẾ, NGUYÊN NHÂN", lines(&narrative.limitations)),
            ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ", lines(&narrative.next_tasks)),
        ]
    } else {
        let mut figures = Vec::new();
        for p in &periods {
            let d = compute(&state, &scheme, &unit, p, units_on).await.in_lang(lang)?;
            let mut rows = vec![head("Mục tiêu năm")];
            for t in &d.targets {
                let verdict = match t.meets_goal {
                    Some(true) => "Đạt",
                    Some(false) => "Chưa đạt",
                    None => "",
                };
                rows.push(vec![
                    t.code.clone(),
                    t.name.clone(),
                    t.goal
                        .map(|g| format!("{}% đơn vị đạt", danvan_domain::scheme::format_number(g)))
                        .unwrap_or_default(),
                    format!("{}/{} đơn vị đạt ({})", t.met, t.expected, pct0(t.coverage)),
                    verdict.to_string(),
                ]);
            }
            tables.push((format!("PHỤ LỤC {}: KẾT QUẢ THỰC HIỆN CHỈ TIÊU KỲ {p}", tables.len() + 1), rows));
            figures.push(d);
        }
        let (base, d) = (&figures[0], &figures[figures.len() - 1]);
        if figures.len() > 1 {
            let mut rows = vec![change_head()];
            for (a, b) in base.targets.iter().zip(&d.targets) {
                let change = match (a.coverage, b.coverage) {
                    (Some(x), Some(y)) => {
                        let diff = (y - x).round();
                        format!(
                            "{}{} điểm %",
                            if diff > 0.0 { "+" } else { "" },
                            danvan_domain::scheme::format_number(diff)
                        )
                    }
                    _ => String::new(),
                };
                rows.push(vec![b.code.clone(), b.name.clone(), pct0(a.coverage), pct0(b.coverage), change]);
            }
            tables.push((
                format!("PHỤ LỤC {}: THAY ĐỔI SO VỚI NĂM GỐC (tỷ lệ đơn vị đạt)", tables.len() + 1),
                rows,
            ));
        }
        let mut results: Vec<String> = figures
            .iter()
            .map(|f| {
                format!(
                    "Kỳ {}: đã nhận {}/{} báo cáo ({}), {} đúng hạn; tỷ lệ chỉ tiêu đạt bình quân của các đơn vị báo cáo {}; {}/{} chỉ tiêu đạt mục tiêu của năm.",
                    f.period,
                    f.received,
                    f.expected,
                    pct0(f.completeness),
                    f.on_time,
                    pct0(f.score),
                    f.targets_meeting_goal,
                    f.targets_with_goal
                )
            })
            .collect();
        let mut ranked: Vec<&ChildFigure> = d.children.iter().filter(|c| c.score.is_some()).collect();
        ranked.sort_by_key(|c| c.rank);
        if !ranked.is_empty() {
            let top: Vec<String> =
                ranked.iter().take(3).map(|c| format!("{} ({})", c.name, pct0(c.score))).collect();
            results.push(format!("Dẫn đầu kỳ {period}: {}.", top.join(", ")));
        }
        let lagging: Vec<String> = d
            .children
            .iter()
            .filter(|c| !c.lagging.is_empty())
            .map(|c| format!("{}: {}.", c.name, c.lagging.join("; ")))
            .collect();
        vec![
            ("I. KẾT QUẢ THỰC HIỆN", results),
            ("II. HẠN CHẾ, NGUYÊN NHÂN", lagging),
            ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ", Vec::new()),
        ]
    };
    let parent = match unit.parent_id {
        Some(id) => state.store.unit(id).await.in_lang(lang)?,
        None => None,
    };
    let issuer = danvan_report::docx::issuer_of(&unit, parent.as_ref());
    let doc = danvan_report::docx::ReportDoc {
        parent_body: &issuer.parent_body,
        body: &issuer.body,
        number: &issuer.number,
        place: &unit.short_name,
        date: today(),
        title: "BÁO CÁO",
        subtitle: &subtitle,
        sections: &sections,
        tables: &tables,
        recipients: &issuer.recipients,
        signer: &issuer.signer,
        sample_note: def.sample.then_some("(Dự thảo trên dữ liệu mẫu — không phải số liệu thật)"),
    };
    let bytes = danvan_report::docx::report_docx(&doc)
        .map_err(|e| WebError::Internal(Box::new(std::io::Error::other(e))))
        .in_lang(lang)?;
    Ok(crate::shell::files::attachment(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &format!("bao-cao-{}-{period}.docx", unit.code),
        bytes,
    ))
}
