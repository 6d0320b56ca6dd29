use egov_app::Actor;
use egov_app::calendar::{DaySpec, DeadlineRequest, LimitSpec};
use egov_domain::calendar::{Limit, OfficeHours, Pause};
use time::macros::{date, datetime};

use super::{app, system};

fn wd(received: time::OffsetDateTime, days: f64) -> DeadlineRequest {
    DeadlineRequest {
        received,
        limit: LimitSpec {
            working_days: Some(days),
            ..Default::default()
        },
        pauses: vec![],
        agency_id: None,
    }
}

both!(seeded_calendar_and_confirmation, |db| {
    let app = app(db);
    // 2026: every day in the data has its notice cited, so it is seeded confirmed; every
    // holiday appears as itself, also on a Sunday, beside its compensatory day.
    let y2026 = app.calendar_year(2026).await.unwrap();
    assert_eq!(y2026.status, "confirmed");
    assert_eq!(y2026.tet, Some(date!(2026 - 02 - 17)));
    let kind_of = |d: time::Date| {
        y2026
            .days
            .iter()
            .find(|x| x.date == d)
            .map(|x| x.kind.as_str())
    };
    assert_eq!(kind_of(date!(2026 - 04 - 26)), Some("holiday"));
    assert_eq!(kind_of(date!(2026 - 04 - 27)), Some("compensatory_day_off"));
    // 24 November is only reported: it stays a proposal of the rules, not a day of 2026.
    assert_eq!(kind_of(date!(2026 - 11 - 24)), None);
    let y2027 = app.calendar_year(2027).await.unwrap();
    assert_eq!(y2027.status, "proposed");
    assert!(
        y2027
            .days
            .iter()
            .any(|d| d.date == date!(2027 - 11 - 24) && !d.confirmed)
    );
    let d = app
        .compute_deadline(&wd(datetime!(2026-02-12 09:00 +7), 5.0))
        .await
        .unwrap();
    assert_eq!(d.due_local, "2026-02-26 17:00");
    assert!(d.provisional_years.is_empty() && d.warnings.is_empty());
    // 2025's adjacent National Day is reported without a notice: that year awaits confirmation.
    let y2025 = app.calendar_year(2025).await.unwrap();
    assert_eq!(y2025.status, "draft");
    let d = app
        .compute_deadline(&wd(datetime!(2025-08-28 09:00 +7), 5.0))
        .await
        .unwrap();
    assert_eq!(d.provisional_years, vec![2025]);
    assert!(d.warnings[0].contains("2025"));

    // A year with nothing stored is proposed from the rules, and said to be.
    let y2028 = app.calendar_year(2028).await.unwrap();
    assert_eq!(y2028.status, "proposed");
    assert!(
        y2028.days.iter().any(|d| d.date == date!(2028 - 04 - 04)),
        "Hùng Kings 2028 is 4 April"
    );
    assert_eq!(
        app.compute_deadline(&wd(datetime!(2028-03-01 09:00 +7), 2.0))
            .await
            .unwrap()
            .provisional_years,
        vec![2028]
    );

    // Only the system administrator changes the calendar.
    let p = egov_store::people::find_by_username(&mut app.db(), "nobody")
        .await
        .unwrap();
    assert!(p.is_none());
    let stranger = Actor::person(424242, "stranger");
    assert_eq!(
        app.confirm_calendar_year(&stranger, 2025)
            .await
            .unwrap_err()
            .code,
        "forbidden"
    );

    let (confirmed, moved) = app.confirm_calendar_year(&system(), 2025).await.unwrap();
    assert_eq!((confirmed.status.as_str(), moved), ("confirmed", 0));
    assert!(confirmed.days.iter().all(|d| d.confirmed));
    let d = app
        .compute_deadline(&wd(datetime!(2025-08-28 09:00 +7), 5.0))
        .await
        .unwrap();
    assert!(d.provisional_years.is_empty() && d.warnings.is_empty());
    let log = egov_store::audit::for_object(&mut app.db(), "calendar_year", "2025", 10)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == "calendar.year_confirmed"));
});

