//! The one-stop forms, read back by Poppler (`pdftotext`, `pdffonts`, `pdftoppm`) and the QR
//! code by ZBar (`zbarimg`): independent programs, installed by the test command.

use egov_app::applicants::NewApplicantCmd;
use egov_app::onestop::dossiers::{Action, ApplicantRef, ComponentInput, Reception};
use egov_app::onestop::forms::FormKind;
use egov_domain::admin_unit::Structure;
use egov_store::Exec;

use super::app;

fn tool(name: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} is needed (apt-get install poppler-utils zbar-tools): {e}")
        });
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a PDF, whitespace collapsed (lines wrap where the layout decides).
pub(crate) fn text_of(pdf: &[u8], dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    // To look at them: EGOV_KEEP_FORMS=/some/dir cargo test -p egov-app forms
    if let Ok(keep) = std::env::var("EGOV_KEEP_FORMS") {
        std::fs::write(std::path::Path::new(&keep).join(format!("{name}.pdf")), pdf).unwrap();
    }
    let p = path.to_str().unwrap();
    let fonts = tool("pdffonts", &[p]);
    for row in fonts.lines().skip(2) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert!(row.contains("LiberationSerif"), "{row}");
        assert_eq!(&cols[n - 5..n - 2], &["yes", "yes", "yes"], "{name}: {row}");
    }
    let info = tool("pdfinfo", &[p]);
    assert!(info.contains("(A4)"), "{name}: {info}");
    // `-raw`: in the order the content was written, so a table cell's lines stay together.
    tool("pdftotext", &["-raw", "-enc", "UTF-8", p, "-"])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in: {text}");
    }
}

fn act(event: &str, version: i64) -> Action {
    Action {
        event: event.into(),
        version,
        note: String::new(),
        items: vec![],
        person_id: None,
        new_date: None,
        components: vec![],
        amount: None,
        result: None,
        returned_to: None,
        returned_how: None,
    }
}

