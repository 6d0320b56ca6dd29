//! The kinds of administrative documents of Decree 30/2020 (Art. 7) with the abbreviations their
//! notations use, and the marks a document carries: urgency (độ khẩn) and secrecy (độ mật).

use serde::{Deserialize, Serialize};

/// One of the 29 kinds of administrative document (thể loại văn bản hành chính).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocKind {
    /// Our stable key.
    pub key: &'static str,
    pub name_vi: &'static str,
    pub name_en: &'static str,
    /// The abbreviation in the notation; công văn and thư công have none.
    pub abbr: Option<&'static str>,
    /// May be a legal normative document (văn bản quy phạm pháp luật) of a local authority:
    /// resolutions of a People's Council and decisions of a People's Committee.
    pub may_be_legal: bool,
}

const fn k(
    key: &'static str,
    name_vi: &'static str,
    name_en: &'static str,
    abbr: Option<&'static str>,
    may_be_legal: bool,
) -> DocKind {
    DocKind {
        key,
        name_vi,
        name_en,
        abbr,
        may_be_legal,
    }
}

/// The 29 kinds, in the decree's order.
pub const KINDS: [DocKind; 29] = [
    k("resolution", "Nghị quyết", "Resolution", Some("NQ"), true),
    k("decision", "Quyết định", "Decision", Some("QĐ"), true),
    k("directive", "Chỉ thị", "Directive", Some("CT"), false),
    k("statute", "Quy chế", "Statute", Some("QC"), false),
    k("regulation", "Quy định", "Regulation", Some("QyĐ"), false),
    k("communique", "Thông cáo", "Communiqué", Some("TC"), false),
    k("notice", "Thông báo", "Notice", Some("TB"), false),
    k("guidance", "Hướng dẫn", "Guidance", Some("HD"), false),
    k("programme", "Chương trình", "Programme", Some("CTr"), false),
    k("plan", "Kế hoạch", "Plan", Some("KH"), false),
    k("option", "Phương án", "Option", Some("PA"), false),
    k("scheme", "Đề án", "Scheme", Some("ĐA"), false),
    k("project", "Dự án", "Project", Some("DA"), false),
    k("report", "Báo cáo", "Report", Some("BC"), false),
    k("minutes", "Biên bản", "Minutes", Some("BB"), false),
    k("submission", "Tờ trình", "Submission", Some("TTr"), false),
    k("contract", "Hợp đồng", "Contract", Some("HĐ"), false),
    k(
        "official_letter",
        "Công văn",
        "Official letter",
        None,
        false,
    ),
    k(
        "telegram",
        "Công điện",
        "Official telegram",
        Some("CĐ"),
        false,
    ),
    k(
        "memorandum",
        "Bản ghi nhớ",
        "Memorandum",
        Some("BGN"),
        false,
    ),
    k(
        "agreement",
        "Bản thỏa thuận",
        "Agreement",
        Some("BTT"),
        false,
    ),
    k(
        "authorisation",
        "Giấy ủy quyền",
        "Letter of authorisation",
        Some("GUQ"),
        false,
    ),
    k("invitation", "Giấy mời", "Invitation", Some("GM"), false),
    k(
        "introduction",
        "Giấy giới thiệu",
        "Letter of introduction",
        Some("GGT"),
        false,
    ),
    k(
        "leave",
        "Giấy nghỉ phép",
        "Leave permit",
        Some("GNP"),
        false,
    ),
    k(
        "dispatch_slip",
        "Phiếu gửi",
        "Dispatch slip",
        Some("PG"),
        false,
    ),
    k(
        "transfer_slip",
        "Phiếu chuyển",
        "Transfer slip",
        Some("PC"),
        false,
    ),
    k(
        "notification_slip",
        "Phiếu báo",
        "Notification slip",
        Some("PB"),
        false,
    ),
    k("public_letter", "Thư công", "Public letter", None, false),
];

