//! Dossier codes (mã hồ sơ): a configurable format, by default
//! `<receiving agency identifier>-<yymmdd>-<daily sequence>`, the day being Vietnam's and the
//! sequence at least four digits, widening rather than failing.

use time::Date;

/// Formats a dossier code. `format` may use `{agency}`, `{yymmdd}`, `{yyyymmdd}` and `{seq}` or
/// `{seq:N}` (at least N digits).
pub fn format_code(format: &str, agency: &str, day: Date, seq: u64) -> String {
    let mut out = String::with_capacity(32);
    let mut rest = format;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let key = &rest[i + 1..i + j];
        match key {
            "agency" => out.push_str(agency),
            "yymmdd" => out.push_str(&format!(
                "{:02}{:02}{:02}",
                day.year() % 100,
                u8::from(day.month()),
                day.day()
            )),
            "yyyymmdd" => out.push_str(&format!(
                "{:04}{:02}{:02}",
                day.year(),
                u8::from(day.month()),
                day.day()
            )),
            "seq" => out.push_str(&seq.to_string()),
            k if k.starts_with("seq:") => {
                let w: usize = k[4..].parse().unwrap_or(4);
                out.push_str(&format!("{seq:0w$}"));
            }
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

pub const DEFAULT_FORMAT: &str = "{agency}-{yymmdd}-{seq:4}";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn default_format() {
        let d = date!(2026 - 03 - 02);
        assert_eq!(
            format_code(DEFAULT_FORMAT, "000.01.90.H56", d, 1),
            "000.01.90.H56-260302-0001"
        );
        assert_eq!(
            format_code(DEFAULT_FORMAT, "000.01.90.H56", d, 12345),
            "000.01.90.H56-260302-12345",
            "widens"
        );
        assert_eq!(
            format_code("{yyyymmdd}/{seq:6}", "x", d, 7),
            "20260302/000007"
        );
        assert_eq!(format_code("{unknown}-{seq}", "x", d, 7), "{unknown}-7");
    }
}
