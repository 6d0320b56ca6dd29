//! `egov scorecard`: every Decision 766 indicator of a period and a scope with its numerator,
//! denominator, value and points — for scripts (`--json`) and for checking by hand.

use anyhow::{Result, bail};
use clap::Args;
use egov_app::scorecard::{Period, Scorecard};
use egov_app::{Actor, App};

#[derive(Args)]
pub struct ScorecardArgs {
    /// First day, e.g. 2026-11-01 (Vietnam's days; the period is counted by receipt).
    #[arg(long, required_unless_present = "rebuild")]
    from: Option<String>,
    /// Last day, included, e.g. 2026-11-30.
    #[arg(long, required_unless_present = "rebuild")]
    to: Option<String>,
    /// An agency (its id or identifier such as 000.00.01.H56), counted with those under it;
    /// repeat for a group. The whole province when not given.
    #[arg(long)]
    agency: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Rebuild the daily summaries from every dossier (after a bulk load, or to check them),
    /// then print the scorecard if a period is given.
    #[arg(long)]
    rebuild: bool,
}

fn app_error(e: egov_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", e.message, e.code.as_str())
}

pub async fn run(app: &App, system: &Actor, args: ScorecardArgs) -> Result<()> {
    if args.rebuild {
        let started = std::time::Instant::now();
        egov_store::scorecard::mark_all_summaries(app.db()).await?;
        let marks = egov_store::scorecard::refresh_summaries(app.db()).await?;
        eprintln!(
            "daily summaries rebuilt: {marks} agency-days in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        return Ok(());
    };
    let period = Period::parse(from, to, app.settings.scorecard.max_days).map_err(app_error)?;
    let mut ids = Vec::new();
    for a in &args.agency {
        let id = match a.trim().parse::<i64>() {
            Ok(id) => id,
            Err(_) => match egov_store::agencies::find_by_code(&mut app.db(), a.trim()).await? {
                Some(found) => found.id,
                None => bail!("no agency has the id or identifier {a}"),
            },
        };
        ids.push(id);
    }
    let card = app
        .scorecard(system, period, &ids)
        .await
        .map_err(app_error)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&card)?);
    } else {
        print!("{}", table(&card));
    }
    Ok(())
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The scorecard as a plain table.
pub fn table(card: &Scorecard) -> String {
    let scope = if card.scope.is_province() {
        "the whole province".to_owned()
    } else {
        card.scope
            .agencies
            .iter()
            .map(|a| format!("{} ({})", a.name, a.code))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "Decision 766 scorecard: {scope}, {} to {}\n\n{:<5} {:>12} {:>12} {:>9} {:>13}  {}\n",
        card.period.from,
        card.period.to,
        "id",
        "numerator",
        "denominator",
        "value",
        "points",
        "indicator"
    );
    for g in &card.groups {
        for i in card.indicators.iter().filter(|i| i.group == g.id) {
            let value = match (i.value, i.no_data) {
                (_, true) => "no data".to_owned(),
                (None, _) => "N/A".to_owned(),
                (Some(v), _) if i.kind == "rate" => format!("{v:.2}%"),
                (Some(v), _) => format!("{v:.2}"),
            };
            let points = match i.points {
                Some(p) => format!("{p:.2}/{}", number(i.weight)),
                None if i.weight == 0.0 => "not scored".to_owned(),
                None => format!("-/{}", number(i.weight)),
            };
            out.push_str(&format!(
                "{:<5} {:>12} {:>12} {:>9} {:>13}  {}\n",
                i.id,
                number(i.numerator),
                number(i.denominator),
                value,
                points,
                i.name
            ));
        }
        out.push_str(&format!(
            "group {}: {:.2} of {} ({} applicable)  {}\n\n",
            g.id,
            g.points,
            number(g.max),
            number(g.applicable),
            g.name
        ));
    }
    out.push_str(&format!(
        "total: {:.2} of {} ({} applicable)\n",
        card.points,
        number(card.total),
        number(card.applicable)
    ));
    out
}
