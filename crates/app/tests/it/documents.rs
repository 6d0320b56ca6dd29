use egov_app::Actor;
use egov_app::documents::RecipientInput;
use egov_app::documents::incoming::{InAction, InCommand, PaperInCmd};
use egov_app::documents::outgoing::{DraftCmd, OutAction, PaperOutCmd, ReserveCmd};
use egov_app::documents::work_files::NewFileCmd;
use egov_domain::documents::file::FileAction;
use egov_store::Exec;

use super::app;
use super::forms::text_of;

/// A one-page draft as an agency writes it, with blanks for the number and the date.
pub(crate) fn pdf() -> Vec<u8> {
    let mut d = egov_pdf::Document::new("Dự thảo");
    let s = egov_pdf::Style::new(egov_pdf::Face::Regular, 13.0, egov_pdf::Align::Center);
    d.text_at(egov_pdf::mm(70.0), 60.0, &s, "SỞ NỘI VỤ");
    d.text_at(egov_pdf::mm(70.0), 100.0, &s, "Số:        /SNV-VP");
    d.text_at(
        egov_pdf::mm(145.0),
        100.0,
        &s,
        "Thanh Hóa, ngày       tháng       năm",
    );
    d.text_at(
        egov_pdf::mm(105.0),
        160.0,
        &s,
        "Về việc triển khai chính quyền địa phương hai cấp",
    );
    d.finish()
}

pub(crate) async fn actor(app: &egov_app::App, user: &str) -> Actor {
    app.actor_by_username(user).await.unwrap()
}

async fn agency(app: &egov_app::App, code: &str) -> i64 {
    egov_store::agencies::find_by_code(&mut app.db(), code)
        .await
        .unwrap()
        .unwrap()
        .id
}

pub(crate) async fn agency_of(app: &egov_app::App, user: &str) -> i64 {
    let a = actor(app, user).await;
    egov_store::org::postings_of(&mut app.db(), a.person_id.unwrap(), Some(egov_store::now()))
        .await
        .unwrap()[0]
        .agency_id
}

/// The People's Committees of the communes of one structure.
async fn communes(app: &egov_app::App, structure: &str) -> Vec<i64> {
    let rows: Vec<(i64,)> = (app.db())
        .fetch_all(
            "SELECT a.id FROM agencies a JOIN admin_units u ON u.id = a.admin_unit_id \
             WHERE u.structure = $1 AND u.level = 'commune' ORDER BY a.id",
            egov_store::args![structure],
        )
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

fn to(ids: &[i64]) -> Vec<RecipientInput> {
    ids.iter().map(|id| RecipientInput::agency(*id)).collect()
}

pub(crate) fn draft(agency_id: i64, kind: &str, recipients: Vec<RecipientInput>) -> DraftCmd {
    DraftCmd {
        agency_id,
        kind: kind.into(),
        subject: "Về việc triển khai chính quyền địa phương hai cấp".into(),
        urgency: Some("urgent".into()),
        recipients,
        recipients_text: "Lưu: VT, TCBC.".into(),
        ..Default::default()
    }
}

pub(crate) fn act(event: &str, version: i64) -> OutAction {
    OutAction::parse(event, version, String::new(), None).unwrap()
}

fn in_act(event: &str, version: i64) -> InAction {
    serde_json::from_value(serde_json::json!({ "event": event, "version": version })).unwrap()
}

/// Drafts, reviews, signs off and issues a document of the Department of Home Affairs.
pub(crate) async fn issue(
    app: &egov_app::App,
    kind: &str,
    recipients: Vec<RecipientInput>,
) -> egov_store::documents::DocumentRow {
    let snv = agency_of(app, "chuyenvien.snv").await;
    let drafter = actor(app, "chuyenvien.snv").await;
    let d = app
        .create_draft(&drafter, draft(snv, kind, recipients))
        .await
        .unwrap();
    app.add_document_file(
        &drafter,
        d.id,
        "main",
        "du-thao.pdf",
        Some("application/pdf"),
        pdf(),
    )
    .await
    .unwrap();
    let d = reload(app, d.id).await;
    let d = app
        .act_on_document(&drafter, d.id, act("submit", d.version))
        .await
        .unwrap();
    let head = actor(app, "truongphong.snv").await;
    let d = app
        .act_on_document(&head, d.id, act("approve", d.version))
        .await
        .unwrap();
    let leader = actor(app, "giamdoc.snv").await;
    let d = app
        .act_on_document(&leader, d.id, act("sign_off", d.version))
        .await
        .unwrap();
    let clerk = actor(app, "vanthu.snv").await;
    app.act_on_document(&clerk, d.id, act("issue", d.version))
        .await
        .unwrap()
}

async fn reload(app: &egov_app::App, id: i64) -> egov_store::documents::DocumentRow {
    egov_store::documents::get_document(&mut app.db(), id)
        .await
        .unwrap()
}

both!(draft_to_issue_reaches_every_commune_at_once, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let all = communes(&app, "two_tier").await;
    assert_eq!(all.len(), 166);
    let mut rs = to(&all);
    rs.push(RecipientInput {
        agency_id: None,
        external_code: Some("000.00.00.G22".into()),
        name: Some("Văn phòng Chính phủ".into()),
        addressed: false,
    });
    let d = issue(&app, "decision", rs).await;
    assert_eq!(d.state, "issued");
    assert_eq!(d.notation.as_deref(), Some("01/QĐ-SNV"));
    assert_eq!(d.signer_name.as_deref(), Some("Phạm Minh Tuấn"));
    assert!(d.issued_on.is_some());
    // Every commune's copy arrived in the same transaction as the issue.
    let arrived: i64 = (app.db())
        .scalar(
            "SELECT COUNT(*) FROM incoming WHERE document_id = $1 AND state = 'arrived'",
            egov_store::args![d.id],
        )
        .await
        .unwrap();
    assert_eq!(arrived, 166);
    let recipients = egov_store::documents::recipients(&mut app.db(), d.id)
        .await
        .unwrap();
    assert_eq!(
        recipients
            .iter()
            .filter(|r| r.status.as_deref() == Some("01"))
            .count(),
        166
    );
    // The government office is outside: one packet queued for the exchange.
    let queued: i64 = (app.db())
        .scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'exchange.send' AND state = 'queued'",
            egov_store::args![],
        )
        .await
        .unwrap();
    assert_eq!(queued, 1);
    // A công văn of the same department numbers on in the single series, with the unit.
    let cv = issue(&app, "official_letter", to(&all[..2])).await;
    assert_eq!(cv.notation.as_deref(), Some("02/SNV-TCBC"));
    // Found without diacritics, and by its notation written loosely.
    let reader = actor(&app, "chuyenvien.snv").await;
    let hits = app
        .search_documents(&reader, "trien khai chinh quyen")
        .await
        .unwrap();
    assert_eq!(hits.len(), 2);
    let hits = app.search_documents(&reader, "1 qd snv").await.unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![d.id]);
    // Someone of another agency neither finds nor opens it.
    let stranger = actor(&app, "chuyenvien.stp").await;
    assert!(
        app.search_documents(&stranger, "trien khai")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.document_detail(&stranger, d.id).await.unwrap_err().code,
        "not_found"
    );
});

