//! Full-text query terms. Every word of a query must match; only the last one is a prefix (the
//! word being typed): expanding every word to all its prefixes costs an order of magnitude more
//! on a million rows, and finished words match exactly anyway once folded.

/// A term of an SQLite FTS5 query: `"word"` or, for the last word, `"word"*`.
pub fn sqlite_term(word: &str, last: bool) -> String {
    if last {
        format!("\"{word}\"*")
    } else {
        format!("\"{word}\"")
    }
}

/// A term of a PostgreSQL tsquery: `word` or, for the last word, `word:*`.
pub fn pg_term(word: &str, last: bool) -> String {
    if last {
        format!("{word}:*")
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_word_is_a_prefix() {
        assert_eq!(sqlite_term("nguyen", false), "\"nguyen\"");
        assert_eq!(sqlite_term("ho", true), "\"ho\"*");
        assert_eq!(pg_term("nguyen", false), "nguyen");
        assert_eq!(pg_term("ho", true), "ho:*");
    }
}
