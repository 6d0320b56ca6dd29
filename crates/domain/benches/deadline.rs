//! Deadline computation: the cost of one deadline on the 2025–2026 calendar (2027 onwards
//! proposed from the rules), and of building the whole 1900–2100 calendar.
//! Run: `cargo bench -p egov-domain --bench deadline`.

use criterion::{Criterion, criterion_group, criterion_main};
use egov_domain::calendar::{
    DayEntry, DayKind, Limit, OfficeHours, Pause, RuleSet, WorkCalendar, YearCalendar,
};
use std::hint::black_box;
use time::macros::datetime;

fn calendar_inputs() -> (Vec<YearCalendar>, RuleSet) {
    let rules: RuleSet =
        serde_json::from_str(include_str!("../../../data/holiday-rules.json")).unwrap();
    let mut years: Vec<YearCalendar> = vec![];
    for line in include_str!("../../../data/holidays-vn-2025-2026.csv")
        .lines()
        .skip(1)
    {
        let f: Vec<&str> = line.splitn(5, ',').collect();
        let d = time::Date::parse(
            f[0],
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap();
        if years.last().is_none_or(|y| y.year != d.year()) {
            years.push(YearCalendar {
                year: d.year(),
                confirmed: true,
                days: vec![],
            });
        }
        years.last_mut().unwrap().days.push(DayEntry {
            date: d,
            kind: DayKind::parse(f[1]).unwrap(),
            name: f[2].into(),
            confirmed: true,
        });
    }
    (years, rules)
}

fn bench(c: &mut Criterion) {
    let (years, rules) = calendar_inputs();
    let cal = WorkCalendar::new(&years, &rules, OfficeHours::default());
    let received = datetime!(2026-02-12 09:00 +7);
    c.bench_function("due: 5 working days across Tết", |b| {
        b.iter(|| {
            cal.due(black_box(received), black_box(Limit::working_days(5)), &[])
                .unwrap()
        })
    });
    c.bench_function("due: 30 working days", |b| {
        b.iter(|| {
            cal.due(black_box(received), black_box(Limit::working_days(30)), &[])
                .unwrap()
        })
    });
    c.bench_function("due: 8 working hours", |b| {
        b.iter(|| {
            cal.due(
                black_box(datetime!(2026-03-02 10:00 +7)),
                black_box(Limit::WorkingHours { minutes: 480 }),
                &[],
            )
            .unwrap()
        })
    });
    let pause = [Pause {
        from: datetime!(2026-03-04 10:00 +7),
        to: datetime!(2026-03-06 10:00 +7),
    }];
    c.bench_function("due: 5 working days with a pause", |b| {
        b.iter(|| {
            cal.due(
                black_box(datetime!(2026-03-02 09:00 +7)),
                black_box(Limit::working_days(5)),
                black_box(&pause),
            )
            .unwrap()
        })
    });
    c.bench_function("due: 15 calendar days", |b| {
        b.iter(|| {
            cal.due(
                black_box(received),
                black_box(Limit::CalendarDays { days: 15 }),
                &[],
            )
            .unwrap()
        })
    });
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    g.bench_function(
        "WorkCalendar::new (1900-2100, proposals for unstored years)",
        |b| {
            b.iter(|| {
                WorkCalendar::new(black_box(&years), black_box(&rules), OfficeHours::default())
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
