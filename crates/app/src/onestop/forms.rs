//! The one-stop forms as PDF: the set of Circular 03/2025/TT-VPCP for dossiers received from
//! 1 July 2025, the set of Circular 01/2018/TT-VPCP for those received before. Rendered when
//! asked for (never while a receipt is being issued), from what the dossier records.

use crate::Code;
use egov_domain::onestop::procedure::{ProcedureVersion, TimeLimit};
use egov_pdf::{Align, Cell, Document, Face, Style, Table, mm};
use egov_store::onestop::{self as store, DossierRow};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::catalogue::parse_procedure;
use super::dossiers::DossierDetail;
use crate::{Actor, App, AppError};

/// A form of the one-stop set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Giấy tiếp nhận hồ sơ và hẹn trả kết quả.
    Receipt,
    /// Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.
    SupplementRequest,
    /// Phiếu từ chối tiếp nhận giải quyết hồ sơ.
    Refusal,
    /// Văn bản xin lỗi và đề nghị gia hạn (2025) / Phiếu xin lỗi và hẹn lại ngày trả kết quả (2018).
    Apology,
    /// Thông báo dừng giải quyết hồ sơ (2025 only).
    StopNotice,
    /// Phiếu kiểm soát quá trình giải quyết hồ sơ.
    ProcessControl,
    /// Sổ theo dõi hồ sơ.
    Register,
}

impl FormKind {
    pub const ALL: [FormKind; 7] = [
        FormKind::Receipt,
        FormKind::SupplementRequest,
        FormKind::Refusal,
        FormKind::Apology,
        FormKind::StopNotice,
        FormKind::ProcessControl,
        FormKind::Register,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Receipt => "receipt",
            FormKind::SupplementRequest => "supplement_request",
            FormKind::Refusal => "refusal",
            FormKind::Apology => "apology",
            FormKind::StopNotice => "stop_notice",
            FormKind::ProcessControl => "process_control",
            FormKind::Register => "register",
        }
    }

    pub fn parse(s: &str) -> Option<FormKind> {
        FormKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The forms a dossier has, given what happened to it (the set decides the rest).
pub fn available(detail: &DossierDetail) -> Vec<FormKind> {
    let x = &detail.dossier;
    let had = |e: &str| detail.events.iter().any(|ev| ev.event == e);
    let received = x.received_at.unwrap_or(x.submitted_at);
    let set = FormSet::for_day(local(received).date());
    let mut out = Vec::new();
    if x.received_at.is_some() {
        out.push(FormKind::Receipt);
    }
    if had("request_supplement") {
        out.push(FormKind::SupplementRequest);
    }
    if had("refuse") {
        out.push(FormKind::Refusal);
    }
    if had("apologize") {
        out.push(FormKind::Apology);
    }
    if had("stop") || had("withdraw") {
        out.push(FormKind::StopNotice);
    }
    if x.received_at.is_some() {
        out.push(FormKind::ProcessControl);
    }
    out.retain(|k| set.form(*k).is_some());
    out
}

/// A set of forms, in force from a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormSet {
    /// Circular 01/2018/TT-VPCP: dossiers received before 1 July 2025.
    Circular2018,
    /// Circular 03/2025/TT-VPCP: from 1 July 2025.
    Circular2025,
}

impl FormSet {
    /// The set a dossier received on `day` (Vietnam time) is documented with.
    pub fn for_day(day: Date) -> FormSet {
        if day < time::macros::date!(2025 - 07 - 01) {
            FormSet::Circular2018
        } else {
            FormSet::Circular2025
        }
    }

