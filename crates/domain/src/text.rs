//! Vietnamese text folding for search.
//!
//! Search must find "Thủ tục" from "thu tuc" and "Đỗ Hữu Quyết" from "do huu quyet". The database
//! cannot be trusted to do this the same way on SQLite and PostgreSQL, so we fold in Rust and
//! store the folded text in an indexed column.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Normalises user text to NFC, the form we store. Some keyboards send decomposed (NFD) text.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Folds text for search: decompose, drop combining marks, map đ/Đ to d (a letter of its own,
/// not a mark), lower-case, and turn every run of non-alphanumeric characters into one space.
///
/// `fold("123/QĐ-UBND")` is `"123 qd ubnd"`, `fold("Phường Đông Sơn")` is `"phuong dong son"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' | 'Ð' | 'ð' => 'd',
            _ => c,
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// The Vietnamese alphabet in its dictionary order (a ă â b c d đ e ê g h i k l m n o ô ơ p q
/// r s t u ư v x y), then the other Latin letters.
const VI_LETTERS: [&str; 33] = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
];

/// A whole number written the Vietnamese way, thousands separated by dots: -1.250.000.
pub fn thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::from(if v < 0 { "-" } else { "" });
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A key that sorts Vietnamese names as a dictionary does: letters first (ă after a, đ after
/// d, ơ after ô …), tones only to break ties (none, grave, hook, tilde, acute, dot below),
/// case ignored. `"Phường Ba Đình" < "Phường Bắc Sơn" < "Phường Đông Sơn"`.
pub fn vi_sort_key(s: &str) -> (Vec<u32>, Vec<u8>) {
    let mut letters = Vec::new();
    let mut tones = Vec::new();
    for c in s.nfd().flat_map(char::to_lowercase) {
        let tone = match c {
            '\u{300}' => Some(1),
            '\u{309}' => Some(2),
            '\u{303}' => Some(3),
            '\u{301}' => Some(4),
            '\u{323}' => Some(5),
            _ => None,
        };
        if let Some(t) = tone {
            if let Some(last) = tones.last_mut() {
                *last = t;
            }
            continue;
        }
        // Breve, circumflex and horn make letters of their own.
        let modified = match c {
            '\u{306}' => Some("ă"),
            '\u{302}' => Some("â"),
            '\u{31b}' => Some("ơ"),
            _ => None,
        };
        if let Some(m) = modified {
            if let Some(last) = letters.last_mut() {
                let base = VI_LETTERS.iter().position(|l| *l == m).unwrap_or(0) as u32;
                // â/ê/ô and ơ/ư: the mark follows the base letter it modifies.
                *last = match (*last, m) {
                    (x, "â") if x == rank('e') => rank_of("ê"),
                    (x, "â") if x == rank('o') => rank_of("ô"),
                    (x, "ơ") if x == rank('u') => rank_of("ư"),
                    _ => base + 100,
                };
            }
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        letters.push(rank(c));
        tones.push(0);
    }
    (letters, tones)
}

fn rank_of(letter: &str) -> u32 {
    VI_LETTERS
        .iter()
        .position(|l| *l == letter)
        .map_or(0, |p| p as u32 + 100)
}

fn rank(c: char) -> u32 {
    let mut buf = [0u8; 4];
    match VI_LETTERS
        .iter()
        .position(|l| *l == c.encode_utf8(&mut buf))
    {
        Some(p) => p as u32 + 100,
        // Digits and punctuation before letters, in code point order.
        None if (c as u32) < 100 => c as u32,
        None => c as u32 + 1000,
    }
}

/// A search query split into folded words; empty when the query has no letters or digits.
pub fn query_words(q: &str) -> Vec<String> {
    fold(q)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_by_dots() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1.000");
        assert_eq!(thousands(1_250_000), "1.250.000");
        assert_eq!(thousands(-50_000), "-50.000");
        assert_eq!(thousands(i64::MIN), "-9.223.372.036.854.775.808");
    }

    #[test]
    fn sorts_as_a_vietnamese_dictionary() {
        let mut names = vec![
            "Xã Yên Định",
            "Phường Đông Sơn",
            "Phường Bắc Sơn",
            "Phường Ba Đình",
            "Xã Ấm Thượng",
            "Xã An Nông",
            "Phường Hạc Thành",
            "Phường Hàm Rồng",
            "Xã Ơn Nông",
            "Xã Ông Nông",
            "Xã Ô Nông",
            "Xã Ưu",
            "Xã Uy",
        ];
        names.sort_by_key(|n| vi_sort_key(n));
        assert_eq!(
            names,
            [
                "Phường Ba Đình",
                "Phường Bắc Sơn",
                "Phường Đông Sơn",
                "Phường Hạc Thành",
                "Phường Hàm Rồng",
                "Xã An Nông",
                "Xã Ấm Thượng",
                "Xã Ô Nông",
                "Xã Ông Nông",
                "Xã Ơn Nông",
                "Xã Uy",
                "Xã Ưu",
                "Xã Yên Định",
            ]
        );
        // Tones break ties only: ma, mà, mả, mã, má, mạ.
        let mut tones = vec!["mạ", "má", "mã", "mả", "mà", "ma"];
        tones.sort_by_key(|n| vi_sort_key(n));
        assert_eq!(tones, ["ma", "mà", "mả", "mã", "má", "mạ"]);
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Thanh Hóa"), "thanh hoa");
        assert_eq!(fold("Đỗ Hữu Quyết"), "do huu quyet");
        assert_eq!(fold("Phường Đông Sơn"), "phuong dong son");
        assert_eq!(fold("123/QĐ-UBND"), "123 qd ubnd");
        assert_eq!(fold("  Ủy ban   nhân dân "), "uy ban nhan dan");
        assert_eq!(fold("ẫ ặ ộ ự Ư Ơ"), "a a o u u o");
    }

    #[test]
    fn decomposed_input_folds_like_composed() {
        let nfd: String = "Việt Nam".nfd().collect();
        assert_ne!(nfd, "Việt Nam");
        assert_eq!(fold(&nfd), "viet nam");
        assert_eq!(nfc(&nfd), "Việt Nam");
    }

    #[test]
    fn query_words_ignores_punctuation() {
        assert_eq!(query_words(" thanh, hoa! "), vec!["thanh", "hoa"]);
        assert!(query_words("--").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn fold_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            proptest::prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
