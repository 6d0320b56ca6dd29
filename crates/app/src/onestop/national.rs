//! What egov reports to the National Public Service Portal (DVCQG) about a dossier: the record of
//! `DongBoHoSoMC` and the progress entries of `CapNhatTienDoHoSoMC`, built from the dossier's
//! facts by pure functions, so that what is sent is tested field by field against the literal
//! requests in `tests/fixtures/national/` (written from the field lists of the national
//! portal's integrators, see `docs/national-portal.md`).
//!
//! Every value is a string, as the portal's integrators send them; a date or value that does
//! not exist yet is an empty string.

use egov_domain::national::{DateStyle, StatusMap};
use egov_domain::onestop::dossier::{Channel, State};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// How the deployment writes what it reports: the dates of each service and the status map.
#[derive(Debug, Clone, Copy)]
pub struct Style<'a> {
    pub dates: DateStyle,
    pub statuses: &'a StatusMap,
}

impl Style<'_> {
    fn date(&self, at: Option<OffsetDateTime>) -> String {
        at.map(|t| self.dates.format(t)).unwrap_or_default()
    }
}

/// The applicant as reported (`ChuHoSo`, `LoaiDoiTuong`, `MaDoiTuong`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicantFacts {
    /// `citizen`, `organisation` or `foreigner`.
    pub kind: String,
    pub identifier: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A component of the dossier as submitted (`TaiLieuNop`).
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentFacts {
    pub code: String,
    pub name: String,
    pub provided: bool,
    pub scanned: bool,
    /// Taken from the national data warehouse or an earlier dossier.
    pub reused: bool,
}

/// A fee line (`DanhSachLePhi`).
#[derive(Debug, Clone, PartialEq)]
pub struct FeeFacts {
    pub code: String,
    pub name: String,
    /// `fee` (phí) or `charge` (lệ phí).
    pub kind: String,
    pub amount: i64,
    /// Paid online through the national payment platform.
    pub online: bool,
}

/// A supplement asked for (`DanhSachHoSoBoSung`).
#[derive(Debug, Clone, PartialEq)]
pub struct SupplementFacts {
    pub id: i64,
    pub asked_by: String,
    pub what: String,
    pub asked_at: OffsetDateTime,
    pub received_by: Option<String>,
    pub received_at: Option<OffsetDateTime>,
    pub appointment_before: Option<OffsetDateTime>,
    pub appointment_after: Option<OffsetDateTime>,
}

/// A result published with the dossier (`DanhSachGiayToKetQua`): a link the portal fetches.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultFacts {
    pub id: String,
    pub name: String,
    pub component_code: String,
    pub url: String,
}

/// Everything `DongBoHoSoMC` reports of a dossier.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierFacts {
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub field_code: String,
    pub field_name: String,
    pub applicant: ApplicantFacts,
    pub subject: String,
    pub channel: Channel,
    pub state: State,
    pub submitted_at: OffsetDateTime,
    pub received_at: Option<OffsetDateTime>,
    pub appointment: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub returned_at: Option<OffsetDateTime>,
    pub competent_agency_name: String,
    /// Delivered by post (`HinhThuc` 1).
    pub by_post: bool,
    pub components: Vec<ComponentFacts>,
    pub fees: Vec<FeeFacts>,
    pub digitised: bool,
    /// The applicant's account was verified with the national e-ID.
    pub eid_verified: bool,
    /// The statutory time limit as the catalogue states it: value and unit's name.
    pub time_limit: (String, String),
    pub supplements: Vec<SupplementFacts>,
    pub results: Vec<ResultFacts>,
    pub note: String,
}

fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

/// `LoaiDoiTuong`: 1 a person (a citizen or a foreigner), 2 an organisation.
fn party_kind(kind: &str) -> &'static str {
    if kind == "organisation" { "2" } else { "1" }
}

