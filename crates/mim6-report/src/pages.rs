//! The pages: an index, one per region, one per city.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::data::{CityPeriod, Fleet, REJECTED_SHOWN, RiskPeriod, Run};
use crate::html::{Better, cell, change, escape, fixed, metric_cell, page, percent, table};
use crate::svg::{Axis, Series, bars, heatmap, line_chart};

pub(crate) use oscal_io::safe_file_name as segment;

pub(crate) fn region_file(region: &str) -> String {
    format!("region-{}.html", segment(region))
}

pub(crate) fn city_file(region: &str, city: &str) -> String {
    format!("city-{}-{}.html", segment(region), segment(city))
}

const LEVELS: [&str; 5] = ["very low", "low", "moderate", "high", "very high"];

fn level_name(level: Option<u8>) -> &'static str {
    level
        .and_then(|l| LEVELS.get(usize::from(l).checked_sub(1)?))
        .copied()
        .unwrap_or("unrated")
}

fn date_of(seconds: Option<i64>) -> String {
    seconds
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| "–".to_owned(), |t| t.strftime("%Y-%m-%d").to_string())
}

fn percent_axis(v: f64) -> String {
    format!("{:.0} %", v * 100.0)
}

fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

const COVERAGE: Axis = Axis {
    min: 0.0,
    max: 1.0,
    steps: 4,
    format: percent_axis,
};
const MATURITY: Axis = Axis {
    min: 0.0,
    max: 5.0,
    steps: 5,
    format: one_decimal,
};

fn kpi(label: &str, value: &str, extra: &str) -> String {
    format!(
        r#"<div class="kpi"><div class="label">{}</div><div class="value">{}</div>{extra}</div>"#,
        escape(label),
        escape(value)
    )
}

/// Period labels, in order.
fn labels(fleet: &Fleet) -> Vec<String> {
    let mut periods = fleet.periods.clone();
    periods.sort_by_key(|p| p.period_index);
    periods.into_iter().map(|p| p.period).collect()
}

/// The values of `metric` over the periods, from the rows (one per period) of one city or
/// region; `None` where a period has no row or no value.
fn over_periods<'a, T: 'a>(
    run: &Run,
    rows: impl Iterator<Item = &'a T>,
    period_index: fn(&T) -> u32,
    metric: fn(&T) -> Option<f64>,
) -> Vec<Option<f64>> {
    let mut points = vec![None; run.fleet.periods.len()];
    for row in rows {
        if let Some(slot) = points.get_mut(period_index(row) as usize) {
            *slot = metric(row);
        }
    }
    points
}

/// The highest value of residual-risk series, for a common axis.
fn residual_axis(series: &[Series]) -> Axis {
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().flatten())
        .fold(0.0_f64, |m, v| m.max(*v));
    // A round top: 1, 2, 2.5 or 5 times a power of ten.
    let (top, steps) = if max > 0.0 {
        let power = 10_f64.powf(max.log10().floor());
        [(1.0, 5), (2.0, 4), (2.5, 5), (5.0, 5), (10.0, 5)]
            .iter()
            .map(|(m, steps)| (m * power, *steps))
            .find(|(top, _)| *top >= max)
            .unwrap_or((10.0 * power, 5))
    } else {
        (1.0, 5)
    };
    Axis {
        min: 0.0,
        max: top,
        steps,
        format: one_decimal,
    }
}