both!(forms_carry_every_field, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hac_thanh = app
        .committee_by_unit(Structure::TwoTier, "14797")
        .await
        .unwrap();
    let who = |u: &'static str| {
        let app = app.clone();
        async move { app.actor_by_username(u).await.unwrap() }
    };
    let officer = who("motcua.hacthanh").await;
    let specialist = who("congchuc.hacthanh").await;
    let chair = who("chutich.hacthanh").await;
    let reception = |components: Vec<(&str, bool)>| Reception {
        procedure_code: "9.000008".into(),
        receiving_agency_id: hac_thanh,
        competent_agency_id: None,
        applicant: ApplicantRef {
            id: None,
            new: Some(NewApplicantCmd {
                kind: "citizen".into(),
                identifier: "038185006789".into(),
                country: None,
                name: "Nguyễn Thị Ánh Tuyết".into(),
                birth_date: None,
                phone: Some("0912000111".into()),
                email: Some("tuyet@example.vn".into()),
                address: Some("Số 5 phố Lê Lợi, phường Hạc Thành".into()),
            }),
        },
        components: components
            .into_iter()
            .map(|(c, p)| ComponentInput {
                code: c.into(),
                provided: p,
                scan: None,
                reused: false,
            })
            .collect(),
        subject: "Hộ kinh doanh tạp hóa Ánh Tuyết".into(),
        channel: None,
        submitted_at: None,
        decision: None,
        reasons: None,
        fee_units: None,
        fee_exempt: false,
        payment: None,
        national: None,
    };

    // The receipt: every field of the form, and a QR code that opens the look-up.
    let d = app
        .receive_dossier(
            &officer,
            reception(vec![("TP1", true), ("TP2", true), ("TP3", true)]),
        )
        .await
        .unwrap()
        .dossier;
    let (file, pdf) = app
        .dossier_form(&officer, d.id, FormKind::Receipt)
        .await
        .unwrap();
    assert!(file.ends_with("-receipt.pdf"));
    let t = text_of(&pdf, dir.path(), "receipt");
    let seq = d.code.rsplit('-').next().unwrap();
    has(
        &t,
        &[
            "Mẫu số 01 – Thông tư số 03/2025/TT-VPCP",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            // Since 1 July 2025 a ward's front office is its public administration centre.
            "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
            "Trung tâm Phục vụ hành chính công phường Hạc Thành tiếp nhận hồ sơ của",
            "Đăng ký nhận kết quả tại: Trung tâm Phục vụ hành chính công phường Hạc Thành",
            "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            &format!("Mã hồ sơ: {}", d.code),
            "Nguyễn Thị Ánh Tuyết",
            "Số 5 phố Lê Lợi, phường Hạc Thành",
            "0912000111",
            "tuyet@example.vn",
            "Đăng ký thành lập hộ kinh doanh",
            "Thành phần hồ sơ nộp gồm",
            "Bản chính",
            "Số lượng hồ sơ: 01",
            "Thời gian giải quyết hồ sơ theo quy định là: 3 ngày làm việc",
            "Thời gian nhận hồ sơ",
            "Thời gian trả kết quả giải quyết hồ sơ",
            "Đăng ký nhận kết quả tại",
            "100.000 đồng (chưa nộp)",
            &format!("Số thứ tự: {seq}"),
            "NGƯỜI NỘP HỒ SƠ",
            "NGƯỜI TIẾP NHẬN HỒ SƠ",
            "(Ký và ghi rõ họ tên)",
            "Quét mã QR",
        ],
    );
    assert!(
        !t.contains("BỘ PHẬN MỘT CỬA"),
        "not the pre-2025 front office"
    );
    // A refusal for a dossier that was received is not printed with blanks.
    assert_eq!(
        app.dossier_form(&officer, d.id, FormKind::Refusal)
            .await
            .unwrap_err()
            .code,
        "form_not_for_state"
    );
    // The letterhead breaks after the level, never inside the ward's name.
    let lines = tool(
        "pdftotext",
        &[
            "-raw",
            "-enc",
            "UTF-8",
            dir.path().join("receipt.pdf").to_str().unwrap(),
            "-",
        ],
    );
    assert!(
        lines.lines().any(|l| l.contains("PHƯỜNG HẠC THÀNH")),
        "the ward's name on one line: {lines}"
    );
    let png = dir.path().join("receipt");
    tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "150",
            "-singlefile",
            dir.path().join("receipt.pdf").to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let qr = tool(
        "zbarimg",
        &[
            "--quiet",
            "--raw",
            png.with_extension("png").to_str().unwrap(),
        ],
    );
    let token: String = (app.db())
        .scalar(
            "SELECT lookup_token FROM dossiers WHERE id = $1",
            egov_store::args![d.id],
        )
        .await
        .unwrap();
    assert_eq!(
        qr.trim(),
        format!("http://127.0.0.1:8080/tra-cuu?token={token}")
    );

    // Processing: the process-control slip lists the hand-overs and their results.
    let d = app
        .act_on_dossier(&officer, d.id, act("transfer", d.version))
        .await
        .unwrap();
    let mut sup = act("request_supplement", d.version);
    sup.items = vec![
        "Bản sao hợp đồng thuê địa điểm kinh doanh".into(),
        "Văn bản ủy quyền của các thành viên hộ gia đình".into(),
    ];
    sup.note = "Thiếu giấy tờ chứng minh địa điểm".into();
    let d = app.act_on_dossier(&specialist, d.id, sup).await.unwrap();
    let d = app
        .act_on_dossier(&officer, d.id, act("supplement_provided", d.version))
        .await
        .unwrap();
    let mut apo = act("apologize", d.version);
    apo.note = "Cần xác minh thực địa".into();
    apo.new_date = Some(d.appointment.unwrap() + time::Duration::days(5));
    let d = app.act_on_dossier(&specialist, d.id, apo).await.unwrap();
    let d = app
        .act_on_dossier(&specialist, d.id, act("transfer", d.version))
        .await
        .unwrap();
    let mut stop = act("stop", d.version);
    stop.note = "Người nộp đề nghị dừng giải quyết".into();
    app.act_on_dossier(&chair, d.id, stop).await.unwrap();

    let (_, pdf) = app
        .dossier_form(&officer, d.id, FormKind::SupplementRequest)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "supplement"),
        &[
            "Mẫu số 02",
            "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
            "Nguyễn Thị Ánh Tuyết",
            "Nội dung yêu cầu giải quyết",
            "1. Bản sao hợp đồng thuê địa điểm kinh doanh",
            "2. Văn bản ủy quyền của các thành viên hộ gia đình",
            "Lý do: Thiếu giấy tờ chứng minh địa điểm",
            "NGƯỜI HƯỚNG DẪN",
            "Lê Thị Thanh",
        ],
    );
    let (_, pdf) = app
        .dossier_form(&officer, d.id, FormKind::Apology)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "apology"),
        &[
            "Mẫu số 04",
            "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT HỒ SƠ",
            "Kính gửi: Nguyễn Thị Ánh Tuyết",
            "Thời hạn trả kết quả giải quyết hồ sơ theo giấy tiếp nhận",
            "Lý do chậm trễ: Cần xác minh thực địa",
            "thời gian trả kết quả mới",
            "THỦ TRƯỞNG CƠ QUAN",
        ],
    );
    let (_, pdf) = app
        .dossier_form(&officer, d.id, FormKind::StopNotice)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "stop"),
        &[
            "Mẫu số 05",
            "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
            "Giai đoạn giải quyết khi dừng",
            "Người nộp đề nghị dừng giải quyết",
            "Nghĩa vụ tài chính: Chưa nộp 100.000 đồng",
        ],
    );
    let (_, pdf) = app
        .dossier_form(&officer, d.id, FormKind::ProcessControl)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "control"),
        &[
            "Mẫu số 06",
            "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
            "0912000111",
            "Ngày hẹn trả kết quả",
            "THỜI GIAN GIAO, NHẬN HỒ SƠ",
            "KẾT QUẢ GIẢI QUYẾT",
            // The first hand-over is given by the officer who received the dossier.
            "Giao: Trung tâm Phục vụ hành chính công (Nguyễn Thị Hằng)",
            "Nhận:",
        ],
    );

    // A same-day procedure: item 3 says the rule as the law does.
    let mut copy = reception(vec![("TP1", true), ("TP2", true)]);
    copy.procedure_code = "2.000815".into();
    copy.fee_units = Some(1);
    // The fee paid at the counter while receiving: a wrong amount is said, nothing written.
    let count = || async {
        let n: i64 = (app.db())
            .scalar("SELECT COUNT(*) FROM dossiers", egov_store::args![])
            .await
            .unwrap();
        n
    };
    let before = count().await;
    let mut wrong = copy.clone();
    wrong.payment = Some(egov_app::onestop::dossiers::CounterPayment {
        amount: Some(5_000),
        method: "cash".into(),
    });
    let e = app.receive_dossier(&officer, wrong).await.unwrap_err();
    assert_eq!(e.code, "payment_mismatch");
    assert_eq!(count().await, before, "nothing half-written");
    copy.payment = Some(egov_app::onestop::dossiers::CounterPayment {
        amount: None,
        method: "cash".into(),
    });
    let c = app.receive_dossier(&officer, copy).await.unwrap().dossier;
    assert!(c.paid);
    let (_, pdf) = app
        .dossier_form(&officer, c.id, FormKind::Receipt)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "same-day"),
        &[
            "theo quy định là: Trong ngày; sau 15 giờ trả trong ngày làm việc tiếp theo",
            "2.000 đồng (đã nộp, tiền mặt)",
        ],
    );
    let detail = app.dossier_detail(&officer, c.id).await.unwrap();
    assert_eq!(detail.appointment_rule.kind, "same_day");
    assert_eq!(detail.appointment_rule.cutoff.as_deref(), Some("15:00"));

    // A refusal, and a form the dossier does not have.
    let mut r = reception(vec![]);
    r.decision = Some("refuse".into());
    r.reasons = Some("Ngành nghề kinh doanh bị cấm".into());
    let refused = app.receive_dossier(&officer, r).await.unwrap().dossier;
    let (_, pdf) = app
        .dossier_form(&officer, refused.id, FormKind::Refusal)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "refusal"),
        &[
            "Mẫu số 03",
            "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
            "Ngành nghề kinh doanh bị cấm",
            "Xin thông báo cho Ông/Bà được biết và thực hiện",
        ],
    );

    // A dossier received before 1 July 2025 is documented with the 2018 set, where the
    // apology form has its old title and there is no stop notice.
    (app.db())
        .execute(
            "UPDATE dossiers SET received_at = $2 WHERE id = $1",
            egov_store::args![d.id, time::macros::datetime!(2025-06-20 02:00 UTC)],
        )
        .await
        .unwrap();
    let (_, pdf) = app
        .dossier_form(&officer, d.id, FormKind::Apology)
        .await
        .unwrap();
    has(
        &text_of(&pdf, dir.path(), "apology-2018"),
        &[
            "Mẫu số 04 – Thông tư số 01/2018/TT-VPCP",
            "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        ],
    );
    assert_eq!(
        app.dossier_form(&officer, d.id, FormKind::StopNotice)
            .await
            .unwrap_err()
            .code,
        "form_not_in_set"
    );
    let (_, pdf) = app
        .dossier_form(&officer, d.id, FormKind::ProcessControl)
        .await
        .unwrap();
    has(&text_of(&pdf, dir.path(), "control-2018"), &["Mẫu số 05"]);

    // Someone of another agency gets nothing.
    let other = who("chuyenvien.snv").await;
    assert_eq!(
        app.dossier_form(&other, d.id, FormKind::Receipt)
            .await
            .unwrap_err()
            .code,
        "not_found"
    );

    // The printed register of the month.
    let now = egov_store::now();
    let pdf = app
        .register_pdf(
            &officer,
            hac_thanh,
            now - time::Duration::days(1),
            now + time::Duration::days(1),
            "Tháng này",
        )
        .await
        .unwrap();
    let t = text_of(&pdf, dir.path(), "register");
    has(
        &t,
        &[
            "Mẫu số 07",
            "SỔ THEO DÕI HỒ SƠ",
            "Mã hồ sơ",
            "Tên thủ tục hành chính",
            "Cơ quan chủ trì giải quyết",
            "Hẹn trả kết quả",
            "Chuyển hồ sơ đến cơ quan giải quyết",
            "Trả kết quả",
            "Ký nhận",
            &refused.code,
            "*******111",
        ],
    );
    assert!(
        !t.contains("0912000111"),
        "the register masks phone numbers"
    );
});