/// `LoaiPhiLePhi`: 1 a fee (phí), 2 a charge (lệ phí).
fn fee_kind(kind: &str) -> &'static str {
    if kind == "charge" { "2" } else { "1" }
}

/// The record of `DongBoHoSoMC` for one dossier.
pub fn dossier_record(d: &DossierFacts, style: Style<'_>) -> Value {
    let paid_online = d.fees.iter().any(|f| f.online);
    let mut record = json!({
        "MaHoSo": d.code,
        "MaTTHC": d.procedure_code,
        "TenTTHC": d.procedure_name,
        "MaLinhVuc": d.field_code,
        "TenLinhVuc": d.field_name,
        "SoBienNhan": d.code,
        "ChuHoSo": d.applicant.name,
        "LoaiDoiTuong": party_kind(&d.applicant.kind),
        "MaDoiTuong": d.applicant.identifier,
        "ThongTinKhac": "",
        "Email": d.applicant.email.clone().unwrap_or_default(),
        "Fax": "",
        "SoDienThoai": d.applicant.phone.clone().unwrap_or_default(),
        "TrichYeuHoSo": d.subject,
        "NgayNopHoSo": style.date(Some(d.submitted_at)),
        "NgayTiepNhan": style.date(d.received_at),
        "NgayHenTra": style.date(d.appointment),
        "TrangThaiHoSo": style.statuses.status(d.state).to_string(),
        "NgayTra": style.date(d.returned_at),
        "ThongTinTra": "",
        "HinhThuc": flag(d.by_post),
        "NgayKetThucXuLy": style.date(d.finished_at),
        "DonViXuLy": d.competent_agency_name,
        "GhiChu": d.note,
    });
    let more = json!({
        "KenhThucHien": d.channel.code().to_string(),
        "DuocThanhToanTrucTuyen": flag(paid_online),
        "HoSoCoThanhPhanSoHoa": flag(d.digitised),
        "TaiKhoanDuocXacThucVoiVNeID": flag(d.eid_verified),
        "ThoiGianGiaiQuyet": d.time_limit.0,
        "DonViTinh": d.time_limit.1,
        "TaiLieuNop": submitted(d),
        "DanhSachLePhi": d.fees.iter().map(fee_line).collect::<Vec<_>>(),
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": d.supplements.iter().map(|s| supplement(s, style)).collect::<Vec<_>>(),
        "DanhSachGiayToKetQua": d.results.iter().map(result_line).collect::<Vec<_>>(),
    });
    if let (Some(r), Value::Object(m)) = (record.as_object_mut(), more) {
        r.extend(m);
    }
    record
}

/// `TaiLieuNop`: each component handed in, scanned or reused.
fn submitted(d: &DossierFacts) -> Vec<Value> {
    d.components
        .iter()
        .filter(|c| c.provided || c.scanned || c.reused)
        .map(|c| {
            json!({
                "TepDinhKemId": c.code,
                "TenTepDinhKem": c.name,
                "IsDeleted": "False",
                "MaThanhPhanHoSo": c.code,
                "DuongDanTaiTepTin": "",
                "DuocSoHoa": flag(c.scanned),
                "DuocLayTuKhoDMQG": flag(c.reused),
            })
        })
        .collect()
}

fn fee_line(f: &FeeFacts) -> Value {
    json!({
        "TenPhiLePhi": f.name,
        "MaPhiLePhi": f.code,
        "HinhThucThu": if f.online { "2" } else { "1" },
        "Gia": f.amount.to_string(),
        "LoaiPhiLePhi": fee_kind(&f.kind),
    })
}

