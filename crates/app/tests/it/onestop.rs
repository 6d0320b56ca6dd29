use egov_app::Actor;
use egov_app::applicants::NewApplicantCmd;
use egov_app::onestop::dossiers::{Action, ApplicantRef, ComponentInput, Reception};
use egov_app::views::AsView;
use egov_domain::admin_unit::Structure;

use super::app;
use super::documents::actor;

/// The demo, Phường Hạc Thành's People's Committee and its one-stop officer.
pub(crate) async fn at_hac_thanh(
    db: egov_store::Db,
) -> (std::sync::Arc<egov_app::App>, i64, Actor) {
    in_hac_thanh(app(db)).await
}

/// The same with an application already made (on a test's clock, say).
pub(crate) async fn in_hac_thanh(
    app: std::sync::Arc<egov_app::App>,
) -> (std::sync::Arc<egov_app::App>, i64, Actor) {
    app.seed_demo().await.unwrap();
    let hac_thanh = app
        .committee_by_unit(Structure::TwoTier, "14797")
        .await
        .unwrap();
    let officer = actor(&app, "motcua.hacthanh").await;
    (app, hac_thanh, officer)
}

fn citizen() -> ApplicantRef {
    ApplicantRef {
        id: None,
        new: Some(NewApplicantCmd {
            kind: "citizen".into(),
            identifier: "038185001234".into(),
            country: None,
            name: "Lê Thị Hồng".into(),
            birth_date: None,
            phone: Some("0912345678".into()),
            email: None,
            address: Some("Phường Hạc Thành".into()),
        }),
    }
}

pub(crate) fn provided(codes: &[&str]) -> Vec<ComponentInput> {
    codes.iter().map(|c| ComponentInput::provided(*c)).collect()
}

pub(crate) fn reception(agency: i64, code: &str, components: Vec<ComponentInput>) -> Reception {
    Reception {
        procedure_code: code.into(),
        receiving_agency_id: agency,
        competent_agency_id: None,
        applicant: citizen(),
        components,
        subject: "Xác nhận tình trạng hôn nhân để kết hôn".into(),
        channel: None,
        submitted_at: None,
        decision: None,
        reasons: None,
        fee_units: None,
        fee_exempt: false,
        payment: None,
        national: None,
    }
}

