//! The incoming and outgoing registers (sổ đăng ký văn bản đến / đi) with the columns Decree
//! 30/2020 lists (Appendix IV), as a table the web layer writes to a spreadsheet, and as a
//! printable landscape PDF.

use egov_domain::documents::flow::{InState, OutState};
use egov_pdf::{Align, Cell, Document, Face, Style, Table};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::error::OrNotFound;
use crate::{Actor, App, AppError};

/// A register ready to print or export: its title, column headings and widths (millimetres of
/// a landscape A4 page), what each column holds, and its rows as text (dates `dd/mm/yyyy`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterTable {
    pub title: String,
    /// A short name for a spreadsheet's sheet (at most 31 characters).
    pub sheet: String,
    pub agency: String,
    pub year: i32,
    pub headers: Vec<String>,
    pub widths: Vec<f32>,
    /// Per column: `text`, `date` (written `dd/mm/yyyy`) or `number`, so a spreadsheet gets
    /// real dates and numbers.
    pub kinds: Vec<ColumnKind>,
    pub rows: Vec<Vec<String>>,
    /// The document of each row.
    pub document_ids: Vec<i64>,
}

/// What a register column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    Date,
    Number,
}

/// How many copies an issued document was made in: one per recipient, and one per entry of
/// the file-copy line ("Lưu: VT, TCBC." is two).
fn copies_made(recipients: usize, file_copy_line: &str, recorded: i64) -> i64 {
    let kept = file_copy_line
        .split_once(':')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split([',', ';'])
        .filter(|p| !p.trim().trim_end_matches('.').trim().is_empty())
        .count();
    recorded.max(recipients as i64 + kept as i64)
}

fn day(d: Option<Date>) -> String {
    d.map(|d| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year()))
        .unwrap_or_default()
}

fn local_day(t: Option<OffsetDateTime>) -> String {
    day(t.map(egov_domain::vn_date))
}

/// The verdict on a received file's signatures, as the register writes it.
fn signature_text(status: Option<&str>) -> &'static str {
    match status {
        Some("valid") => "Hợp lệ",
        Some("invalid") => "KHÔNG hợp lệ",
        Some("indeterminate") => "Chưa xác định",
        Some("unsigned") => "Không ký số",
        _ => "",
    }
}

fn kind_name(k: &str) -> String {
    egov_domain::documents::kind::DocKind::by_key(k)
        .map(|k| k.name_vi.to_owned())
        .unwrap_or_else(|| k.to_owned())
}

impl App {
    /// The register of an agency for a year, as a table (the same permissions as the lists).
    pub async fn register_table(
        &self,
        actor: &Actor,
        agency_id: i64,
        year: i32,
        outgoing: bool,
        secret: bool,
    ) -> Result<RegisterTable, AppError> {
        let agency = egov_store::agencies::get(&mut &self.db, agency_id)
            .await
            .or_not_found("agency")?;
        let mark = if secret { " MẬT" } else { "" };
        if outgoing {
            self.outgoing_table(actor, &agency, year, secret, mark)
                .await
        } else {
            self.incoming_table(actor, &agency, year, secret, mark)
                .await
        }
    }