fn supplement(s: &SupplementFacts, style: Style<'_>) -> Value {
    json!({
        "HoSoBoSungId": s.id.to_string(),
        "NguoiYeuCauBoSung": s.asked_by,
        "NoiDungBoSung": s.what,
        "NgayBoSung": style.date(Some(s.asked_at)),
        "NguoiTiepNhanBoSung": s.received_by.clone().unwrap_or_default(),
        "ThongTinTiepNhan": "",
        "NgayTiepNhanBoSung": style.date(s.received_at),
        "TrangThaiBoSung": flag(s.received_at.is_some()),
        "DanhSachGiayToBoSung": [],
        "DanhSachLePhiBoSung": [],
        "NgayHenTraTruoc": style.date(s.appointment_before),
        "NgayHenTraMoi": style.date(s.appointment_after),
    })
}

fn result_line(r: &ResultFacts) -> Value {
    json!({
        "TenGiayTo": r.name,
        "MaThanhPhanHoSo": r.component_code,
        "GiayToId": r.id,
        "DuongDanTepTinKetQua": r.url,
    })
}

/// One processing step as `CapNhatTienDoHoSoMC` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFacts {
    pub dossier_code: String,
    pub handler: String,
    pub position: String,
    pub unit: String,
    pub what: String,
    /// The dossier's state once the step was done.
    pub state: State,
    pub started_at: Option<OffsetDateTime>,
    pub done_at: OffsetDateTime,
    pub due_at: Option<OffsetDateTime>,
}

