//! egov's domain: identifiers, the agency tree, organisation and signing rules.
//!
//! Pure types and rules, no I/O and no async, so every rule can be tested on its own.

pub mod admin_unit;
pub mod agency_code;
mod birth_provinces;
pub mod calendar;
pub mod documents;
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
