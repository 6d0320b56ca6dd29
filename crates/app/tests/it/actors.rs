//! Citizens and integrations: who may submit a dossier, who sees it, and what they may not do.

use egov_app::views::AsView;
use egov_app::{Actor, Integration, Verification};
use egov_domain::events::EventKind;

use super::events::dossier_events;
use super::onestop::{act, at_hac_thanh, provided, reception};

both!(
    a_dossier_is_submitted_online_then_received_by_an_officer,
    |db| {
        let (app, hac_thanh, officer) = at_hac_thanh(db).await;
        let portal = Actor::integration(Integration::NationalPortal);

        // From the National Public Service Portal: submitted (national status 1), no appointment.
        let out = app
            .submit_dossier(
                &portal,
                reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"])),
            )
            .await
            .unwrap();
        assert_eq!(out.outcome, "submitted");
        let d = out.dossier;
        assert_eq!(
            (d.state.as_str(), d.national_status, d.channel.code()),
            ("submitted", 1, 2)
        );
        assert_eq!((d.appointment, d.received_at), (None, None));
        assert_eq!(d.step_role.as_deref(), Some("one_stop_officer"));
        assert_eq!(
            d,
            egov_store::onestop::get_dossier(&mut app.db(), d.id)
                .await
                .unwrap()
                .into_view(),
            "the answer is the row written"
        );
        assert_eq!(
            dossier_events(&app, d.id).await,
            [(1, EventKind::DossierSubmitted)]
        );

        // Only the counter receives it; then the appointment counts from its submission.
        let citizen = Actor::citizen(d.applicant_id, Verification::NationalEid);
        assert_eq!(
            app.act_on_dossier(&citizen, d.id, act("receive", d.version))
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
        let r = app
            .act_on_dossier(&officer, d.id, act("receive", d.version))
            .await
            .unwrap();
        assert_eq!((r.state.as_str(), r.national_status), ("received", 2));
        assert_eq!(r.received_at, Some(d.submitted_at));
        assert!(r.appointment.unwrap() > d.submitted_at);
        assert_eq!(
            dossier_events(&app, d.id).await,
            [
                (1, EventKind::DossierSubmitted),
                (2, EventKind::DossierReceived),
                (3, EventKind::StatusChanged)
            ]
        );

        // The citizen sees their own dossier, and may not act on it.
        let mine = app.dossier_detail(&citizen, d.id).await.unwrap();
        assert_eq!(mine.dossier.id, d.id);
        assert!(mine.actions.is_empty(), "{:?}", mine.actions);

        // A citizen submits for themselves only, as the applicant they signed in as.
        let mut own = reception(hac_thanh, "9.000004", provided(&["TP1"]));
        own.applicant.new = None;
        let theirs = app.submit_dossier(&citizen, own).await.unwrap().dossier;
        assert_eq!(
            (theirs.applicant_id, theirs.state.as_str()),
            (d.applicant_id, "submitted")
        );
        let someone_else = app
            .receive_dossier(&officer, {
                let mut r = reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"]));
                let new = r.applicant.new.as_mut().unwrap();
                new.identifier = "038185009876".into();
                new.name = "Trần Văn Bình".into();
                r
            })
            .await
            .unwrap()
            .dossier;
        assert_ne!(someone_else.applicant_id, d.applicant_id);
        let mut for_other = reception(hac_thanh, "9.000004", provided(&["TP1"]));
        for_other.applicant.new = None;
        for_other.applicant.id = Some(someone_else.applicant_id);
        assert_eq!(
            app.submit_dossier(&citizen, for_other)
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
        assert_eq!(
            app.submit_dossier(&citizen, reception(hac_thanh, "9.000004", vec![]))
                .await
                .unwrap_err()
                .code,
            "forbidden",
            "a citizen does not register somebody new"
        );
        // … and sees nobody else's dossier, as if it did not exist.
        assert_eq!(
            app.dossier_detail(&citizen, someone_else.id)
                .await
                .unwrap_err()
                .code,
            "not_found"
        );

        // An officer receives at the counter; submission is for citizens and the portal.
        assert_eq!(
            app.submit_dossier(&officer, reception(hac_thanh, "9.000004", vec![]))
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
        let mut decided = reception(hac_thanh, "9.000004", vec![]);
        decided.decision = Some("refuse".into());
        decided.reasons = Some("Thiếu giấy tờ".into());
        assert_eq!(
            app.submit_dossier(&portal, decided).await.unwrap_err().code,
            "not_for_submission"
        );
        // The portal does not decide, nor read dossiers through the officers' door.
        assert_eq!(
            app.act_on_dossier(&portal, r.id, act("refuse", r.version))
                .await
                .unwrap_err()
                .code,
            "not_found"
        );
        assert_eq!(
            app.dossier_detail(&portal, r.id).await.unwrap_err().code,
            "not_found"
        );
    }
);

both!(an_integration_never_signs_or_seals, |db| {
    let app = crate::app(db);
    app.seed_demo().await.unwrap();
    let snv = crate::documents::agency_of(&app, "chuyenvien.snv").await;
    let drafter = crate::documents::actor(&app, "chuyenvien.snv").await;
    let d = app
        .create_draft(&drafter, crate::documents::draft(snv, "plan", vec![]))
        .await
        .unwrap();
    app.add_document_file(
        &drafter,
        d.id,
        "main",
        "du-thao.pdf",
        Some("application/pdf"),
        crate::documents::pdf(),
    )
    .await
    .unwrap();
    let d = egov_store::documents::get_document(&mut app.db(), d.id)
        .await
        .unwrap();
    let d = app
        .act_on_document(&drafter, d.id, crate::documents::act("submit", d.version))
        .await
        .unwrap();
    let head = crate::documents::actor(&app, "truongphong.snv").await;
    let d = app
        .act_on_document(&head, d.id, crate::documents::act("approve", d.version))
        .await
        .unwrap();
    for who in [
        Actor::integration(Integration::NationalPortal),
        Actor::integration(Integration::DocumentHub),
        Actor::citizen(1, Verification::LocalOtp),
    ] {
        for event in ["sign_off", "issue", "approve"] {
            let e = app
                .act_on_document(&who, d.id, crate::documents::act(event, d.version))
                .await
                .unwrap_err();
            assert!(
                ["forbidden", "not_found"].contains(&e.code.as_str()),
                "{} {event}: {}",
                who.username,
                e.code
            );
        }
        assert_eq!(
            app.create_draft(&who, crate::documents::draft(snv, "plan", vec![]))
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
    }
    // Nothing changed.
    let after = egov_store::documents::get_document(&mut app.db(), d.id)
        .await
        .unwrap();
    assert_eq!(
        (after.state.as_str(), after.version),
        (d.state.as_str(), d.version)
    );
});