    pub fn circular(self) -> &'static str {
        match self {
            FormSet::Circular2018 => "Thông tư số 01/2018/TT-VPCP",
            FormSet::Circular2025 => "Thông tư số 03/2025/TT-VPCP",
        }
    }

    /// The form's number and title in this set, or None when the set has no such form.
    pub fn form(self, kind: FormKind) -> Option<(u8, &'static str)> {
        use FormKind as K;
        Some(match (self, kind) {
            (_, K::Receipt) => (1, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
            (_, K::SupplementRequest) => (2, "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
            (_, K::Refusal) => (3, "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
            (FormSet::Circular2018, K::Apology) => (4, "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
            (FormSet::Circular2025, K::Apology) => (
                4,
                "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT HỒ SƠ",
            ),
            (FormSet::Circular2018, K::StopNotice) => return None,
            (FormSet::Circular2025, K::StopNotice) => (5, "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"),
            (FormSet::Circular2018, K::ProcessControl) => {
                (5, "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ")
            }
            (FormSet::Circular2025, K::ProcessControl) => {
                (6, "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ")
            }
            (FormSet::Circular2018, K::Register) => (6, "SỔ THEO DÕI HỒ SƠ"),
            (FormSet::Circular2025, K::Register) => (7, "SỔ THEO DÕI HỒ SƠ"),
        })
    }
}

/// Everything a dossier's forms print.
pub struct FormData {
    pub detail: DossierDetail,
    pub procedure: ProcedureVersion,
    pub published_limit: Option<TimeLimit>,
    pub applicant_address: Option<String>,
    pub applicant_email: Option<String>,
    /// The body above the competent agency (the upper line of its letterhead).
    pub competent_parent: Option<String>,
    /// The body above the receiving agency (for a provincial service centre, the province's
    /// People's Committee).
    pub receiving_parent: Option<String>,
    /// The place name of the date line ("Hạc Thành").
    pub place: String,
    /// Full names of the people behind event actors, by person id.
    pub names: Vec<(i64, String)>,
    /// The address of the public status look-up with this dossier's token.
    pub lookup_url: String,
    /// When the form is printed.
    pub now: OffsetDateTime,
}

impl FormData {
    fn name_of(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.names.iter().find(|(i, _)| *i == id))
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    fn last_event(&self, event: &str) -> Option<&crate::views::DossierEvent> {
        self.detail.events.iter().rev().find(|e| e.event == event)
    }

    fn note_of(e: Option<&crate::views::DossierEvent>) -> String {
        e.and_then(|e| serde_json::from_str::<serde_json::Value>(&e.data_json).ok())
            .and_then(|v| {
                // Refusals at the counter record `reasons`; later events a `note`.
                ["note", "reasons"]
                    .iter()
                    .filter_map(|k| v.get(*k).and_then(|n| n.as_str()))
                    .find(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    }
}

fn local(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(egov_domain::VN_OFFSET)
}

/// "08 giờ 30 phút, ngày 25 tháng 11 năm 2026".
fn when(t: Option<OffsetDateTime>) -> String {
    match t.map(local) {
        Some(l) => format!(
            "{:02} giờ {:02} phút, ngày {:02} tháng {:02} năm {}",
            l.hour(),
            l.minute(),
            l.day(),
            u8::from(l.month()),
            l.year()
        ),
        None => "…… giờ …… phút, ngày …… tháng …… năm ……".to_owned(),
    }
}

fn short_date(t: Option<OffsetDateTime>) -> String {
    t.map(local)
        .map(|l| {
            format!(
                "{:02}g{:02} {:02}/{:02}/{}",
                l.hour(),
                l.minute(),
                l.day(),
                u8::from(l.month()),
                l.year()
            )
        })
        .unwrap_or_default()
}

/// A same-day rule as the law words it: "Trong ngày; sau 15 giờ trả trong ngày làm việc tiếp
/// theo" (minutes when the cut-off has them: "15 giờ 30").
pub fn same_day_text(cutoff: u16) -> String {
    let (h, m) = (cutoff / 60, cutoff % 60);
    let at = if m == 0 {
        format!("{h} giờ")
    } else {
        format!("{h} giờ {m:02}")
    };
    format!("Trong ngày; sau {at} trả trong ngày làm việc tiếp theo")
}

pub fn limit_text(l: &TimeLimit) -> String {
    use egov_domain::onestop::procedure::LimitUnit as U;
    let v = if l.value.fract() == 0.0 {
        format!("{}", l.value as i64)
    } else {
        format!("{}", l.value).replace('.', ",")
    };
    let unit = match l.unit {
        U::WorkingDays => "ngày làm việc",
        U::WorkingHours => "giờ làm việc",
        U::CalendarDays => "ngày",
        U::Months => "tháng",
    };
    format!("{v} {unit}")
}

fn copy_kind(k: &str) -> &'static str {
    match k {
        "certified_copy" => "Bản sao chứng thực",
        "copy" => "Bản sao",
        _ => "Bản chính",
    }
}

fn money(v: i64) -> String {
    format!("{} đồng", egov_domain::text::thousands(v))
}

const HEAD: Style = Style::new(Face::Regular, 12.0, Align::Center);
const HEAD_BOLD: Style = Style::new(Face::Bold, 12.0, Align::Center);
const MOTTO: Style = Style::new(Face::Bold, 13.0, Align::Center);
const TITLE: Style = Style::new(Face::Bold, 14.0, Align::Center);
const ITALIC: Style = Style::new(Face::Italic, 13.0, Align::Right);
const LABEL: Style = Style::new(Face::Regular, 13.0, Align::Left);
const VALUE: Style = Style::new(Face::Bold, 13.0, Align::Left);
const CELL: Style = Style::new(Face::Regular, 11.0, Align::Left);
const CELL_C: Style = Style::new(Face::Regular, 11.0, Align::Center);
const CELL_H: Style = Style::new(Face::Bold, 11.0, Align::Center);
const SIGN: Style = Style::new(Face::Bold, 13.0, Align::Center);
const SIGN_NOTE: Style = Style::new(Face::Italic, 12.0, Align::Center);

/// The header of a form: issuing body on the left, national motto on the right, the form's
/// number above, the date line below.
fn header(
    d: &mut Document,
    set: FormSet,
    number: u8,
    upper: &str,
    issuer: &str,
    place: &str,
    day: OffsetDateTime,
) {
    let right = d.page_width() - d.margins.2;
    let top = d.y();
    d.text_at(
        right,
        top - mm(8.0),
        &Style::new(Face::Italic, 10.0, Align::Right),
        &format!("Mẫu số {number:02} – {}", set.circular()),
    );
    d.columns(&[
        (
            1.0,
            vec![
                (HEAD, letterhead(upper), 0.0),
                // Decree 30, Appendix I: a third to a half of the name's length.
                (HEAD_BOLD, letterhead(issuer), 0.4),
            ],
        ),
        (
            1.35,
            vec![
                (
                    HEAD_BOLD,
                    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".to_owned(),
                    0.0,
                ),
                // As long as the line of the motto.
                (MOTTO, "Độc lập - Tự do - Hạnh phúc".to_owned(), 1.0),
            ],
        ),
    ]);
    d.space(4.0);
    let l = local(day);
    d.paragraph(
        &ITALIC,
        &format!(
            "{place}, ngày {:02} tháng {:02} năm {}",
            l.day(),
            u8::from(l.month()),
            l.year()
        ),
    );
    d.space(10.0);
}

/// The front office that issues a dossier's forms. Before 1 July 2025 the receiving agency's
/// "Bộ phận Một cửa"; since (Decree 118/2025, Circular 03/2025) a commune's Trung tâm Phục vụ
/// hành chính công under its People's Committee, or the provincial centre itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontOffice {
    /// The letterhead's upper line (the body it belongs to).
    pub upper: String,
    /// The letterhead's issuing line.
    pub issuer: String,
    /// Its full name in a sentence ("Trung tâm Phục vụ hành chính công phường Hạc Thành").
    pub full: String,
    /// Its short name in a sentence ("Trung tâm Phục vụ hành chính công").
    pub short: String,
}

impl FrontOffice {
    pub fn of(set: FormSet, receiving: &str, receiving_parent: Option<&str>) -> FrontOffice {
        const CENTRE: &str = "Trung tâm Phục vụ hành chính công";
        let folded = egov_domain::text::fold(receiving);
        let committee = ["Ủy ban nhân dân ", "Uỷ ban nhân dân ", "UBND "]
            .iter()
            .find_map(|p| receiving.strip_prefix(p));
        match set {
            FormSet::Circular2018 => FrontOffice {
                upper: receiving.to_owned(),
                issuer: "Bộ phận Một cửa".to_owned(),
                full: format!("Bộ phận Một cửa – {receiving}"),
                short: "Bộ phận Một cửa".to_owned(),
            },
            FormSet::Circular2025 if folded.starts_with(&egov_domain::text::fold(CENTRE)) => {
                FrontOffice {
                    upper: receiving_parent.unwrap_or_default().to_owned(),
                    issuer: receiving.to_owned(),
                    full: receiving.to_owned(),
                    short: CENTRE.to_owned(),
                }
            }
            FormSet::Circular2025 => match committee {
                Some(place) => FrontOffice {
                    upper: receiving.to_owned(),
                    issuer: CENTRE.to_owned(),
                    full: format!("{CENTRE} {}", place.trim()),
                    short: CENTRE.to_owned(),
                },
                None => FrontOffice {
                    upper: receiving.to_owned(),
                    issuer: "Bộ phận Một cửa".to_owned(),
                    full: format!("Bộ phận Một cửa – {receiving}"),
                    short: "Bộ phận Một cửa".to_owned(),
                },
            },
        }
    }
}

/// An agency's name as its letterhead prints it, in capitals, broken after its kind ("ỦY BAN
/// NHÂN DÂN / PHƯỜNG HẠC THÀNH", "TRUNG TÂM PHỤC VỤ / HÀNH CHÍNH CÔNG …") and never inside the
/// name itself.
pub fn letterhead(name: &str) -> String {
    let upper = name.trim().to_uppercase();
    for kind in [
        "ỦY BAN NHÂN DÂN",
        "UỶ BAN NHÂN DÂN",
        "HỘI ĐỒNG NHÂN DÂN",
        "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
    ] {
        if let Some(rest) = upper.strip_prefix(kind) {
            let rest = rest.trim();
            return match (kind, rest.is_empty()) {
                ("TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", true) => {
                    "TRUNG TÂM PHỤC VỤ\nHÀNH CHÍNH CÔNG".to_owned()
                }
                (_, true) => kind.to_owned(),
                _ => format!("{kind}\n{rest}"),
            };
        }
    }
    upper
}

fn title(d: &mut Document, text: &str, sub: Option<&str>) {
    d.paragraph(&TITLE, text);
    if let Some(s) = sub {
        d.paragraph(&Style::new(Face::Bold, 13.0, Align::Center), s);
    }
    d.space(10.0);
}

/// Two signature blocks side by side: (title, note, name).
fn signatures(d: &mut Document, blocks: &[(&str, &str, String)]) {
    d.space(12.0);
    d.ensure(mm(40.0));
    let lines = blocks
        .iter()
        .map(|(t, n, _)| {
            (
                1.0,
                vec![
                    (SIGN, (*t).to_owned(), 0.0),
                    (SIGN_NOTE, (*n).to_owned(), 0.0),
                ],
            )
        })
        .collect::<Vec<_>>();
    d.columns(&lines);
    d.space(mm(22.0));
    let names = blocks
        .iter()
        .map(|(_, _, name)| (1.0, vec![(SIGN, name.clone(), 0.0)]))
        .collect::<Vec<_>>();
    d.columns(&names);
}

fn applicant_lines(d: &mut Document, f: &FormData) {
    let x = &f.detail.dossier;
    d.labelled("Ông/Bà (tổ chức):", &LABEL, &x.applicant_name, &VALUE);
    d.labelled(
        "Địa chỉ:",
        &LABEL,
        f.applicant_address.as_deref().unwrap_or("……………………"),
        &LABEL,
    );
    d.labelled(
        "Số điện thoại:",
        &LABEL,
        x.applicant_phone.as_deref().unwrap_or("……………"),
        &LABEL,
    );
    d.labelled(
        "Email:",
        &LABEL,
        f.applicant_email.as_deref().unwrap_or("……………"),
        &LABEL,
    );
}

fn request_line(d: &mut Document, f: &FormData) {
    let x = &f.detail.dossier;
    let mut content = x.procedure_name.clone();
    if !x.subject.is_empty() {
        content = format!("{content} ({})", x.subject);
    }
    d.labelled("Nội dung yêu cầu giải quyết:", &LABEL, &content, &LABEL);
}

/// Renders a form of a dossier.
pub fn render(kind: FormKind, f: &FormData) -> Result<Vec<u8>, AppError> {
    let x = &f.detail.dossier;
    let received = x.received_at.unwrap_or(x.submitted_at);
    let set = FormSet::for_day(local(received).date());
    let (number, title_text) = set.form(kind).ok_or_else(|| {
        AppError::invalid(
            Code::FormNotInSet,
            "This form does not exist in the set in force for the dossier.",
        )
        .arg("form", kind.as_str())
    })?;
    let mut d = Document::new(&format!("{title_text} – {}", x.code));
    let office = FrontOffice::of(set, &x.receiving_agency_name, f.receiving_parent.as_deref());
    let counter_upper = office.upper.clone();
    let competent_upper = f
        .competent_parent
        .clone()
        .unwrap_or_else(|| x.competent_agency_name.clone());
    let receiver = f.name_of(
        f.last_event("receive")
            .and_then(|e| e.actor_id)
            .or_else(|| {
                f.detail
                    .events
                    .iter()
                    .find(|e| e.event == "submit")
                    .and_then(|e| e.actor_id)
            }),
    );
    let c = Frame {
        f,
        set,
        number,
        title_text,
        office,
        counter_upper,
        competent_upper,
        receiver,
        received,
    };
    match kind {
        FormKind::Receipt => receipt(&mut d, &c)?,
        FormKind::SupplementRequest => supplement_request(&mut d, &c)?,
        FormKind::Refusal => refusal(&mut d, &c)?,
        FormKind::Apology => apology(&mut d, &c)?,
        FormKind::StopNotice => stop_notice(&mut d, &c)?,
        FormKind::ProcessControl => process_control(&mut d, &c)?,
        FormKind::Register => {
            return Err(AppError::invalid(
                Code::FormNotInSet,
                "The register is printed for an agency and a period.",
            )
            .arg("form", kind.as_str()));
        }
    }
    Ok(d.finish())
}

/// What every form of a dossier starts from.
struct Frame<'a> {
    f: &'a FormData,
    set: FormSet,
    number: u8,
    title_text: &'static str,
    office: FrontOffice,
    counter_upper: String,
    competent_upper: String,
    receiver: String,
    received: OffsetDateTime,
}

impl Frame<'_> {
    /// The form's heading in the name of the front office that received the dossier.
    fn counter_header(&self, d: &mut Document, at: OffsetDateTime) {
        header(
            d,
            self.set,
            self.number,
            &self.counter_upper,
            &self.office.issuer,
            &self.f.place,
            at,
        );
    }

    /// The form's heading in the name of the agency competent to decide the dossier.
    fn competent_header(&self, d: &mut Document, at: OffsetDateTime) {
        header(
            d,
            self.set,
            self.number,
            &self.competent_upper,
            &self.f.detail.dossier.competent_agency_name,
            &self.f.place,
            at,
        );
    }
}

/// The receipt with the appointment (giấy tiếp nhận hồ sơ và hẹn trả kết quả).
fn receipt(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    c.counter_header(d, c.received);
    title(d, c.title_text, Some(&format!("Mã hồ sơ: {}", x.code)));
    d.paragraph(&LABEL, &format!("{} tiếp nhận hồ sơ của:", c.office.full));
    applicant_lines(d, f);
    request_line(d, f);
    d.paragraph(&LABEL, "1. Thành phần hồ sơ nộp gồm:");
    components_table(d, f);
    d.space(4.0);
    d.paragraph(&LABEL, "2. Số lượng hồ sơ: 01 (bộ).");
    // Item 3 asks for the statutory limit; a shorter published commitment follows it.
    let statutory = match f.procedure.same_day_cutoff {
        Some(c) => same_day_text(c),
        None => limit_text(&f.procedure.statutory_limit),
    };
    let committed = f
        .published_limit
        .as_ref()
        .filter(|p| f.procedure.same_day_cutoff.is_none() && **p != f.procedure.statutory_limit)
        .map(|p| format!(" (thời gian cam kết giải quyết: {})", limit_text(p)))
        .unwrap_or_default();
    d.paragraph(
        &LABEL,
        &format!("3. Thời gian giải quyết hồ sơ theo quy định là: {statutory}{committed}."),
    );
    d.paragraph(
        &LABEL,
        &format!("4. Thời gian nhận hồ sơ: {}.", when(Some(c.received))),
    );
    d.paragraph(
        &LABEL,
        &format!(
            "5. Thời gian trả kết quả giải quyết hồ sơ: {}.",
            when(x.extended_to.or(x.appointment))
        ),
    );
    d.paragraph(
        &LABEL,
        &format!("6. Đăng ký nhận kết quả tại: {}.", c.office.full),
    );
    let fee = fee_text(f);
    d.paragraph(&LABEL, &format!("7. Phí, lệ phí: {fee}"));
    let seq = x.code.rsplit('-').next().unwrap_or("");
    d.paragraph(
        &LABEL,
        &format!(
            "Vào Sổ theo dõi hồ sơ, Quyển số: {}, Số thứ tự: {seq}.",
            local(c.received).year()
        ),
    );
    receipt_signatures(d, c)
}

/// The receipt's list of what was handed in (item 1).
fn components_table(d: &mut Document, f: &FormData) {
    let mut rows = Vec::new();
    for (i, comp) in f
        .detail
        .components
        .iter()
        .filter(|c| c.provided)
        .enumerate()
    {
        let form = f
            .procedure
            .components
            .iter()
            .find(|pc| pc.code == comp.code)
            .and_then(|pc| pc.form.clone())
            .unwrap_or_default();
        rows.push(vec![
            Cell::new((i + 1).to_string(), CELL_C),
            Cell::new(comp.name.clone(), CELL),
            Cell::new(form, CELL),
            Cell::new(copy_kind(&comp.kind), CELL_C),
            Cell::new(comp.quantity.to_string(), CELL_C),
        ]);
    }
    d.table(&Table {
        widths: vec![0.6, 4.6, 1.6, 1.5, 0.9],
        header: vec![
            Cell::new("TT", CELL_H),
            Cell::new("Tên giấy tờ", CELL_H),
            Cell::new("Mẫu đơn, tờ khai", CELL_H),
            Cell::new("Hình thức", CELL_H),
            Cell::new("Số lượng", CELL_H),
        ],
        rows,
    });
}

/// The receipt's item 7: no fee, or the amount and whether (and how) it was paid.
fn fee_text(f: &FormData) -> String {
    let x = &f.detail.dossier;
    if x.fee_total == 0 {
        "Không phải nộp phí, lệ phí.".to_owned()
    } else if x.paid {
        let how = f
            .detail
            .events
            .iter()
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.data_json).ok())
            .find_map(|v| {
                v.get("payment")
                    .and_then(|p| p.get("method"))
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .map(|m| match m.as_str() {
                "cash" => ", tiền mặt",
                "transfer" => ", chuyển khoản",
                "card" => ", thẻ",
                _ => "",
            })
            .unwrap_or_default();
        format!("{} (đã nộp{how}).", money(x.fee_total))
    } else {
        format!("{} (chưa nộp).", money(x.fee_total))
    }
}

/// The receipt's signatures, with the QR code for the status look-up on their left and the
/// look-up address in words below.
fn receipt_signatures(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    // The signatures, with the QR code for the status look-up on their left.
    d.space(10.0);
    d.ensure(mm(48.0));
    let top = d.y();
    let left = d.margins.0;
    d.qr(&f.lookup_url, left - mm(2.0), top, mm(30.0))
        .map_err(|e| AppError::internal(format!("QR code: {e}")))?;
    let caption = Style::new(Face::Italic, 9.0, Align::Center);
    d.text_at(
        left + mm(13.0),
        top + mm(30.0),
        &caption,
        "Quét mã QR để tra cứu",
    );
    d.text_at(
        left + mm(13.0),
        top + mm(34.0),
        &caption,
        "tình trạng hồ sơ",
    );
    d.margins.0 = left + mm(30.0);
    d.space(-12.0);
    signatures(
        d,
        &[
            (
                "NGƯỜI NỘP HỒ SƠ",
                "(Ký và ghi rõ họ tên)",
                x.applicant_name.clone(),
            ),
            (
                "NGƯỜI TIẾP NHẬN HỒ SƠ",
                "(Ký và ghi rõ họ tên)",
                c.receiver.clone(),
            ),
        ],
    );
    d.margins.0 = left;
    // The token's address also in words: it always works, even while look-ups by code
    // and phone number are closed after someone else's wrong guesses.
    d.space(6.0);
    d.paragraph(
        &Style::new(Face::Italic, 9.0, Align::Left),
        &format!(
            "Mã QR và địa chỉ sau luôn tra cứu được hồ sơ này: {}",
            f.lookup_url
        ),
    );
    Ok(())
}

/// The request to supplement the dossier (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ).
fn supplement_request(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    let ev = f.last_event("request_supplement");
    let at = ev.map(|e| e.at).unwrap_or(x.submitted_at);
    c.counter_header(d, at);
    title(d, c.title_text, Some(&format!("Hồ sơ: {}", x.code)));
    d.labelled("Hồ sơ của:", &LABEL, &x.applicant_name, &VALUE);
    request_line(d, f);
    d.paragraph(
        &LABEL,
        &format!("Ngày tiếp nhận hồ sơ: {}.", when(Some(x.submitted_at))),
    );
    d.paragraph(
        &LABEL,
        "Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
    );
    let items: Vec<String> = ev
        .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.data_json).ok())
        .and_then(|v| {
            // During processing the officer lists `items`; at the counter the missing
            // components are recorded as `missing`.
            v.get("items")
                .or_else(|| v.get("missing"))
                .and_then(|i| i.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
        })
        .unwrap_or_else(|| {
            f.detail
                .components
                .iter()
                .filter(|c| c.required && !c.provided)
                .map(|c| c.name.clone())
                .collect()
        });
    for (i, item) in items.iter().enumerate() {
        d.paragraph(&LABEL, &format!("{}. {item}", i + 1));
    }
    let reason = FormData::note_of(ev);
    d.labelled(
        "Lý do:",
        &LABEL,
        if reason.is_empty() {
            "Hồ sơ chưa đầy đủ, hợp lệ theo quy định."
        } else {
            &reason
        },
        &LABEL,
    );
    let guide = f.name_of(ev.and_then(|e| e.actor_id));
    d.paragraph(
        &LABEL,
        &format!(
            "Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ {} – {} để được hướng dẫn.",
            if guide.is_empty() { "cán bộ tiếp nhận".to_owned() } else { guide.clone() },
            c.office.full
        ),
    );
    d.paragraph(&LABEL, "Xin trân trọng cảm ơn!");
    signatures(
        d,
        &[
            ("", "", String::new()),
            ("NGƯỜI HƯỚNG DẪN", "(Ký và ghi rõ họ tên)", guide),
        ],
    );
    Ok(())
}

/// The refusal to receive or settle (phiếu từ chối tiếp nhận giải quyết hồ sơ).
fn refusal(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    let ev = f.last_event("refuse");
    let at = ev.map(|e| e.at).unwrap_or(x.submitted_at);
    c.counter_header(d, at);
    title(d, c.title_text, Some(&format!("Hồ sơ: {}", x.code)));
    d.paragraph(&LABEL, &format!("{} tiếp nhận hồ sơ của:", c.office.full));
    applicant_lines(d, f);
    request_line(d, f);
    d.paragraph(
        &LABEL,
        &format!(
            "Qua xem xét, {} thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:",
            c.office.short
        ),
    );
    d.paragraph(&VALUE, &FormData::note_of(ev));
    d.paragraph(&LABEL, "Xin thông báo cho Ông/Bà được biết và thực hiện./.");
    signatures(
        d,
        &[
            ("", "", String::new()),
            (
                "NGƯỜI TIẾP NHẬN HỒ SƠ",
                "(Ký và ghi rõ họ tên)",
                f.name_of(ev.and_then(|e| e.actor_id)),
            ),
        ],
    );
    Ok(())
}

/// The apology for a late result, with the new appointment (phiếu xin lỗi và hẹn lại ngày trả kết quả).
fn apology(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    let ev = f.last_event("apologize");
    let at = ev.map(|e| e.at).unwrap_or(f.now);
    c.competent_header(d, at);
    title(d, c.title_text, None);
    d.paragraph(
        &Style::new(Face::Regular, 13.0, Align::Center),
        &format!("Kính gửi: {}", x.applicant_name),
    );
    d.space(6.0);
    d.paragraph(
        &LABEL,
        &format!(
            "Ngày {}, {} tiếp nhận hồ sơ mã số {} đề nghị giải quyết thủ tục {}.",
            short_date(Some(c.received)),
            x.receiving_agency_name,
            x.code,
            x.procedure_name
        ),
    );
    d.paragraph(
        &LABEL,
        &format!(
            "Thời hạn trả kết quả giải quyết hồ sơ theo giấy tiếp nhận: {}.",
            when(x.original_appointment.or(x.appointment))
        ),
    );
    d.labelled("Lý do chậm trễ:", &LABEL, &FormData::note_of(ev), &LABEL);
    d.paragraph(
        &LABEL,
        &format!(
            "{} xin lỗi Ông/Bà và đề nghị gia hạn thời gian giải quyết; thời gian trả kết quả mới: {}.",
            x.competent_agency_name,
            when(x.extended_to)
        ),
    );
    d.paragraph(&LABEL, "Mong nhận được sự thông cảm của Ông/Bà./.");
    signatures(
        d,
        &[
            ("", "", String::new()),
            (
                "THỦ TRƯỞNG CƠ QUAN",
                "(Ký, ghi rõ họ tên và đóng dấu)",
                f.name_of(ev.and_then(|e| e.actor_id)),
            ),
        ],
    );
    Ok(())
}

/// The notice that the dossier is stopped (phiếu đề nghị dừng, thông báo dừng giải quyết).
fn stop_notice(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    let ev = f.last_event("stop").or_else(|| f.last_event("withdraw"));
    let at = ev.map(|e| e.at).unwrap_or(f.now);
    c.competent_header(d, at);
    title(d, c.title_text, Some(&format!("Hồ sơ: {}", x.code)));
    d.paragraph(
        &Style::new(Face::Regular, 13.0, Align::Center),
        &format!("Kính gửi: {}", x.applicant_name),
    );
    d.space(6.0);
    request_line(d, f);
    d.paragraph(
        &LABEL,
        &format!("Ngày tiếp nhận: {}.", when(Some(c.received))),
    );
    let stage = ev
        .and_then(|e| f.detail.steps.iter().find(|s| s.seq == e.step))
        .map(|s| s.name.clone())
        .unwrap_or_default();
    d.labelled("Giai đoạn giải quyết khi dừng:", &LABEL, &stage, &LABEL);
    d.labelled(
        "Căn cứ, lý do dừng giải quyết:",
        &LABEL,
        &FormData::note_of(ev),
        &LABEL,
    );
    let fin = if x.fee_total == 0 {
        "Không có.".to_owned()
    } else if x.paid {
        format!(
            "Đã nộp {}; việc hoàn trả (nếu có) thực hiện theo quy định.",
            money(x.fee_total)
        )
    } else {
        format!("Chưa nộp {}.", money(x.fee_total))
    };
    d.labelled("Nghĩa vụ tài chính:", &LABEL, &fin, &LABEL);
    d.paragraph(
        &LABEL,
        &format!(
            "{} thông báo dừng giải quyết hồ sơ nêu trên./.",
            x.competent_agency_name
        ),
    );
    signatures(
        d,
        &[
            ("", "", String::new()),
            (
                "THỦ TRƯỞNG CƠ QUAN",
                "(Ký, ghi rõ họ tên và đóng dấu)",
                f.name_of(ev.and_then(|e| e.actor_id)),
            ),
        ],
    );
    Ok(())
}

/// The dossier's control sheet, one row per step (phiếu kiểm soát quá trình giải quyết hồ sơ).
fn process_control(d: &mut Document, c: &Frame) -> Result<(), AppError> {
    let f = c.f;
    let x = &f.detail.dossier;
    c.counter_header(d, c.received);
    title(d, c.title_text, Some(&format!("Mã hồ sơ: {}", x.code)));
    d.labelled(
        "Cơ quan, tổ chức, cá nhân:",
        &LABEL,
        &x.applicant_name,
        &VALUE,
    );
    d.labelled(
        "Số điện thoại:",
        &LABEL,
        x.applicant_phone.as_deref().unwrap_or(""),
        &LABEL,
    );
    request_line(d, f);
    d.labelled("Ngày nhận hồ sơ:", &LABEL, &when(Some(c.received)), &LABEL);
    d.labelled(
        "Ngày hẹn trả kết quả:",
        &LABEL,
        &when(x.extended_to.or(x.appointment)),
        &LABEL,
    );
    d.space(4.0);
    d.table(&Table {
        widths: vec![2.2, 3.6, 1.4, 1.4],
        header: vec![
            Cell::new("TÊN CƠ QUAN, BƯỚC XỬ LÝ", CELL_H),
            Cell::new("THỜI GIAN GIAO, NHẬN HỒ SƠ", CELL_H),
            Cell::new("KẾT QUẢ GIẢI QUYẾT", CELL_H),
            Cell::new("GHI CHÚ", CELL_H),
        ],
        rows: process_rows(&f.detail.steps, &c.office.short, &c.receiver),
    });
    Ok(())
}

fn timeliness_vi(t: Option<&str>) -> &'static str {
    match t {
        Some("early") => "Trước hạn",
        Some("on_time") => "Đúng hạn",
        Some("late") => "Quá hạn",
        _ => "",
    }
}

