//! Vietnamese text: NFC at every input, accent-insensitive search keys, and sorting by the
//! Vietnamese alphabet (a ă â b c d đ e ê …) with numbers compared as numbers.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::CollatorOptions;
use icu_collator::preferences::CollationNumericOrdering;
use icu_collator::{Collator, CollatorBorrowed, CollatorPreferences};
use icu_locale_core::locale;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters that show nothing and only make equal names differ: zero-width space, joiners,
/// word joiner, byte-order mark.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Text in Unicode normalisation form C, trimmed, with inner runs of white space folded to one
/// space, and without control or invisible characters (a NUL, for one, is refused by
/// PostgreSQL). Every piece of text that enters the system passes through here.
pub fn clean(input: &str) -> String {
    let kept: String =
        input.chars().filter(|c| c.is_whitespace() || !(c.is_control() || invisible(*c))).collect();
    let nfc: String = kept.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Multi-line text (a report section) in NFC, with each line trimmed at its end and runs of
/// blank lines kept to one; control characters other than line breaks and tabs, and invisible
/// characters, are removed.
pub fn clean_multiline(input: &str) -> String {
    let kept: String = input
        .chars()
        .filter(|c| matches!(c, '\n' | '\r' | '\t') || !(c.is_control() || invisible(*c)))
        .collect();
    let nfc: String = kept.nfc().collect();
    let mut out: Vec<&str> = Vec::new();
    for line in nfc.lines().map(str::trim_end) {
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// The search key of a text: lower case, without tone marks or other diacritics, đ → d, white
/// space folded. "Đức Hoà" (in NFC or NFD), "DUC HOA" and "duc hoa" all give "duc hoa".
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A text in plain ASCII letters, for the rare place that has no Vietnamese font (a generated
/// PDF with the standard fonts): diacritics dropped, đ → d, Đ → D, case kept, and anything else
/// outside ASCII shown as "?".
pub fn ascii_letters(input: &str) -> String {
    input
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

/// The five tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters. Other marks
/// (circumflex, breve, horn) change the vowel and stay where they are.
fn tone_mark(c: char) -> bool {
    matches!(c, '\u{0300}' | '\u{0301}' | '\u{0303}' | '\u{0309}' | '\u{0323}')
}

/// The key under which two names are the same name: clean (NFC, spaces, no invisible
/// characters), lower case, and with each word's tone mark in one place whatever the spelling
/// habit — "Hoà" and "Hòa", "Thuỷ" and "Thủy", "khoẻ" and "khỏe" give one key. A tone belongs
/// to the syllable, not to a letter, so moving it loses nothing. Use it wherever names are
/// compared (hamlets, organisations, members); show the name as it was written.
pub fn name_key(input: &str) -> String {
    let cleaned = clean(input).to_lowercase();
    let mut out = String::with_capacity(cleaned.len());
    for word in cleaned.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        let mut tones = Vec::new();
        let mut rest = String::with_capacity(word.len());
        for c in word.nfd() {
            if tone_mark(c) {
                tones.push(c);
            } else {
                rest.push(c);
            }
        }
        rest.extend(tones);
        out.extend(rest.nfc());
    }
    out
}

static COLLATOR: LazyLock<Option<CollatorBorrowed<'static>>> = LazyLock::new(|| {
    let mut prefs = CollatorPreferences::from(locale!("vi"));
    prefs.numeric_ordering = Some(CollationNumericOrdering::True);
    // The collation data for `vi` is compiled into the binary; should it ever be missing, lists
    // fall back to the order of their folded text rather than stopping the server.
    Collator::try_new(prefs, CollatorOptions::default()).ok()
});

/// Compares two texts in Vietnamese alphabetical order ("Dương" < "Đức", "Uy" < "Ưng",
/// "Phường 2" < "Phường 10").
pub fn compare_vi(a: &str, b: &str) -> Ordering {
    match COLLATOR.as_ref() {
        Some(c) => c.compare(a, b),
        None => fold(a).cmp(&fold(b)).then_with(|| a.cmp(b)),
    }
}

/// Sorts items in Vietnamese alphabetical order of a key.
pub fn sort_vi_by<T>(items: &mut [T], key: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| compare_vi(key(a), key(b)));
}

/// A text made safe for a spreadsheet cell: one that Excel would read as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading apostrophe.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_makes_nfc_and_folds_spaces() {
        let nfd = "Đức Hòa".nfd().collect::<String>();
        assert_ne!(nfd, "Đức Hòa");
        assert_eq!(clean(&format!("  {nfd}\t ")), "Đức Hòa");
        assert_eq!(clean("Xã   Hựu\nThạnh"), "Xã Hựu Thạnh");
    }

    #[test]
    fn ascii_letters_keep_case_and_drop_marks() {
        assert_eq!(ascii_letters("Xã Hựu Thạnh, Đức Hòa"), "Xa Huu Thanh, Duc Hoa");
        assert_eq!(ascii_letters(&"Đồng ý".nfd().collect::<String>()), "Dong y");
        assert_eq!(ascii_letters("≥ 95 %\u{0}"), "? 95 %?");
    }

    #[test]
    fn fold_removes_accents_case_and_d_stroke() {
        assert_eq!(fold("Huyện Đức Hòa"), "huyen duc hoa");
        assert_eq!(fold("Đức Hoà"), "duc hoa");
        assert_eq!(fold(&"Đức Hoà".nfd().collect::<String>()), "duc hoa");
        assert_eq!(fold("DUC HOA"), "duc hoa");
        // Old and new tone placement, zero-width characters, NFD, case: one name.
        for same in ["Ấp Hòa Bình", "Ấp Hoà Bình", "ấp hoà\u{200B} bình", "ẤP HÒA BÌNH"] {
            assert_eq!(name_key(same), name_key("Ấp Hòa Bình"), "{same}");
            assert_eq!(name_key(&same.nfd().collect::<String>()), name_key("Ấp Hòa Bình"), "{same}");
        }
        assert_eq!(name_key("Thuỷ"), name_key("Thủy"));
        assert_eq!(name_key("khoẻ"), name_key("khỏe"));
        // Different tones or vowels stay different names.
        assert_ne!(name_key("Hòa"), name_key("Hóa"));
        assert_ne!(name_key("Hòa"), name_key("Hoa"));
        assert_ne!(name_key("Ấp Tân"), name_key("Ấp Tấn"));
        assert_ne!(name_key("Đức"), name_key("Dức"));
        assert_eq!(fold("Ưng  Hòa"), "ung hoa");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("+1"), "'+1");
        assert_eq!(spreadsheet_safe("-2"), "'-2");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("Xã Hựu Thạnh"), "Xã Hựu Thạnh");
        assert_eq!(spreadsheet_safe(""), "");
    }

    #[test]
    fn vietnamese_alphabetical_order() {
        assert_eq!(compare_vi("Dương", "Đức"), Ordering::Less);
        assert_eq!(compare_vi("Đức Hòa", "Dương"), Ordering::Greater);
        assert_eq!(compare_vi("Uy", "Ưng"), Ordering::Less);
        assert_eq!(compare_vi("An", "Ă"), Ordering::Less);
        assert_eq!(compare_vi("Ăn", "Ân"), Ordering::Less);
        assert_eq!(compare_vi("Phường 2", "Phường 10"), Ordering::Less);
        // Byte order would put "Đ" (U+0110) after "Z"; the alphabet puts it after "D".
        assert_eq!(compare_vi("Đức", "Zô"), Ordering::Less);
        let mut names = vec!["Đức Huệ", "Bến Lức", "Đức Hòa", "Cần Giuộc", "Châu Thành", "Cần Đước"];
        sort_vi_by(&mut names, |s| s);
        assert_eq!(names, ["Bến Lức", "Cần Đước", "Cần Giuộc", "Châu Thành", "Đức Hòa", "Đức Huệ"]);
    }

    /// Issue 14, defect 8 (and part of 11): a NUL answered 500 on PostgreSQL; zero-width spaces
    /// made duplicates.
    #[test]
    fn control_and_invisible_characters_are_removed() {
        assert_eq!(clean("Xã\u{0}  Hựu\u{200B} Thạnh\u{7}"), "Xã Hựu Thạnh");
        assert_eq!(clean("a\tb\u{b}c\r\nd"), "a b c d");
        assert_eq!(clean("\u{FEFF}Ấp 1"), "Ấp 1");
        assert_eq!(clean_multiline("dòng\u{0} một\n\tdòng hai\u{200D}\r\n"), "dòng một\n\tdòng hai");
    }
}