    /// The outgoing register (Decree 30, Appendix IV): one row per document issued.
    async fn outgoing_table(
        &self,
        actor: &Actor,
        agency: &egov_store::agencies::Agency,
        year: i32,
        secret: bool,
        mark: &str,
    ) -> Result<RegisterTable, AppError> {
        let agency_id = agency.id;
        let docs = self
            .outgoing_register(actor, agency_id, year, secret)
            .await?;
        let mut delivered: std::collections::HashMap<i64, Vec<String>> =
            std::collections::HashMap::new();
        for (doc, name) in
            egov_store::documents::register_recipients(&mut &self.db, agency_id, year).await?
        {
            delivered.entry(doc).or_default().push(name);
        }
        let rows = docs
            .iter()
            .map(|d| {
                let signer = [
                    d.signer_mark.as_deref(),
                    d.signer_position.as_deref(),
                    d.signer_name.as_deref(),
                ]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
                let to = delivered.get(&d.id).cloned().unwrap_or_default();
                vec![
                    d.notation.clone().unwrap_or_default(),
                    day(d.issued_on),
                    format!("{}: {}", kind_name(&d.kind), d.subject),
                    signer,
                    to.join("; "),
                    d.recipients_text.clone(),
                    copies_made(to.len(), &d.recipients_text, d.copies).to_string(),
                    if matches!(d.state, OutState::Issued | OutState::Recalled) {
                        local_day(Some(d.updated_at))
                    } else {
                        String::new()
                    },
                    String::new(),
                    if d.state == OutState::Recalled {
                        "Đã thu hồi".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        Ok(RegisterTable {
            title: format!("SỔ ĐĂNG KÝ VĂN BẢN ĐI{mark}"),
            sheet: format!("Sổ văn bản đi{} {year}", mark.to_lowercase()),
            agency: agency.name.clone(),
            year,
            headers: [
                "Số, ký hiệu văn bản",
                "Ngày tháng văn bản",
                "Tên loại và trích yếu nội dung văn bản",
                "Người ký",
                "Nơi nhận văn bản",
                "Đơn vị, người nhận bản lưu",
                "Số lượng bản",
                "Ngày chuyển",
                "Ký nhận",
                "Ghi chú",
            ]
            .map(String::from)
            .to_vec(),
            widths: vec![30.0, 20.0, 62.0, 30.0, 40.0, 22.0, 12.0, 18.0, 15.0, 18.0],
            kinds: {
                use ColumnKind::{Date as D, Number as N, Text as T};
                vec![T, D, T, T, T, T, N, D, T, T]
            },
            rows,
            document_ids: docs.iter().map(|d| d.id).collect(),
        })
    }

    /// The incoming register (Decree 30, Appendix IV): one row per document that arrived.
    async fn incoming_table(
        &self,
        actor: &Actor,
        agency: &egov_store::agencies::Agency,
        year: i32,
        secret: bool,
        mark: &str,
    ) -> Result<RegisterTable, AppError> {
        let agency_id = agency.id;
        let copies = self
            .incoming_register(actor, agency_id, year, secret)
            .await?;
        let mut rows = Vec::with_capacity(copies.len());
        let mut names: std::collections::HashMap<(bool, i64), String> =
            std::collections::HashMap::new();
        for c in &copies {
            // The unit and the person it was directed to ("Phòng Tổ chức - Biên chế – Ngô
            // Thị Thu").
            let mut lead = Vec::new();
            if let Some(u) = c.lead_unit_id {
                if let std::collections::hash_map::Entry::Vacant(v) = names.entry((true, u)) {
                    v.insert(
                        egov_store::org::get_org_unit(&mut &self.db, u)
                            .await
                            .map(|u| u.name)
                            .unwrap_or_default(),
                    );
                }
                lead.push(names[&(true, u)].clone());
            }
            if let Some(p) = c.lead_person_id {
                if let std::collections::hash_map::Entry::Vacant(v) = names.entry((false, p)) {
                    v.insert(
                        egov_store::people::get(&mut &self.db, p)
                            .await
                            .map(|p| p.full_name)
                            .unwrap_or_default(),
                    );
                }
                lead.push(names[&(false, p)].clone());
            }
            let lead = lead.join(" – ");
            rows.push(vec![
                local_day(Some(c.arrived_at)),
                c.arrival_number.map(|n| n.to_string()).unwrap_or_default(),
                c.issuer_name.clone(),
                c.notation.clone().unwrap_or_default(),
                day(c.issued_on),
                format!("{}: {}", kind_name(&c.kind), c.subject),
                lead,
                local_day(c.directed_at),
                String::new(),
                signature_text(c.signature.as_deref()).into(),
                match (c.duplicate_of, c.state) {
                    (_, InState::Cancelled) => "Đã thu hồi".into(),
                    (Some(_), _) => "Có thể trùng".into(),
                    _ => String::new(),
                },
            ]);
        }
        Ok(RegisterTable {
            title: format!("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN{mark}"),
            sheet: format!("Sổ văn bản đến{} {year}", mark.to_lowercase()),
            agency: agency.name.clone(),
            year,
            headers: [
                "Ngày đến",
                "Số đến",
                "Tác giả",
                "Số, ký hiệu",
                "Ngày tháng văn bản",
                "Tên loại và trích yếu nội dung",
                "Đơn vị hoặc người nhận",
                "Ngày chuyển",
                "Ký nhận",
                "Chữ ký số",
                "Ghi chú",
            ]
            .map(String::from)
            .to_vec(),
            widths: vec![
                18.0, 13.0, 33.0, 28.0, 18.0, 57.0, 30.0, 18.0, 15.0, 19.0, 18.0,
            ],
            kinds: {
                use ColumnKind::{Date as D, Number as N, Text as T};
                vec![D, N, T, T, D, T, T, D, T, T, T]
            },
            rows,
            document_ids: copies.iter().map(|c| c.document_id).collect(),
        })
    }
}

/// The register as a landscape A4 PDF in the bundled Liberation Serif.
pub fn register_pdf(t: &RegisterTable) -> Vec<u8> {
    let mut d = Document::landscape(&format!("{} – {}", t.title, t.agency));
    d.paragraph(
        &Style::new(Face::Bold, 12.0, Align::Left),
        &t.agency.to_uppercase(),
    );
    d.space(8.0);
    d.paragraph(&Style::new(Face::Bold, 15.0, Align::Center), &t.title);
    d.paragraph(
        &Style::new(Face::Bold, 12.0, Align::Center),
        &format!("Năm {}", t.year),
    );
    d.space(8.0);
    let cell = Style::new(Face::Regular, 9.0, Align::Left);
    let head = Style::new(Face::Bold, 9.0, Align::Center);
    d.table(&Table {
        widths: t.widths.clone(),
        header: t
            .headers
            .iter()
            .map(|h| Cell::new(h.clone(), head))
            .collect(),
        rows: t
            .rows
            .iter()
            .map(|r| r.iter().map(|v| Cell::new(v.clone(), cell)).collect())
            .collect(),
    });
    d.finish()
}