/// One row per hand-over: who gave (the officer who received the dossier, then whoever
/// finished the step before), who received, when; then the step's result.
fn process_rows(steps: &[crate::views::Step], counter: &str, receiver: &str) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let (from, giver) = if i == 0 {
            (counter.to_owned(), receiver.to_owned())
        } else {
            (
                steps[i - 1].name.clone(),
                steps[i - 1].handed_by_name.clone().unwrap_or_default(),
            )
        };
        let taker = s.assignee_name.clone().unwrap_or_default();
        let text = format!(
            "{}. Giao: {from}{}\nNhận: {}{}\nLúc: {}\nHạn: {}",
            i + 1,
            if giver.is_empty() {
                String::new()
            } else {
                format!(" ({giver})")
            },
            s.name,
            if taker.is_empty() {
                String::new()
            } else {
                format!(" ({taker})")
            },
            when(s.started_at),
            when(s.due_at),
        );
        rows.push(vec![
            Cell::new(
                format!("{}\n{}", s.agency_name.clone().unwrap_or_default(), s.name),
                CELL,
            ),
            Cell::new(text, CELL),
            Cell::new(timeliness_vi(s.timeliness.as_deref()), CELL_C),
            Cell::new(
                if s.finished_at.is_some() {
                    format!("Xong: {}", short_date(s.finished_at))
                } else {
                    String::new()
                },
                CELL,
            ),
        ]);
    }
    rows
}