pub(crate) fn act(event: &str, version: i64) -> Action {
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

both!(counter_to_result, |db| {
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let specialist = actor(&app, "congchuc.hacthanh").await;
    let chair = actor(&app, "chutich.hacthanh").await;

    // Complete at the counter: a receipt with a code and an appointment (3 working days).
    let out = app
        .receive_dossier(
            &officer,
            reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"])),
        )
        .await
        .unwrap();
    assert_eq!(out.outcome, "received");
    let d = out.dossier;
    // The receipt answers with the row it wrote (built without reading it back): exactly what
    // the database holds.
    assert_eq!(
        d,
        egov_store::onestop::get_dossier(&mut app.db(), d.id)
            .await
            .unwrap()
            .into_view()
    );
    let agency_code = egov_store::agencies::get(&mut app.db(), hac_thanh)
        .await
        .unwrap()
        .code;
    assert!(d.code.starts_with(&format!("{agency_code}-")), "{}", d.code);
    assert!(d.code.ends_with("-0001"));
    assert_eq!(
        (d.state.as_str(), d.national_status, d.fee_total),
        ("received", 2, 15_000)
    );
    let appointment = d.appointment.unwrap();
    assert!(appointment > d.received_at.unwrap());
    assert_eq!(d.step_role.as_deref(), Some("one_stop_officer"));

    // The counter hands over to the specialist; a specialist cannot receive.
    let d = app
        .act_on_dossier(&officer, d.id, act("transfer", d.version))
        .await
        .unwrap();
    assert_eq!(
        (d.state.as_str(), d.step, d.national_status),
        ("processing", 1, 4)
    );
    assert_eq!(d.step_role.as_deref(), Some("specialist"));
    let queue = app.my_queue(&specialist, 50).await.unwrap();
    assert!(
        queue.iter().any(|q| q.id == d.id),
        "the dossier waits in the specialist's queue"
    );
    let e = app
        .act_on_dossier(&officer, d.id, act("transfer", d.version))
        .await
        .unwrap_err();
    assert_eq!(
        e.code, "forbidden",
        "the counter does not act at the specialist's step"
    );
    // Stale versions and illegal transitions are refused.
    assert_eq!(
        app.act_on_dossier(&specialist, d.id, act("transfer", d.version - 1))
            .await
            .unwrap_err()
            .code,
        "dossier_changed"
    );
    assert_eq!(
        app.act_on_dossier(&specialist, d.id, act("return_result", d.version))
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );
    let d = app
        .act_on_dossier(&specialist, d.id, act("transfer", d.version))
        .await
        .unwrap();
    assert_eq!(d.step_role.as_deref(), Some("agency_leader"));
    assert_eq!(
        app.act_on_dossier(&chair, d.id, act("transfer", d.version))
            .await
            .unwrap_err()
            .code,
        "no_next_step"
    );
    // The result: a date in the future, someone else's file or a non-hash are refused.
    let mut finish = act("finish", d.version);
    finish.result = Some(serde_json::json!({"number": "15/XN-UBND", "date": "2099-01-01"}));
    assert_eq!(
        app.act_on_dossier(&chair, d.id, finish.clone())
            .await
            .unwrap_err()
            .code,
        "bad_date"
    );
    let officers_scan = app
        .store_scan(
            &officer,
            "qd.pdf",
            Some("application/pdf"),
            crate::documents::pdf(),
        )
        .await
        .unwrap()
        .sha256;
    for file in [officers_scan.as_str(), "../../etc/passwd"] {
        finish.result = Some(serde_json::json!({"number": "15/XN-UBND", "file": file}));
        assert_eq!(
            app.act_on_dossier(&chair, d.id, finish.clone())
                .await
                .unwrap_err()
                .code,
            "unknown_scan"
        );
    }
    let signed = app
        .store_scan(
            &chair,
            "15-XN-UBND.pdf",
            Some("application/pdf"),
            crate::documents::pdf(),
        )
        .await
        .unwrap()
        .sha256;
    let today = egov_store::now().to_offset(egov_domain::VN_OFFSET).date();
    finish.result = Some(serde_json::json!({
        "number": "15/XN-UBND", "date": today.to_string(), "file": signed, "file_name": "15-XN-UBND.pdf"
    }));
    let d = app.act_on_dossier(&chair, d.id, finish).await.unwrap();
    let (bytes, media_type, name) = app.dossier_result_file(&officer, d.id).await.unwrap();
    assert_eq!(
        (media_type.as_str(), name.as_str()),
        ("application/pdf", "15-XN-UBND.pdf")
    );
    assert!(bytes.starts_with(b"%PDF"));
    assert_eq!((d.state.as_str(), d.national_status), ("result_ready", 9));
    assert!(matches!(d.timeliness.as_deref(), Some("early" | "on_time")));
    let mut ret = act("return_result", d.version);
    ret.returned_to = Some("Lê Thị Hồng".into());
    let d = app.act_on_dossier(&officer, d.id, ret).await.unwrap();
    assert_eq!((d.state.as_str(), d.national_status), ("returned", 10));
    assert!(d.closed_at.is_some());

    let detail = app.dossier_detail(&officer, d.id).await.unwrap();
    let events: Vec<&str> = detail.events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        vec![
            "submit",
            "receive",
            "transfer",
            "transfer",
            "finish",
            "return_result"
        ]
    );
    assert!(
        detail
            .steps
            .iter()
            .take(3)
            .all(|s| s.finished_at.is_some() && s.timeliness.is_some()),
        "the process-control log"
    );
    assert!(detail.actions.is_empty());
    // Another agency's officer does not even learn it exists.
    let other = actor(&app, "chuyenvien.snv").await;
    assert_eq!(
        app.dossier_detail(&other, d.id).await.unwrap_err().code,
        "not_found"
    );
    // Found by code, by the applicant's name without diacritics, and by procedure.
    assert_eq!(
        app.search_dossiers(&officer, &d.code, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.search_dossiers(&officer, "le thi hong", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.search_dossiers(&officer, "tinh trang hon nhan", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        app.search_dossiers(&other, "le thi hong", 10)
            .await
            .unwrap()
            .is_empty(),
        "search is scoped"
    );
});

both!(search_by_name_with_a_word_being_typed, |db| {
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let names = [
        "Lê Thị Hồng",
        "Lê Thị Hoa",
        "Lê Văn Hòa",
        "Trần Thị Hoa",
        "Hoàng Thị Lan",
    ];
    for (i, name) in names.iter().enumerate() {
        let mut r = reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"]));
        let Some(new) = r.applicant.new.as_mut() else {
            unreachable!("a new applicant")
        };
        new.identifier = format!("03818500124{i}");
        new.name = (*name).into();
        app.receive_dossier(&officer, r).await.unwrap();
    }
    let officer_id = officer.person_id;
    // The administrator searches the whole province, without agency words, on one path.
    let admin = actor(&app, "admin").await;
    let mut everywhere: Vec<String> = app
        .search_dossiers(&admin, "le thi ho", 50)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.applicant_name)
        .collect();
    everywhere.sort();
    assert_eq!(everywhere, ["Lê Thị Hoa", "Lê Thị Hồng"]);
    // On PostgreSQL the whole words narrow the candidates and the last word is checked on them,
    // unless there are more candidates than the cap: a cap of one takes the other branch. Both
    // give the same answer (SQLite has one path).
    // The applicants found, newest first.
    let search = async |q: &str, limit: i64, candidates: i64| -> Vec<String> {
        egov_store::onestop::search_dossiers_within(
            &mut app.db(),
            officer_id,
            q,
            time::OffsetDateTime::now_utc(),
            limit,
            candidates,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.applicant_name)
        .collect()
    };
    for (q, want) in [
        ("le thi ho", vec!["Lê Thị Hoa", "Lê Thị Hồng"]),
        // The word being typed is a prefix: "hoa" also begins "Hoàng".
        (
            "thi hoa",
            vec!["Hoàng Thị Lan", "Lê Thị Hoa", "Trần Thị Hoa"],
        ),
        ("le hoa", vec!["Lê Thị Hoa", "Lê Văn Hòa"]),
        ("Lê Văn Hòa", vec!["Lê Văn Hòa"]),
        ("hoang thi l", vec!["Hoàng Thị Lan"]),
        (
            "thi",
            vec!["Hoàng Thị Lan", "Lê Thị Hoa", "Lê Thị Hồng", "Trần Thị Hoa"],
        ),
        ("tran van", vec![]),
    ] {
        for cap in [5_000, 1] {
            let mut found = search(q, 50, cap).await;
            found.sort();
            assert_eq!(found, want, "{q:?} with a cap of {cap}");
        }
    }
    // The limit holds on every path, newest first.
    for (q, newest) in [("le thi", "Lê Thị Hoa"), ("thi", "Hoàng Thị Lan")] {
        for cap in [5_000, 1] {
            assert_eq!(
                search(q, 1, cap).await,
                [newest],
                "{q:?} with a cap of {cap}"
            );
        }
    }
});

both!(supplements_refusals_and_apologies, |db| {
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let specialist = actor(&app, "congchuc.hacthanh").await;

    // Incomplete: one supplement request listing everything missing.
    let out = app
        .receive_dossier(&officer, reception(hac_thanh, "9.000004", vec![]))
        .await
        .unwrap();
    assert_eq!(out.outcome, "supplement_requested");
    assert_eq!(out.missing.len(), 2);
    assert_eq!(
        (out.dossier.state.as_str(), out.dossier.national_status),
        ("awaiting_supplement", 5)
    );
    assert!(out.dossier.appointment.is_none(), "no receipt yet");
    let mut sp = act("supplement_provided", out.dossier.version);
    sp.components = provided(&["TP1", "GTTT"]);
    let d = app
        .act_on_dossier(&officer, out.dossier.id, sp)
        .await
        .unwrap();
    assert_eq!(d.state.as_str(), "submitted");
    let d = app
        .act_on_dossier(&officer, d.id, act("receive", d.version))
        .await
        .unwrap();
    assert_eq!(d.state.as_str(), "received");
    assert!(d.appointment.is_some());

    // A refusal needs reasons.
    let mut r = reception(hac_thanh, "9.000004", vec![]);
    r.decision = Some("refuse".into());
    assert_eq!(
        app.receive_dossier(&officer, r.clone())
            .await
            .unwrap_err()
            .code,
        "reasons_required"
    );
    r.reasons = Some("Không thuộc thẩm quyền".into());
    let refused = app.receive_dossier(&officer, r).await.unwrap();
    assert_eq!(
        (refused.outcome.as_str(), refused.dossier.national_status),
        ("refused", 3)
    );

    // During processing: the clock stops for a supplement and the appointment is re-issued.
    let d = app
        .act_on_dossier(&officer, d.id, act("transfer", d.version))
        .await
        .unwrap();
    let before = d.appointment.unwrap();
    let mut req = act("request_supplement", d.version);
    assert_eq!(
        app.act_on_dossier(&specialist, d.id, req.clone())
            .await
            .unwrap_err()
            .code,
        "items_required"
    );
    req.items = vec!["Bản sao trích lục ly hôn".into()];
    let d = app
        .act_on_dossier(&specialist, d.id, req.clone())
        .await
        .unwrap();
    assert_eq!(
        (d.state.as_str(), d.national_status),
        ("awaiting_supplement", 5)
    );
    let d = app
        .act_on_dossier(&officer, d.id, act("supplement_provided", d.version))
        .await
        .unwrap();
    assert_eq!(d.state.as_str(), "processing");
    assert!(
        d.appointment.unwrap() >= before,
        "a pause never shortens the appointment"
    );
    // A changed appointment is re-issued as its own event, never silently. (Whether a pause of a
    // few milliseconds moves it depends on the hour the test runs: outside office hours it does not.)
    let moved = d.appointment != Some(before);
    // A second supplement request counts the dossier as late.
    req.version = d.version;
    let d = app.act_on_dossier(&specialist, d.id, req).await.unwrap();
    assert!(d.counts_late);
    let d = app
        .act_on_dossier(&officer, d.id, act("supplement_provided", d.version))
        .await
        .unwrap();

    // Apology and extension: once, with a later date and a reason.
    let mut apo = act("apologize", d.version);
    apo.new_date = Some(d.appointment.unwrap() + time::Duration::days(3));
    assert_eq!(
        app.act_on_dossier(&specialist, d.id, apo.clone())
            .await
            .unwrap_err()
            .code,
        "reasons_required"
    );
    apo.note = "Cần xác minh thêm".into();
    let d = app
        .act_on_dossier(&specialist, d.id, apo.clone())
        .await
        .unwrap();
    assert_eq!(d.apologies, 1);
    assert!(d.extended_to.is_some());
    apo.version = d.version;
    assert_eq!(
        app.act_on_dossier(&specialist, d.id, apo)
            .await
            .unwrap_err()
            .code,
        "second_apology"
    );
    let events = app.dossier_detail(&officer, d.id).await.unwrap().events;
    let reissued = events
        .iter()
        .filter(|e| e.event == "appointment_reissued")
        .count();
    assert!(moved <= (reissued > 0), "{reissued} re-issues");
});

both!(where_a_dossier_may_be_received, |db| {
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let dong_son = app
        .committee_by_unit(Structure::TwoTier, "16378")
        .await
        .unwrap();
    // A certified copy is received anywhere: at Hạc Thành, for Đông Sơn.
    let mut r = reception(hac_thanh, "2.000815", provided(&["TP1", "TP2"]));
    r.competent_agency_id = Some(dong_son);
    r.fee_units = Some(3);
    let out = app.receive_dossier(&officer, r).await.unwrap();
    assert_eq!(out.dossier.fee_total, 6_000);
    assert_eq!(out.dossier.competent_agency_id, dong_son);
    // Guardianship is not: only at the competent commune's counter.
    let mut r = reception(hac_thanh, "9.000005", provided(&["TP1", "TP2", "GTTT"]));
    r.competent_agency_id = Some(dong_son);
    assert_eq!(
        app.receive_dossier(&officer, r).await.unwrap_err().code,
        "not_receivable_here"
    );
    // The provincial centre receives for a department (judicial records at the Department of Justice).
    let centre_officer = actor(&app, "motcua.tinh").await;
    let centre = app
        .search_agencies("trung tam phuc vu hanh chinh cong", None, 1, 0)
        .await
        .unwrap()[0]
        .agency
        .id;
    let stp = app.search_agencies("so tu phap", None, 1, 0).await.unwrap()[0]
        .agency
        .id;
    let mut r = reception(centre, "9.000014", provided(&["TP1", "GTTT"]));
    r.competent_agency_id = Some(stp);
    let out = app.receive_dossier(&centre_officer, r).await.unwrap();
    assert_eq!(out.outcome, "received");
    // The department's specialist acts at its step, and sees the dossier; the centre's officer
    // does not act there.
    let d = app
        .act_on_dossier(
            &centre_officer,
            out.dossier.id,
            act("transfer", out.dossier.version),
        )
        .await
        .unwrap();
    assert_eq!(d.current_agency_id, Some(stp));
    let stp_specialist = actor(&app, "chuyenvien.stp").await;
    assert!(
        app.my_queue(&stp_specialist, 10)
            .await
            .unwrap()
            .iter()
            .any(|q| q.id == d.id)
    );
    // Bad input.
    assert_eq!(
        app.receive_dossier(&officer, reception(hac_thanh, "9.999999", vec![]))
            .await
            .unwrap_err()
            .code,
        "procedure_not_in_force"
    );
    let mut r = reception(hac_thanh, "9.000004", provided(&["TP9"]));
    r.subject = String::new();
    assert_eq!(
        app.receive_dossier(&officer, r).await.unwrap_err().code,
        "unknown_component"
    );
    let specialist = actor(&app, "congchuc.hacthanh").await;
    assert_eq!(
        app.receive_dossier(&specialist, reception(hac_thanh, "9.000004", vec![]))
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );
});

both!(codes_are_gapless_under_concurrency, |db| {
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let mut tasks = Vec::new();
    // More receipts at once than the pool has connections.
    for _ in 0..40 {
        let (app, officer) = (app.clone(), officer.clone());
        tasks.push(tokio::spawn(async move {
            app.receive_dossier(
                &officer,
                reception(hac_thanh, "2.000815", provided(&["TP1", "TP2"])),
            )
            .await
            .unwrap()
            .dossier
            .code
        }));
    }
    let mut seqs: Vec<u32> = Vec::new();
    for t in tasks {
        let code = t.await.unwrap();
        seqs.push(code.rsplit('-').next().unwrap().parse().unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>(), "no gaps, no duplicates");
});

// A receipt keeps what it reads of the catalogue in memory; every change to procedures,
// processes or agencies, through the use cases or straight in SQL, reaches the next receipt.
both!(a_receipt_sees_every_catalogue_change, |db| {
    use egov_store::Exec;
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(egov_domain::VN_OFFSET)
        .date();
    let yesterday = today.previous_day().unwrap();
    let receive = || app.receive_dossier(&officer, reception(hac_thanh, "9.000004", vec![]));
    let first = receive().await.unwrap().dossier;

    // A new process version from today: the next dossier follows it.
    let row = egov_store::onestop::procedure_in_force(&mut app.db(), "9.000004", today)
        .await
        .unwrap()
        .unwrap();
    let mut process = app.procedure_view(row.id).await.unwrap().process.unwrap();
    process.version += 1;
    process.effective_from = today;
    let new_process = app.add_process(&crate::system(), &process).await.unwrap();
    assert_ne!(new_process, first.process_id);
    assert_eq!(receive().await.unwrap().dossier.process_id, new_process);

    // The receiving commune closed in SQL, behind the application's back: refused.
    let mut ex = app.db();
    ex.execute(
        "UPDATE agencies SET valid_to = $1 WHERE id = $2",
        egov_store::args![yesterday, hac_thanh],
    )
    .await
    .unwrap();
    assert_eq!(receive().await.unwrap_err().code, "agency_not_current");
    ex.execute(
        "UPDATE agencies SET valid_to = NULL WHERE id = $1",
        egov_store::args![hac_thanh],
    )
    .await
    .unwrap();
    assert_eq!(receive().await.unwrap().dossier.process_id, new_process);

    // The procedure withdrawn: no longer received.
    ex.execute(
        "UPDATE procedures SET effective_to = $1 WHERE code = '9.000004'",
        egov_store::args![yesterday],
    )
    .await
    .unwrap();
    assert_eq!(receive().await.unwrap_err().code, "procedure_not_in_force");
});

both!(the_code_format_is_configurable, |db| {
    let mut settings = egov_app::Settings {
        data_dir: std::env::temp_dir().join(format!("egov-app-test-{}", std::process::id())),
        ..Default::default()
    };
    settings.onestop.code_format = "{agency}/{yyyymmdd}/{seq:6}".into();
    let app = egov_app::App::with_db(db, settings);
    app.seed_demo().await.unwrap();
    let hac_thanh = app
        .committee_by_unit(Structure::TwoTier, "14797")
        .await
        .unwrap();
    let officer = actor(&app, "motcua.hacthanh").await;
    let d = app
        .receive_dossier(
            &officer,
            reception(hac_thanh, "2.000815", provided(&["TP1", "TP2"])),
        )
        .await
        .unwrap()
        .dossier;
    let parts: Vec<&str> = d.code.split('/').collect();
    let day = d.submitted_at.to_offset(egov_domain::VN_OFFSET).date();
    let ymd = format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    assert_eq!(parts.len(), 3, "{}", d.code);
    assert_eq!((parts[1], parts[2]), (ymd.as_str(), "000001"), "{}", d.code);
    assert!(parts[0].contains('.'), "the agency identifier: {}", d.code);
});

both!(public_lookup_statistics_and_register, |db| {
    use egov_app::onestop::public::LookupQuery;
    use egov_store::Exec;
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let d = app
        .receive_dossier(
            &officer,
            reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"])),
        )
        .await
        .unwrap()
        .dossier;
    let mut online = reception(hac_thanh, "2.000815", provided(&["TP1", "TP2"]));
    online.channel = Some("online".into());
    app.receive_dossier(&officer, online).await.unwrap();

    // The code with the phone number (any spelling), or the personal number.
    let by_phone = LookupQuery {
        code: Some(d.code.clone()),
        phone: Some("+84 912 345 678".into()),
        ..Default::default()
    };
    let s = app.public_lookup(&by_phone, "10.0.0.1").await.unwrap();
    assert_eq!((s.national_status, s.applicant.as_str()), (2, "L. T. Hồng"));
    assert_eq!(s.appointment, d.appointment);
    assert_eq!(
        s.collect_at, "Trung tâm Phục vụ hành chính công phường Hạc Thành",
        "where to collect the result"
    );
    // The code as a citizen types it: lower case, spaces around.
    let by_pid = LookupQuery {
        code: Some(format!("  {}  ", d.code.to_lowercase())),
        personal_number: Some("038185001234".into()),
        ..Default::default()
    };
    assert_eq!(
        app.public_lookup(&by_pid, "10.0.0.1").await.unwrap().code,
        d.code
    );
    // A wrong phone number looks exactly like an unknown code.
    let wrong = LookupQuery {
        phone: Some("0900000000".into()),
        ..by_phone.clone()
    };
    let e1 = app.public_lookup(&wrong, "10.0.0.2").await.unwrap_err();
    let unknown = LookupQuery {
        code: Some(format!("{}9", d.code)),
        ..by_phone.clone()
    };
    let e2 = app.public_lookup(&unknown, "10.0.0.2").await.unwrap_err();
    assert_eq!((e1.code, e1.message), (e2.code, e2.message));
    assert_eq!(
        app.public_lookup(
            &LookupQuery {
                code: Some(d.code.clone()),
                ..Default::default()
            },
            "10.0.0.2"
        )
        .await
        .unwrap_err()
        .code,
        "lookup_incomplete"
    );
    // Guessing the phone number of one code is cut off, from any address; the right one too.
    let mut last = String::new();
    for i in 0..10 {
        let mut g = wrong.clone();
        g.phone = Some(format!("09000000{i:02}"));
        last = app
            .public_lookup(&g, &format!("10.1.0.{i}"))
            .await
            .unwrap_err()
            .code
            .as_str()
            .to_owned();
    }
    assert_eq!(last, "too_many_lookups_for_code");
    assert_eq!(
        app.public_lookup(&by_phone, "10.9.9.9")
            .await
            .unwrap_err()
            .code,
        "too_many_lookups_for_code"
    );
    // Refused tries are not failures: they do not keep the code closed.
    let failures: i64 = (app.db())
        .scalar(
            "SELECT COUNT(*) FROM lookup_attempts WHERE key = $1",
            egov_store::args![format!("fail:{}", d.code.to_uppercase())],
        )
        .await
        .unwrap();
    assert_eq!(failures, 8);
    // One address is limited whatever it asks for.
    let mut from_one = String::new();
    for _ in 0..25 {
        if let Err(e) = app.public_lookup(&unknown, "10.7.7.7").await {
            from_one = e.code.as_str().to_owned();
        }
    }
    assert_eq!(from_one, "too_many_lookups");
    // The QR token works alone; a reader sees only initials. Successful look-ups are audited.
    let token: String = (app.db())
        .scalar(
            "SELECT lookup_token FROM dossiers WHERE id = $1",
            egov_store::args![d.id],
        )
        .await
        .unwrap();
    assert!(token.len() >= 20, "unguessable: {token}");
    let by_qr = LookupQuery {
        token: Some(token),
        ..Default::default()
    };
    // The QR code is never closed by the code's failures, however often it is used.
    for i in 0..12 {
        assert_eq!(
            app.public_lookup(&by_qr, &format!("10.0.3.{i}"))
                .await
                .unwrap()
                .code,
            d.code
        );
    }
    let audited: i64 = (app.db())
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'dossier.public_lookup'",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(audited, 14);

    // Statistics of the month: two received, one online; the register masks phone numbers.
    let month = d.month.clone();
    let st = app
        .monthly_stats(&officer, hac_thanh, &month)
        .await
        .unwrap();
    assert_eq!(
        (st.total.received, st.total.online, st.total.counter),
        (2, 1, 1)
    );
    assert_eq!(st.total.online_rate, 50.0);
    assert_eq!(st.procedures.len(), 2);
    assert_eq!(
        app.monthly_stats(&officer, hac_thanh, "2026-13")
            .await
            .unwrap_err()
            .code,
        "bad_month"
    );
    let other = actor(&app, "chuyenvien.snv").await;
    assert_eq!(
        app.monthly_stats(&other, hac_thanh, &month)
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );
    let now = egov_store::now();
    let reg = app
        .tracking_register(
            &officer,
            hac_thanh,
            now - time::Duration::days(1),
            now + time::Duration::days(1),
            100,
            0,
        )
        .await
        .unwrap();
    assert_eq!(reg.len(), 2);
    assert!(
        reg.iter()
            .all(|r| r.applicant_phone.as_deref() == Some("*******678"))
    );
});

/// A small PDF of the test's own.
fn tiny_pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {tag}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").into_bytes()
}

both!(a_hash_grants_nothing_whoever_names_it, |db| {
    let (app, hac_thanh, officer) = at_hac_thanh(db).await;
    let clerk = actor(&app, "vanthu.snv").await;
    let snv = crate::documents::agency_of(&app, "vanthu.snv").await;
    // Another agency's records clerk stores a file; the ward's officer stores one of their own.
    let foreign = app
        .store_scan(
            &clerk,
            "noi-bo.pdf",
            Some("application/pdf"),
            tiny_pdf("draft of the department"),
        )
        .await
        .unwrap()
        .sha256;
    let own = app
        .store_scan(
            &officer,
            "cccd.pdf",
            Some("application/pdf"),
            tiny_pdf("citizen's id card"),
        )
        .await
        .unwrap()
        .sha256;
    let with_scan = |sha: &str| {
        let mut c = provided(&["TP1", "GTTT"]);
        c[0].scan = Some(sha.to_owned());
        reception(hac_thanh, "9.000004", c)
    };
    // Another person's hash, a hash of nothing and a string that is no hash get one answer.
    let answer = |e: egov_app::AppError| (e.code, e.message, e.args);
    let unknown = answer(
        app.receive_dossier(&officer, with_scan(&"ab".repeat(32)))
            .await
            .unwrap_err(),
    );
    assert_eq!(unknown.0, "unknown_scan");
    for bad in [foreign.as_str(), "../../etc/passwd", "not a hash"] {
        let e = app
            .receive_dossier(&officer, with_scan(bad))
            .await
            .unwrap_err();
        assert_eq!(answer(e), unknown, "{bad}");
    }
    // One's own upload is accepted, and served through the dossier.
    let d = app
        .receive_dossier(&officer, with_scan(&own))
        .await
        .unwrap()
        .dossier;
    let (bytes, _) = app.component_scan(&officer, d.id, "TP1").await.unwrap();
    assert_eq!(bytes, tiny_pdf("citizen's id card"));
    // Naming someone else's file when a supplement arrives is refused the same way; a scan
    // already on the dossier may be named again.
    let pending = app
        .receive_dossier(&officer, reception(hac_thanh, "9.000004", vec![]))
        .await
        .unwrap()
        .dossier;
    let mut sp = act("supplement_provided", pending.version);
    sp.components = provided(&["TP1", "GTTT"]);
    sp.components[0].scan = Some(foreign.clone());
    let e = app
        .act_on_dossier(&officer, pending.id, sp.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, "unknown_scan");
    sp.components[0].scan = Some("x".into());
    assert_eq!(
        app.act_on_dossier(&officer, pending.id, sp)
            .await
            .unwrap_err()
            .code,
        "unknown_scan"
    );
    // The clerk cannot register an incoming document with the officer's scan either.
    let e = app
        .register_paper_incoming(
            &clerk,
            egov_app::documents::incoming::PaperInCmd {
                agency_id: snv,
                issuer_name: "Bộ Nội vụ".into(),
                issuer_code: None,
                notation: "12/BNV-TCBC".into(),
                issued_on: None,
                kind: None,
                subject: "Về việc thử".into(),
                urgency: None,
                secrecy: None,
                scan: Some(own.clone()),
                arrived_at: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "unknown_scan");
});

both!(
    an_applicant_is_read_only_through_a_dossier_and_every_read_is_logged,
    |db| {
        use egov_app::applicants::AccessPurpose;
        let (app, hac_thanh, officer) = at_hac_thanh(db).await;
        let stranger = actor(&app, "vanthu.snv").await;
        let d = app
            .receive_dossier(
                &officer,
                reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"])),
            )
            .await
            .unwrap()
            .dossier;
        let through = AccessPurpose::Dossier { dossier_id: d.id };
        // The officer of the dossier's agency reads the record for the dossier.
        let a = app
            .applicant(&officer, d.applicant_id, &through)
            .await
            .unwrap();
        assert_eq!(a.identifier, "038185001234");
        // Another agency's front desk: the same answer as for an id that does not exist.
        let missing = app
            .applicant(&officer, d.applicant_id + 1000, &through)
            .await
            .unwrap_err();
        assert_eq!(missing.code, "not_found");
        for (who, purpose) in [
            (&stranger, through.clone()),
            (&officer, AccessPurpose::Receipt),
            (&stranger, AccessPurpose::Receipt),
        ] {
            let e = app
                .applicant(who, d.applicant_id, &purpose)
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message), (missing.code, missing.message.clone()));
        }
        // Another dossier's id does not open this applicant.
        let other = app
            .receive_dossier(
                &officer,
                Reception {
                    applicant: ApplicantRef {
                        id: None,
                        new: Some(NewApplicantCmd {
                            identifier: "038190004321".into(),
                            name: "Trần Văn Nam".into(),
                            ..citizen().new.unwrap()
                        }),
                    },
                    ..reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"]))
                },
            )
            .await
            .unwrap()
            .dossier;
        assert_ne!(other.applicant_id, d.applicant_id);
        assert_eq!(
            app.applicant(
                &officer,
                d.applicant_id,
                &AccessPurpose::Dossier {
                    dossier_id: other.id
                }
            )
            .await
            .unwrap_err()
            .code,
            "not_found"
        );
        // A purpose is required and one of a fixed set.
        assert_eq!(
            AccessPurpose::parse(None, Some(d.id)).unwrap_err().code,
            "purpose_required"
        );
        assert_eq!(
            AccessPurpose::parse(Some("tò mò"), None).unwrap_err().code,
            "bad_purpose"
        );
        assert_eq!(
            AccessPurpose::parse(Some("dossier"), None)
                .unwrap_err()
                .code,
            "purpose_object_required"
        );
        // The counter's look-up by the number presented is logged as a receipt.
        app.find_applicant(&officer, "citizen", "038185001234", None)
            .await
            .unwrap()
            .unwrap();
        // The access log of the person, for the administrator: who, why, through what.
        let admin = actor(&app, "admin").await;
        let log = app
            .applicant_access_log(&admin, d.applicant_id, 50)
            .await
            .unwrap();
        let reads: Vec<(&str, &str)> = log
            .iter()
            .filter(|e| e.action.starts_with("applicant.read") || e.action == "applicant.lookup")
            .map(|e| (e.action.as_str(), e.after_json.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(reads.len(), 2, "{reads:?}");
        assert!(reads[0].1.contains("\"receipt\""), "{reads:?}");
        assert!(
            reads[1].1.contains(&format!("\"dossier_id\":{}", d.id)),
            "{reads:?}"
        );
        assert_eq!(
            app.applicant_access_log(&officer, d.applicant_id, 50)
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
    }
);

both!(
    the_counter_lists_deciding_agencies_own_first_then_in_dictionary_order,
    |db| {
        let (app, hac_thanh, _officer) = at_hac_thanh(db).await;
        let counter = egov_store::agencies::get(&mut app.db(), hac_thanh)
            .await
            .unwrap();
        // Certified copies are received anywhere: every commune may decide.
        let view = app.counter_procedure(&counter, "2.000815").await.unwrap();
        let names: Vec<&str> = view.competent.iter().map(|a| a.name.as_str()).collect();
        assert!(names.len() > 100, "{} communes", names.len());
        assert_eq!(names[0], counter.name, "the officer's own agency first");
        let mut sorted = names[1..].to_vec();
        sorted.sort_by_key(|n| egov_domain::text::vi_sort_key(n));
        assert_eq!(names[1..], sorted[..]);
        // Dictionary order, not code points: "xã Đ…" before "xã H…" (in code points Đ comes after
        // every unaccented letter).
        let dd = names
            .iter()
            .position(|n| n.contains("xã Đ"))
            .expect("a xã Đ…");
        let h = names
            .iter()
            .position(|n| n.contains("xã H"))
            .expect("a xã H…");
        assert!(dd < h, "{} before {}", names[dd], names[h]);
    }
);