both!(edits_are_validated_and_move_step_deadlines, |db| {
    let app = app(db);
    app.confirm_calendar_year(&system(), 2026).await.unwrap();
    // A step deadline and an appointment, both due in early March.
    let step = app
        .register_deadline(
            &mut app.db(),
            "dossier",
            "D-1",
            "thẩm định",
            "step",
            None,
            datetime!(2026-03-02 09:00 +7),
            Limit::working_days(5),
            &[],
        )
        .await
        .unwrap();
    let appt = app
        .register_deadline(
            &mut app.db(),
            "dossier",
            "D-1",
            "hẹn trả",
            "appointment",
            None,
            datetime!(2026-03-02 09:00 +7),
            Limit::working_days(5),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(step.due, datetime!(2026-03-09 17:00 +7));

    // A make-up working day must be a weekend day; nothing is written when it is not.
    let e = app
        .set_calendar_day(
            &system(),
            date!(2026 - 03 - 04),
            &DaySpec {
                kind: "makeup_workday".into(),
                name: "Làm bù".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "makeup_not_weekend");
    let e = app
        .set_calendar_day(
            &system(),
            date!(2026 - 03 - 04),
            &DaySpec {
                kind: "party".into(),
                name: "x".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "bad_day_kind");
    assert!(
        !app.calendar_year(2026)
            .await
            .unwrap()
            .days
            .iter()
            .any(|d| d.date == date!(2026 - 03 - 04))
    );

    // An extra day off in a confirmed year moves the step deadline, never the appointment.
    let v = app
        .set_calendar_day(
            &system(),
            date!(2026 - 03 - 04),
            &DaySpec {
                kind: "holiday".into(),
                name: "Nghỉ đột xuất".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(v.status, "confirmed");
    let reviews = app.deadline_reviews(&system()).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        (reviews[0].deadline_id, reviews[0].new_due),
        (step.id, datetime!(2026-03-10 17:00 +7))
    );
    let appt_now = egov_store::calendar::get_deadline(&mut app.db(), appt.id)
        .await
        .unwrap();
    assert_eq!(
        appt_now.due, appt.due,
        "the appointment on the receipt is a promise"
    );
    assert_eq!(
        app.compute_deadline(&wd(datetime!(2026-03-02 09:00 +7), 5.0))
            .await
            .unwrap()
            .due_local,
        "2026-03-10 17:00"
    );

    // Removing it again restores the computation.
    app.remove_calendar_day(&system(), date!(2026 - 03 - 04))
        .await
        .unwrap();
    assert_eq!(
        app.compute_deadline(&wd(datetime!(2026-03-02 09:00 +7), 5.0))
            .await
            .unwrap()
            .due_local,
        "2026-03-09 17:00"
    );
    assert_eq!(
        app.remove_calendar_day(&system(), date!(2026 - 03 - 04))
            .await
            .unwrap_err()
            .code,
        "not_found"
    );

    // Pauses: bad ones are refused.
    let mut req = wd(datetime!(2026-03-02 09:00 +7), 5.0);
    req.pauses = vec![Pause {
        from: datetime!(2026-03-05 10:00 +7),
        to: datetime!(2026-03-04 10:00 +7),
    }];
    assert_eq!(
        app.compute_deadline(&req).await.unwrap_err().code,
        "pause_ends_before_start"
    );
    req.pauses = vec![
        Pause {
            from: datetime!(2026-03-04 10:00 +7),
            to: datetime!(2026-03-06 10:00 +7),
        },
        Pause {
            from: datetime!(2026-03-05 10:00 +7),
            to: datetime!(2026-03-09 10:00 +7),
        },
    ];
    assert_eq!(
        app.compute_deadline(&req).await.unwrap_err().code,
        "pauses_overlap"
    );
    req.pauses.pop();
    assert_eq!(
        app.compute_deadline(&req).await.unwrap().due_local,
        "2026-03-11 17:00"
    );
});

both!(rules_and_office_hours_are_data, |db| {
    let app = app(db);
    let mut rules = app.holiday_rules().await.unwrap();
    rules.rules.push(egov_domain::calendar::HolidayRule {
        name: "Ngày Thử nghiệm".into(),
        date: egov_domain::calendar::RuleDate::Solar { month: 3, day: 10 },
        offset: 0,
        days: 1,
        adjacent: None,
        from: None,
        to: None,
        confirmed: true,
    });
    app.set_holiday_rules(&system(), &rules).await.unwrap();
    assert!(
        app.calendar_year(2030)
            .await
            .unwrap()
            .days
            .iter()
            .any(|d| d.name == "Ngày Thử nghiệm")
    );
    let mut bad = rules.clone();
    bad.rules[0].days = 0;
    assert_eq!(
        app.set_holiday_rules(&system(), &bad)
            .await
            .unwrap_err()
            .code,
        "bad_rules"
    );

    // An agency with its own hours: 8:00–12:00 and 13:00–17:00.
    app.seed_demo().await.unwrap();
    let hac_thanh = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let day = OfficeHours::parse_periods("08:00-12:00,13:00-17:00").unwrap();
    let hours = OfficeHours {
        working: OfficeHours::weekdays(day),
        ..OfficeHours::default()
    };
    app.set_office_hours(&system(), Some(hac_thanh), Some(&hours))
        .await
        .unwrap();
    let mut req = DeadlineRequest {
        received: datetime!(2026-03-02 10:00 +7),
        limit: LimitSpec {
            working_hours: Some(8.0),
            ..Default::default()
        },
        pauses: vec![],
        agency_id: Some(hac_thanh),
    };
    assert_eq!(
        app.compute_deadline(&req).await.unwrap().due_local,
        "2026-03-03 10:00"
    );
    req.agency_id = None;
    assert_eq!(
        app.compute_deadline(&req).await.unwrap().due_local,
        "2026-03-03 10:30"
    );
    let bad = OfficeHours {
        working: Default::default(),
        ..OfficeHours::default()
    };
    assert_eq!(
        app.set_office_hours(&system(), Some(hac_thanh), Some(&bad))
            .await
            .unwrap_err()
            .code,
        "bad_office_hours"
    );
    // An administrator of another agency cannot set these hours.
    let snv_admin = egov_store::people::find_by_username(&mut app.db(), "quantri.snv")
        .await
        .unwrap()
        .unwrap();
    let e = app
        .set_office_hours(
            &Actor::person(snv_admin.id, "quantri.snv"),
            Some(hac_thanh),
            Some(&hours),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
});
