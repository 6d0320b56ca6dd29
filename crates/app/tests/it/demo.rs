use egov_app::Actor;
use egov_app::org::{GrantRole, NewDelegationCmd, NewOrgUnit, NewPosting, StaffMove};
use time::Duration;

use super::app;

async fn actor_of(app: &egov_app::App, username: &str) -> Actor {
    app.actor_by_username(username).await.unwrap()
}

both!(demo_seeds_and_scopes_permissions, |db| {
    let app = app(db);
    assert!(!app.is_demo_seeded().await.unwrap());
    let accounts = app.seed_demo().await.unwrap();
    assert!(app.is_demo_seeded().await.unwrap());
    assert!(accounts.len() >= 10);
    assert!(
        accounts
            .iter()
            .find(|a| a.username == "admin")
            .unwrap()
            .totp_secret
            .is_some()
    );

    // Departments merged on 1 March 2025 point to their successors.
    let hits = app
        .search_agencies("so ke hoach va dau tu", None, 10, 0)
        .await
        .unwrap();
    let khdt = &hits[0].agency;
    assert_eq!(khdt.valid_to, Some(time::macros::date!(2025 - 02 - 28)));
    let d = app
        .agency_detail(khdt.id, time::macros::date!(2026 - 01 - 01))
        .await
        .unwrap();
    assert!(!d.valid_on_date);
    assert_eq!(d.successors[0].agency.short_name, "STC");

    let snv_admin = actor_of(&app, "quantri.snv").await;
    let specialist = actor_of(&app, "chuyenvien.snv").await;
    let snv = app.search_agencies("so noi vu", None, 5, 0).await.unwrap()[0]
        .agency
        .id;
    let hac_thanh = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();

    // The agency administrator manages their agency, not another.
    app.create_org_unit(
        &snv_admin,
        snv,
        NewOrgUnit {
            name: "Phòng Công chức".into(),
            kind: "division".into(),
            parent_id: None,
        },
    )
    .await
    .unwrap();
    let e = app
        .create_org_unit(
            &snv_admin,
            hac_thanh,
            NewOrgUnit {
                name: "X".into(),
                kind: "division".into(),
                parent_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    // A specialist administers nothing, and sees no one's records but their own.
    let e = app
        .create_org_unit(
            &specialist,
            snv,
            NewOrgUnit {
                name: "Y".into(),
                kind: "division".into(),
                parent_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    assert_eq!(
        app.list_people(&specialist, "", 50, 0)
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );
    let motcua = actor_of(&app, "motcua.hacthanh").await;
    let e = app
        .person_detail(&specialist, motcua.person_id.unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        e.code, "not_found",
        "one may not administer them: they look like nobody"
    );
    assert!(
        app.person_detail(&specialist, specialist.person_id.unwrap())
            .await
            .is_ok()
    );
    // The SNV administrator lists SNV people only.
    let listed = app.list_people(&snv_admin, "", 100, 0).await.unwrap();
    assert!(listed.iter().any(|p| p.username == "chuyenvien.snv"));
    assert!(!listed.iter().any(|p| p.username == "motcua.hacthanh"));
    let e = app
        .person_detail(&snv_admin, motcua.person_id.unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code, "not_found");
    // Reading someone's record leaves a trace.
    app.person_detail(&snv_admin, specialist.person_id.unwrap())
        .await
        .unwrap();
    let reads = egov_store::audit::for_object(
        &mut app.db(),
        "person",
        &specialist.person_id.unwrap().to_string(),
        50,
    )
    .await
    .unwrap();
    assert!(
        reads
            .iter()
            .any(|e| e.action == "person.read" && e.actor == "quantri.snv")
    );

    // Roles in a merged (ended) agency are refused, naming the successor.
    let e = app
        .grant_role(
            &Actor::system("t"),
            specialist.person_id.unwrap(),
            GrantRole {
                role: "specialist".into(),
                agency_id: Some(khdt.id),
                org_unit_id: None,
                reason: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "agency_not_current");
    assert!(
        e.args
            .iter()
            .any(|(k, v)| *k == "successor" && v.contains("Tài chính"))
    );
    let e = app
        .grant_role(
            &snv_admin,
            specialist.person_id.unwrap(),
            GrantRole {
                role: "specialist".into(),
                agency_id: Some(snv),
                org_unit_id: None,
                reason: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "role_already_granted");
    let e = app
        .grant_role(
            &snv_admin,
            specialist.person_id.unwrap(),
            GrantRole {
                role: "root".into(),
                agency_id: Some(snv),
                org_unit_id: None,
                reason: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_role");
});

both!(staff_move_and_delegations, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let sys = Actor::system("t");
    let snv = app.search_agencies("so noi vu", None, 5, 0).await.unwrap()[0]
        .agency
        .id;
    let hac_thanh = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let specialist = actor_of(&app, "chuyenvien.snv").await;
    let sid = specialist.person_id.unwrap();

    // The director's TL. delegation gives the chief of office a signing authority.
    let chief = actor_of(&app, "chanhvanphong.snv").await;
    let now = egov_store::now();
    let auth = app
        .signing_authorities(chief.person_id.unwrap(), now + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        auth.iter().map(|a| a.mark.as_str()).collect::<Vec<_>>(),
        vec!["TL."]
    );
    let director = actor_of(&app, "giamdoc.snv").await;
    let d_auth = app
        .signing_authorities(director.person_id.unwrap(), now)
        .await
        .unwrap();
    assert_eq!(d_auth[0].mark, "");
    let chairman = actor_of(&app, "chutich.tinh").await;
    assert_eq!(
        app.signing_authorities(chairman.person_id.unwrap(), now)
            .await
            .unwrap()[0]
            .mark,
        "TM."
    );
    let deputy = actor_of(&app, "phogiamdoc.snv").await;
    assert_eq!(
        app.signing_authorities(deputy.person_id.unwrap(), now)
            .await
            .unwrap()[0]
            .mark,
        "KT."
    );

    // Overlapping, expired, backwards and non-head delegations are refused.
    let cmd = |from: time::OffsetDateTime, to: time::OffsetDateTime, delegator: &Actor| {
        NewDelegationCmd {
            agency_id: snv,
            kind: "by_order".into(),
            delegator_id: delegator.person_id.unwrap(),
            delegate_id: chief.person_id.unwrap(),
            valid_from: from,
            valid_to: to,
            scope: String::new(),
            reference: String::new(),
        }
    };
    let e = app
        .create_delegation(&director, cmd(now, now + Duration::days(3), &director))
        .await
        .unwrap_err();
    assert_eq!(e.code, "delegation_overlap");
    let e = app
        .create_delegation(
            &director,
            cmd(now - Duration::days(9), now - Duration::days(3), &director),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "delegation_expired");
    let e = app
        .create_delegation(&director, cmd(now + Duration::days(3), now, &director))
        .await
        .unwrap_err();
    assert_eq!(e.code, "delegation_empty_period");
    let e = app
        .create_delegation(&specialist, cmd(now, now + Duration::days(3), &specialist))
        .await
        .unwrap_err();
    assert_eq!(e.code, "delegation_not_head");
    // The director authorises the deputy (TUQ.) for a week; the deputy may not pass it on.
    let mut tuq = cmd(now, now + Duration::days(7), &director);
    tuq.kind = "authorised".into();
    tuq.delegate_id = deputy.person_id.unwrap();
    let given = app.create_delegation(&director, tuq).await.unwrap();
    let marks: Vec<String> = app
        .signing_authorities(deputy.person_id.unwrap(), now + Duration::seconds(5))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.mark)
        .collect();
    assert!(
        marks.contains(&"TUQ.".to_string()) && marks.contains(&"KT.".to_string()),
        "{marks:?}"
    );
    let mut pass_on = cmd(now, now + Duration::days(2), &deputy);
    pass_on.kind = "authorised".into();
    pass_on.delegate_id = sid;
    let e = app.create_delegation(&deputy, pass_on).await.unwrap_err();
    assert_eq!(e.code, "delegation_no_subdelegation");
    let revoked = app.revoke_delegation(&director, given.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        app.revoke_delegation(&director, given.id)
            .await
            .unwrap_err()
            .code,
        "delegation_already_revoked"
    );

    // A staff move ends old postings and roles and starts new ones; history stays.
    let moved = app
        .move_staff(
            &sys,
            sid,
            StaffMove {
                posting: NewPosting {
                    agency_id: hac_thanh,
                    org_unit_id: None,
                    position_key: "cong_chuc".into(),
                    acting: false,
                },
                roles: vec!["specialist".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].agency_id, hac_thanh);
    let later = egov_store::now() + Duration::seconds(1);
    let grants = egov_store::org::grants_of(&mut app.db(), sid, Some(later))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].agency_id, Some(hac_thanh));
    let history = egov_store::org::grants_of(&mut app.db(), sid, None)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .any(|g| g.agency_id == Some(snv) && g.valid_to.is_some())
    );
    // The SNV administrator no longer administers the moved person... nor may move them back.
    let snv_admin = actor_of(&app, "quantri.snv").await;
    let e = app
        .move_staff(
            &snv_admin,
            sid,
            StaffMove {
                posting: NewPosting {
                    agency_id: snv,
                    org_unit_id: None,
                    position_key: "chuyen_vien".into(),
                    acting: false,
                },
                roles: vec![],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    let e = app
        .add_posting(
            &sys,
            sid,
            NewPosting {
                agency_id: hac_thanh,
                org_unit_id: None,
                position_key: "emperor".into(),
                acting: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_position");
});