/// A row of the printed register.
pub struct RegisterLine {
    pub dossier: DossierRow,
    /// When the dossier left the counter for the deciding agency.
    pub transferred_at: Option<OffsetDateTime>,
    pub applicant_address: Option<String>,
}

/// The tracking register of an agency for a period (landscape).
pub fn render_register(
    set: FormSet,
    agency: &str,
    upper: &str,
    period: &str,
    place: &str,
    now: OffsetDateTime,
    lines: &[RegisterLine],
) -> Vec<u8> {
    let (number, title_text) = set
        .form(FormKind::Register)
        .unwrap_or((7, "SỔ THEO DÕI HỒ SƠ"));
    let mut d = Document::landscape(&format!("{title_text} – {agency}"));
    header(&mut d, set, number, upper, agency, place, now);
    title(&mut d, title_text, Some(period));
    // 8.5 pt in 13 columns across a landscape A4 page: dates and codes stay on their lines.
    let cell = Style::new(Face::Regular, 8.5, Align::Left);
    let cell_c = Style::new(Face::Regular, 8.5, Align::Center);
    let rows = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let x = &l.dossier;
            let mut who = x.applicant_name.clone();
            if let Some(a) = &l.applicant_address {
                who.push_str(&format!("\n{a}"));
            }
            if let Some(p) = &x.applicant_phone {
                who.push_str(&format!("\n{p}"));
            }
            vec![
                Cell::new((i + 1).to_string(), cell_c),
                Cell::new(x.code.clone(), cell),
                Cell::new(x.procedure_name.clone(), cell),
                Cell::new("01", cell_c),
                Cell::new(who, cell),
                Cell::new(x.competent_agency_name.clone(), cell),
                Cell::new(short_date(x.received_at.or(Some(x.submitted_at))), cell_c),
                Cell::new(short_date(x.extended_to.or(x.appointment)), cell_c),
                Cell::new(short_date(l.transferred_at), cell_c),
                Cell::new(short_date(x.finished_at), cell_c),
                Cell::new(short_date(x.returned_at), cell_c),
                Cell::new(String::new(), cell),
                Cell::new(timeliness_vi(x.timeliness.as_deref()), cell),
            ]
        })
        .collect();
    let h = |t: &str| Cell::new(t, Style::new(Face::Bold, 9.5, Align::Center));
    // Millimetres of the 267 mm between the margins.
    d.table(&Table {
        widths: vec![
            10.0, 41.0, 33.0, 12.0, 32.0, 26.0, 17.0, 17.0, 17.0, 17.0, 17.0, 12.0, 14.0,
        ],
        header: vec![
            h("STT"),
            h("Mã hồ sơ"),
            h("Tên thủ tục hành chính"),
            h("Số lượng hồ sơ (bộ)"),
            h("Tên cá nhân, tổ chức; địa chỉ, số điện thoại"),
            h("Cơ quan chủ trì giải quyết"),
            h("Nhận hồ sơ"),
            h("Hẹn trả kết quả"),
            h("Chuyển hồ sơ đến cơ quan giải quyết"),
            h("Nhận kết quả từ cơ quan giải quyết"),
            h("Trả kết quả"),
            h("Ký nhận"),
            h("Ghi chú"),
        ],
        rows,
    });
    d.finish()
}