both!(the_flow_refuses_what_it_must, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let snv = agency_of(&app, "chuyenvien.snv").await;
    let drafter = actor(&app, "chuyenvien.snv").await;
    let clerk = actor(&app, "vanthu.snv").await;
    let leader = actor(&app, "giamdoc.snv").await;
    let d = app
        .create_draft(&drafter, draft(snv, "plan", vec![]))
        .await
        .unwrap();
    // No issue without sign-off; no submission without the document itself.
    let e = app
        .act_on_document(&clerk, d.id, act("issue", d.version))
        .await
        .unwrap_err();
    assert_eq!(e.code, "illegal_transition");
    let e = app
        .act_on_document(&drafter, d.id, act("submit", d.version))
        .await
        .unwrap_err();
    assert_eq!(e.code, "main_file_required");
    // A disguised file is refused; nothing is attached.
    let e = app
        .add_document_file(
            &drafter,
            d.id,
            "main",
            "qd.pdf",
            None,
            b"PK\x03\x04 not a pdf".to_vec(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "unsupported_file_type");
    app.add_document_file(&drafter, d.id, "main", "qd.pdf", None, pdf())
        .await
        .unwrap();
    let d = reload(&app, d.id).await;
    let d = app
        .act_on_document(&drafter, d.id, act("submit", d.version))
        .await
        .unwrap();
    // A returned draft needs comments; a stale version is refused.
    let head = actor(&app, "truongphong.snv").await;
    assert_eq!(
        app.act_on_document(&head, d.id, act("return", d.version))
            .await
            .unwrap_err()
            .code,
        "comments_required"
    );
    assert_eq!(
        app.act_on_document(&head, d.id, act("approve", d.version - 1))
            .await
            .unwrap_err()
            .code,
        "document_changed"
    );
    // The specialist cannot sign off; the records clerk neither.
    let d = app
        .act_on_document(&head, d.id, act("approve", d.version))
        .await
        .unwrap();
    for who in [&drafter, &clerk] {
        assert_eq!(
            app.act_on_document(who, d.id, act("sign_off", d.version))
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
    }
    // Two leaders signing at once: one number, one refusal.
    let deputy = actor(&app, "phogiamdoc.snv").await;
    let (a, b) = tokio::join!(
        app.act_on_document(&leader, d.id, act("sign_off", d.version)),
        app.act_on_document(&deputy, d.id, act("sign_off", d.version)),
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one sign-off wins");
    let numbered: i64 = (app.db())
        .scalar(
            "SELECT COUNT(*) FROM documents WHERE number IS NOT NULL",
            egov_store::args![],
        )
        .await
        .unwrap();
    assert_eq!(numbered, 1);
    // A secret document is never drafted here.
    let mut secret = draft(snv, "report", vec![]);
    secret.secrecy = Some("secret".into());
    assert_eq!(
        app.create_draft(&drafter, secret).await.unwrap_err().code,
        "secret_not_allowed"
    );
    // A commune that ended in the 2025 reform is refused, with its successor named.
    let old = communes(&app, "three_tier").await[0];
    let e = app
        .create_draft(&drafter, draft(snv, "notice", to(&[old])))
        .await
        .unwrap_err();
    assert_eq!(e.code, "recipient_ended");
    assert!(
        e.args
            .iter()
            .any(|(k, v)| *k == "successor" && !v.is_empty()),
        "{e:?}"
    );
    // A specialist of another agency cannot open the draft.
    let stranger = actor(&app, "chuyenvien.stp").await;
    assert_eq!(
        app.document_detail(&stranger, d.id).await.unwrap_err().code,
        "not_found"
    );
});

both!(
    numbers_are_gapless_when_many_clerks_register_at_once,
    |db| {
        let app = app(db);
        app.seed_demo().await.unwrap();
        let snv = agency_of(&app, "vanthu.snv").await;
        let clerk = actor(&app, "vanthu.snv").await;
        let reserved = app
            .reserve_number(
                &clerk,
                ReserveCmd {
                    agency_id: snv,
                    kind: "notice".into(),
                    legal: false,
                    note: "giữ số cho thông báo kết luận".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(reserved.number, 1);
        let paper = |reservation_id: Option<i64>| PaperOutCmd {
            agency_id: snv,
            kind: "notice".into(),
            subject: "Thông báo kết luận của Giám đốc Sở".into(),
            signer_name: "Phạm Minh Tuấn".into(),
            signer_position: "Giám đốc".into(),
            reservation_id,
            ..Default::default()
        };
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (app, clerk, cmd) = (app.clone(), clerk.clone(), paper(None));
            tasks.push(tokio::spawn(async move {
                app.register_paper_outgoing(&clerk, cmd)
                    .await
                    .unwrap()
                    .number
                    .unwrap()
            }));
        }
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.unwrap());
        }
        numbers.sort();
        assert_eq!(
            numbers,
            (2..=17).collect::<Vec<_>>(),
            "no gaps, no duplicates, the reserved one skipped"
        );
        // The reserved number is used once.
        let d = app
            .register_paper_outgoing(&clerk, paper(Some(reserved.id)))
            .await
            .unwrap();
        assert_eq!(d.notation.as_deref(), Some("01/TB-SNV"));
        assert_eq!(
            app.register_paper_outgoing(&clerk, paper(Some(reserved.id)))
                .await
                .unwrap_err()
                .code,
            "number_taken"
        );
        // A legal normative decision has its own series and the year.
        let mut legal = paper(None);
        legal.kind = "decision".into();
        legal.legal = true;
        let d = app.register_paper_outgoing(&clerk, legal).await.unwrap();
        let year = egov_store::now().to_offset(egov_domain::VN_OFFSET).year();
        assert_eq!(d.notation, Some(format!("01/{year}/QĐ-SNV")));
        // Secret: metadata only, its own series, and nothing can be attached.
        let mut secret = paper(None);
        secret.secrecy = Some("top_secret".into());
        let s = app.register_paper_outgoing(&clerk, secret).await.unwrap();
        assert_eq!(s.number, Some(1));
        let e = app
            .add_document_file(&clerk, s.id, "attachment", "a.pdf", None, pdf())
            .await
            .unwrap_err();
        assert_eq!(e.code, "secret_no_content");
        let n: i64 = (app.db())
            .scalar(
                "SELECT COUNT(*) FROM document_attachments WHERE document_id = $1",
                egov_store::args![s.id],
            )
            .await
            .unwrap();
        assert_eq!(n, 0);
        let secret_register = app
            .outgoing_register(&clerk, snv, year, true)
            .await
            .unwrap();
        assert_eq!(secret_register.len(), 1);
        let open_register = app
            .outgoing_register(&clerk, snv, year, false)
            .await
            .unwrap();
        assert_eq!(open_register.len(), 18);
        let reader = actor(&app, "chuyenvien.snv").await;
        assert!(
            app.search_documents(&reader, "thong bao ket luan")
                .await
                .unwrap()
                .len()
                >= 17
        );
        assert!(
            app.search_documents(&reader, "thong bao ket luan")
                .await
                .unwrap()
                .iter()
                .all(|d| d.secrecy.is_none()),
            "secret entries are never found"
        );
        // More than a page: the newest fifty, newest first (PostgreSQL's recent-first path).
        for _ in 0..40 {
            app.register_paper_outgoing(&clerk, paper(None))
                .await
                .unwrap();
        }
        let page = app
            .search_documents(&reader, "thong bao ket luan")
            .await
            .unwrap();
        assert_eq!(page.len(), 50);
        assert!(page.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let newest: i64 = (app.db())
            .scalar(
                "SELECT MAX(id) FROM documents WHERE secrecy IS NULL",
                egov_store::args![],
            )
            .await
            .unwrap();
        assert_eq!(page[0].id, newest);
    }
);

both!(incoming_from_arrival_to_completion_and_recall, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let snv = agency_of(&app, "vanthu.snv").await;
    let clerk = actor(&app, "vanthu.snv").await;
    let leader = actor(&app, "giamdoc.snv").await;
    let specialist = actor(&app, "chuyenvien.snv").await;
    let paper = || PaperInCmd {
        agency_id: snv,
        issuer_name: "Ban Chấp hành Trung ương".into(),
        issuer_code: None,
        notation: "57-NQ/TW".into(),
        issued_on: Some(time::macros::date!(2024 - 12 - 22)),
        kind: None,
        subject:
            "Về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia"
                .into(),
        urgency: None,
        secrecy: None,
        scan: None,
        arrived_at: None,
    };
    let r = app.register_paper_incoming(&clerk, paper()).await.unwrap();
    assert_eq!((r.copy.arrival_number, r.duplicate_of), (Some(1), None));
    assert_eq!(r.copy.kind, "resolution", "guessed from the notation");
    let again = app.register_paper_incoming(&clerk, paper()).await.unwrap();
    assert_eq!(again.copy.arrival_number, Some(2));
    assert_eq!(
        again.duplicate_of,
        Some(r.copy.id),
        "a likely duplicate is flagged"
    );
    // The leader directs it to the specialist with five working days.
    let me = specialist.person_id.unwrap();
    let direct: InAction = serde_json::from_value(serde_json::json!({
        "event": "direct", "version": r.copy.version, "lead_person_id": me, "working_days": 5,
        "note": "Chủ trì tham mưu kế hoạch thực hiện",
    }))
    .unwrap();
    let c = app
        .act_on_incoming(&leader, r.copy.id, direct.clone())
        .await
        .unwrap();
    assert_eq!(c.state, "directed");
    assert!(c.deadline.unwrap() > egov_store::now() + time::Duration::days(5));
    let mine = app.my_handling(&specialist).await.unwrap();
    assert_eq!(mine.iter().map(|x| x.id).collect::<Vec<_>>(), vec![c.id]);
    // The clerk cannot direct; a lead of another agency is refused.
    assert_eq!(
        app.act_on_incoming(&clerk, c.id, in_act("direct", c.version))
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );
    let mut wrong = direct.clone();
    wrong.version = c.version;
    if let InCommand::Direct(d) = &mut wrong.command {
        d.lead_person_id = Some(actor(&app, "chuyenvien.stp").await.person_id.unwrap());
    }
    assert_eq!(
        app.act_on_incoming(&leader, c.id, wrong)
            .await
            .unwrap_err()
            .code,
        "person_of_other_agency"
    );
    let c = app
        .act_on_incoming(&specialist, c.id, in_act("start", c.version))
        .await
        .unwrap();
    let c = app
        .act_on_incoming(&specialist, c.id, in_act("complete", c.version))
        .await
        .unwrap();
    assert_eq!(c.state, "completed");
    assert_eq!(
        app.act_on_incoming(&specialist, c.id, in_act("start", c.version))
            .await
            .unwrap_err()
            .code,
        "illegal_transition"
    );

    // Electronic: the department issues to the province; the province registers, the sender
    // sees 03; then the department recalls it, the province accepts, the copy is cancelled.
    let province = agency(&app, "000.00.00.H56").await;
    let d = issue(&app, "report", to(&[province])).await;
    let tinh = actor(&app, "vanthu.tinh").await;
    let arrived = app
        .incoming_list(&tinh, province, &["arrived"])
        .await
        .unwrap();
    let copy = arrived
        .iter()
        .find(|x| x.document_id == d.id)
        .unwrap()
        .clone();
    let copy = app
        .act_on_incoming(&tinh, copy.id, in_act("register", copy.version))
        .await
        .unwrap();
    assert_eq!(copy.arrival_number, Some(1), "the province's own register");
    let status = |app: std::sync::Arc<egov_app::App>, id: i64| async move {
        egov_store::documents::recipients(&mut app.db(), id)
            .await
            .unwrap()[0]
            .status
            .clone()
    };
    assert_eq!(status(app.clone(), d.id).await.as_deref(), Some("03"));
    let mut recall = act("recall", d.version);
    recall.note = "Sai số liệu tại phụ lục".into();
    let d2 = app.act_on_document(&leader, d.id, recall).await.unwrap();
    assert_eq!(d2.state, "recalled");
    let copy = egov_store::documents::get_incoming(&mut app.db(), copy.id)
        .await
        .unwrap();
    assert_eq!(copy.recall_status.as_deref(), Some("13"));
    let copy = app
        .act_on_incoming(&tinh, copy.id, in_act("accept_recall", copy.version))
        .await
        .unwrap();
    assert_eq!(copy.state, "cancelled");
    assert_eq!(status(app.clone(), d.id).await.as_deref(), Some("15"));
    // The cancelled copy is no longer the province's to read.
    assert_eq!(
        app.document_detail(&tinh, d.id).await.unwrap_err().code,
        "not_found"
    );
    // The number is never reused: the next document takes the next one.
    let next = issue(&app, "report", to(&[province])).await;
    assert_eq!(next.number, Some(d.number.unwrap() + 1));

    // The incoming register, printed: the columns of Decree 30 and what was registered.
    let year = egov_store::now().to_offset(egov_domain::VN_OFFSET).year();
    let t = app
        .register_table(&clerk, snv, year, false, false)
        .await
        .unwrap();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.headers.len(), t.widths.len());
    let dir = std::env::temp_dir().join(format!("egov-registers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = text_of(
        &egov_app::documents::registers::register_pdf(&t),
        &dir,
        "incoming-register",
    );
    for needle in [
        "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN",
        "57-NQ/TW",
        "Ban Chấp hành Trung ương",
        "Có thể trùng",
    ] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
    let out = app
        .register_table(&clerk, snv, year, true, false)
        .await
        .unwrap();
    let text = text_of(
        &egov_app::documents::registers::register_pdf(&out),
        &dir,
        "outgoing-register",
    );
    assert!(text.contains("SỔ ĐĂNG KÝ VĂN BẢN ĐI"), "{text}");
    assert!(text.contains(d.notation.as_deref().unwrap()), "{text}");

    // A secret incoming document: metadata only, no scan.
    let mut s = paper();
    s.notation = "12-CV/TU".into();
    s.secrecy = Some("secret".into());
    s.scan = Some("0".repeat(64));
    assert_eq!(
        app.register_paper_incoming(&clerk, s.clone())
            .await
            .unwrap_err()
            .code,
        "secret_no_content"
    );
    s.scan = None;
    let sc = app.register_paper_incoming(&clerk, s).await.unwrap();
    assert_eq!(
        sc.copy.arrival_number,
        Some(1),
        "the secret register has its own numbers"
    );
    assert!(sc.copy.secret);
});

both!(work_files_hold_documents, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let snv = agency_of(&app, "vanthu.snv").await;
    let clerk = actor(&app, "vanthu.snv").await;
    let plan = |notation: &str| NewFileCmd {
        agency_id: snv,
        year: 2026,
        notation: notation.into(),
        heading: "Tổ chức cán bộ".into(),
        title: "Hồ sơ sắp xếp đơn vị hành chính cấp xã".into(),
        retention: "permanent".into(),
        responsible_id: None,
    };
    let f1 = app.plan_work_file(&clerk, plan("01.TCCB")).await.unwrap();
    assert!(f1.code.ends_with(".2026.01.TCCB"), "{}", f1.code);
    assert_eq!(
        app.plan_work_file(&clerk, plan("01.TCCB"))
            .await
            .unwrap_err()
            .code,
        "file_exists"
    );
    assert_eq!(
        app.plan_work_file(&clerk, plan("01 TCCB"))
            .await
            .unwrap_err()
            .code,
        "bad_file_notation"
    );
    let mut bad = plan("02.TCCB");
    bad.retention = "forever".into();
    assert_eq!(
        app.plan_work_file(&clerk, bad).await.unwrap_err().code,
        "bad_retention"
    );
    let f2 = app.plan_work_file(&clerk, plan("02.TCCB")).await.unwrap();
    let d = app
        .register_paper_incoming(
            &clerk,
            PaperInCmd {
                agency_id: snv,
                issuer_name: "Bộ Nội vụ".into(),
                issuer_code: Some("000.00.00.G13".into()),
                notation: "05/2025/TT-BNV".into(),
                issued_on: None,
                kind: None,
                subject: "Hướng dẫn chức năng, nhiệm vụ của cơ quan chuyên môn".into(),
                urgency: None,
                secrecy: None,
                scan: None,
                arrived_at: None,
            },
        )
        .await
        .unwrap()
        .copy;
    assert_eq!(
        app.file_document(&clerk, f1.id, d.document_id)
            .await
            .unwrap_err()
            .code,
        "file_not_open"
    );
    app.act_on_work_file(&clerk, f1.id, FileAction::Open)
        .await
        .unwrap();
    app.act_on_work_file(&clerk, f2.id, FileAction::Open)
        .await
        .unwrap();
    app.file_document(&clerk, f1.id, d.document_id)
        .await
        .unwrap();
    let f2 = app
        .file_document(&clerk, f2.id, d.document_id)
        .await
        .unwrap();
    assert_eq!(f2.documents, 1, "one document in two files");
    assert_eq!(
        app.file_document(&clerk, f1.id, d.document_id)
            .await
            .unwrap_err()
            .code,
        "already_in_file"
    );
    let closed = app
        .act_on_work_file(&clerk, f1.id, FileAction::Close)
        .await
        .unwrap();
    assert!(closed.closed_at.is_some());
    assert_eq!(
        app.act_on_work_file(&clerk, f1.id, FileAction::Open)
            .await
            .unwrap_err()
            .code,
        "illegal_transition"
    );
    let archived = app
        .act_on_work_file(&clerk, f1.id, FileAction::Archive)
        .await
        .unwrap();
    assert_eq!(archived.state, "archived");
    let detail = app.document_detail(&clerk, d.document_id).await.unwrap();
    assert_eq!(detail.files.len(), 2);
    // Another agency's officer sees none of it.
    let stranger = actor(&app, "chuyenvien.stp").await;
    assert_eq!(
        app.work_file_documents(&stranger, f1.id)
            .await
            .unwrap_err()
            .code,
        "not_found"
    );
});

