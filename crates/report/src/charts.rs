//! Server-drawn SVG charts for the dashboards: coverage bars against goals, a trend line, and
//! a dot map of units from their points. Nothing is fetched (no tiles, no fonts); every mark
//! carries its value as text or title, so the charts read without colour too.

use std::fmt::Write;

use crate::timeline::escape;

/// The colour of a score (percent of targets met), with a pattern-free fallback in text.
pub fn score_colour(score: Option<f64>) -> &'static str {
    match score {
        None => "#bdbdbd",
        Some(s) if s >= 80.0 => "#2e7d32",
        Some(s) if s >= 50.0 => "#f9a825",
        Some(_) => "#c62828",
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{}%", v.round())).unwrap_or_else(|| "—".into())
}

/// One bar: a label, the value (percent) and the goal (percent), if any.
pub struct BarRow<'a> {
    pub label: &'a str,
    pub value: Option<f64>,
    pub goal: Option<f64>,
}

/// Horizontal bars from 0 to 100 %, a tick at each goal; the value is written at the bar's end.
pub fn coverage_bars(rows: &[BarRow<'_>], goal_label: &str) -> String {
    const LABEL_W: f64 = 70.0;
    const W: f64 = 560.0;
    const ROW: f64 = 20.0;
    let h = ROW * rows.len() as f64 + 24.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {h}\" class=\"chart bars\" role=\"img\" font-size=\"11\" font-family=\"sans-serif\">",
        LABEL_W + W + 50.0
    );
    for x in [0.0, 50.0, 100.0] {
        let px = LABEL_W + W * x / 100.0;
        let _ = write!(out, "<line x1=\"{px}\" x2=\"{px}\" y1=\"0\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{px}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{x}%</text>", h - 16.0, h - 4.0);
    }
    for (i, r) in rows.iter().enumerate() {
        let y = ROW * i as f64;
        let v = r.value.unwrap_or(0.0).clamp(0.0, 100.0);
        let met = match (r.value, r.goal) {
            (Some(v), Some(g)) => v >= g,
            _ => false,
        };
        let fill = if met { "#2e7d32" } else { "#1565c0" };
        let _ = write!(
            out,
            "<g><title>{label}: {value}{goal}</title><text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{LABEL_W}\" y=\"{ry}\" width=\"{bw:.1}\" height=\"{bh}\" fill=\"{fill}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\" fill=\"#222\">{value}</text>",
            label = escape(r.label),
            value = pct(r.value),
            goal = r.goal.map(|g| format!(" ({goal_label} {g}%)")).unwrap_or_default(),
            tx = LABEL_W - 6.0,
            ty = y + 14.0,
            ry = y + 4.0,
            bw = W * v / 100.0,
            bh = ROW - 6.0,
            vx = LABEL_W + W * v / 100.0 + 4.0,
        );
        if let Some(g) = r.goal {
            let gx = LABEL_W + W * g.clamp(0.0, 100.0) / 100.0;
            let _ = write!(out, "<line x1=\"{gx:.1}\" x2=\"{gx:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#222\" stroke-width=\"2\"/>", y + 1.0, y + ROW - 1.0);
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A line of scores over periods (percent), each point labelled.
pub fn trend_line(points: &[(String, Option<f64>)]) -> String {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    const PAD: f64 = 30.0;
    let n = points.len().max(1) as f64;
    let x = |i: usize| PAD + (W - 2.0 * PAD) * (i as f64 + 0.5) / n;
    let y = |v: f64| PAD / 2.0 + (H - 2.0 * PAD) * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" class=\"chart trend\" role=\"img\" font-size=\"11\" font-family=\"sans-serif\">"
    );
    for v in [0.0, 50.0, 100.0] {
        let _ = write!(out, "<line x1=\"{PAD}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"2\" y=\"{:.1}\" fill=\"#555\">{v}%</text>", W - PAD, y(v), y(v), y(v) + 4.0);
    }
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
        .collect();
    if path.len() > 1 {
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\"/>",
            path.join(" ")
        );
    }
    for (i, (label, v)) in points.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            x(i),
            H - 6.0,
            escape(label)
        );
        if let Some(v) = v {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#1565c0\"><title>{}: {}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(i),
                y(*v),
                escape(label),
                pct(Some(*v)),
                x(i),
                y(*v) - 8.0,
                pct(Some(*v))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A unit on the map.
pub struct MapPoint<'a> {
    pub label: &'a str,
    pub href: &'a str,
    pub lat: f64,
    pub lon: f64,
    pub score: Option<f64>,
}

/// Units as dots at their points (equirectangular, scaled to the points' extent), coloured by
/// score, each a link with its name and score as title; a legend below.
pub fn dot_map(points: &[MapPoint<'_>], legend: &[&str; 4]) -> String {
    const W: f64 = 420.0;
    const PAD: f64 = 12.0;
    if points.is_empty() {
        return String::new();
    }
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in points {
        lat0 = lat0.min(p.lat);
        lat1 = lat1.max(p.lat);
        lon0 = lon0.min(p.lon);
        lon1 = lon1.max(p.lon);
    }
    let k = ((lat0 + lat1) / 2.0).to_radians().cos().max(0.1);
    let (dx, dy) = (((lon1 - lon0) * k).max(1e-6), (lat1 - lat0).max(1e-6));
    let scale = (W - 2.0 * PAD) / dx.max(dy);
    let h = (dy * scale + 2.0 * PAD).max(60.0);
    let r = if points.len() > 400 {
        2.5
    } else if points.len() > 60 {
        4.5
    } else {
        7.0
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {:.0}\" class=\"chart map\" role=\"img\" font-size=\"11\" font-family=\"sans-serif\">",
        h + 24.0
    );
    for p in points {
        let cx = PAD + (p.lon - lon0) * k * scale;
        let cy = PAD + (lat1 - p.lat) * scale;
        let _ = write!(
            out,
            "<a href=\"{}\"><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.8\"><title>{}: {}</title></circle></a>",
            escape(p.href),
            score_colour(p.score),
            escape(p.label),
            pct(p.score)
        );
    }
    let scores = [Some(90.0), Some(60.0), Some(10.0), None];
    for (i, (label, s)) in legend.iter().zip(scores).enumerate() {
        let x = PAD + i as f64 * 100.0;
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x + 5.0,
            h + 12.0,
            score_colour(s),
            x + 14.0,
            h + 16.0,
            escape(label)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_values_and_goals_as_text() {
        let svg = coverage_bars(
            &[
                BarRow { label: "1.1", value: Some(75.0), goal: Some(90.0) },
                BarRow { label: "<2>", value: None, goal: None },
            ],
            "mục tiêu",
        );
        assert!(svg.contains("<title>1.1: 75% (mục tiêu 90%)</title>"));
        assert!(svg.contains("width=\"420.0\""), "75% of 560");
        assert!(svg.contains("&lt;2&gt;: —"));
    }

    #[test]
    fn map_places_north_up_and_links_each_unit() {
        let pts = [
            MapPoint { label: "Bắc", href: "/a", lat: 11.0, lon: 106.0, score: Some(90.0) },
            MapPoint { label: "Nam", href: "/b", lat: 10.0, lon: 106.0, score: None },
        ];
        let svg = dot_map(&pts, &["≥ 80%", "50–80%", "< 50%", "—"]);
        let north = svg.find("<title>Bắc").unwrap();
        let cy = |at: usize| {
            let s = &svg[..at];
            let i = s.rfind("cy=\"").unwrap() + 4;
            s[i..].split('"').next().unwrap().parse::<f64>().unwrap()
        };
        assert!(cy(north) < cy(svg.find("<title>Nam").unwrap()));
        assert!(svg.contains("<a href=\"/a\">") && svg.contains("fill=\"#2e7d32\""));
        assert!(dot_map(&[], &["", "", "", ""]).is_empty());
    }

    #[test]
    fn trend_draws_a_line_through_known_points() {
        let svg =
            trend_line(&[("2017".into(), Some(20.0)), ("2018".into(), None), ("2019".into(), Some(60.0))]);
        assert!(svg.contains("<polyline") && svg.contains("2019: 60%"));
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
