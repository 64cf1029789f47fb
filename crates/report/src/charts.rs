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

/// Horizontal bars from 0 to 100 %, a tick at each goal, the value written at the bar's end;
/// `name` is the chart's accessible name. The chart is drawn in CSS pixels at the width of its
/// box (positions in percent, no scaling viewBox), so that its 12 px text stays 12 px on a
/// phone: each row is its label, then its bar across the whole width.
pub fn coverage_bars(rows: &[BarRow<'_>], goal_label: &str, name: &str) -> String {
    const ROW: f64 = 34.0;
    const BAR: f64 = 12.0;
    let h = ROW * rows.len() as f64 + 20.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" height=\"{h}\" class=\"chart bars\" role=\"img\" aria-label=\"{}\" font-size=\"12\" font-family=\"sans-serif\">",
        escape(name)
    );
    for (x, anchor) in [(0.0, "start"), (50.0, "middle"), (100.0, "end")] {
        let _ = write!(out, "<line x1=\"{x}%\" x2=\"{x}%\" y1=\"0\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x}%\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"#555\">{x}%</text>", h - 16.0, h - 4.0);
    }
    for (i, r) in rows.iter().enumerate() {
        let y = ROW * i as f64;
        let v = r.value.unwrap_or(0.0).clamp(0.0, 100.0);
        let met = match (r.value, r.goal) {
            (Some(v), Some(g)) => v >= g,
            _ => false,
        };
        let fill = if met { "#2e7d32" } else { "#1565c0" };
        // The value beside the bar's end, or inside it in white when the bar is nearly full.
        let (anchor, vfill, dx) = if v > 85.0 { ("end", "#fff", -4) } else { ("start", "#222", 4) };
        let _ = write!(
            out,
            "<g><title>{label}: {value}{goal}</title><text x=\"0\" y=\"{ty}\" fill=\"#222\">{label}</text>\
             <rect x=\"0\" y=\"{ry}\" width=\"{v:.1}%\" height=\"{BAR}\" fill=\"{fill}\"/>\
             <text x=\"{v:.1}%\" dx=\"{dx}\" y=\"{vy}\" text-anchor=\"{anchor}\" fill=\"{vfill}\">{value}</text>",
            label = escape(r.label),
            value = pct(r.value),
            goal = r.goal.map(|g| format!(" ({goal_label} {g}%)")).unwrap_or_default(),
            ty = y + 12.0,
            ry = y + 16.0,
            vy = y + 26.0,
        );
        if let Some(g) = r.goal {
            let gx = g.clamp(0.0, 100.0);
            let _ = write!(out, "<line x1=\"{gx:.1}%\" x2=\"{gx:.1}%\" y1=\"{}\" y2=\"{}\" stroke=\"#222\" stroke-width=\"2\"/>", y + 14.0, y + 16.0 + BAR + 2.0);
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A line of scores over periods (percent), each point labelled; `name` is its accessible
/// name. Drawn in CSS pixels at the width of its box (x in percent), text 12 px everywhere.
pub fn trend_line(points: &[(String, Option<f64>)], name: &str) -> String {
    const H: f64 = 170.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 24.0;
    let n = points.len().max(1) as f64;
    // x in percent of the width, clear of the axis labels on the left.
    let x = |i: usize| 10.0 + 88.0 * (i as f64 + 0.5) / n;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" height=\"{H}\" class=\"chart trend\" role=\"img\" aria-label=\"{}\" font-size=\"12\" font-family=\"sans-serif\">",
        escape(name)
    );
    for v in [0.0, 50.0, 100.0] {
        let _ = write!(out, "<line x1=\"10%\" x2=\"98%\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"0\" y=\"{:.1}\" fill=\"#555\">{v}%</text>", y(v), y(v), y(v) + 4.0);
    }
    let known: Vec<(usize, f64)> =
        points.iter().enumerate().filter_map(|(i, (_, v))| v.map(|v| (i, v))).collect();
    for pair in known.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        let _ = write!(
            out,
            "<line x1=\"{:.1}%\" y1=\"{:.1}\" x2=\"{:.1}%\" y2=\"{:.1}\" stroke=\"#1565c0\" stroke-width=\"2\" class=\"segment\"/>",
            x(i),
            y(a),
            x(j),
            y(b)
        );
    }
    for (i, (label, v)) in points.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}%\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            x(i),
            H - 6.0,
            escape(label)
        );
        if let Some(v) = v {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}%\" cy=\"{:.1}\" r=\"4\" fill=\"#1565c0\"><title>{}: {}</title></circle><text x=\"{:.1}%\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
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
/// score, each a link named with the unit and its score (a tap opens the unit). `name` is the
/// map's accessible name; the map holds links, so it is a group of them, not an image. The
/// legend is the page's (HTML), not text scaled down with the map.
pub fn dot_map(points: &[MapPoint<'_>], name: &str) -> String {
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
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h:.0}\" class=\"chart map\" role=\"group\" aria-label=\"{}\">",
        escape(name)
    );
    for p in points {
        let cx = PAD + (p.lon - lon0) * k * scale;
        let cy = PAD + (lat1 - p.lat) * scale;
        let _ = write!(
            out,
            "<a href=\"{}\" aria-label=\"{label}: {score}\"><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.8\"><title>{label}: {score}</title></circle></a>",
            escape(p.href),
            score_colour(p.score),
            label = escape(p.label),
            score = pct(p.score)
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
            "Tỷ lệ đạt",
        );
        assert!(svg.contains("<title>1.1: 75% (mục tiêu 90%)</title>"));
        assert!(svg.contains("width=\"75.0%\""), "a bar as wide as its value");
        assert!(svg.contains("&lt;2&gt;: —"));
        assert!(svg.contains(r#"aria-label="Tỷ lệ đạt""#) && !svg.contains("viewBox"), "12 px stays 12 px");
    }

    #[test]
    fn map_places_north_up_and_links_each_unit() {
        let pts = [
            MapPoint { label: "Bắc", href: "/a", lat: 11.0, lon: 106.0, score: Some(90.0) },
            MapPoint { label: "Nam", href: "/b", lat: 10.0, lon: 106.0, score: None },
        ];
        let svg = dot_map(&pts, "Bản đồ");
        let north = svg.find("<title>Bắc").unwrap();
        let cy = |at: usize| {
            let s = &svg[..at];
            let i = s.rfind("cy=\"").unwrap() + 4;
            s[i..].split('"').next().unwrap().parse::<f64>().unwrap()
        };
        assert!(cy(north) < cy(svg.find("<title>Nam").unwrap()));
        assert!(svg.contains(r#"<a href="/a" aria-label="Bắc: 90%">"#) && svg.contains("fill=\"#2e7d32\""));
        assert!(!svg.contains("role=\"img\""), "links are not inside an image");
        assert!(dot_map(&[], "").is_empty());
    }

    #[test]
    fn trend_draws_a_line_through_known_points() {
        let svg = trend_line(
            &[("2017".into(), Some(20.0)), ("2018".into(), None), ("2019".into(), Some(60.0))],
            "Xu hướng",
        );
        assert_eq!(svg.matches("class=\"segment\"").count(), 1, "one segment across the gap");
        assert!(svg.contains("2019: 60%"));
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