/// A minimal .docx (WordprocessingML) whose body is `paragraphs`.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"))
        .collect();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "word/document.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
            ),
        ),
    ];
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, text) in parts {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

both!(the_text_of_attached_files_is_searched, |db| {
    let app = crate::app(db);
    app.seed_demo().await.unwrap();
    let mut annex = egov_pdf::Document::new("Phụ lục");
    annex.paragraph(
        &egov_pdf::BODY,
        "Danh mục công trình thủy lợi Khe Nước Trong cần sửa chữa trước mùa mưa bão.",
    );
    let d = crate::signatures::letter_to_the_province(
        &app,
        vec![
            ("main", "du-thao.pdf", pdf()),
            ("attachment", "phu-luc.pdf", annex.finish()),
            (
                "draft",
                "du-thao.docx",
                docx(&["Dự thảo tờ trình về hồ chứa Yên Mỹ", "Kính gửi Ủy ban"]),
            ),
        ],
    )
    .await;
    // The files are read for search by a worker, not on the upload.
    let reader = actor(&app, "chuyenvien.snv").await;
    assert!(
        app.search_documents(&reader, "khe nuoc trong")
            .await
            .unwrap()
            .is_empty()
    );
    crate::run_jobs(&app).await;
    for q in ["khe nuoc trong", "cong trinh thuy loi", "ho chua yen my"] {
        let hits = app.search_documents(&reader, q).await.unwrap();
        assert_eq!(
            hits.iter().map(|h| h.id).collect::<Vec<_>>(),
            vec![d.id],
            "{q}"
        );
    }
    // Another agency's specialist finds nothing by the same words.
    let stranger = actor(&app, "chuyenvien.stp").await;
    assert!(
        app.search_documents(&stranger, "khe nuoc trong")
            .await
            .unwrap()
            .is_empty()
    );
});

both!(handlers_are_reminded_before_and_after_the_deadline, |db| {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = egov_app::Settings {
        data_dir: dir.path().to_path_buf(),
        ..egov_app::Settings::default()
    };
    settings.documents.reminder_url = Some("http://127.0.0.1:9/sms".into());
    let app = egov_app::App::with_db(db, settings);
    app.seed_demo().await.unwrap();
    let snv = agency_of(&app, "vanthu.snv").await;
    let clerk = actor(&app, "vanthu.snv").await;
    let leader = actor(&app, "giamdoc.snv").await;
    let lead = actor(&app, "chuyenvien.snv").await;
    let coordinator = actor(&app, "truongphong.snv").await;
    let r = app
        .register_paper_incoming(
            &clerk,
            PaperInCmd {
                agency_id: snv,
                issuer_name: "Bộ Nội vụ".into(),
                issuer_code: None,
                notation: "88/BNV-CQĐP".into(),
                issued_on: None,
                kind: None,
                subject: "Về việc báo cáo tình hình chính quyền địa phương hai cấp".into(),
                urgency: None,
                secrecy: None,
                scan: None,
                arrived_at: None,
            },
        )
        .await
        .unwrap();
    let direct: InAction = serde_json::from_value(serde_json::json!({
        "event": "direct", "version": r.copy.version, "lead_person_id": lead.person_id,
        "coordinator_people": [coordinator.person_id.unwrap()], "working_days": 3,
    }))
    .unwrap();
    let c = app
        .act_on_incoming(&leader, r.copy.id, direct)
        .await
        .unwrap();
    let deadline = c.deadline.unwrap();

    // Nothing yet; a day before the deadline the lead and the coordinator, once.
    assert_eq!(app.send_reminders(egov_store::now()).await.unwrap(), 0);
    let soon = deadline - time::Duration::hours(2);
    assert_eq!(app.send_reminders(soon).await.unwrap(), 2);
    assert_eq!(app.send_reminders(soon).await.unwrap(), 0);
    let mine = app.my_reminders(&lead).await.unwrap();
    assert_eq!(
        (mine.len(), mine[0].kind.as_str(), mine[0].incoming_id),
        (1, "due_soon", c.id)
    );
    assert!(app.my_reminders(&leader).await.unwrap().is_empty());
    // Past it: the handlers again, and the leader who directed it.
    let late = deadline + time::Duration::hours(1);
    assert_eq!(app.send_reminders(late).await.unwrap(), 3);
    assert_eq!(app.send_reminders(late).await.unwrap(), 0);
    let mine = app.my_reminders(&lead).await.unwrap();
    assert_eq!(
        mine.len(),
        1,
        "the overdue reminder replaces the earlier one"
    );
    assert_eq!(mine[0].kind, "overdue");
    assert_eq!(mine[0].notation.as_deref(), Some("88/BNV-CQĐP"));
    assert_eq!(app.my_reminders(&leader).await.unwrap()[0].kind, "overdue");
    // Each reminder is queued once for the gateway, with the person and the document.
    let jobs: Vec<(String, String)> = (app.db())
        .fetch_all(
            "SELECT idempotency_key, payload FROM jobs WHERE kind = 'http.post' ORDER BY id",
            egov_store::args![],
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 5);
    let keys: std::collections::BTreeSet<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
    assert_eq!(keys.len(), 5);
    let first: serde_json::Value = serde_json::from_str(&jobs[0].1).unwrap();
    assert_eq!(first["url"], "http://127.0.0.1:9/sms");
    assert_eq!(first["body"]["document"]["notation"], "88/BNV-CQĐP");
    assert_eq!(first["body"]["kind"], "due_soon");
    assert!(first["body"]["person"]["username"].is_string());
    // Once completed, nothing is left to remind of.
    let c = app
        .act_on_incoming(&lead, c.id, in_act("start", c.version))
        .await
        .unwrap();
    app.act_on_incoming(&lead, c.id, in_act("complete", c.version))
        .await
        .unwrap();
    assert!(app.my_reminders(&lead).await.unwrap().is_empty());
    assert_eq!(app.send_reminders(late).await.unwrap(), 0);
});

both!(word_drafts_become_the_documents_pdf, |db| {
    assert!(
        std::process::Command::new("soffice")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "LibreOffice is needed to test draft conversion: run scripts/test.sh (it installs libreoffice-writer-nogui)"
    );
    let app = crate::app(db.clone());
    app.seed_demo().await.unwrap();
    let words = ["QUYẾT ĐỊNH", "Về việc thành lập Tổ công tác chuyển đổi số"];
    let d = crate::signatures::letter_to_the_province(
        &app,
        vec![("draft", "du-thao.docx", docx(&words))],
    )
    .await;
    let files = egov_store::documents::attachments(&mut app.db(), d.id)
        .await
        .unwrap();
    let roles: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.role.as_str(), f.name.as_str()))
        .collect();
    assert_eq!(roles, [("draft", "du-thao.docx"), ("main", "du-thao.pdf")]);
    let pdf = app.read_blob(d.main_sha.as_ref().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("converted.pdf"), &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(dir.path().join("converted.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Tổ công tác chuyển đổi số"), "{text}");
    // The converted PDF is the document now: found by its words (once a worker has read it),
    // numbered at sign-off.
    crate::run_jobs(&app).await;
    let reader = actor(&app, "chuyenvien.snv").await;
    let hits = app
        .search_documents(&reader, "to cong tac chuyen doi so")
        .await
        .unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![d.id]);

    // Without LibreOffice (turned off, or not installed) the draft stays as it is.
    for program in ["", "/nonexistent/soffice"] {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = egov_app::Settings {
            data_dir: dir.path().to_path_buf(),
            ..egov_app::Settings::default()
        };
        settings.documents.libreoffice = program.into();
        let plain = egov_app::App::with_db(db.clone(), settings);
        let d = crate::signatures::letter_to_the_province(
            &plain,
            vec![("draft", "du-thao.docx", docx(&words))],
        )
        .await;
        assert_eq!(d.main_sha, None, "{program:?}");
    }
});

