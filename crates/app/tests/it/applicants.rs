use egov_app::Actor;
use egov_app::applicants::{AccessPurpose, NewApplicantCmd};

use super::app;

fn citizen(id: &str) -> NewApplicantCmd {
    NewApplicantCmd {
        kind: "citizen".into(),
        identifier: id.into(),
        country: None,
        name: "Lê Thị Hồng".into(),
        birth_date: Some(time::macros::date!(1985 - 03 - 12)),
        phone: Some("0912345678".into()),
        email: None,
        address: Some("Phường Hạc Thành, Thanh Hóa".into()),
    }
}

both!(applicants_are_validated_and_reads_logged, |db| {
    let app = app(db);
    app.seed_demo().await.unwrap();
    let officer = app.actor_by_username("motcua.hacthanh").await.unwrap();

    let a = app
        .register_applicant(&officer, citizen("038185001234"))
        .await
        .unwrap();
    assert_eq!(a.masked_identifier, "*********234");
    let e = app
        .register_applicant(&officer, citizen("038185001234"))
        .await
        .unwrap_err();
    assert_eq!(e.code, "applicant_exists");
    assert!(
        e.args
            .iter()
            .any(|(k, v)| *k == "id" && *v == a.id.to_string())
    );
    // Malformed numbers, a year of birth that contradicts the number, an unknown province.
    assert_eq!(
        app.register_applicant(&officer, citizen("03818500123"))
            .await
            .unwrap_err()
            .code,
        "personal_id_format"
    );
    assert_eq!(
        app.register_applicant(&officer, citizen("038190001234"))
            .await
            .unwrap_err()
            .code,
        "birth_year_mismatch"
    );
    assert_eq!(
        app.register_applicant(&officer, citizen("099185001234"))
            .await
            .unwrap_err()
            .code,
        "personal_id_province"
    );
    let org = NewApplicantCmd {
        kind: "organisation".into(),
        identifier: "0100109107".into(),
        birth_date: None,
        ..citizen("")
    };
    assert_eq!(
        app.register_applicant(&officer, org)
            .await
            .unwrap_err()
            .code,
        "tax_code_check_digit"
    );
    let foreigner = NewApplicantCmd {
        kind: "foreigner".into(),
        identifier: "19AV12345".into(),
        country: Some("FRA".into()),
        birth_date: None,
        ..citizen("")
    };
    assert_eq!(
        app.register_applicant(&officer, foreigner)
            .await
            .unwrap()
            .masked_identifier,
        "**********345"
    );

    // Looking up by the number at the counter gives a masked answer.
    let found = app
        .find_applicant(&officer, "citizen", "038 185 001 234", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, a.id);
    // The full record is logged when read (here by the administrator, who answers a person's
    // requests about their data).
    let admin = egov_store::people::find_by_username(&mut app.db(), "admin")
        .await
        .unwrap()
        .unwrap();
    let full = app
        .applicant(
            &Actor::person(admin.id, "admin"),
            a.id,
            &AccessPurpose::Receipt,
        )
        .await
        .unwrap();
    assert_eq!(full.identifier, "038185001234");
    let log = egov_store::audit::for_object(&mut app.db(), "applicant", &a.id.to_string(), 10)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "applicant.lookup" && e.actor == "motcua.hacthanh")
    );
    assert!(
        log.iter().all(|e| !e
            .after_json
            .as_deref()
            .unwrap_or("")
            .contains("038185001234")),
        "the log keeps no full number"
    );
    // Someone without a front-desk role reads nothing.
    let editor = egov_store::people::find_by_username(&mut app.db(), "bientap.tinh")
        .await
        .unwrap()
        .unwrap();
    let e = app
        .applicant(
            &Actor::person(editor.id, "bientap.tinh"),
            a.id,
            &AccessPurpose::Receipt,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
});
