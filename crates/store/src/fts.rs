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

/// Every word of a query for SQLite FTS5, joined with `AND`.
pub fn sqlite_all(words: &[String]) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| sqlite_term(w, i + 1 == words.len()))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Every word of a query for a PostgreSQL tsquery, joined with `&`.
pub fn pg_all(words: &[String]) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| pg_term(w, i + 1 == words.len()))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The whole words of a query (all but the last) for a PostgreSQL tsquery, joined with `&`;
/// empty for a one-word query.
pub fn pg_whole(words: &[String]) -> String {
    words
        .split_last()
        .map(|(_, whole)| whole.join(" & "))
        .unwrap_or_default()
}

/// The index word naming an agency (`ag12`). Records carry the words of the agencies that may
/// see them, so a search intersects the reader's agencies inside the full-text index;
/// permission is still checked in SQL.
pub fn agency_word(id: i64) -> String {
    format!("ag{id}")
}

/// The index words of several agencies, space-separated, for a record's search text.
pub fn agency_words(ids: &[i64]) -> String {
    ids.iter()
        .map(|a| agency_word(*a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Any of these agencies", to add to a query: `ag1 OR ag2` (SQLite), `ag1 | ag2` (PostgreSQL).
pub fn any_agency(ids: &[i64], or: &str) -> String {
    ids.iter()
        .map(|a| agency_word(*a))
        .collect::<Vec<_>>()
        .join(or)
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
        let w = vec!["nguyen".to_owned(), "van".to_owned()];
        assert_eq!(sqlite_all(&w), "\"nguyen\" AND \"van\"*");
        assert_eq!(pg_all(&w), "nguyen & van:*");
        assert_eq!(pg_whole(&w), "nguyen");
        assert_eq!(pg_whole(&w[..1]), "");
        assert_eq!(pg_whole(&[]), "");
    }

    #[test]
    fn agency_words_and_alternatives() {
        assert_eq!(agency_words(&[12, 34]), "ag12 ag34");
        assert_eq!(any_agency(&[12, 34], " OR "), "ag12 OR ag34");
        assert_eq!(any_agency(&[], " | "), "");
    }
}
