//! Reference data embedded in the binary, so `egov demo` needs nothing but itself.

pub const UNITS_THREE_TIER: &str = include_str!("../../../data/vn-units-three-tier.csv");
pub const UNITS_TWO_TIER: &str = include_str!("../../../data/vn-units-two-tier.csv");
pub const SUCCESSION_2025: &str = include_str!("../../../data/vn-units-2025-succession.csv");
pub const PROVINCE_IDENTIFIERS: &str = include_str!("../../../data/province-identifiers.csv");
pub const HOLIDAYS_2025_2026: &str = include_str!("../../../data/holidays-vn-2025-2026.csv");
pub const HOLIDAY_RULES: &str = include_str!("../../../data/holiday-rules.json");
pub const DEMO_CATALOGUE: &str = include_str!("../../../data/demo-catalogue.json");

/// The identifier of a province's People's Committee from the embedded list, with its status
/// (`official` for the confirmed ones, `derived` otherwise).
pub fn province_identifier(stat_code: &str) -> Option<(String, &'static str)> {
    PROVINCE_IDENTIFIERS.lines().skip(1).find_map(|line| {
        let mut f = line.split(',');
        let code = f.next()?;
        let _name = f.next()?;
        let id = f.next()?;
        let status = f.next()?;
        (code == stat_code).then(|| {
            (
                id.to_owned(),
                if status == "confirmed" {
                    "official"
                } else {
                    "derived"
                },
            )
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn thanh_hoa_is_h56() {
        assert_eq!(
            super::province_identifier("38"),
            Some(("000.00.00.H56".into(), "official"))
        );
        assert_eq!(
            super::province_identifier("01").map(|p| p.1),
            Some("derived")
        );
        assert_eq!(super::province_identifier("99"), None);
    }
}
