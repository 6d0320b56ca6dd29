use egov_store::agencies::{self, NewAgency};
use egov_store::units::{self, NewUnit};
use time::macros::date;

fn unit(
    structure: &'static str,
    level: &'static str,
    code: &str,
    name: &str,
    parent: Option<&str>,
) -> NewUnit {
    let (from, to) = match structure {
        "three_tier" => (None, Some(date!(2025 - 06 - 30))),
        _ => (Some(date!(2025 - 07 - 01)), None),
    };
    NewUnit {
        structure,
        code: code.into(),
        level,
        name: name.into(),
        division_type: "x".into(),
        parent_code: parent.map(Into::into),
        province_code: "38".into(),
        valid_from: from,
        valid_to: to,
    }
}

both!(same_code_in_two_structures, |db| {
    let mut tx = db.begin().await.unwrap();
    // 00004 was Trúc Bạch before the reform and is Ba Đình after it.
    let rows = vec![
        unit("three_tier", "province", "38", "Tỉnh Thanh Hóa", None),
        unit(
            "three_tier",
            "district",
            "380",
            "Thành phố Thanh Hóa",
            Some("38"),
        ),
        unit(
            "three_tier",
            "commune",
            "00004",
            "Phường Trúc Bạch",
            Some("380"),
        ),
        unit("two_tier", "commune", "00004", "Phường Ba Đình", Some("38")),
        unit("two_tier", "province", "38", "Tỉnh Thanh Hóa", None),
    ];
    units::upsert_units(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
    let old = units::find(&mut &db, "three_tier", "00004")
        .await
        .unwrap()
        .unwrap();
    let new = units::find(&mut &db, "two_tier", "00004")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.name, "Phường Trúc Bạch");
    assert_eq!(new.name, "Phường Ba Đình");
    assert_ne!(old.id, new.id);
    // Parents resolve within the structure, even when the parent row came later in the file.
    let p_old = units::get(&mut &db, old.parent_id.unwrap()).await.unwrap();
    assert_eq!(p_old.code, "380");
    let p_new = units::get(&mut &db, new.parent_id.unwrap()).await.unwrap();
    assert_eq!(
        (p_new.structure.as_str(), p_new.code.as_str()),
        ("two_tier", "38")
    );
    assert_eq!(units::count(&mut &db, "three_tier").await.unwrap(), 3);

    // Importing again updates in place.
    let mut tx = db.begin().await.unwrap();
    let mut again = rows.clone();
    again[2].name = "Phường Trúc Bạch (cũ)".into();
    units::upsert_units(&mut tx, &again).await.unwrap();
    units::link_succession(
        &mut tx,
        units::Lineage::Units,
        old.id,
        new.id,
        egov_domain::admin_unit::SuccessionKind::Merged,
        true,
    )
    .await
    .unwrap();
    units::link_succession(
        &mut tx,
        units::Lineage::Units,
        old.id,
        new.id,
        egov_domain::admin_unit::SuccessionKind::Split,
        false,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(units::count(&mut &db, "three_tier").await.unwrap(), 3);
    assert_eq!(
        units::get(&mut &db, old.id).await.unwrap().name,
        "Phường Trúc Bạch (cũ)"
    );
    let preds = units::predecessors(&mut &db, new.id).await.unwrap();
    assert_eq!(preds.len(), 1);
    assert_eq!(preds[0].unit.id, old.id);
    assert_eq!(preds[0].kind, "split");
    let succ = units::successors(&mut &db, old.id).await.unwrap();
    assert_eq!(succ[0].unit.id, new.id);
    assert_eq!(units::children(&mut &db, p_new.id).await.unwrap().len(), 1);
});

fn agency(
    code: &str,
    name: &str,
    parent: Option<i64>,
    from: Option<time::Date>,
    to: Option<time::Date>,
) -> NewAgency {
    NewAgency {
        code: code.into(),
        code_source: "local",
        name: name.into(),
        short_name: "UBND".into(),
        kind: egov_domain::org::AgencyKind::PeopleCommittee,
        governance: egov_domain::org::Governance::Collective,
        admin_unit_id: None,
        parent_id: parent,
        valid_from: from,
        valid_to: to,
    }
}

both!(agency_tree_as_of_a_date_and_search, |db| {
    let now = egov_store::now();
    let mut tx = db.begin().await.unwrap();
    let p = agencies::insert(
        &mut tx,
        &agency(
            "000.00.00.H56",
            "Ủy ban nhân dân tỉnh Thanh Hóa",
            None,
            None,
            None,
        ),
        now,
    )
    .await
    .unwrap();
    let d = agencies::insert(
        &mut tx,
        &agency(
            "000.00.60.H56",
            "Ủy ban nhân dân thành phố Thanh Hóa",
            Some(p),
            None,
            Some(date!(2025 - 06 - 30)),
        ),
        now,
    )
    .await
    .unwrap();
    let old = agencies::insert(
        &mut tx,
        &agency(
            "000.01.60.H56",
            "Ủy ban nhân dân phường Đông Sơn",
            Some(d),
            None,
            Some(date!(2025 - 06 - 30)),
        ),
        now,
    )
    .await
    .unwrap();
    let new = agencies::insert(
        &mut tx,
        &agency(
            "000.01.90.H56",
            "Ủy ban nhân dân phường Đông Sơn",
            Some(p),
            Some(date!(2025 - 07 - 01)),
            None,
        ),
        now,
    )
    .await
    .unwrap();
    units::link_succession(
        &mut tx,
        units::Lineage::Agencies,
        old,
        new,
        egov_domain::admin_unit::SuccessionKind::Merged,
        true,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let top = agencies::children_on(&mut &db, None, date!(2024 - 01 - 01))
        .await
        .unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].child_count, 1);
    let in_2024 = agencies::children_on(&mut &db, Some(p), date!(2024 - 01 - 01))
        .await
        .unwrap();
    assert_eq!(
        in_2024.iter().map(|n| n.agency.id).collect::<Vec<_>>(),
        vec![d]
    );
    let today = agencies::children_on(&mut &db, Some(p), date!(2026 - 11 - 24))
        .await
        .unwrap();
    assert_eq!(
        today.iter().map(|n| n.agency.id).collect::<Vec<_>>(),
        vec![new]
    );
    assert_eq!(
        agencies::children_on(&mut &db, None, date!(2026 - 11 - 24))
            .await
            .unwrap()[0]
            .child_count,
        1
    );

    let words = egov_domain::text::query_words("dong son");
    let all = agencies::search(&mut &db, &words, None, 50, 0)
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "both Phường Đông Sơn");
    assert!(
        all.iter()
            .any(|h| h.parent_name.as_deref() == Some("Ủy ban nhân dân thành phố Thanh Hóa"))
    );
    let now_only = agencies::search(&mut &db, &words, Some(date!(2026 - 01 - 01)), 50, 0)
        .await
        .unwrap();
    assert_eq!(now_only.len(), 1);
    let by_name = agencies::search(
        &mut &db,
        &egov_domain::text::query_words("THANH HOA"),
        None,
        50,
        0,
    )
    .await
    .unwrap();
    assert_eq!(by_name.len(), 2);
    let by_code = agencies::find_by_code(&mut &db, "000.01.60.H56")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_code.id, old);
    let paged = agencies::search(&mut &db, &[], None, 1, 1).await.unwrap();
    assert_eq!(paged.len(), 1);

    assert_eq!(
        agencies::successors(&mut &db, old).await.unwrap()[0]
            .agency
            .id,
        new
    );
    assert_eq!(
        agencies::predecessors(&mut &db, new).await.unwrap()[0]
            .agency
            .id,
        old
    );
    let chain = agencies::ancestors(&mut &db, old).await.unwrap();
    assert_eq!(
        chain.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![p, d, old]
    );
    let codes = agencies::codes_under(&mut &db, "H56").await.unwrap();
    assert_eq!(codes.len(), 4);

    // The identifier is unique.
    let mut tx = db.begin().await.unwrap();
    let e = agencies::insert(
        &mut tx,
        &agency("000.00.00.H56", "dup", None, None, None),
        now,
    )
    .await
    .unwrap_err();
    assert!(e.is_unique_violation());
});