/// Three trend charts: coverage, maturity and residual risk of `cities`, with the region's
/// median.
fn trend_charts(run: &Run, region: &str, cities: &[(&str, &str)]) -> String {
    let labels = labels(run.fleet);
    let make = |city_metric: fn(&CityPeriod) -> Option<f64>,
                region_metric: fn(&crate::data::RegionPeriod) -> Option<f64>| {
        let mut series: Vec<Series> = cities
            .iter()
            .map(|(city, name)| Series {
                name: (*name).to_owned(),
                points: over_periods(
                    run,
                    run.city_periods.iter().filter(|r| r.city == *city),
                    |r| r.period_index,
                    city_metric,
                ),
                emphasis: false,
            })
            .collect();
        series.push(Series {
            name: "region median".into(),
            points: over_periods(
                run,
                run.fleet
                    .region_periods
                    .iter()
                    .filter(|r| r.region == region),
                |r| r.period_index,
                region_metric,
            ),
            emphasis: true,
        });
        series
    };
    let coverage = make(|r| r.assessed_coverage, |r| r.assessed_coverage_median);
    let maturity = make(|r| r.maturity_mean, |r| r.maturity_mean_median);
    let residual = make(|r| r.residual_mean, |r| r.residual_median);
    format!(
        r#"<div class="charts">{}{}{}</div>"#,
        line_chart("Assessed coverage", &labels, &coverage, COVERAGE),
        line_chart("Maturity (0–5)", &labels, &maturity, MATURITY),
        line_chart(
            "Residual risk (weighted mean of system totals)",
            &labels,
            &residual,
            residual_axis(&residual)
        ),
    )
}

/// Open risks, most urgent first: overdue, then by residual score, then by age.
/// The order of urgency: overdue first, then the highest residual score, the oldest, and by
/// risk and system (a risk is one row per system in a period: no two rows tie).
fn urgency(a: &&RiskPeriod, b: &&RiskPeriod) -> std::cmp::Ordering {
    b.overdue
        .cmp(&a.overdue)
        .then(
            b.residual_score
                .unwrap_or(0.0)
                .total_cmp(&a.residual_score.unwrap_or(0.0)),
        )
        .then(
            b.open_age_days
                .unwrap_or(0.0)
                .total_cmp(&a.open_age_days.unwrap_or(0.0)),
        )
        .then(a.risk.cmp(&b.risk))
        .then(a.system.cmp(&b.system))
}

/// The `top` most urgent of `risks`, most urgent first; the rest are not sorted.
fn most_urgent<'r>(risks: &[&'r RiskPeriod], top: usize) -> Vec<&'r RiskPeriod> {
    let mut urgent = risks.to_vec();
    if top < urgent.len() {
        urgent.select_nth_unstable_by(top, urgency);
        urgent.truncate(top);
    }
    urgent.sort_by(urgency);
    urgent
}

fn risk_section(run: &Run, risks: &[&RiskPeriod], top: usize, with_city: bool) -> String {
    let mut counts = [0_u64; 6];
    for r in risks {
        let slot = r
            .residual_level
            .map_or(5, |l| usize::from(l.clamp(1, 5)) - 1);
        counts[slot] += 1;
    }
    let mut categories: Vec<&str> = LEVELS.to_vec();
    categories.push("unrated");
    let chart = bars("Open risks by residual level", &categories, &counts);
    let rows: Vec<String> = most_urgent(risks, top)
        .iter()
        .map(|r| {
            let key = format!("{}|{}|{}", r.risk, r.system, r.period_index);
            let mut row = String::new();
            row.push_str(&cell(&r.title));
            if with_city {
                row.push_str(&cell(&r.city));
            }
            row.push_str(&cell(run.system_name(&r.system)));
            row.push_str(&cell(level_name(r.residual_level)));
            row.push_str(&metric_cell(
                "fact_risk_period",
                &key,
                "residual_score",
                &fixed(r.residual_score, 1),
            ));
            row.push_str(&cell(&r.status));
            row.push_str(&cell(&date_of(r.deadline)));
            row.push_str(&if r.overdue {
                r#"<td class="flag">overdue</td>"#.to_owned()
            } else {
                cell("")
            });
            row.push_str(&metric_cell(
                "fact_risk_period",
                &key,
                "open_age_days",
                &fixed(r.open_age_days, 0),
            ));
            row
        })
        .collect();
    let mut headers = vec!["risk"];
    if with_city {
        headers.push("city");
    }
    headers.extend([
        "system",
        "residual level",
        "score",
        "status",
        "deadline",
        "",
        "age (days)",
    ]);
    format!(
        r#"<div class="charts">{chart}</div><p>{} open risk{}; the {} most urgent (overdue first, then by residual score and age):</p>{}"#,
        risks.len(),
        if risks.len() == 1 { "" } else { "s" },
        top.min(risks.len()),
        table("risks", &headers, &rows)
    )
}