impl App {
    /// The PDF of a dossier's form, for someone who may see the dossier.
    pub async fn dossier_form(
        &self,
        actor: &Actor,
        dossier_id: i64,
        kind: FormKind,
    ) -> Result<(String, Vec<u8>), AppError> {
        let detail = self.dossier_detail(actor, dossier_id).await?;
        let mut ex = &self.db;
        let x = &detail.dossier;
        // A form the circular in force has, but this dossier has not come to (a refusal for a
        // dossier that was received): said, not printed with blanks.
        let set = FormSet::for_day(local(x.received_at.unwrap_or(x.submitted_at)).date());
        if set.form(kind).is_some() && !available(&detail).contains(&kind) {
            return Err(AppError::conflict(
                Code::FormNotForState,
                "This dossier has not come to the step that issues this form.",
            )
            .arg("form", kind.as_str()));
        }
        let procedure = parse_procedure(&store::get_procedure(&mut ex, x.procedure_id).await?)?;
        let process: Option<egov_domain::onestop::process::Process> =
            serde_json::from_str(&store::get_process(&mut ex, x.process_id).await?.data_json).ok();
        let applicant = egov_store::applicants::get(&mut ex, x.applicant_id).await?;
        let receiving = egov_store::agencies::get(&mut ex, x.receiving_agency_id).await?;
        let competent = egov_store::agencies::get(&mut ex, x.competent_agency_id).await?;
        let parent_name = |id: Option<i64>| {
            let db = self.db.clone();
            async move {
                match id {
                    Some(p) => egov_store::agencies::get(&mut &db, p)
                        .await
                        .map(|a| Some(a.name)),
                    None => Ok(None),
                }
            }
        };
        let mut names = Vec::new();
        for e in &detail.events {
            if let Some(id) = e.actor_id
                && !names.iter().any(|(i, _)| *i == id)
            {
                names.push((id, egov_store::people::get(&mut ex, id).await?.full_name));
            }
        }
        let token: String = egov_store::Exec::scalar(
            &mut ex,
            "SELECT lookup_token FROM dossiers WHERE id = $1",
            egov_store::args![dossier_id],
        )
        .await?;
        let data = FormData {
            procedure,
            published_limit: process.map(|p| p.published_limit),
            applicant_address: applicant.address,
            applicant_email: applicant.email,
            competent_parent: parent_name(competent.parent_id).await?,
            receiving_parent: parent_name(receiving.parent_id).await?,
            place: self.place_of(&receiving).await?,
            names,
            lookup_url: format!(
                "{}/tra-cuu?token={token}",
                self.settings.server.public_url()
            ),
            now: self.now(),
            detail,
        };
        let file = format!("{}-{}.pdf", data.detail.dossier.code, kind.as_str());
        let bytes = tokio::task::spawn_blocking(move || render(kind, &data))
            .await
            .map_err(|e| AppError::internal(e.to_string()))??;
        Ok((file, bytes))
    }

