//! The timeline of a plan as SVG: one bar per activity from its start to its due date,
//! coloured by status (and marked with a pattern when overdue, readable without colour),
//! months across the top, today marked. Nothing is fetched; no script.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

/// One activity on the timeline.
pub struct Bar<'a> {
    pub label: &'a str,
    pub start: NaiveDate,
    pub due: NaiveDate,
    /// not_started, in_progress, done or cancelled.
    pub status: &'a str,
    pub overdue: bool,
    /// Where a click on the bar leads.
    pub href: &'a str,
}

/// Each activity is a row: its name on a line (or two) of its own, its bar below.
const ROW_H: f64 = 38.0;
const LINE_H: f64 = 15.0;
const TOP: f64 = 24.0;
/// A name's line holds this many characters at the most (12 px on a 375 px phone); a longer
/// name goes on to a second line, and past two lines is cut (in full in its title and the list).
const LINE_CHARS: usize = 48;

/// A name in at most two lines, broken between words.
fn label_lines(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in label.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > LINE_CHARS {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    if lines.len() > 2 {
        let mut second: String = lines[1..].join(" ").chars().take(LINE_CHARS - 1).collect();
        second.push('…');
        lines.truncate(1);
        lines.push(second);
    }
    lines
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn colour(status: &str) -> &'static str {
    match status {
        "done" => "#2e7d32",
        "in_progress" => "#1565c0",
        "cancelled" => "#9e9e9e",
        _ => "#f9a825",
    }
}

/// The SVG of a year's plan. `months` are the month labels (T1…T12 in Vietnamese); `name` is
/// the chart's accessible name. Drawn in CSS pixels at the width of its box (dates in percent
/// of the width, no scaling viewBox), so its 12 px text stays 12 px on a phone. The bars are
/// links, so the chart is a group of them, not an image.
pub fn timeline(year: i32, bars: &[Bar<'_>], today: NaiveDate, months: &[&str; 12], name: &str) -> String {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let days = f64::from(last.ordinal());
    let x = |d: NaiveDate| {
        let d = d.clamp(first, last);
        f64::from(d.ordinal0()) / days * 100.0
    };
    let rows: Vec<Vec<String>> = bars.iter().map(|b| label_lines(b.label)).collect();
    let row_h = |lines: &[String]| ROW_H + LINE_H * (lines.len().max(1) - 1) as f64;
    let height = TOP + rows.iter().map(|l| row_h(l)).sum::<f64>().max(ROW_H) + 4.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" role="group" aria-label="{}" class="timeline" font-family="sans-serif" font-size="12"><defs><pattern id="overdue" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#c62828"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>"##,
        escape(name)
    );
    for (m, label) in months.iter().enumerate() {
        let start = NaiveDate::from_ymd_opt(year, m as u32 + 1, 1).unwrap_or(first);
        let mx = x(start);
        // Every month's line; on a narrow chart every other month's label, so none overlap.
        let label = if m % 2 == 0 {
            format!(r##"<text x="{mx:.2}%" dx="2" y="14" fill="#555">{}</text>"##, escape(label))
        } else {
            format!(
                r##"<text x="{mx:.2}%" dx="2" y="14" fill="#555" class="odd-month">{}</text>"##,
                escape(label)
            )
        };
        let _ = write!(
            s,
            r##"<line x1="{mx:.2}%" y1="{}" x2="{mx:.2}%" y2="{height}" stroke="#e0e0e0"/>{label}"##,
            TOP - 4.0
        );
    }
    let mut y = TOP;
    for (b, lines) in bars.iter().zip(&rows) {
        let (x1, x2) = (x(b.start), x(b.due));
        let w = (x2 - x1).max(0.6);
        let h = 12.0;
        let ry = y + 20.0 + LINE_H * (lines.len() - 1) as f64;
        let label: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(r##"<tspan x="0" dy="{}">{}</tspan>"##, if i == 0 { 0.0 } else { LINE_H }, escape(l))
            })
            .collect();
        // Overdue: a red outline and a striped band under the bar, readable without colour.
        let overdue = if b.overdue {
            format!(
                r##"<rect x="{x1:.2}%" y="{:.1}" width="{w:.2}%" height="4" fill="url(#overdue)" class="overdue-band"/>"##,
                ry + h
            )
        } else {
            String::new()
        };
        let _ = write!(
            s,
            r##"<a href="{href}" aria-label="{title}"><title>{title}</title><text x="0" y="{ty:.1}" fill="#222">{label}</text><rect x="{x1:.2}%" y="{ry:.1}" width="{w:.2}%" height="{h:.1}" rx="3" fill="{fill}"{stroke} class="bar {status}{od}"/>{overdue}</a>"##,
            href = escape(b.href),
            title = escape(b.label),
            ty = y + 14.0,
            fill = colour(b.status),
            stroke = if b.overdue { r##" stroke="#c62828" stroke-width="2""## } else { "" },
            status = escape(b.status),
            od = if b.overdue { " overdue" } else { "" },
        );
        y += row_h(lines);
    }
    if today >= first && today <= last {
        let tx = x(today);
        let _ = write!(
            s,
            r##"<line x1="{tx:.2}%" y1="{:.1}" x2="{tx:.2}%" y2="{height}" stroke="#c62828" stroke-width="2" class="today"/>"##,
            TOP - 4.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONTHS: [&str; 12] = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12"];

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2018, m, day).unwrap()
    }

    #[test]
    fn bars_sit_at_their_dates_and_today_is_marked() {
        let bars = [
            Bar {
                label: "Hội nghị <quán triệt>",
                start: d(1, 1),
                due: d(12, 31),
                status: "done",
                overdue: false,
                href: "/a/1",
            },
            Bar {
                label: "Tập huấn",
                start: d(7, 2),
                due: d(7, 2),
                status: "in_progress",
                overdue: true,
                href: "/a/2",
            },
        ];
        let svg = timeline(2018, &bars, d(7, 2), &MONTHS, "Tiến độ");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Hội nghị &lt;quán triệt&gt;"), "escaped");
        // The first bar spans the whole chart; the second starts mid-year, at today's line.
        assert!(svg.contains(r#"<rect x="0.00%" y="44.0" width="99.73%""#), "{svg}");
        assert!(
            svg.contains(r#"role="group" aria-label="Tiến độ""#) && !svg.contains("viewBox"),
            "12 px stays 12 px"
        );
        assert!(svg.contains(r#"class="bar in_progress overdue""#));
        assert_eq!(svg.matches(r#"fill="url(#overdue)""#).count(), 1, "one overdue band");
        assert!(svg.contains(r##"fill="#2e7d32""##), "done is green");
        let today_x = 182.0 / 365.0 * 100.0;
        assert!(svg.contains(&format!(r#"<line x1="{today_x:.2}%" y1="20.0""#)), "{svg}");
        assert_eq!(svg.matches("class=\"bar ").count(), 2);
        // A long name is not cut: it goes on to a second line, and the rows below move down.
        let long = "Tổ chức hội nghị đối thoại giữa người đứng đầu cấp ủy, chính quyền với nhân dân";
        let lines = label_lines(long);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines.join(" "), long, "nothing cut");
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_CHARS));
        let two = [Bar { label: long, ..bars[0] }, Bar { label: "Tập huấn", ..bars[1] }];
        let svg2 = timeline(2018, &two, d(7, 2), &MONTHS, "");
        assert!(svg2.contains(r#"<rect x="0.00%" y="59.0""#), "the first bar under its two lines: {svg2}");
        assert!(svg2.contains(r#"y="97.0" width="0.60%""#), "the second row moved down a line: {svg2}");
        // Not this year: no today line.
        assert!(!timeline(2019, &bars, d(7, 2), &MONTHS, "").contains("class=\"today\""));
    }
}
