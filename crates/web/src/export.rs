//! Spreadsheet exports. Phone numbers arrive masked from the use case.

use egov_app::AppError;
use egov_app::views::Dossier;
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

/// An instant as a spreadsheet date and time in Vietnam.
fn excel_time(t: OffsetDateTime) -> Option<rust_xlsxwriter::ExcelDateTime> {
    let l = t.to_offset(egov_domain::VN_OFFSET);
    rust_xlsxwriter::ExcelDateTime::from_ymd(l.year() as u16, u8::from(l.month()), l.day())
        .and_then(|d| d.and_hms(u16::from(l.hour()), l.minute(), l.second()))
        .ok()
}

/// The tracking register (sổ theo dõi hồ sơ, form 07 of Circular 03/2025) as a workbook.
pub fn register_xlsx(
    lang: Lang,
    agency: &str,
    period: &str,
    rows: &[Dossier],
) -> Result<Vec<u8>, AppError> {
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&lang.t("register-sheet")))
        .map_err(err)?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = header_format();
    let cell = cell_format();
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
    let number = cell.clone().set_num_format("0");
    let when = cell.clone().set_num_format("dd/mm/yyyy hh:mm");
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
        ws.write_number_with_format(r, 0, (i + 1) as f64, &number)
            .map_err(err)?;
        ws.write_number_with_format(r, 3, 1.0, &number)
            .map_err(err)?;
        let texts = [
            (1, d.code.clone()),
            (2, d.procedure_name.clone()),
            (4, applicant),
            (5, d.competent_agency_name.clone()),
            (
                10,
                lang.t(&format!("state-{}", d.state.as_str().replace('_', "-"))),
            ),
            (11, note),
        ];
        for (c, v) in texts {
            ws.write_with_format(r, c, v, &cell).map_err(err)?;
        }
        let times = [
            (6, d.received_at.or(Some(d.submitted_at))),
            (7, d.extended_to.or(d.appointment)),
            (8, d.finished_at),
            (9, d.returned_at),
        ];
        for (c, t) in times {
            match t.and_then(excel_time) {
                Some(t) => ws.write_datetime_with_format(r, c, t, &when).map(|_| ()),
                None => ws.write_blank(r, c, &cell).map(|_| ()),
            }
            .map_err(err)?;
        }
    }
    print_ready(ws, 3).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// A register of documents as a workbook: title, agency and year, headings, rows; dates as
/// date cells, numbers as numbers; ready to print (see [`print_ready`]).
pub fn document_register_xlsx(
    t: &egov_app::documents::registers::RegisterTable,
) -> Result<Vec<u8>, AppError> {
    use egov_app::documents::registers::ColumnKind;
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&t.sheet)).map_err(err)?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = header_format();
    let cell = cell_format();
    let date = cell.clone().set_num_format("dd/mm/yyyy");
    let number = cell.clone().set_num_format("0");
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
        let r = 4 + r as u32;
        for (c, v) in row.iter().enumerate() {
            let col = c as u16;
            match (t.kinds.get(c), v.as_str()) {
                (_, "") => ws.write_blank(r, col, &cell).map(|_| ()),
                (Some(ColumnKind::Date), v) => match excel_date(v) {
                    Some(d) => ws.write_datetime_with_format(r, col, d, &date).map(|_| ()),
                    None => ws.write_with_format(r, col, v, &cell).map(|_| ()),
                },
                (Some(ColumnKind::Number), v) => match v.parse::<f64>() {
                    Ok(n) => ws.write_number_with_format(r, col, n, &number).map(|_| ()),
                    Err(_) => ws.write_with_format(r, col, v, &cell).map(|_| ()),
                },
                (_, v) => ws.write_with_format(r, col, v, &cell).map(|_| ()),
            }
            .map_err(err)?;
        }
    }
    print_ready(ws, 3).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// A register's cell: wrapped, boxed, top-aligned.
fn cell_format() -> Format {
    Format::new()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
}

/// A bold, centred, bordered heading cell.
fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
}

