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