fn summary_section(fleet: &Fleet) -> String {
    let s = &fleet.summary;
    let get = |pointer: &str| {
        s.pointer(pointer)
            .map(|v| match v {
                serde_json::Value::String(t) => t.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "–".into())
    };
    let rows: Vec<String> = [
        ("pipeline", get("/pipeline")),
        ("baseline", get("/baseline/profile")),
        ("baseline controls", get("/baseline/controls")),
        ("periods", labels(fleet).join(", ")),
        ("documents found", get("/documents/found")),
        ("documents accepted", get("/documents/accepted")),
        ("documents rejected", get("/documents/rejected")),
        ("bytes read", get("/documents/bytes")),
        ("systems", get("/systems")),
        ("warnings", get("/warnings")),
        ("mim6 version", get("/mim6-version")),
        ("OSCAL version", get("/oscal-version")),
    ]
    .iter()
    .map(|(k, v)| format!("{}{}", cell(k), cell(v)))
    .collect();
    table("summary", &["", ""], &rows)
}

fn rejected_section(fleet: &Fleet) -> String {
    if fleet.rejected_total == 0 {
        return "<p>No document was rejected.</p>".into();
    }
    let rows: Vec<String> = fleet
        .rejected
        .iter()
        .take(REJECTED_SHOWN)
        .map(|r| format!("{}{}{}", cell(&r.file), cell(&r.location), cell(&r.reason)))
        .collect();
    let more = if fleet.rejected_total > REJECTED_SHOWN {
        format!(
            "<p>… and {} more, listed in <code>rejected.csv</code>.</p>",
            fleet.rejected_total - REJECTED_SHOWN
        )
    } else {
        String::new()
    };
    format!(
        "<p>{} documents were rejected; each one is left out and everything else is measured.</p>{}{more}",
        fleet.rejected_total,
        table("rejected", &["file", "where", "why"], &rows)
    )
}

/// `index.html`: the regions.
pub(crate) fn index(fleet: &Fleet) -> String {
    let latest = fleet.latest().map(|p| p.period_index);
    let rows: Vec<String> = fleet
        .regions()
        .into_iter()
        .map(|region| {
            let row = fleet
                .region_periods
                .iter()
                .find(|r| r.region == region && Some(r.period_index) == latest);
            let key = row
                .map(|r| format!("{}|{}", r.region, r.period))
                .unwrap_or_default();
            let metric =
                |column: &str, text: String| metric_cell("m_region_period", &key, column, &text);
            format!(
                r#"<td><a href="{}">{}</a></td>{}{}{}{}"#,
                escape(&region_file(region)),
                escape(region),
                metric("cities", row.map_or("–".into(), |r| r.cities.to_string())),
                metric(
                    "assessed_coverage_median",
                    percent(row.and_then(|r| r.assessed_coverage_median))
                ),
                metric(
                    "maturity_mean_median",
                    fixed(row.and_then(|r| r.maturity_mean_median), 2)
                ),
                metric(
                    "residual_median",
                    fixed(row.and_then(|r| r.residual_median), 1)
                ),
            )
        })
        .collect();
    let period = fleet.latest().map_or("no period", |p| p.period.as_str());
    let body = format!(
        "<h1>Security management across regions, {}</h1>{}<h2>Run</h2>{}",
        escape(period),
        table(
            "regions",
            &[
                "region",
                "cities",
                "assessed coverage (median)",
                "maturity (median)",
                "residual risk (median)"
            ],
            &rows
        ),
        summary_section(fleet)
    );
    page("mim6 report", "", &body)
}

/// `region-R.html`.
pub(crate) fn region(run: &Run, region: &str, top: usize) -> String {
    let Some(latest) = run.latest() else {
        return page(
            &format!("{region}: mim6 report"),
            r#"<a href="index.html">All regions</a>"#,
            "<p>No period has dated assessments; nothing to measure yet.</p>",
        );
    };
    let nav = r#"<a href="index.html">All regions</a>"#;
    let row = run
        .fleet
        .region_periods
        .iter()
        .find(|r| r.region == region && r.period_index == latest.period_index);
    let key = format!("{region}|{}", latest.period);
    let mut body = format!(
        r#"<h1>Region {}: security management, {}</h1><p class="sub">Cities ranked by assessed coverage, residual risk and attained maturity (MIM6 scale 0–5), with the change since the previous period.</p>"#,
        escape(region),
        escape(&latest.period)
    );
    if let Some(r) = row {
        let _ = write!(
            body,
            r#"<div class="kpis" data-table="m_region_period" data-key="{k}">{}{}{}{}{}{}</div>"#,
            kpi(
                "Assessed coverage (median city)",
                &percent(r.assessed_coverage_median),
                &change(r.assessed_coverage_median_change, Better::Up, true)
            ),
            kpi(
                "Maturity (median city)",
                &fixed(r.maturity_mean_median, 2),
                &change(r.maturity_mean_median_change, Better::Up, false)
            ),
            kpi(
                "Attained level (median city)",
                &fixed(r.attained_level_median, 1),
                ""
            ),
            kpi(
                "Residual risk (median city)",
                &fixed(r.residual_median, 1),
                &change(r.residual_median_change, Better::Down, false)
            ),
            kpi("Open risks ≥ high", &r.open_high_risks.to_string(), ""),
            kpi("Overdue risks", &r.overdue_risks.to_string(), ""),
            k = escape(&key),
        );
        let _ = write!(
            body,
            r#"<p class="sub">{} cities, {} systems, {} open risks.</p>"#,
            r.cities, r.systems, r.open_risks
        );
    }

    // Ranking: assessed coverage, highest first; cities without assessments last.
    let mut cities: Vec<&CityPeriod> = run
        .city_periods
        .iter()
        .filter(|c| c.region == region && c.period_index == latest.period_index)
        .collect();
    cities.sort_by(|a, b| {
        b.assessed_coverage
            .unwrap_or(-1.0)
            .total_cmp(&a.assessed_coverage.unwrap_or(-1.0))
            .then(a.city.cmp(&b.city))
    });
    let rows: Vec<String> = cities
        .iter()
        .enumerate()
        .map(|(rank, c)| {
            let key = format!("{}|{}", c.city, c.period);
            let m = |column: &str, text: String| metric_cell("m_city_period", &key, column, &text);
            format!(
                r#"<td class="num">{}</td><td><a href="{}">{}</a> <span class="note">{}</span></td>{}{}<td>{}</td>{}<td>{}</td>{}{}<td>{}</td>{}{}"#,
                rank + 1,
                escape(&city_file(&c.region, &c.city)),
                escape(&c.city_name),
                escape(&c.city),
                m("systems", c.systems.to_string()),
                m("assessed_coverage", percent(c.assessed_coverage)),
                change(c.assessed_coverage_change, Better::Up, true),
                m("maturity_mean", fixed(c.maturity_mean, 2)),
                change(c.maturity_mean_change, Better::Up, false),
                m("attained_level", fixed(c.attained_level, 0)),
                m("residual_mean", fixed(c.residual_mean, 1)),
                change(c.residual_mean_change, Better::Down, false),
                m("open_high_risks", c.open_high_risks.to_string()),
                m("overdue_risks", c.overdue_risks.to_string()),
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>Cities</h2>{}",
        table(
            "ranking",
            &[
                "#",
                "city",
                "systems",
                "assessed coverage",
                "change",
                "maturity",
                "change",
                "attained level",
                "residual risk",
                "change",
                "open ≥ high",
                "overdue",
            ],
            &rows
        )
    );

    // Heatmap: cities (ranked) × families, maturity of the latest period.
    let families: Vec<String> = run
        .families
        .iter()
        .filter(|f| f.region == region)
        .map(|f| f.family.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut grid: BTreeMap<(&str, &str), Option<f64>> = BTreeMap::new();
    for f in run
        .families
        .iter()
        .filter(|f| f.region == region && f.period_index == latest.period_index)
    {
        grid.insert((f.city.as_str(), f.family.as_str()), f.maturity_mean);
    }
    let names: Vec<String> = cities.iter().map(|c| c.city_name.clone()).collect();
    let values: Vec<Vec<Option<f64>>> = cities
        .iter()
        .map(|c| {
            families
                .iter()
                .map(|f| grid.get(&(c.city.as_str(), f.as_str())).copied().flatten())
                .collect()
        })
        .collect();
    let _ = write!(
        body,
        "<h2>Maturity by control family</h2>{}",
        heatmap(
            &format!("Mean maturity level, {}", latest.period),
            &names,
            &families,
            &values,
            5.0
        )
    );

    let pairs: Vec<(&str, &str)> = cities
        .iter()
        .map(|c| (c.city.as_str(), c.city_name.as_str()))
        .collect();
    let _ = write!(body, "<h2>Trends</h2>{}", trend_charts(run, region, &pairs));

    let risks: Vec<&RiskPeriod> = run
        .open_risks
        .iter()
        .filter(|r| r.region == region)
        .collect();
    let _ = write!(
        body,
        "<h2>Residual risk</h2>{}",
        risk_section(run, &risks, top, true)
    );
    let _ = write!(
        body,
        "<h2>Rejected documents</h2>{}<h2>Run</h2>{}",
        rejected_section(run.fleet),
        summary_section(run.fleet)
    );
    page(&format!("{region}: mim6 report"), nav, &body)
}

/// `city-R-C.html`.
pub(crate) fn city(run: &Run, region: &str, city: &str, top: usize, target_level: u8) -> String {
    let nav = format!(
        r#"<a href="index.html">All regions</a><a href="{}">Region {}</a>"#,
        escape(&region_file(region)),
        escape(region)
    );
    let name = run.city_name(city);
    let title = format!("{name} ({city}), region {region}");
    let Some(latest) = run.latest() else {
        return page(&title, &nav, "<p>No period has dated assessments.</p>");
    };
    let mut body = format!(
        r#"<h1>{}</h1><p class="sub">Period {}.</p>"#,
        escape(&title),
        escape(&latest.period)
    );
    if let Some(c) = run
        .city_periods
        .iter()
        .find(|c| c.city == city && c.period_index == latest.period_index)
    {
        let _ = write!(
            body,
            r#"<div class="kpis" data-table="m_city_period" data-key="{k}">{}{}{}{}{}{}{}{}</div>"#,
            kpi(
                "Assessed coverage",
                &percent(c.assessed_coverage),
                &change(c.assessed_coverage_change, Better::Up, true)
            ),
            kpi("Claimed coverage", &percent(c.claimed_coverage), ""),
            kpi("Assessment breadth", &percent(c.assessment_breadth), ""),
            kpi(
                "Maturity",
                &fixed(c.maturity_mean, 2),
                &change(c.maturity_mean_change, Better::Up, false)
            ),
            kpi("Attained level", &fixed(c.attained_level, 0), ""),
            kpi(
                "Residual risk",
                &fixed(c.residual_mean, 1),
                &change(c.residual_mean_change, Better::Down, false)
            ),
            kpi(
                "Open risks ≥ high / overdue",
                &format!("{} / {}", c.open_high_risks, c.overdue_risks),
                ""
            ),
            kpi("Closed on time", &percent(c.on_time_rate), ""),
            k = escape(&format!("{city}|{}", c.period)),
        );
        let _ = write!(
            body,
            r#"<p class="sub">{} systems; overclaim rate {}, N/A rate {}, P90 of the systems' worst residual {}, median days to remediate {}.</p>"#,
            c.systems,
            percent(c.overclaim_rate),
            percent(c.na_rate),
            fixed(c.residual_worst_p90, 1),
            fixed(c.median_days_to_remediate, 0),
        );
    }
    let _ = write!(
        body,
        "<h2>Trends</h2>{}",
        trend_charts(run, region, &[(city, name)])
    );

    let mut systems: Vec<_> = Run::of_city(&run.system_periods, city, |s| &s.city)
        .iter()
        .filter(|s| s.period_index == latest.period_index)
        .collect();
    systems.sort_by(|a, b| a.name.cmp(&b.name).then(a.system.cmp(&b.system)));
    let rows: Vec<String> = systems
        .iter()
        .map(|s| {
            let key = format!("{}|{}", s.system, latest.period);
            let m =
                |column: &str, text: String| metric_cell("m_system_period", &key, column, &text);
            format!(
                "{}{}{}{}{}{}{}{}{}{}",
                cell(&s.name),
                m("weight", fixed(Some(s.weight), 0)),
                m("claimed_coverage", percent(s.claimed_coverage)),
                m("assessed_coverage", percent(s.assessed_coverage)),
                m("maturity_mean", fixed(s.maturity_mean, 2)),
                m("attained_level", fixed(s.attained_level, 0)),
                m("residual_total", fixed(s.residual_total, 1)),
                m("open_risks", s.open_risks.to_string()),
                m("open_high_risks", s.open_high_risks.to_string()),
                m("overdue_risks", s.overdue_risks.to_string()),
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>Systems</h2>{}",
        table(
            "systems",
            &[
                "system",
                "weight",
                "claimed coverage",
                "assessed coverage",
                "maturity",
                "attained level",
                "residual risk",
                "open risks",
                "open ≥ high",
                "overdue",
            ],
            &rows
        )
    );

    let mut below: Vec<_> = run
        .families
        .iter()
        .filter(|f| {
            f.city == city
                && f.period_index == latest.period_index
                && f.attained_level.is_none_or(|l| l < f64::from(target_level))
        })
        .collect();
    below.sort_by(|a, b| {
        a.maturity_mean
            .unwrap_or(0.0)
            .total_cmp(&b.maturity_mean.unwrap_or(0.0))
            .then(a.family.cmp(&b.family))
    });
    let rows: Vec<String> = below
        .iter()
        .map(|f| {
            let key = format!("{}|{}|{}", f.city, f.family, f.period);
            let m =
                |column: &str, text: String| metric_cell("m_family_period", &key, column, &text);
            format!(
                "{}{}{}{}{}{}{}",
                cell(&f.family.to_uppercase()),
                m("controls", f.controls.to_string()),
                m("claimed_coverage", percent(f.claimed_coverage)),
                m("assessed_coverage", percent(f.assessed_coverage)),
                m("overclaim_rate", percent(f.overclaim_rate)),
                m("maturity_mean", fixed(f.maturity_mean, 2)),
                m("attained_level", fixed(f.attained_level, 0)),
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>Control families below level {target_level}</h2>{}",
        if rows.is_empty() {
            format!("<p>Every family attains level {target_level}.</p>")
        } else {
            table(
                "families",
                &[
                    "family",
                    "controls × systems",
                    "claimed coverage",
                    "assessed coverage",
                    "overclaim rate",
                    "maturity",
                    "attained level",
                ],
                &rows,
            )
        }
    );

    let mut overclaims: Vec<_> = Run::of_city(&run.overclaims, city, |o| &o.city)
        .iter()
        .collect();
    overclaims.sort_by(|a, b| {
        b.overclaimed_systems
            .cmp(&a.overclaimed_systems)
            .then(a.control.cmp(&b.control))
    });
    let rows: Vec<String> = overclaims
        .iter()
        .map(|o| {
            let key = format!("{}|{}|{}", o.city, o.control, latest.period);
            format!(
                "{}{}{}{}",
                cell(&o.control.to_uppercase()),
                cell(&o.title),
                metric_cell(
                    "m_city_overclaim_period",
                    &key,
                    "overclaimed_systems",
                    &o.overclaimed_systems.to_string()
                ),
                metric_cell(
                    "m_city_overclaim_period",
                    &key,
                    "claimed_systems",
                    &o.claimed_systems.to_string()
                ),
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>Overclaimed controls</h2>{}",
        if rows.is_empty() {
            "<p>No control is claimed in full and failed.</p>".to_owned()
        } else {
            format!(
                "<p>Claimed as fully implemented, failed at their latest assessment.</p>{}",
                table(
                    "overclaims",
                    &[
                        "control",
                        "title",
                        "systems failing it",
                        "systems claiming it"
                    ],
                    &rows
                )
            )
        }
    );

    let risks: Vec<&RiskPeriod> = Run::of_city(&run.open_risks, city, |r| &r.city)
        .iter()
        .collect();
    let _ = write!(
        body,
        "<h2>Open risks</h2>{}",
        risk_section(run, &risks, top, false)
    );

    const SHOWN: usize = 200;
    let items: Vec<_> = Run::of_city(&run.open_items, city, |i| &i.city)
        .iter()
        .collect();
    let rows: Vec<String> = items
        .iter()
        .take(SHOWN)
        .map(|i| {
            format!(
                "{}{}{}",
                cell(run.system_name(&i.system)),
                cell(&i.title),
                cell(&i.document)
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>Open POA&amp;M items</h2><p>{} items of this period's POA&amp;Ms track a risk still open{}.</p>{}",
        items.len(),
        if items.len() > SHOWN {
            format!("; the first {SHOWN} are listed")
        } else {
            String::new()
        },
        if rows.is_empty() {
            String::new()
        } else {
            table("items", &["system", "item", "document"], &rows)
        }
    );
    page(&title, &nav, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(n: u32) -> RiskPeriod {
        // Few distinct values, so that rows tie on the first keys and the later ones decide.
        RiskPeriod {
            risk: format!("risk-{}", n % 7),
            title: String::new(),
            status: "open".into(),
            doc: String::new(),
            current_likelihood: None,
            current_impact: None,
            residual_level: None,
            residual_score: (!n.is_multiple_of(3)).then_some(f64::from(n % 4)),
            open: true,
            retained: false,
            overdue: n.is_multiple_of(5),
            deadline: None,
            first_seen: 0,
            open_age_days: n.is_multiple_of(2).then_some(f64::from(n % 3)),
            system: format!("system-{n}"),
            city: "city".into(),
            region: "region".into(),
            period_index: 3,
        }
    }

    #[test]
    fn the_most_urgent_are_the_head_of_the_whole_order() {
        let risks: Vec<RiskPeriod> = (0..60).map(risk).collect();
        let all: Vec<&RiskPeriod> = risks.iter().collect();
        let mut sorted = all.clone();
        sorted.sort_by(urgency);
        let ids = |rows: &[&RiskPeriod]| -> Vec<String> {
            rows.iter()
                .map(|r| format!("{}/{}", r.risk, r.system))
                .collect()
        };
        for top in [0, 1, 5, 20, 59, 60, 100] {
            let head = &sorted[..top.min(sorted.len())];
            assert_eq!(ids(&most_urgent(&all, top)), ids(head), "top {top}");
        }
        assert!(sorted[0].overdue, "overdue first");
    }
}
