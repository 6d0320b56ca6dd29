use egov_store::agencies::{self, NewAgency};
use egov_store::org;
use egov_store::people::{self, NewPerson};
use time::Duration;

async fn agency(db: &egov_store::Db, code: &str) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let id = agencies::insert(
        &mut tx,
        &NewAgency {
            code: code.into(),
            code_source: "local",
            name: format!("Sở {code}"),
            short_name: "S".into(),
            kind: egov_domain::org::AgencyKind::Department,
            governance: egov_domain::org::Governance::Head,
            admin_unit_id: None,
            parent_id: None,
            valid_from: None,
            valid_to: None,
        },
        egov_store::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn person(db: &egov_store::Db, username: &str) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let id = people::insert(
        &mut tx,
        &NewPerson {
            username,
            full_name: "Đỗ Hữu Quyết",
            email: None,
            phone: None,
            password_hash: "x",
        },
        egov_store::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

both!(roles_cover_their_agency_only, |db| {
    let a = agency(&db, "000.00.01.H56").await;
    let b = agency(&db, "000.00.02.H56").await;
    let p = person(&db, "quyet").await;
    let now = egov_store::now();
    let mut tx = db.begin().await.unwrap();
    let unit = org::insert_org_unit(
        &mut tx,
        a,
        None,
        "Văn phòng",
        egov_domain::org::OrgUnitKind::Office,
        None,
        now,
    )
    .await
    .unwrap();
    let other_unit = org::insert_org_unit(
        &mut tx,
        a,
        None,
        "Phòng Kế hoạch",
        egov_domain::org::OrgUnitKind::Division,
        None,
        now,
    )
    .await
    .unwrap();
    let g = org::insert_grant(&mut tx, p, "specialist", Some(a), None, now, None, "", now)
        .await
        .unwrap();
    let ul = org::insert_grant(
        &mut tx,
        p,
        "unit_leader",
        Some(a),
        Some(unit),
        now,
        None,
        "",
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let later = now + Duration::seconds(1);
    // An agency-wide role covers the agency and its units.
    assert!(
        org::has_role(&mut &db, p, &["specialist"], Some(a), None, later)
            .await
            .unwrap()
    );
    assert!(
        org::has_role(&mut &db, p, &["specialist"], Some(a), Some(unit), later)
            .await
            .unwrap()
    );
    // Never another agency.
    assert!(
        !org::has_role(&mut &db, p, &["specialist"], Some(b), None, later)
            .await
            .unwrap()
    );
    // A unit role covers its unit, not the agency as a whole nor its other units.
    assert!(
        org::has_role(&mut &db, p, &["unit_leader"], Some(a), Some(unit), later)
            .await
            .unwrap()
    );
    assert!(
        !org::has_role(
            &mut &db,
            p,
            &["unit_leader"],
            Some(a),
            Some(other_unit),
            later
        )
        .await
        .unwrap()
    );
    // Not before the grant started.
    assert!(
        !org::has_role(
            &mut &db,
            p,
            &["specialist"],
            Some(a),
            None,
            now - Duration::seconds(1)
        )
        .await
        .unwrap()
    );

    // Revoking ends the grant; its history stays.
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        org::revoke_grant(&mut tx, g, later, Some(p)).await.unwrap(),
        1
    );
    assert_eq!(
        org::revoke_grant(&mut tx, g, later, Some(p)).await.unwrap(),
        0
    );
    tx.commit().await.unwrap();
    let after = later + Duration::seconds(1);
    assert!(
        !org::has_role(&mut &db, p, &["specialist"], Some(a), None, after)
            .await
            .unwrap()
    );
    assert!(
        org::has_role(
            &mut &db,
            p,
            &["specialist"],
            Some(a),
            None,
            now + Duration::milliseconds(500)
        )
        .await
        .unwrap()
    );
    let all = org::grants_of(&mut &db, p, None).await.unwrap();
    assert_eq!(all.len(), 2);
    let current = org::grants_of(&mut &db, p, Some(after)).await.unwrap();
    assert_eq!(current.iter().map(|g| g.id).collect::<Vec<_>>(), vec![ul]);
    assert_eq!(current[0].org_unit_name.as_deref(), Some("Văn phòng"));

    // A deployment-wide administrator covers every agency.
    let admin = person(&db, "admin").await;
    let mut tx = db.begin().await.unwrap();
    org::insert_grant(
        &mut tx,
        admin,
        "administrator",
        None,
        None,
        now,
        None,
        "",
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        org::has_role(&mut &db, admin, &["administrator"], Some(b), None, later)
            .await
            .unwrap()
    );
    assert!(
        !org::has_role(&mut &db, admin, &["specialist"], Some(b), None, later)
            .await
            .unwrap()
    );
});

both!(postings_and_delegations_keep_history, |db| {
    let a = agency(&db, "000.00.03.H56").await;
    let head = person(&db, "giamdoc").await;
    let deputy = person(&db, "phogiamdoc").await;
    let now = egov_store::now();
    let mut tx = db.begin().await.unwrap();
    for (key, rank, sort) in [("giam_doc", "head", 1), ("pho_giam_doc", "deputy", 2)] {
        org::upsert_position(
            &mut tx,
            &org::Position {
                key: key.into(),
                name_vi: key.into(),
                name_en: key.into(),
                rank: rank.into(),
                sort,
            },
        )
        .await
        .unwrap();
    }
    org::insert_posting(&mut tx, head, a, None, "giam_doc", false, now, None, now)
        .await
        .unwrap();
    org::insert_posting(
        &mut tx,
        deputy,
        a,
        None,
        "pho_giam_doc",
        false,
        now,
        None,
        now,
    )
    .await
    .unwrap();
    let d = org::insert_delegation(
        &mut tx,
        &org::NewDelegation {
            agency_id: a,
            kind: "authorised",
            delegator_id: head,
            delegate_id: deputy,
            valid_from: now,
            valid_to: now + Duration::days(7),
            scope: "ký văn bản đất đai",
            reference: "15/GUQ-SNV",
            created_by: Some(head),
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let at = now + Duration::seconds(1);
    let in_force = org::postings_in(&mut &db, a, at).await.unwrap();
    assert_eq!(in_force.len(), 2);
    assert_eq!(in_force[0].rank, "head");
    let dl = org::delegations_in(&mut &db, a).await.unwrap();
    assert_eq!(dl.len(), 1);
    assert_eq!(dl[0].delegate_name, "Đỗ Hữu Quyết");

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        org::end_postings(&mut tx, deputy, at, Some(head))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        org::revoke_delegation(&mut tx, d, at, Some(head))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        org::revoke_delegation(&mut tx, d, at, Some(head))
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert_eq!(
        org::postings_in(&mut &db, a, at + Duration::seconds(1))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        org::postings_of(&mut &db, deputy, None)
            .await
            .unwrap()
            .len(),
        1,
        "history kept"
    );
    assert!(org::delegations_in(&mut &db, a).await.unwrap().is_empty());
    let hist = org::delegations_of(&mut &db, deputy).await.unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].valid_to, egov_store::db_time(at));
    assert!(hist[0].revoked_at.is_some());
});

both!(sessions_and_lockout, |db| {
    let p = person(&db, "vanthu").await;
    let now = egov_store::now();
    let mut tx = db.begin().await.unwrap();
    people::insert_session(
        &mut tx,
        "h1",
        p,
        "csrf",
        false,
        now,
        now + Duration::hours(8),
        "127.0.0.1",
        "t",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let s = people::session(&mut &db, "h1", now).await.unwrap().unwrap();
    assert!(!s.mfa_passed);
    people::pass_mfa(&mut &db, "h1").await.unwrap();
    assert!(
        people::session(&mut &db, "h1", now)
            .await
            .unwrap()
            .unwrap()
            .mfa_passed
    );
    assert!(
        people::session(&mut &db, "h1", now + Duration::hours(9))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        people::purge_expired_sessions(&mut &db, now + Duration::hours(9))
            .await
            .unwrap(),
        1
    );

    let lock = now + Duration::minutes(15);
    for i in 1..=4 {
        assert_eq!(
            people::record_failed_login(&mut &db, p, 5, lock)
                .await
                .unwrap(),
            i
        );
    }
    assert!(
        people::credentials(&mut &db, "vanthu")
            .await
            .unwrap()
            .unwrap()
            .locked_until
            .is_none()
    );
    assert_eq!(
        people::record_failed_login(&mut &db, p, 5, lock)
            .await
            .unwrap(),
        5
    );
    let c = people::credentials(&mut &db, "vanthu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.locked_until, Some(egov_store::db_time(lock)));
    people::reset_failed_logins(&mut &db, p).await.unwrap();
    let c = people::credentials(&mut &db, "vanthu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.failed_logins, c.locked_until), (0, None));

    let found = people::search(
        &mut &db,
        &egov_domain::text::query_words("do huu"),
        None,
        10,
        0,
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        people::search(&mut &db, &[], Some(&[]), 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
});