    /// The place name for the date line of an agency's forms: its unit's name without the
    /// unit type ("Hạc Thành"), or the province's for a department.
    async fn place_of(&self, a: &egov_store::agencies::Agency) -> Result<String, AppError> {
        let mut ex = &self.db;
        let mut agency = a.clone();
        for _ in 0..4 {
            if let Some(u) = agency.admin_unit_id {
                let name = egov_store::units::get(&mut ex, u).await?.name;
                for prefix in [
                    "Thành phố ",
                    "Tỉnh ",
                    "Phường ",
                    "Xã ",
                    "Thị trấn ",
                    "Đặc khu ",
                    "Huyện ",
                    "Thị xã ",
                    "Quận ",
                ] {
                    if let Some(rest) = name.strip_prefix(prefix) {
                        return Ok(rest.to_owned());
                    }
                }
                return Ok(name);
            }
            match agency.parent_id {
                Some(p) => agency = egov_store::agencies::get(&mut ex, p).await?,
                None => break,
            }
        }
        Ok(String::new())
    }

    /// The printed tracking register of an agency for a period.
    pub async fn register_pdf(
        &self,
        actor: &Actor,
        agency_id: i64,
        from: OffsetDateTime,
        to: OffsetDateTime,
        period: &str,
    ) -> Result<Vec<u8>, AppError> {
        let rows = self
            .tracking_register(actor, agency_id, from, to, 20_000, 0)
            .await?;
        let mut ex = &self.db;
        let agency = egov_store::agencies::get(&mut ex, agency_id).await?;
        let upper = match agency.parent_id {
            Some(p) => egov_store::agencies::get(&mut ex, p).await?.name,
            None => String::new(),
        };
        let transfers = store::first_transfers(&mut ex, agency_id, from, to).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for d in rows {
            let transferred_at = transfers.iter().find(|t| t.0 == d.id).and_then(|t| t.1);
            lines.push(RegisterLine {
                dossier: d,
                transferred_at,
                applicant_address: None,
            });
        }
        let place = self.place_of(&agency).await?;
        let now = self.now();
        let set = FormSet::for_day(local(from).date());
        let period = period.to_owned();
        let name = agency.name.clone();
        tokio::task::spawn_blocking(move || {
            render_register(set, &name, &upper, &period, &place, now, &lines)
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_follow_the_day_of_receipt() {
        use time::macros::date;
        assert_eq!(
            FormSet::for_day(date!(2025 - 06 - 30)),
            FormSet::Circular2018
        );
        assert_eq!(
            FormSet::for_day(date!(2025 - 07 - 01)),
            FormSet::Circular2025
        );
        assert_eq!(FormSet::Circular2018.form(FormKind::StopNotice), None);
        assert_eq!(FormSet::Circular2025.form(FormKind::Register).unwrap().0, 7);
        assert_eq!(FormSet::Circular2018.form(FormKind::Register).unwrap().0, 6);
        assert!(
            FormSet::Circular2025
                .form(FormKind::Apology)
                .unwrap()
                .1
                .contains("GIA HẠN")
        );
    }

    #[test]
    fn limits_and_money_read_as_written() {
        assert_eq!(
            limit_text(&TimeLimit::working_days(2.5)),
            "2,5 ngày làm việc"
        );
        assert_eq!(money(1_250_000), "1.250.000 đồng");
        assert_eq!(copy_kind("certified_copy"), "Bản sao chứng thực");
    }
}
