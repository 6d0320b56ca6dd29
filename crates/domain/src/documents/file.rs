//! Work files (hồ sơ công việc), Decree 30/2020 Art. 28–31 and Appendix VI: the yearly file
//! list, file codes `<agency identifier>.<year>.<file notation>`, retention, and the file's life
//! from opening to the archive.

use serde::{Deserialize, Serialize};

/// How long a file is kept (thời hạn bảo quản).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "years")]
pub enum Retention {
    Permanent,
    Years(u16),
}

impl Retention {
    /// `"permanent"` or a number of years (`"10"`).
    pub fn parse(s: &str) -> Option<Retention> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("permanent") || s.eq_ignore_ascii_case("vĩnh viễn") {
            return Some(Retention::Permanent);
        }
        let y: u16 = s.trim_end_matches(" năm").trim().parse().ok()?;
        (1..=100).contains(&y).then_some(Retention::Years(y))
    }

    pub fn as_text(self) -> String {
        match self {
            Retention::Permanent => "permanent".into(),
            Retention::Years(y) => y.to_string(),
        }
    }

    pub fn label_vi(self) -> String {
        match self {
            Retention::Permanent => "Vĩnh viễn".into(),
            Retention::Years(y) => format!("{y} năm"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error(
        "a file notation is up to 20 letters, digits, dots and hyphens, such as 01.TCCB; got {0:?}"
    )]
    BadNotation(String),
    #[error("the retention is \"permanent\" or a number of years from 1 to 100")]
    BadRetention,
}

/// Checks a file notation (số và ký hiệu hồ sơ, `FileNotation`, at most 20 characters).
pub fn check_notation(s: &str) -> Result<(), FileError> {
    let ok = !s.is_empty()
        && s.chars().count() <= 20
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && !s.starts_with('.')
        && !s.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(FileError::BadNotation(s.to_owned()))
    }
}

/// The file code of Appendix VI: `OrganId` + `FileCatalog` (the year) + `FileNotation`.
pub fn file_code(agency_identifier: &str, year: i32, notation: &str) -> String {
    format!("{agency_identifier}.{year}.{notation}")
}

/// Where a file is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// On the year's list, not opened yet.
    Planned,
    Open,
    Closed,
    /// Handed to the agency archive (within a year of closing).
    Archived,
}

names!(FileState { Planned = "planned", Open = "open", Closed = "closed", Archived = "archived" });

impl FileState {
    /// Documents may be added only while the file is open.
    pub fn accepts_documents(self) -> bool {
        self == FileState::Open
    }

    pub fn next(self, action: FileAction) -> Option<FileState> {
        use FileAction as A;
        match (self, action) {
            (FileState::Planned, A::Open) => Some(FileState::Open),
            (FileState::Open, A::Close) => Some(FileState::Closed),
            (FileState::Closed, A::Reopen) => Some(FileState::Open),
            (FileState::Closed, A::Archive) => Some(FileState::Archived),
            _ => None,
        }
    }
}

/// What is done to a work file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    Open,
    Close,
    Reopen,
    /// Handed to the agency archive (the records office only).
    Archive,
}
names!(FileAction { Open = "open", Close = "close", Reopen = "reopen", Archive = "archive" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_notations() {
        assert_eq!(
            file_code("000.00.31.H56", 2026, "01.TCCB"),
            "000.00.31.H56.2026.01.TCCB"
        );
        assert!(check_notation("01.TCCB").is_ok());
        assert!(check_notation("").is_err());
        assert!(check_notation("01 TCCB").is_err());
        assert!(check_notation(".01").is_err());
        assert!(check_notation("012345678901234567890").is_err());
    }

    #[test]
    fn retention() {
        assert_eq!(Retention::parse("permanent"), Some(Retention::Permanent));
        assert_eq!(Retention::parse("Vĩnh viễn"), Some(Retention::Permanent));
        assert_eq!(Retention::parse("10 năm"), Some(Retention::Years(10)));
        assert_eq!(Retention::parse("0"), None);
        assert_eq!(Retention::parse("forever"), None);
        assert_eq!(Retention::Years(5).label_vi(), "5 năm");
    }

    #[test]
    fn life_of_a_file() {
        let s = FileState::Planned.next(FileAction::Open).unwrap();
        assert!(s.accepts_documents());
        let s = s.next(FileAction::Close).unwrap();
        assert!(!s.accepts_documents());
        assert_eq!(s.next(FileAction::Archive), Some(FileState::Archived));
        assert_eq!(FileState::Archived.next(FileAction::Reopen), None);
        assert_eq!(FileState::Planned.next(FileAction::Close), None);
    }
}
