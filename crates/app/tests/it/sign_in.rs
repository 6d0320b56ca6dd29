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
