//! egov's domain: identifiers, the agency tree, organisation and signing rules.
//!
//! Pure types and rules, no I/O and no async, so every rule can be tested on its own.

/// `as_str`, `parse` and `ALL` for an enum of names stored and sent as text.
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
    };
}

pub mod admin_unit;
pub mod agency_code;
mod birth_provinces;
pub mod calendar;
pub mod documents;
pub mod events;
pub mod identity;
pub mod onestop;
pub mod org;
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