/// A page of printed Vietnamese text as a grey PNG (rendered by poppler at 150 dpi): what a
/// scanner gives the records office.
fn scanned_page(lines: &[&str]) -> Vec<u8> {
    let mut d = egov_pdf::Document::new("Bản quét");
    let big = egov_pdf::Style::new(egov_pdf::Face::Regular, 20.0, egov_pdf::Align::Left);
    for l in lines {
        d.paragraph(&big, l);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.pdf"), d.finish()).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-gray", "-png", "-singlefile"])
        .arg(dir.path().join("page.pdf"))
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm runs (poppler-utils)");
    assert!(out.status.success());
    std::fs::read(dir.path().join("page.png")).unwrap()
}

/// A PDF whose only page is the image `png`: a scan without a text layer.
fn image_only_pdf(png: &[u8]) -> Vec<u8> {
    use egov_pki::lopdf::{Document, Object, Stream, dictionary};
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (frame.width as i64, frame.height as i64);
    buf.truncate(frame.buffer_size());
    // Grey or RGB, 8 bits: told apart by the samples per pixel.
    let space = match buf.len() as i64 / (w * h) {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        n => panic!("{n} bytes per pixel"),
    };
    let mut doc = Document::with_version("1.7");
    let image = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h,
        "ColorSpace" => space, "BitsPerComponent" => 8 },
        buf,
    ));
    // The page is the image at 150 dpi.
    let (pw, ph) = (w as f32 * 72.0 / 150.0, h as f32 * 72.0 / 150.0);
    let content = doc.add_object(Stream::new(
        dictionary! {},
        format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q").into_bytes(),
    ));
    let pages = doc.new_object_id();
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
        "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

