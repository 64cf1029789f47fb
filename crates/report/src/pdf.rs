//! A one-page PDF of plain lines, with the standard Helvetica font and no font embedded: small
//! enough to generate by the thousand (the demo's evidence files). The standard fonts have no
//! Vietnamese letters, so the text is written without diacritics ([`ascii_letters`]).

use danvan_domain::text::ascii_letters;

/// A4 in points.
const WIDTH: u32 = 595;
const HEIGHT: u32 = 842;
/// At most this many characters on a line; longer lines are cut into several.
const LINE_CHARS: usize = 90;

/// A string in a PDF content stream: ASCII with `\`, `(` and `)` escaped.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in ascii_letters(s).chars() {
        if matches!(c, '\\' | '(' | ')') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

/// Lines of at most [`LINE_CHARS`] characters, cut at spaces where possible.
fn wrap(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > LINE_CHARS {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push(current);
    out
}

/// One A4 page: a bold title, then the lines (cut to fit, and those past the page's end left
/// out).
pub fn one_page(title: &str, lines: &[String]) -> Vec<u8> {
    let mut content = format!("BT /F2 14 Tf 56 {} Td {} Tj ET\n", HEIGHT - 80, literal(title));
    let mut y = HEIGHT - 116;
    for line in lines.iter().flat_map(|l| wrap(l)) {
        if y < 56 {
            break;
        }
        content.push_str(&format!("BT /F1 11 Tf 56 {y} Td {} Tj ET\n", literal(&line)));
        y -= 16;
    }
    let content = content.trim_end();
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>"
        ),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn the_page_is_a4_and_every_cross_reference_points_at_its_object() {
        let pdf =
            one_page("Biên bản (mẫu)", &["Xã Hựu Thạnh".to_string(), "Chỉ tiêu 2.1: 94,9 %".to_string()]);
        assert_eq!(danvan_domain::evidence::sniff(&pdf), Some(danvan_domain::evidence::EvidenceKind::Pdf));
        let s = text(&pdf);
        assert!(s.contains("/MediaBox [0 0 595 842]"));
        assert!(s.contains("(Bien ban \\(mau\\)) Tj"), "{s}");
        assert!(s.contains("(Xa Huu Thanh) Tj"));
        assert!(s.contains("(Chi tieu 2.1: 94,9 %) Tj"));
        // The table of offsets names where each object starts, and startxref where it starts.
        let xref: usize = s.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(s[xref..].starts_with("xref\n0 7\n"));
        for (i, line) in s[xref..].lines().skip(3).take(6).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(s[offset..].starts_with(&format!("{} 0 obj\n", i + 1)), "object {}", i + 1);
        }
        // The stream's length is the length of its bytes.
        let start = s.find(">>\nstream\n").unwrap() + ">>\nstream\n".len();
        let end = s.find("\nendstream").unwrap();
        assert!(s.contains(&format!("<< /Length {} >>", end - start)));
    }

    #[test]
    fn long_lines_are_cut_and_the_page_ends_where_the_paper_does() {
        let long = "lời ".repeat(60);
        let pdf = text(&one_page("T", &[long]));
        assert_eq!(pdf.matches(" Tj").count(), 1 + 3, "240 characters make three lines of at most 90");
        let many: Vec<String> = (0..100).map(|i| format!("dòng {i}")).collect();
        let pdf = text(&one_page("T", &many));
        assert!(pdf.contains("(dong 0) Tj") && pdf.contains("(dong 40) Tj") && !pdf.contains("(dong 60) Tj"));
    }
}