/// The progress entry of `CapNhatTienDoHoSoMC` for one step.
pub fn progress_entry(s: &StepFacts, style: Style<'_>) -> Value {
    json!({
        "MaHoSo": s.dossier_code,
        "NguoiXuLy": s.handler,
        "ChucDanh": s.position,
        "ThoiDiemXuLy": style.date(Some(s.done_at)),
        "PhongBanXuLy": s.unit,
        "NoiDungXuLy": s.what,
        "TrangThai": style.statuses.status(s.state).to_string(),
        "NgayBatDau": style.date(s.started_at),
        "NgayKetThucTheoQuyDinh": style.date(s.due_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_domain::national::Envelope;
    use time::macros::datetime;

    fn fixture(name: &str) -> Envelope {
        let path = format!(
            "{}/tests/fixtures/national/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// The dossier of the fixtures: a birth certificate copy certified at the Hạc Thành counter.
    fn received() -> DossierFacts {
        DossierFacts {
            code: "000.00.23.H56-261207-0001".into(),
            procedure_code: "2.000815".into(),
            procedure_name: "Chứng thực bản sao từ bản chính giấy tờ, văn bản".into(),
            field_code: "CT".into(),
            field_name: "Chứng thực".into(),
            applicant: ApplicantFacts {
                kind: "citizen".into(),
                identifier: "038085001234".into(),
                name: "Nguyễn Văn An".into(),
                email: Some("an.nguyen@example.vn".into()),
                phone: Some("0912345678".into()),
            },
            subject: "Chứng thực bản sao giấy khai sinh".into(),
            channel: Channel::Counter,
            state: State::Received,
            submitted_at: datetime!(2026-12-07 08:30 +7),
            received_at: Some(datetime!(2026-12-07 08:30 +7)),
            appointment: Some(datetime!(2026-12-07 16:30 +7)),
            finished_at: None,
            returned_at: None,
            competent_agency_name: "Ủy ban nhân dân phường Hạc Thành".into(),
            by_post: false,
            components: vec![
                ComponentFacts {
                    code: "TP1".into(),
                    name: "Bản chính giấy khai sinh".into(),
                    provided: true,
                    scanned: true,
                    reused: false,
                },
                ComponentFacts {
                    code: "TP2".into(),
                    name: "Giấy ủy quyền".into(),
                    provided: false,
                    scanned: false,
                    reused: false,
                },
            ],
            fees: vec![FeeFacts {
                code: "LP1".into(),
                name: "Lệ phí chứng thực bản sao".into(),
                kind: "charge".into(),
                amount: 2000,
                online: false,
            }],
            digitised: true,
            eid_verified: false,
            time_limit: ("1".into(), "ngày làm việc".into()),
            supplements: vec![],
            results: vec![],
            note: String::new(),
        }
    }

    #[test]
    fn a_received_counter_dossier_is_the_fixtures_record() {
        let statuses = StatusMap::default();
        let style = Style {
            dates: DateStyle::Compact,
            statuses: &statuses,
        };
        let want = fixture("dongbohosomc-create.json");
        assert_eq!(want.service, "DongBoHoSoMC");
        assert!(!want.is_updating);
        assert_eq!(dossier_record(&received(), style), want.data[0]);
    }

    #[test]
    fn a_step_is_the_fixtures_progress_entry() {
        let statuses = StatusMap::default();
        let style = Style {
            dates: DateStyle::Compact,
            statuses: &statuses,
        };
        let step = StepFacts {
            dossier_code: "000.00.23.H56-261207-0001".into(),
            handler: "Lê Thị Thanh".into(),
            position: "Công chức".into(),
            unit: "Ủy ban nhân dân phường Hạc Thành".into(),
            what: "Thẩm định hồ sơ".into(),
            state: State::Processing,
            started_at: Some(datetime!(2026-12-07 08:30 +7)),
            done_at: datetime!(2026-12-07 10:30 +7),
            due_at: Some(datetime!(2026-12-07 12:00 +7)),
        };
        let want = fixture("capnhattiendohosomc.json");
        assert_eq!(want.service, "CapNhatTienDoHoSoMC");
        assert_eq!(progress_entry(&step, style), want.data[0]);
    }

    #[test]
    fn a_supplement_a_result_and_an_online_payment_are_reported() {
        let statuses = StatusMap::default();
        let style = Style {
            dates: DateStyle::Iso8601,
            statuses: &statuses,
        };
        let mut d = received();
        d.state = State::Returned;
        d.channel = Channel::Online;
        d.eid_verified = true;
        d.fees[0].online = true;
        d.returned_at = Some(datetime!(2026-12-08 09:00 +7));
        d.supplements.push(SupplementFacts {
            id: 7,
            asked_by: "Nguyễn Thị Hằng".into(),
            what: "Bản chính giấy khai sinh bị mờ".into(),
            asked_at: datetime!(2026-12-07 09:00 +7),
            received_by: Some("Nguyễn Thị Hằng".into()),
            received_at: Some(datetime!(2026-12-07 14:00 +7)),
            appointment_before: Some(datetime!(2026-12-07 16:30 +7)),
            appointment_after: Some(datetime!(2026-12-08 09:00 +7)),
        });
        d.results.push(ResultFacts {
            id: "KQ1".into(),
            name: "Bản sao được chứng thực".into(),
            component_code: "KQ".into(),
            url: "https://egov.thanhhoa.gov.vn/national/results/abc".into(),
        });
        let r = dossier_record(&d, style);
        assert_eq!(r["TrangThaiHoSo"], "10");
        assert_eq!(r["KenhThucHien"], "2");
        assert_eq!(r["DuocThanhToanTrucTuyen"], "1");
        assert_eq!(r["DanhSachLePhi"][0]["HinhThucThu"], "2");
        assert_eq!(r["TaiKhoanDuocXacThucVoiVNeID"], "1");
        assert_eq!(r["NgayTra"], "2026-12-08T09:00:00+07:00");
        let s = &r["DanhSachHoSoBoSung"][0];
        assert_eq!(s["HoSoBoSungId"], "7");
        assert_eq!(s["TrangThaiBoSung"], "1");
        assert_eq!(s["NgayHenTraMoi"], "2026-12-08T09:00:00+07:00");
        let k = &r["DanhSachGiayToKetQua"][0];
        assert_eq!(
            k["DuongDanTepTinKetQua"],
            "https://egov.thanhhoa.gov.vn/national/results/abc"
        );
        // A component neither handed in, scanned nor reused is not among what was submitted.
        assert_eq!(r["TaiLieuNop"].as_array().unwrap().len(), 1);
    }
}