both!(scans_without_text_are_read_in_the_background, |db| {
    assert!(
        std::process::Command::new("tesseract")
            .arg("--list-langs")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("vie")),
        "tesseract with Vietnamese is needed: run scripts/test.sh (it installs tesseract-ocr-vie)"
    );
    let app = crate::app(db);
    app.seed_demo().await.unwrap();
    let snv = agency_of(&app, "vanthu.snv").await;
    let clerk = actor(&app, "vanthu.snv").await;
    let reader = actor(&app, "giamdoc.snv").await;
    let png = scanned_page(&["KẾ HOẠCH", "Tu bổ đê điều sông Chu năm 2027"]);
    let scan = app
        .store_scan(&clerk, "scan.png", Some("image/png"), png.clone())
        .await
        .unwrap();
    let r = app
        .register_paper_incoming(
            &clerk,
            PaperInCmd {
                agency_id: snv,
                issuer_name: "Sở Nông nghiệp và Môi trường".into(),
                issuer_code: None,
                notation: "77/KH-SNNMT".into(),
                issued_on: None,
                kind: None,
                subject: "Kế hoạch năm 2027".into(),
                urgency: None,
                secrecy: None,
                scan: Some(scan.sha256),
                arrived_at: None,
            },
        )
        .await
        .unwrap();
    // Registering does not wait for OCR: the words come once the worker has read the scan.
    assert!(
        app.search_documents(&reader, "song chu")
            .await
            .unwrap()
            .is_empty()
    );
    let worker = egov_app::jobs::Worker::new(app.clone());
    assert!(
        worker.run_once().await.unwrap(),
        "the scan was queued to be read"
    );
    assert!(
        worker.run_once().await.unwrap(),
        "it has no text: OCR was queued"
    );
    assert!(!worker.run_once().await.unwrap());
    let hits = app.search_documents(&reader, "song chu").await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![r.copy.document_id]
    );

    // A PDF attachment without a text layer is read too; one with text is not queued.
    let d = crate::signatures::letter_to_the_province(
        &app,
        vec![
            ("main", "du-thao.pdf", pdf()),
            (
                "attachment",
                "ban-do.pdf",
                image_only_pdf(&scanned_page(&["Bản đồ vùng ngập lụt huyện Thạch Thành"])),
            ),
        ],
    )
    .await;
    // The worker reads both files, the scan by OCR, and judges both PDFs' signatures; nothing
    // is left after.
    let mut ran = 0;
    while worker.run_once().await.unwrap() {
        ran += 1;
    }
    assert_eq!(
        ran, 5,
        "two files read, the one without text by OCR, two judged"
    );
    let drafter = actor(&app, "chuyenvien.snv").await;
    let hits = app.search_documents(&drafter, "ngap lut").await.unwrap();
    let jobs: Vec<(String, Option<String>)> = (app.db())
        .fetch_all(
            "SELECT state, last_error FROM jobs WHERE kind = 'document.ocr' ORDER BY id",
            egov_store::args![],
        )
        .await
        .unwrap();
    let fold = egov_store::documents::search_fold_of(&mut app.db(), d.id)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![d.id],
        "{jobs:?} {fold}"
    );
});