impl DocKind {
    pub fn by_key(key: &str) -> Option<&'static DocKind> {
        KINDS.iter().find(|k| k.key == key)
    }

    /// The kind whose abbreviation this is; case and the Đ/D spelling are as written on paper
    /// (`QĐ`, `QD` typed without the letter, `qđ`).
    pub fn by_abbr(abbr: &str) -> Option<&'static DocKind> {
        KINDS.iter().find(|k| k.abbr == Some(abbr)).or_else(|| {
            let folded = fold_abbr(abbr);
            let mut hits = KINDS
                .iter()
                .filter(|k| k.abbr.is_some_and(|a| fold_abbr(a) == folded));
            // ĐA and DA fold alike: only a unique match counts.
            match (hits.next(), hits.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        })
    }
}

fn fold_abbr(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'Đ' | 'đ' => 'd',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Độ khẩn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Normal,
    /// KHẨN
    Urgent,
    /// THƯỢNG KHẨN
    VeryUrgent,
    /// HỎA TỐC
    Express,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [
        Urgency::Normal,
        Urgency::Urgent,
        Urgency::VeryUrgent,
        Urgency::Express,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::VeryUrgent => "very_urgent",
            Urgency::Express => "express",
        }
    }

    pub fn parse(s: &str) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| u.as_str() == s)
    }

    /// The stamp printed on the document, if any.
    pub fn stamp(self) -> Option<&'static str> {
        match self {
            Urgency::Normal => None,
            Urgency::Urgent => Some("KHẨN"),
            Urgency::VeryUrgent => Some("THƯỢNG KHẨN"),
            Urgency::Express => Some("HỎA TỐC"),
        }
    }
}

/// Độ mật (State Secrets Law 2018). A document with a secrecy mark never enters the networked
/// system: only a metadata entry for the paper original is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Secrecy {
    /// MẬT
    Confidential,
    /// TỐI MẬT
    Secret,
    /// TUYỆT MẬT
    TopSecret,
}

impl Secrecy {
    pub const ALL: [Secrecy; 3] = [Secrecy::Confidential, Secrecy::Secret, Secrecy::TopSecret];

    pub fn as_str(self) -> &'static str {
        match self {
            Secrecy::Confidential => "confidential",
            Secrecy::Secret => "secret",
            Secrecy::TopSecret => "top_secret",
        }
    }

    pub fn parse(s: &str) -> Option<Secrecy> {
        Secrecy::ALL.into_iter().find(|u| u.as_str() == s)
    }

    pub fn stamp(self) -> &'static str {
        match self {
            Secrecy::Confidential => "MẬT",
            Secrecy::Secret => "TỐI MẬT",
            Secrecy::TopSecret => "TUYỆT MẬT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_nine_kinds_twenty_seven_abbreviations() {
        assert_eq!(KINDS.len(), 29);
        assert_eq!(KINDS.iter().filter(|k| k.abbr.is_some()).count(), 27);
        let mut keys: Vec<_> = KINDS.iter().map(|k| k.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 29, "keys are unique");
        let mut abbrs: Vec<_> = KINDS.iter().filter_map(|k| k.abbr).collect();
        abbrs.sort();
        abbrs.dedup();
        assert_eq!(abbrs.len(), 27, "abbreviations are unique");
        assert_eq!(DocKind::by_key("official_letter").unwrap().abbr, None);
    }

    #[test]
    fn abbreviations_as_written() {
        assert_eq!(DocKind::by_abbr("QĐ").unwrap().key, "decision");
        assert_eq!(DocKind::by_abbr("QD").unwrap().key, "decision");
        assert_eq!(DocKind::by_abbr("TTr").unwrap().key, "submission");
        assert_eq!(DocKind::by_abbr("ĐA").unwrap().key, "scheme");
        assert_eq!(DocKind::by_abbr("DA").unwrap().key, "project");
        assert_eq!(DocKind::by_abbr("da"), None, "ambiguous once folded");
        assert_eq!(DocKind::by_abbr("CV"), None, "công văn has no abbreviation");
    }
}
