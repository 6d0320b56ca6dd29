//! egov's domain: identifiers, the agency tree, organisation and signing rules.
//!
//! Pure types and rules, no I/O and no async, so every rule can be tested on its own.

/// `as_str`, `parse` and `ALL` for an enum of names stored and sent as text; the store
/// decodes a column into it (`TryFrom<String>`), and it compares with its name.
macro_rules! names {
    ($t:ident { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$($t::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $($t::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<$t> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = $crate::UnknownName;
            fn try_from(s: String) -> Result<$t, $crate::UnknownName> {
                $t::parse(&s).ok_or($crate::UnknownName {
                    of: stringify!($t),
                    name: s,
                })
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A stored name that is none of its enum's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a {of}")]
pub struct UnknownName {
    pub of: &'static str,
    pub name: String,
}

pub mod admin_unit;
pub mod agency_code;
mod birth_provinces;
pub mod calendar;
pub mod documents;
pub mod events;
pub mod identity;
pub mod national;
pub mod onestop;
pub mod org;
pub mod scorecard;
pub mod text;
pub mod validity;

pub use birth_provinces::BIRTH_PROVINCES;

/// Vietnam keeps one offset all year: UTC+07:00 (Asia/Ho_Chi_Minh).
pub const VN_OFFSET: time::UtcOffset = match time::UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

/// The day an instant falls on in Vietnam.
pub fn vn_date(t: time::OffsetDateTime) -> time::Date {
    t.to_offset(VN_OFFSET).date()
}
