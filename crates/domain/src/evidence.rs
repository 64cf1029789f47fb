//! Evidence files (minh chứng): which kinds are accepted, told from their content, not their
//! name; and their limits.

use unicode_normalization::UnicodeNormalization;

/// The most one file may weigh.
pub const MAX_FILE_BYTES: usize = 10 * 1_000_000;
/// The most all files of one review may weigh together.
pub const MAX_REVIEW_BYTES: i64 = 50 * 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    Pdf,
    Jpeg,
    Png,
    Docx,
    Xlsx,
}

impl EvidenceKind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A PDF by its structure, not only its first five bytes: `%PDF-` and a version (`1.7`), the
/// end-of-file marker `%%EOF` within the last kilobyte (every PDF writer ends its trailer so), and
/// no HTML where a browser sniffing the start would find it ("%PDF-" followed by a web page is
/// not a PDF).
fn looks_like_pdf(bytes: &[u8]) -> bool {
    let version =
        bytes.get(5..8).is_some_and(|v| v[0].is_ascii_digit() && v[1] == b'.' && v[2].is_ascii_digit());
    if !bytes.starts_with(b"%PDF-") || !version {
        return false;
    }
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    let head = bytes[..bytes.len().min(1024)].to_ascii_lowercase();
    let html = [&b"<html"[..], b"<script", b"<!doctype", b"<body", b"<iframe", b"<svg"];
    contains(tail, b"%%EOF") && !html.iter().any(|m| contains(&head, m))
}

/// What a file is, from its first bytes (and, for Office files, the names inside the zip).
/// Anything else — executables, scripts, archives, HTML — is `None`.
pub fn sniff(bytes: &[u8]) -> Option<EvidenceKind> {
    if looks_like_pdf(bytes) {
        Some(EvidenceKind::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(EvidenceKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(EvidenceKind::Png)
    } else if bytes.starts_with(b"PK\x03\x04") && contains(bytes, b"[Content_Types].xml") {
        if contains(bytes, b"word/") {
            Some(EvidenceKind::Docx)
        } else if contains(bytes, b"xl/") {
            Some(EvidenceKind::Xlsx)
        } else {
            None
        }
    } else {
        None
    }
}

/// A file name safe to store and to offer back: NFC, no folders, no control characters, at
/// most 120 characters, ending with the extension of what the file really is.
pub fn safe_filename(raw: &str, kind: EvidenceKind) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .nfc()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let clean = clean.trim().trim_start_matches('.');
    let stem = match clean.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => clean,
    };
    let stem: String = stem.chars().take(110).collect();
    let stem = if stem.trim().is_empty() { "minh-chung".to_string() } else { stem.trim().to_string() };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_content() {
        assert_eq!(sniff(b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"), Some(EvidenceKind::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(EvidenceKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some(EvidenceKind::Png));
        assert_eq!(
            sniff(b"PK\x03\x04....[Content_Types].xml....word/document.xml"),
            Some(EvidenceKind::Docx)
        );
        assert_eq!(sniff(b"PK\x03\x04....[Content_Types].xml....xl/workbook.xml"), Some(EvidenceKind::Xlsx));
        assert_eq!(sniff(b"PK\x03\x04 a plain zip"), None);
        assert_eq!(sniff(b"MZ\x90\x00 an exe"), None);
        assert_eq!(sniff(b"\x7fELF"), None);
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b""), None);
    }

    /// Issue 14, defect 11: "%PDF-" followed by HTML passed as a PDF.
    #[test]
    fn a_pdf_needs_its_version_and_its_end_and_no_web_page_inside() {
        assert_eq!(sniff(b"%PDF-<html><script>alert(1)</script></html>"), None);
        assert_eq!(sniff(b"%PDF-1.4\n<!DOCTYPE html><body>x</body>\n%%EOF\n"), None);
        assert_eq!(sniff(b"%PDF-1.4\n1 0 obj << >> endobj\n"), None, "cut short: no %%EOF");
        assert_eq!(sniff(b"%PDF-x.y\n%%EOF\n"), None);
        // %%EOF far from the end (bytes appended after the PDF) is not a PDF's end.
        let mut padded = b"%PDF-1.4\n%%EOF\n".to_vec();
        padded.extend(std::iter::repeat_n(b' ', 2000));
        assert_eq!(sniff(&padded), None);
        // A few bytes after %%EOF (a newline, an incremental-save comment) are usual.
        assert_eq!(sniff(b"%PDF-1.4\n%%EOF\r\n% round 3\n"), Some(EvidenceKind::Pdf));
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_filename("../../etc/Quy chế.pdf", EvidenceKind::Pdf), "Quy chế.pdf");
        assert_eq!(safe_filename("C:\\x\\ảnh.PNG", EvidenceKind::Png), "ảnh.png");
        assert_eq!(
            safe_filename("virus.exe", EvidenceKind::Pdf),
            "virus.pdf",
            "the real kind decides the extension"
        );
        assert_eq!(safe_filename("", EvidenceKind::Jpeg), "minh-chung.jpg");
        assert_eq!(safe_filename(".hidden", EvidenceKind::Pdf), "hidden.pdf");
        assert!(safe_filename(&"a".repeat(500), EvidenceKind::Pdf).chars().count() <= 120);
    }
}