fn pdf_saying(text: &str) -> Vec<u8> {
    let mut d = egov_pdf::Document::new(text);
    let s = egov_pdf::Style::new(egov_pdf::Face::Regular, 13.0, egov_pdf::Align::Center);
    d.text_at(egov_pdf::mm(105.0), 100.0, &s, text);
    d.finish()
}

both!(
    a_recipient_sees_what_was_issued_and_not_the_senders_working_files,
    |db| {
        use egov_domain::admin_unit::Structure;
        let app = app(db);
        app.seed_demo().await.unwrap();
        let snv = agency_of(&app, "chuyenvien.snv").await;
        let hac_thanh = app
            .committee_by_unit(Structure::TwoTier, "14797")
            .await
            .unwrap();
        let drafter = actor(&app, "chuyenvien.snv").await;
        let d = app
            .create_draft(&drafter, draft(snv, "official_letter", to(&[hac_thanh])))
            .await
            .unwrap();
        // A first PDF, then the one that is issued.
        for text in ["Ban nhap noi bo lan 1", "Ban chinh thuc"] {
            app.add_document_file(
                &drafter,
                d.id,
                "main",
                "du-thao.pdf",
                Some("application/pdf"),
                pdf_saying(text),
            )
            .await
            .unwrap();
        }
        let mut d = reload(&app, d.id).await;
        for (who, event) in [
            ("chuyenvien.snv", "submit"),
            ("truongphong.snv", "approve"),
            ("giamdoc.snv", "sign_off"),
            ("vanthu.snv", "issue"),
        ] {
            d = app
                .act_on_document(&actor(&app, who).await, d.id, act(event, d.version))
                .await
                .unwrap();
        }
        // The sender sees every working file (both uploads and the PDF numbered at sign-off) and
        // the whole timeline.
        let own = app.document_detail(&drafter, d.id).await.unwrap();
        assert_eq!(own.attachments.len(), 3);
        assert!(own.events.iter().any(|e| e.event == "submit"));
        assert!(own.document.drafter_id.is_some());
        // The ward's chair sees the issued main file alone, that it was issued, and not who drafted.
        let chair = actor(&app, "chutich.hacthanh").await;
        let theirs = app.document_detail(&chair, d.id).await.unwrap();
        assert_eq!(theirs.attachments.len(), 1, "{:?}", theirs.attachments);
        let issued = &theirs.attachments[0];
        assert_eq!(Some(issued.sha256.as_str()), d.main_sha.as_deref());
        let events: Vec<&str> = theirs.events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(events, ["issue"]);
        assert_eq!(theirs.document.drafter_id, None);
        let (bytes, _, _) = app.document_file(&chair, d.id, issued.id).await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        // The first PDF is the sender's: a recipient asking for it by id finds nothing.
        let draft_id = own
            .attachments
            .iter()
            .find(|a| a.id != issued.id)
            .unwrap()
            .id;
        assert_eq!(
            app.document_file(&chair, d.id, draft_id)
                .await
                .unwrap_err()
                .code,
            "not_found"
        );
        app.document_file(&drafter, d.id, draft_id).await.unwrap();
    }
);

