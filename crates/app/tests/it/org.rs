use egov_app::Actor;
use egov_app::agencies::NewBody;
use egov_app::people::NewOfficial;

use super::{app, system};

both!(bodies_get_identifiers_from_the_scheme, |db| {
    let app = app(db);
    egov_app::seed::seed_positions(&mut app.db()).await.unwrap();
    app.import_units(
        &system(),
        egov_domain::admin_unit::Structure::TwoTier,
        egov_app::data::UNITS_TWO_TIER,
        Some("38"),
    )
    .await
    .unwrap();
    let pc = egov_store::agencies::find_by_code(&mut app.db(), "000.00.00.H56")
        .await
        .unwrap()
        .unwrap();
    let body = |name: &str, code: Option<&str>| NewBody {
        name: name.into(),
        short_name: "S".into(),
        parent_id: pc.id,
        code: code.map(Into::into),
        valid_from: None,
        succeeds: vec![],
    };
    let a = app
        .create_body(&system(), body("Sở Nội vụ", None))
        .await
        .unwrap();
    assert_eq!(
        (a.code.as_str(), a.code_source.as_str()),
        ("000.00.01.H56", "local")
    );
    let b = app
        .create_body(&system(), body("Sở Tư pháp", Some("000.00.02.H56")))
        .await
        .unwrap();
    assert_eq!(b.code_source, "official");
    let c = app
        .create_body(&system(), body("Sở Y tế", None))
        .await
        .unwrap();
    assert_eq!(c.code, "000.00.03.H56", "the taken slot is skipped");
    let e = app
        .create_body(&system(), body("Sở X", Some("000.00.02.H56")))
        .await
        .unwrap_err();
    assert_eq!(e.code, "identifier_taken");
    let e = app
        .create_body(&system(), body("Sở X", Some("000.00.2.H56")))
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_agency_code");
    let e = app
        .create_body(&system(), body("", None))
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_agency_name");

    // People: validation, and an agency administrator must place them in their agency.
    let admin = app
        .create_person(
            &system(),
            NewOfficial {
                username: "qtsnv".into(),
                full_name: "Quản trị".into(),
                email: None,
                phone: None,
                password: "mật khẩu dài đủ".into(),
                agency_id: Some(a.id),
                org_unit_id: None,
                position_key: None,
            },
        )
        .await
        .unwrap();
    app.grant_role(
        &system(),
        admin.id,
        egov_app::org::GrantRole {
            role: "administrator".into(),
            agency_id: Some(a.id),
            org_unit_id: None,
            reason: String::new(),
        },
    )
    .await
    .unwrap();
    let qt = Actor::person(admin.id, "qtsnv");
    let mk = |u: &str, agency: Option<i64>| NewOfficial {
        username: u.into(),
        full_name: "Người Mới".into(),
        email: Some("a@b.vn".into()),
        phone: Some("0912345678".into()),
        password: "mật khẩu dài đủ".into(),
        agency_id: agency,
        org_unit_id: None,
        position_key: Some("chuyen_vien".into()),
    };
    assert_eq!(
        app.create_person(&qt, mk("nguoimoi", None))
            .await
            .unwrap_err()
            .code,
        "agency_required"
    );
    assert_eq!(
        app.create_person(&qt, mk("nguoimoi", Some(b.id)))
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );
    app.create_person(&qt, mk("nguoimoi", Some(a.id)))
        .await
        .unwrap();
    assert_eq!(
        app.create_person(&qt, mk("NguoiMoi", Some(a.id)))
            .await
            .unwrap_err()
            .code,
        "username_taken"
    );
    assert_eq!(
        app.create_person(&qt, mk("x", Some(a.id)))
            .await
            .unwrap_err()
            .code,
        "bad_username"
    );
    let mut short = mk("khac", Some(a.id));
    short.password = "short".into();
    assert_eq!(
        app.create_person(&qt, short).await.unwrap_err().code,
        "password_too_short"
    );
    let mut phone = mk("khac", Some(a.id));
    phone.phone = Some("abc".into());
    assert_eq!(
        app.create_person(&qt, phone).await.unwrap_err().code,
        "bad_phone"
    );
    assert!(
        egov_store::people::find_by_username(&mut app.db(), "khac")
            .await
            .unwrap()
            .is_none()
    );
});
