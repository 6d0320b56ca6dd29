use egov_app::data;
use egov_domain::admin_unit::Structure;
use egov_domain::agency_code::AgencyCode;
use egov_store::{agencies, units};
use time::macros::date;

use super::{app, system};

both!(thanh_hoa_in_both_structures, |db| {
    let app = app(db);
    let r = app
        .import_units(
            &system(),
            Structure::ThreeTier,
            data::UNITS_THREE_TIER,
            Some("38"),
        )
        .await
        .unwrap();
    assert_eq!(r.units, 1 + 26 + 549);
    assert_eq!(r.agencies_created, 1 + 26 + 549);
    let r = app
        .import_units(
            &system(),
            Structure::TwoTier,
            data::UNITS_TWO_TIER,
            Some("38"),
        )
        .await
        .unwrap();
    assert_eq!(r.units, 1 + 166);
    // The provincial People's Committee spans the reform: one agency, not two.
    assert_eq!(r.agencies_created, 166);
    let s = app
        .import_succession(&system(), data::SUCCESSION_2025)
        .await
        .unwrap();
    assert!(s.successions >= 547, "{s:?}");
    assert!(
        s.skipped > 9000,
        "rows of other provinces are skipped: {s:?}"
    );

    let pc = agencies::find_by_code(&mut app.db(), "000.00.00.H56")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pc.name, "Ủy ban nhân dân tỉnh Thanh Hóa");
    assert_eq!(pc.code_source, "official");
    assert_eq!((pc.valid_from, pc.valid_to), (None, None));
    let old = app
        .agency_children(Some(pc.id), date!(2024 - 06 - 01))
        .await
        .unwrap();
    assert_eq!(old.len(), 26, "26 districts in 2024");
    let new = app
        .agency_children(Some(pc.id), date!(2026 - 11 - 24))
        .await
        .unwrap();
    assert_eq!(new.len(), 166, "166 communes today");
    // Every identifier parses, is unique, and sits under H56 at the level the scheme says.
    let mut seen = std::collections::HashSet::new();
    for n in &new {
        let c: AgencyCode = n.agency.code.parse().unwrap();
        assert_eq!(c.level(), 3);
        assert!((90..=99).contains(&c.slot(2)), "{c}");
        assert_eq!(n.agency.code_source, "local");
        assert!(seen.insert(c));
    }
    for d in &old {
        let c: AgencyCode = d.agency.code.parse().unwrap();
        assert!((60..=89).contains(&c.slot(2)), "{c}");
        assert!(d.child_count > 0);
    }

    // A new commune knows which old communes it succeeded.
    let hac_thanh = units::find(&mut app.db(), "two_tier", "14797")
        .await
        .unwrap()
        .unwrap();
    let detail = app.unit_detail(hac_thanh.id).await.unwrap();
    assert!(!detail.predecessors.is_empty());
    assert!(
        detail
            .predecessors
            .iter()
            .all(|p| p.unit.structure == "three_tier")
    );
    let committee = detail.committee.unwrap();
    assert_eq!(committee.name, "Ủy ban nhân dân phường Hạc Thành");
    let ad = app
        .agency_detail(committee.id, date!(2026 - 01 - 01))
        .await
        .unwrap();
    assert_eq!(
        ad.predecessors.len(),
        detail.predecessors.len(),
        "old communes and districts"
    );
    // A district was succeeded by new communes; one of them is the default.
    let district = units::find(&mut app.db(), "three_tier", "380")
        .await
        .unwrap()
        .unwrap();
    let succ = units::successors(&mut app.db(), district.id).await.unwrap();
    assert!(succ.len() > 1);
    assert_eq!(succ.iter().filter(|s| s.is_default).count(), 1);

    // Diacritics are ignored; "dong son" finds both old wards and the new one.
    let hits = app.search_agencies("dong son", None, 50, 0).await.unwrap();
    let wards: Vec<_> = hits
        .iter()
        .filter(|h| h.agency.name == "Ủy ban nhân dân phường Đông Sơn")
        .collect();
    assert_eq!(wards.len(), 3, "two wards before the reform, one after");
    let today: Vec<_> = app
        .search_agencies("dong son", Some(date!(2026 - 01 - 01)), 50, 0)
        .await
        .unwrap();
    assert_eq!(
        today
            .iter()
            .filter(|h| h.agency.name.contains("phường Đông Sơn"))
            .count(),
        1
    );
    let th = app.search_agencies("thanh hoa", None, 50, 0).await.unwrap();
    assert!(th[0].agency.name.contains("Thanh Hóa"));
    assert_eq!(
        app.search_agencies("000.00.00.H56", None, 50, 0)
            .await
            .unwrap()
            .len(),
        1
    );

    // Importing again changes nothing.
    let again = app
        .import_units(
            &system(),
            Structure::TwoTier,
            data::UNITS_TWO_TIER,
            Some("38"),
        )
        .await
        .unwrap();
    assert_eq!(again.agencies_created, 0);
    let r = egov_store::audit::seal_all(app.db()).await.unwrap();
    assert!(r >= 4);
});

both!(published_identifiers_replace_local_ones, |db| {
    let app = app(db);
    app.import_units(
        &system(),
        Structure::TwoTier,
        data::UNITS_TWO_TIER,
        Some("38"),
    )
    .await
    .unwrap();
    let before = app
        .committee_by_unit(Structure::TwoTier, "14797")
        .await
        .unwrap();
    let file = "structure,unit_code,identifier\ntwo_tier,14797,000.01.01.H56\n";
    let r = app.import_identifiers(&system(), file).await.unwrap();
    assert_eq!(r.units, 1);
    let a = agencies::get(&mut app.db(), before).await.unwrap();
    assert_eq!(
        (a.code.as_str(), a.code_source.as_str()),
        ("000.01.01.H56", "official")
    );
    // A malformed identifier names its line; a taken one names its holder; nothing is written.
    let e = app
        .import_identifiers(
            &system(),
            "structure,unit_code,identifier\ntwo_tier,16378,000.1.01.H56\n",
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "import_bad_row");
    assert!(e.message.contains("line 2"));
    let e = app
        .import_identifiers(
            &system(),
            "structure,unit_code,identifier\ntwo_tier,16378,000.01.01.H56\n",
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "identifier_taken");
    let dong_son = app
        .committee_by_unit(Structure::TwoTier, "16378")
        .await
        .unwrap();
    assert_eq!(
        agencies::get(&mut app.db(), dong_son)
            .await
            .unwrap()
            .code_source,
        "local"
    );
});

both!(bad_files_write_nothing, |db| {
    let app = app(db);
    let bad = "level,code,name,division_type,parent_code\nprovince,38,Tỉnh Thanh Hóa,tỉnh,\ncommune,14797,Phường Hạc Thành,phường,99\n";
    let e = app
        .import_units(&system(), Structure::TwoTier, bad, None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "import_orphan_unit");
    assert_eq!(units::count(&mut app.db(), "two_tier").await.unwrap(), 0);
    let e = app
        .import_units(&system(), Structure::TwoTier, "nonsense", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, "import_bad_header");
    // Only administrators import.
    app.import_units(
        &system(),
        Structure::TwoTier,
        data::UNITS_TWO_TIER,
        Some("38"),
    )
    .await
    .unwrap();
    let nobody = egov_app::Actor::person(999, "nobody");
    let e = app
        .import_units(
            &nobody,
            Structure::TwoTier,
            data::UNITS_TWO_TIER,
            Some("38"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
});