/// A register's sheet as a clerk prints it: the heading row frozen on screen and repeated on
/// every printed page, A4 landscape, fitted to the page's width.
fn print_ready(
    ws: &mut rust_xlsxwriter::Worksheet,
    header_row: u32,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    ws.set_freeze_panes(header_row + 1, 0)?;
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_landscape();
    // 9 is A4 in the spreadsheet's paper codes.
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// A sheet name a spreadsheet accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    name.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// `dd/mm/yyyy` (a register's date) as a spreadsheet date.
fn excel_date(v: &str) -> Option<rust_xlsxwriter::ExcelDateTime> {
    let mut parts = v.split('/');
    let d: u8 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let y: u16 = parts.next()?.parse().ok()?;
    rust_xlsxwriter::ExcelDateTime::from_ymd(y, m, d).ok()
}

/// Audit entries as a workbook, for an administrator who takes them elsewhere.
pub fn audit_xlsx(lang: Lang, lines: &[egov_app::audit::AuditLine]) -> Result<Vec<u8>, AppError> {
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&lang.t("audit-sheet")))
        .map_err(err)?;
    let head = header_format();
    let cell = Format::new().set_border(FormatBorder::Thin);
    let number = cell.clone().set_num_format("0");
    let when = cell.clone().set_num_format("dd/mm/yyyy hh:mm:ss");
    let columns = [
        ("audit-col-seq", 10.0),
        ("time", 20.0),
        ("actor", 26.0),
        ("audit-col-account", 20.0),
        ("action", 30.0),
        ("audit-col-object-kind", 22.0),
        ("audit-col-object-id", 10.0),
        ("audit-col-object-name", 40.0),
        ("audit-col-agency", 12.0),
        ("audit-col-ip", 16.0),
        ("audit-col-request", 24.0),
    ];
    for (i, (key, width)) in columns.iter().enumerate() {
        ws.write_with_format(0, i as u16, lang.t(key), &head)
            .map_err(err)?;
        ws.set_column_width(i as u16, *width).map_err(err)?;
    }
    for (i, l) in lines.iter().enumerate() {
        let r = 1 + i as u32;
        let e = &l.entry;
        match e.seq {
            Some(s) => ws.write_number_with_format(r, 0, s as f64, &number),
            None => ws.write_blank(r, 0, &cell),
        }
        .map_err(err)?;
        match excel_time(e.at) {
            Some(t) => ws.write_datetime_with_format(r, 1, t, &when),
            None => ws.write_blank(r, 1, &cell),
        }
        .map_err(err)?;
        let kind = lang
            .try_t(&format!("audit-object-{}", e.object_type.replace('_', "-")))
            .unwrap_or_else(|| e.object_type.clone());
        let texts = [
            (2, l.who.clone()),
            (3, e.actor.clone()),
            (4, e.action.clone()),
            (5, kind),
            (6, e.object_id.clone()),
            (7, l.object.clone().unwrap_or_default()),
            (8, e.agency_id.map(|a| a.to_string()).unwrap_or_default()),
            (9, e.ip.clone().unwrap_or_default()),
            (10, e.request_id.clone().unwrap_or_default()),
        ];
        for (c, v) in texts {
            ws.write_with_format(r, c, v, &cell).map_err(err)?;
        }
    }
    print_ready(ws, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// The most rows a list behind a scorecard figure exports at once.
pub const MAX_ROWS: i64 = 100_000;

/// The items behind a scorecard figure as a workbook: one row each, a link to every dossier's
/// page kept as its code (the workbook leaves the system; the page checks who opens it).
pub fn scorecard_list_xlsx(
    lang: Lang,
    l: &egov_app::scorecard::ScoreList,
) -> Result<Vec<u8>, AppError> {
    use egov_app::scorecard::Items;
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&format!(
        "{} {}",
        l.indicator.id,
        l.side.as_str()
    )))
    .map_err(err)?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = header_format();
    let cell = cell_format();
    let when = cell.clone().set_num_format("dd/mm/yyyy hh:mm");
    ws.write_with_format(
        0,
        0,
        format!("{} {}", l.indicator.id, l.indicator.name),
        &title,
    )
    .map_err(err)?;
    ws.write(
        1,
        0,
        format!(
            "{} – {} · {}",
            l.period.from,
            l.period.to,
            lang.t(if l.side == egov_app::scorecard::Side::Missing {
                "list-missing"
            } else {
                "list-counted"
            })
        ),
    )
    .map_err(err)?;
    let columns: &[(&str, f64)] = match &l.items {
        Items::Dossiers { .. } => &[
            ("dossier-code", 26.0),
            ("procedure-code", 12.0),
            ("procedure", 40.0),
            ("agency", 30.0),
            ("applicant", 28.0),
            ("received-at", 17.0),
            ("appointment", 17.0),
            ("finished-at", 17.0),
            ("state", 16.0),
        ],
        Items::Procedures { .. } => &[
            ("procedure-code", 12.0),
            ("version", 8.0),
            ("procedure", 60.0),
        ],
        Items::Feedback { .. } => &[
            ("feedback-id", 20.0),
            ("agency-id", 18.0),
            ("procedure-code", 12.0),
            ("feedback-sent", 17.0),
            ("feedback-handled", 17.0),
            ("feedback-category", 18.0),
        ],
        Items::NoData => &[],
    };
    for (i, (key, width)) in columns.iter().enumerate() {
        ws.write_with_format(3, i as u16, lang.t(key), &head)
            .map_err(err)?;
        ws.set_column_width(i as u16, *width).map_err(err)?;
    }
    let time_at = |ws: &mut rust_xlsxwriter::Worksheet,
                   r: u32,
                   c: u16,
                   t: Option<OffsetDateTime>|
     -> Result<(), AppError> {
        match t.and_then(excel_time) {
            Some(t) => ws.write_datetime_with_format(r, c, t, &when).map(|_| ()),
            None => ws.write_blank(r, c, &cell).map(|_| ()),
        }
        .map_err(err)
    };
    match &l.items {
        Items::Dossiers { rows, .. } => {
            for (i, d) in rows.iter().enumerate() {
                let r = 4 + i as u32;
                for (c, v) in [
                    (0, d.code.as_str()),
                    (1, d.procedure_code.as_str()),
                    (2, d.procedure_name.as_str()),
                    (3, d.agency_name.as_str()),
                    (4, d.applicant_name.as_str()),
                ] {
                    ws.write(r, c, v).map_err(err)?;
                }
                time_at(ws, r, 5, Some(d.received_at.unwrap_or(d.submitted_at)))?;
                time_at(ws, r, 6, d.appointment)?;
                time_at(ws, r, 7, d.finished_at)?;
                ws.write(
                    r,
                    8,
                    lang.t(&format!("state-{}", d.state.replace('_', "-"))),
                )
                .map_err(err)?;
            }
        }
        Items::Procedures { rows, .. } => {
            for (i, p) in rows.iter().enumerate() {
                let r = 4 + i as u32;
                ws.write(r, 0, p.code.as_str()).map_err(err)?;
                ws.write(r, 1, p.version as f64).map_err(err)?;
                ws.write(r, 2, p.name.as_str()).map_err(err)?;
            }
        }
        Items::Feedback { rows, .. } => {
            for (i, f) in rows.iter().enumerate() {
                let r = 4 + i as u32;
                ws.write(r, 0, f.national_id.as_str()).map_err(err)?;
                ws.write(r, 1, f.agency_code.as_str()).map_err(err)?;
                ws.write(r, 2, f.procedure_code.as_str()).map_err(err)?;
                time_at(ws, r, 3, Some(f.sent_at))?;
                time_at(ws, r, 4, f.handled_at)?;
                ws.write(r, 5, f.category.as_str()).map_err(err)?;
            }
        }
        Items::NoData => {}
    }
    wb.save_to_buffer().map_err(err)
}
