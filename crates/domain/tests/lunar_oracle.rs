//! egov's lunar calendar against an independent implementation (the npm package
//! `vietnamese-lunar-calendar`, installed in `e2e/` by scripts/test.sh), for every day from 1968
//! to 2100. The oracle is the classic form of the algorithm: where it yields "lunar day 0" (a
//! known defect near a few new moons) egov must give a well-formed date instead; everywhere else
//! the two must agree exactly.

use std::process::Command;

use egov_domain::calendar::lunar::{LunarDate, to_lunar, to_solar};
use time::Date;

#[test]
fn every_day_from_1968_to_2100_matches_the_oracle() {
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../../e2e");
    let out = Command::new("node")
        .arg("lunar-oracle.mjs")
        .args(["1968", "2100"])
        .current_dir(e2e)
        .env("TZ", "Asia/Ho_Chi_Minh")
        .output()
        .unwrap_or_else(|e| {
            panic!("the lunar oracle needs Node.js ({e}); scripts/test.sh installs it")
        });
    assert!(
        out.status.success(),
        "the lunar oracle failed — run `npm ci` in e2e/ (scripts/test.sh does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let (mut days, mut oracle_day_zero, mut mismatches) = (0, Vec::new(), Vec::new());
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let date = Date::parse(f[0], &fmt).unwrap();
        let oracle = LunarDate {
            day: f[1].parse().unwrap(),
            month: f[2].parse().unwrap(),
            year: f[3].parse().unwrap(),
            leap: f[4] == "1",
        };
        let ours = to_lunar(date);
        days += 1;
        if oracle.day == 0 {
            assert!((1..=30).contains(&ours.day), "{date}: {ours:?}");
            assert_eq!(
                to_solar(ours),
                Some(date),
                "{date}: our answer must round-trip"
            );
            oracle_day_zero.push(date);
        } else if ours != oracle {
            mismatches.push(format!("{date}: ours {ours:?}, oracle {oracle:?}"));
        }
    }
    assert_eq!(days, 48_578, "every day from 1968-01-01 to 2100-12-31");
    assert!(
        mismatches.is_empty(),
        "{} days differ: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
    eprintln!("{days} days compared; the oracle gave lunar day 0 on {oracle_day_zero:?}");
}
