//! Spreadsheet exports. Phone numbers arrive masked from the use case.

use egov_app::AppError;
use egov_store::onestop::DossierRow;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use time::OffsetDateTime;

use crate::i18n::Lang;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file for one reader, never cached: its type and, when given, how to show it
/// (`("inline", name)` or `("attachment", name)`).
pub fn private_file(
    media_type: &str,
    disposition: Option<(&str, &str)>,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let mut r = (
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response();
    if let Some((how, name)) = disposition
        && let Ok(v) = header::HeaderValue::from_str(&format!("{how}; filename=\"{name}\""))
    {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn local(t: Option<OffsetDateTime>) -> String {
    t.map(|t| {
        let l = t.to_offset(egov_domain::VN_OFFSET);
        format!(
            "{:02}/{:02}/{} {:02}:{:02}",
            l.day(),
            u8::from(l.month()),
            l.year(),
            l.hour(),
            l.minute()
        )
    })
    .unwrap_or_default()
}

/// The tracking register (sổ theo dõi hồ sơ, form 07 of Circular 03/2025) as a workbook.
pub fn register_xlsx(
    lang: Lang,
    agency: &str,
    period: &str,
    rows: &[DossierRow],
) -> Result<Vec<u8>, AppError> {
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(lang.t("register-sheet")).map_err(err)?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_text_wrap().set_border(FormatBorder::Thin);
    ws.write_with_format(0, 0, lang.t("register-title"), &title)
        .map_err(err)?;
    ws.write(1, 0, format!("{agency} — {period}"))
        .map_err(err)?;
    let columns = [
        ("register-col-seq", 6.0),
        ("register-col-code", 26.0),
        ("register-col-procedure", 40.0),
        ("register-col-sets", 6.0),
        ("register-col-applicant", 28.0),
        ("register-col-lead", 30.0),
        ("register-col-received", 17.0),
        ("register-col-appointment", 17.0),
        ("register-col-finished", 17.0),
        ("register-col-returned", 17.0),
        ("register-col-status", 18.0),
        ("register-col-note", 18.0),
    ];
    for (i, (key, width)) in columns.iter().enumerate() {
        let c = i as u16;
        ws.write_with_format(3, c, lang.t(key), &head)
            .map_err(err)?;
        ws.set_column_width(c, *width).map_err(err)?;
    }
    for (i, d) in rows.iter().enumerate() {
        let r = 4 + i as u32;
        let applicant = match &d.applicant_phone {
            Some(p) => format!("{} ({p})", d.applicant_name),
            None => d.applicant_name.clone(),
        };
        let note = d
            .timeliness
            .as_deref()
            .map(|t| lang.t(&format!("timeliness-{}", t.replace('_', "-"))))
            .unwrap_or_default();
        let values = [
            (i + 1).to_string(),
            d.code.clone(),
            d.procedure_name.clone(),
            "1".to_owned(),
            applicant,
            d.competent_agency_name.clone(),
            local(d.received_at.or(Some(d.submitted_at))),
            local(d.extended_to.or(d.appointment)),
            local(d.finished_at),
            local(d.returned_at),
            lang.t(&format!("state-{}", d.state.replace('_', "-"))),
            note,
        ];
        for (c, v) in values.iter().enumerate() {
            ws.write_with_format(r, c as u16, v, &cell).map_err(err)?;
        }
    }
    ws.set_freeze_panes(4, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// A register of documents as a workbook: title, agency and year, headings, rows.
pub fn document_register_xlsx(
    t: &egov_app::documents::registers::RegisterTable,
) -> Result<Vec<u8>, AppError> {
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_text_wrap().set_border(FormatBorder::Thin);
    ws.write_with_format(0, 0, &t.title, &title).map_err(err)?;
    ws.write(1, 0, format!("{} — {}", t.agency, t.year))
        .map_err(err)?;
    for (i, (h, w)) in t.headers.iter().zip(&t.widths).enumerate() {
        let c = i as u16;
        ws.write_with_format(3, c, h, &head).map_err(err)?;
        // Millimetres on paper to character widths on screen, roughly.
        ws.set_column_width(c, f64::from(*w) * 0.6).map_err(err)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_with_format(4 + r as u32, c as u16, v, &cell)
                .map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}