/// A PDF of `n` empty pages, written here (small objects, as a hostile file would be).
fn many_pages(n: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
    out.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Count 0 /Kids [] >>\nendobj\n");
    for i in 0..n {
        out.extend_from_slice(
            format!("{} 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\n", i + 3).as_bytes(),
        );
    }
    out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

fn blob_files(app: &egov_app::App) -> usize {
    fn count(p: &std::path::Path) -> usize {
        std::fs::read_dir(p).map_or(0, |rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { count(&p) } else { 1 }
                })
                .sum()
        })
    }
    count(app.blobs.staging().root())
}

both!(
    a_pdf_over_the_limits_is_refused_and_no_upload_leaves_a_file_behind,
    |db| {
        let dir = tempfile::tempdir().unwrap();
        let app = egov_app::App::with_db(
            db,
            egov_app::Settings {
                data_dir: dir.path().to_path_buf(),
                ..egov_app::Settings::default()
            },
        );
        app.seed_demo().await.unwrap();
        let snv = agency_of(&app, "chuyenvien.snv").await;
        let drafter = actor(&app, "chuyenvien.snv").await;
        let d = app
            .create_draft(&drafter, draft(snv, "official_letter", vec![]))
            .await
            .unwrap();
        let before = blob_files(&app);
        // 300,000 pages: refused from its bytes, before it is parsed or stored.
        let huge = many_pages(300_000);
        for e in [
            app.add_document_file(&drafter, d.id, "attachment", "x.pdf", None, huge.clone())
                .await
                .unwrap_err(),
            app.store_scan(&drafter, "x.pdf", None, huge.clone())
                .await
                .unwrap_err(),
            app.verify_pdf(huge).await.unwrap_err(),
        ] {
            assert_eq!(e.code, "pdf_too_complex", "{e:?}");
            assert!(
                e.args
                    .iter()
                    .any(|(k, v)| *k == "detail" && v.contains("300002 objects")),
                "{e:?}"
            );
        }
        assert_eq!(blob_files(&app), before, "nothing stored");
        // An upload refused after its bytes were stored (the document is no longer editable)
        // removes its file again.
        let stranger = actor(&app, "chuyenvien.stp").await;
        let e = app
            .add_document_file(&stranger, d.id, "attachment", "y.pdf", None, many_pages(3))
            .await
            .unwrap_err();
        assert_eq!(e.code, "not_found");
        assert_eq!(blob_files(&app), before);
        // What slips through (an upload cut off mid-way) is swept once it is old enough; recorded
        // files stay.
        app.add_document_file(&drafter, d.id, "attachment", "z.pdf", None, many_pages(2))
            .await
            .unwrap();
        let kept = blob_files(&app);
        app.blobs
            .put(b"%PDF-1.4 left behind by a cut-off upload")
            .await
            .unwrap();
        assert_eq!(blob_files(&app), kept + 1);
        assert_eq!(
            app.sweep_orphan_blobs(std::time::Duration::from_secs(3600))
                .await
                .unwrap(),
            0,
            "too recent"
        );
        assert_eq!(
            app.sweep_orphan_blobs(std::time::Duration::ZERO)
                .await
                .unwrap(),
            1
        );
        assert_eq!(blob_files(&app), kept);
    }
);

