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

/// What a file is, from its first bytes (and, for Office files, the names inside the zip).
/// Anything else — executables, scripts, archives, HTML — is `None`.
pub fn sniff(bytes: &[u8]) -> Option<EvidenceKind> {
    if bytes.starts_with(b"%PDF-") {
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
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(EvidenceKind::Pdf));
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
