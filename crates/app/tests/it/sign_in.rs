use egov_app::auth::totp_code;

use super::app;

both!(passwords_lockout_and_totp, |db| {
    let app = app(db);
    let accounts = app.seed_demo().await.unwrap();
    let clerk = accounts
        .iter()
        .find(|a| a.username == "vanthu.snv")
        .unwrap();
    let ok = app
        .sign_in("VANTHU.SNV", &clerk.password, "127.0.0.1", "test")
        .await
        .unwrap();
    assert!(!ok.needs_totp && !ok.needs_totp_setup);
    assert!(ok.session.mfa_passed);
    let s = app.session(&ok.token).await.unwrap().unwrap();
    assert_eq!(s.person.username, "vanthu.snv");
    app.sign_out(&ok.token).await.unwrap();
    assert!(app.session(&ok.token).await.unwrap().is_none());

    assert_eq!(
        app.sign_in("nobody", "x", "127.0.0.1", "t")
            .await
            .unwrap_err()
            .code,
        "sign_in_failed"
    );
    for _ in 0..4 {
        assert_eq!(
            app.sign_in("vanthu.snv", "wrong password", "127.0.0.1", "t")
                .await
                .unwrap_err()
                .code,
            "sign_in_failed"
        );
    }
    assert_eq!(
        app.sign_in("vanthu.snv", "wrong password", "127.0.0.1", "t")
            .await
            .unwrap_err()
            .code,
        "account_locked"
    );
    // Locked: even the right password is refused until the lock ends.
    assert_eq!(
        app.sign_in("vanthu.snv", &clerk.password, "127.0.0.1", "t")
            .await
            .unwrap_err()
            .code,
        "account_locked"
    );

    // The administrator needs the second factor; a code is accepted once.
    let admin = accounts.iter().find(|a| a.username == "admin").unwrap();
    let out = app
        .sign_in("admin", &admin.password, "127.0.0.1", "t")
        .await
        .unwrap();
    assert!(out.needs_totp);
    assert!(!out.session.mfa_passed);
    assert_eq!(
        app.verify_totp(&out.token, "000000")
            .await
            .unwrap_err()
            .code,
        "totp_wrong"
    );
    let code = totp_code(admin.totp_secret.as_deref().unwrap(), egov_store::now()).unwrap();
    app.verify_totp(&out.token, &code).await.unwrap();
    assert!(
        app.session(&out.token)
            .await
            .unwrap()
            .unwrap()
            .session
            .mfa_passed
    );
    let again = app
        .sign_in("admin", &admin.password, "127.0.0.1", "t")
        .await
        .unwrap();
    assert_eq!(
        app.verify_totp(&again.token, &code).await.unwrap_err().code,
        "totp_wrong",
        "no replay"
    );
});

both!(admin_without_totp_must_set_it_up, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let sys = egov_app::Actor::system("t");
    let p = app
        .create_person(
            &sys,
            egov_app::people::NewOfficial {
                username: "qt2".into(),
                full_name: "Quản trị 2".into(),
                email: None,
                phone: None,
                password: "mật khẩu dài đủ".into(),
                agency_id: None,
                org_unit_id: None,
                position_key: None,
            },
        )
        .await
        .unwrap();
    app.grant_role(
        &sys,
        p.id,
        egov_app::org::GrantRole {
            role: "administrator".into(),
            agency_id: None,
            org_unit_id: None,
            reason: String::new(),
        },
    )
    .await
    .unwrap();
    let out = app
        .sign_in("qt2", "mật khẩu dài đủ", "127.0.0.1", "t")
        .await
        .unwrap();
    assert!(out.needs_totp_setup);
    let setup = app.begin_totp_setup(&out.token).await.unwrap();
    assert!(setup.otpauth_url.starts_with("otpauth://totp/"));
    assert_eq!(
        app.confirm_totp_setup(&out.token, "123")
            .await
            .unwrap_err()
            .code,
        "totp_wrong"
    );
    let code = totp_code(&setup.secret, egov_store::now()).unwrap();
    app.confirm_totp_setup(&out.token, &code).await.unwrap();
    assert!(
        app.session(&out.token)
            .await
            .unwrap()
            .unwrap()
            .session
            .mfa_passed
    );
});

both!(
    a_name_that_belongs_to_nobody_is_answered_as_an_account_is_and_every_failure_is_audited,
    |db| {
        use egov_store::Exec;
        let app = app(db);
        let accounts = app.seed_demo().await.unwrap();
        let codes = |name: &'static str| {
            let app = app.clone();
            async move {
                let mut out = Vec::new();
                for _ in 0..7 {
                    let e = app
                        .sign_in(name, "wrong password", "10.2.3.4", "t")
                        .await
                        .unwrap_err();
                    out.push((e.code, e.kind));
                }
                out
            }
        };
        // The same answers, failure by failure, for a real account and a made-up name.
        let real = codes("chuyenvien.snv").await;
        let made_up = codes("khong.ton.tai").await;
        assert_eq!(real, made_up);
        assert_eq!(real[3].0, "sign_in_failed");
        assert_eq!(real[4].0, "account_locked");
        assert_eq!(real[6].0, "account_locked");
        // Every failure is in the audit log, with the address; the typed name is not.
        let count = |action: &'static str| {
            let app = app.clone();
            async move {
                let n: i64 = (app.db())
                    .scalar(
                        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND ip = '10.2.3.4'",
                        egov_store::args![action],
                    )
                    .await
                    .unwrap();
                n
            }
        };
        assert_eq!(count("session.sign_in_failed").await, 8);
        assert_eq!(count("session.locked").await, 2);
        assert_eq!(count("session.sign_in_refused").await, 4);
        let leaked: i64 = (app.db())
            .scalar(
                "SELECT COUNT(*) FROM audit_log WHERE after_json LIKE '%khong.ton.tai%'",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(leaked, 0);
        // A wrong second factor is audited too.
        let admin = accounts.iter().find(|a| a.username == "admin").unwrap();
        let out = app
            .sign_in("admin", &admin.password, "127.0.0.1", "t")
            .await
            .unwrap();
        app.verify_totp(&out.token, "000000").await.unwrap_err();
        let n: i64 = (app.db())
            .scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'session.second_factor_failed'",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
);

both!(a_person_one_may_not_administer_looks_like_nobody, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let find = |u: &'static str| {
        let app = app.clone();
        async move { app.actor_by_username(u).await.unwrap() }
    };
    let officer = find("motcua.hacthanh").await;
    let director = find("giamdoc.snv").await;
    let someone = director.person_id.unwrap();
    let real = app.person_detail(&officer, someone).await.unwrap_err();
    let nobody = app
        .person_detail(&officer, someone + 100_000)
        .await
        .unwrap_err();
    assert_eq!((real.code, real.message), (nobody.code, nobody.message));
    assert_eq!(nobody.code, "not_found");
    // Oneself and one's administrator still read the record.
    app.person_detail(&director, someone).await.unwrap();
    app.person_detail(&find("quantri.snv").await, someone)
        .await
        .unwrap();
});