both!(people_are_offered_only_the_actions_they_may_take, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let hac_thanh = agency_of(&app, "chutich.hacthanh").await;
    let snv = agency_of(&app, "chuyenvien.snv").await;
    let drafter = actor(&app, "chuyenvien.snv").await;
    let actions = |user: &'static str, id: i64| {
        let app = &app;
        async move {
            let who = actor(app, user).await;
            app.document_detail(&who, id).await.unwrap().actions
        }
    };
    let d = app
        .create_draft(&drafter, draft(snv, "official_letter", to(&[hac_thanh])))
        .await
        .unwrap();
    // The drafter submits or cancels their draft; approving it is their head's.
    assert_eq!(actions("chuyenvien.snv", d.id).await, ["submit", "cancel"]);
    assert_eq!(
        actions("truongphong.snv", d.id).await,
        ["submit", "approve"]
    );
    assert!(actions("vanthu.snv", d.id).await.is_empty());
    let d = issue(&app, "official_letter", to(&[hac_thanh])).await;
    // Delivered: the ward's records clerk registers it; its chairman has nothing to press yet.
    assert_eq!(
        actions("vanthu.hacthanh", d.id).await,
        ["register", "reject"]
    );
    assert!(actions("chutich.hacthanh", d.id).await.is_empty());
    // The sender's leader may recall what was issued; the drafter may not.
    assert_eq!(actions("giamdoc.snv", d.id).await, ["recall"]);
    assert!(actions("chuyenvien.snv", d.id).await.is_empty());
});

both!(every_demo_agency_with_staff_has_a_records_clerk, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let without: Vec<(String,)> = (app.db())
        .fetch_all(
            "SELECT DISTINCT a.name FROM role_grants g JOIN agencies a ON a.id = g.agency_id \
             WHERE g.role IN ('agency_leader', 'unit_leader', 'specialist') AND NOT EXISTS \
             (SELECT 1 FROM role_grants c WHERE c.agency_id = g.agency_id AND c.role = 'records_clerk')",
            egov_store::args![],
        )
        .await
        .unwrap();
    assert!(without.is_empty(), "no records clerk in {without:?}");
});

both!(
    a_draft_is_started_with_its_word_file_converted_or_not_at_all,
    |db| {
        let app = crate::app(db);
        app.seed_demo().await.unwrap();
        let snv = agency_of(&app, "chuyenvien.snv").await;
        let drafter = actor(&app, "chuyenvien.snv").await;
        let count = || async {
            let n: i64 = (app.db())
                .scalar("SELECT COUNT(*) FROM documents", egov_store::args![])
                .await
                .unwrap();
            n
        };
        let file = |name: &str, bytes: Vec<u8>| egov_app::documents::outgoing::NewFile {
            name: name.into(),
            declared: None,
            bytes,
        };
        let before = count().await;
        // A disguised attachment refuses the whole draft, before anything is written.
        let e = app
            .create_draft_with_files(
                &drafter,
                draft(snv, "official_letter", vec![]),
                Some(file("du-thao.docx", docx(&["CÔNG VĂN"]))),
                vec![file("phu-luc.pdf", b"MZ\x90\0not a pdf".to_vec())],
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "unsupported_file_type");
        let e = app
            .create_draft_with_files(
                &drafter,
                draft(snv, "official_letter", vec![]),
                None,
                vec![],
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "main_file_required");
        assert_eq!(count().await, before, "nothing half-written");
        // A .docx becomes the document's PDF (LibreOffice), kept beside it as the draft.
        let d = app
            .create_draft_with_files(
                &drafter,
                draft(snv, "official_letter", vec![]),
                Some(file(
                    "du-thao.docx",
                    docx(&["CÔNG VĂN", "Về việc thử chuyển đổi"]),
                )),
                vec![file("phu-luc.pdf", pdf())],
            )
            .await
            .unwrap();
        assert!(d.main_sha.is_some());
        let roles: Vec<String> = egov_store::documents::attachments(&mut app.db(), d.id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| format!("{}:{}", a.role, a.name))
            .collect();
        assert_eq!(
            roles,
            [
                "draft:du-thao.docx",
                "main:du-thao.pdf",
                "attachment:phu-luc.pdf"
            ]
        );
    }
);
