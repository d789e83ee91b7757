//! Every metric of the hand-written fleet in `tests/fixtures/pipeline/`, computed by hand.
//!
//! The baseline B has five controls: AC-1, AC-2, AC-2(1), IR-4 (weight 2), IR-5, so control
//! weights sum to 6. Periods: 2025-Q1 (ends 03-31), Q2 (06-30), Q3 (09-30); T = 365 days,
//! so no evidence here is stale and every effectiveness E is 1 (satisfied) or 0 (failed).
//! Risk matrix: NIST SP 800-30 (row likelihood, column impact); scores 0/2/5/8/10.
//! Maturity mean weights: AC-1, AC-2, AC-2(1), IR-5 weigh 1, IR-4 weighs 2.
//! Ages are whole days from first seen to the period's last second.

mod shards;

use mim6_analytics::{
    BaselineControl, Period, PeriodLength, Settings, Tables, baseline_controls, compute,
};
use mim6_test_support::fixtures;
use polars::prelude::*;

const X1: &str = "000000a1-0000-4000-8000-000000000001";
const X2: &str = "000000a2-0000-4000-8000-000000000001";
const Y1: &str = "000000b1-0000-4000-8000-000000000001";
const Z1: &str = "000000c1-0000-4000-8000-000000000001";
const R3: &str = "000000d3-0000-4000-8000-000000000003";
const R4: &str = "000000d4-0000-4000-8000-000000000004";
const R5: &str = "000000d5-0000-4000-8000-000000000005";

/// The fixture fleet's facts, its baseline and the settings of the metrics below.
fn fixture() -> (mim6_ingest::Facts, Vec<BaselineControl>, Settings) {
    let root = fixtures().join("pipeline");
    let file = root.join("catalog.json");
    let doc = oscal_io::json::from_slice(&file, &std::fs::read(&file).unwrap()).unwrap();
    let oscal_model::Model::Catalog(catalog) = doc.model else {
        panic!("a catalog")
    };
    let baseline = baseline_controls(&catalog);
    assert_eq!(baseline.len(), 5);
    let options = mim6_ingest::Options {
        inputs: vec![root.join("fleet")],
        ..mim6_ingest::Options::default()
    };
    let ingested = mim6_ingest::ingest(&options, &|_, _, _| {}).unwrap();
    assert!(ingested.rejected.is_empty(), "{:?}", ingested.rejected);
    let day = |t: &str| t.parse::<jiff::civil::Date>().unwrap();
    let settings = Settings {
        periods: Period::covering(day("2025-01-01"), day("2025-09-30"), PeriodLength::Quarter),
        ..Settings::default()
    };
    (ingested.facts, baseline, settings)
}

fn tables() -> Tables {
    let (facts, baseline, settings) = fixture();
    compute(facts, &baseline, &settings).unwrap()
}

/// The value of `column` in the one row of `table` matching `keys`.
fn value(tables: &Tables, table: &str, keys: &[(&str, &str)], column: &str) -> Option<f64> {
    let frame = tables.get(table).unwrap();
    let mut rows: Vec<usize> = (0..frame.height()).collect();
    for (key, wanted) in keys {
        let column = frame.column(key).unwrap();
        rows.retain(|&i| match column.get(i).unwrap() {
            AnyValue::String(s) => s == *wanted,
            other => other.to_string() == *wanted,
        });
    }
    assert_eq!(rows.len(), 1, "{table} {keys:?}: {} rows", rows.len());
    match frame.column(column).unwrap().get(rows[0]).unwrap() {
        AnyValue::Null => None,
        AnyValue::Float64(v) => Some(v),
        AnyValue::Int32(v) => Some(f64::from(v)),
        AnyValue::UInt32(v) => Some(f64::from(v)),
        AnyValue::Int64(v) => Some(v as f64),
        AnyValue::Boolean(v) => Some(f64::from(u8::from(v))),
        other => panic!("{table}.{column}: {other:?}"),
    }
}

#[track_caller]
fn close(actual: Option<f64>, expected: Option<f64>, what: &str) {
    match (actual, expected) {
        (Some(a), Some(e)) => assert!((a - e).abs() < 1e-9, "{what}: {a} ≠ {e}"),
        (a, e) => assert_eq!(a, e, "{what}"),
    }
}

/// Checks `columns` of a system's row for the three periods.
#[track_caller]
fn system(t: &Tables, id: &str, column: &str, expected: [Option<f64>; 3]) {
    for (p, e) in ["2025-Q1", "2025-Q2", "2025-Q3"].iter().zip(expected) {
        let v = value(
            t,
            "m_system_period",
            &[("system", id), ("period", p)],
            column,
        );
        close(v, e, &format!("{id} {p} {column}"));
    }
}

const N: Option<f64> = None;
fn s(v: f64) -> Option<f64> {
    Some(v)
}

#[test]
fn x1_partial_statement_planned_enhancement_and_a_risk_closed_late() {
    let t = tables();
    // Credits: AC-1 1, AC-2 min(implemented, partial statement) = 0.5, AC-2(1) planned 0,
    // IR-4 1, IR-5 1. A = 5. Claimed (3.5)/5 = 0.7; strict 3/5 = 0.6.
    system(&t, X1, "claimed_coverage", [s(0.7); 3]);
    system(&t, X1, "claimed_coverage_strict", [s(0.6); 3]);
    system(&t, X1, "na_rate", [s(0.0); 3]);
    // Q1: AC-1 and IR-4 satisfied, AC-2 failed: 2/5 and 3/5. Q2 re-assesses AC-1 (satisfied)
    // and AC-2 (failed); IR-4 keeps its Q1 result. Q3 has no new results.
    system(&t, X1, "assessed_coverage", [s(0.4); 3]);
    system(&t, X1, "assessment_breadth", [s(0.6); 3]);
    // Assessed with credit > 0: AC-1, AC-2, IR-4; none is credit 1 and failed.
    system(&t, X1, "overclaim_rate", [s(0.0); 3]);
    // Satisfied last period and failed now: none of AC-1, IR-4.
    system(&t, X1, "regression_rate", [N, s(0.0), s(0.0)]);
    // Levels Q1: AC-1 3 (satisfied, an observation), AC-2 1, AC-2(1) 0, IR-4 3, IR-5 2
    //   mean (3 + 1 + 0 + 3·2 + 2)/6 = 2.0.
    // Q2: AC-1 4 (verified twice, evidence 06-15: 15 days ≤ T/2), IR-4 4 (evidence 03-10:
    //   112 days ≤ 182.5): (4 + 1 + 0 + 4·2 + 2)/6 = 2.5.
    // Q3: AC-1 4 (evidence 06-15: 107 days), IR-4 3 (evidence 03-10: 204 days > 182.5):
    //   (4 + 1 + 0 + 3·2 + 2)/6 = 13/6.
    system(&t, X1, "maturity_mean", [s(2.0), s(2.5), s(13.0 / 6.0)]);
    // Shares reaching 1: AC-1, AC-2, IR-4, IR-5 = 5/6; 2: AC-1, IR-4, IR-5 = 4/6; 3: AC-1,
    // IR-4 = 3/6; 4: null in Q1, then AC-1 + IR-4 = 3/6, then AC-1 = 1/6.
    system(&t, X1, "reach_1", [s(5.0 / 6.0); 3]);
    system(&t, X1, "reach_2", [s(4.0 / 6.0); 3]);
    system(&t, X1, "reach_3", [s(0.5); 3]);
    system(&t, X1, "reach_4", [N, s(0.5), s(1.0 / 6.0)]);
    system(&t, X1, "reach_5", [N, N, N]);
    // 5/6 < 85 %, so level 2 is not attained: level 1 (5/6 > 50 %).
    system(&t, X1, "attained_level", [s(1.0); 3]);
    // R1 (NIST high × moderate = 4 × 3 → level 3, score 5; its control AC-2 has E = 0, so
    // no reduction). Deadline 05-01: overdue at the end of Q2. Closed 08-01 in the Q3 POA&M
    // (linked by system-id): residual 0, 139 days after 03-15, after its deadline.
    system(&t, X1, "open_risks", [s(1.0), s(1.0), s(0.0)]);
    system(&t, X1, "overdue_risks", [s(0.0), s(1.0), s(0.0)]);
    system(&t, X1, "open_high_risks", [s(0.0); 3]);
    system(&t, X1, "residual_total", [s(5.0), s(5.0), s(0.0)]);
    system(&t, X1, "residual_worst", [s(5.0), s(5.0), s(0.0)]);
    system(&t, X1, "median_days_to_remediate", [N, N, s(139.0)]);
    system(&t, X1, "on_time_rate", [N, N, s(0.0)]);
    // 03-15 to 03-31 23:59:59 is 16 whole days; to 06-30, 107.
    system(&t, X1, "open_age_p50_days", [s(16.0), s(107.0), N]);
    system(&t, X1, "open_age_p90_days", [s(16.0), s(107.0), N]);
    // Trends: maturity +0.5 then −1/3; slopes need four periods.
    system(
        &t,
        X1,
        "maturity_mean_change",
        [N, s(0.5), s(13.0 / 6.0 - 2.5)],
    );
    system(&t, X1, "maturity_mean_slope4", [N, N, N]);
}

#[test]
fn x2_not_applicable_missing_unknown_inherited_and_an_overclaim() {
    let t = tables();
    // AC-1 N/A: A = 4, N/A rate 1/5. Credits: AC-2 alternative 1, AC-2(1) missing 0, IR-4 a
    // by-component without status or inheritance (ignored: unknown, 0), IR-5 inherited 1.
    system(&t, X2, "na_rate", [s(0.2); 3]);
    system(&t, X2, "claimed_coverage", [s(0.5); 3]);
    system(&t, X2, "claimed_coverage_strict", [s(0.5); 3]);
    // No results in Q1: nulls, not zeros. Q2: AC-2 satisfied, IR-5 failed: 1/4, 2/4.
    system(&t, X2, "assessed_coverage", [N, s(0.25), s(0.25)]);
    system(&t, X2, "assessment_breadth", [N, s(0.5), s(0.5)]);
    // IR-5 claimed (inherited, credit 1) and failed: 1 of the 2 assessed.
    system(&t, X2, "overclaim_rate", [N, s(0.5), s(0.5)]);
    system(&t, X2, "regression_rate", [N, N, s(0.0)]);
    // Levels Q1: AC-2 2, AC-2(1) 0, IR-4 0 (weight 2), IR-5 2: (2 + 0 + 0 + 2)/5 = 0.8.
    // Q2: AC-2 3 (no earlier verification), IR-5 1 (failed): (3 + 1)/5 = 0.8.
    // Q3: AC-2 4 (verified in Q2 and Q3, evidence 06-20: 102 days): (4 + 1)/5 = 1.0.
    system(&t, X2, "maturity_mean", [s(0.8), s(0.8), s(1.0)]);
    system(&t, X2, "reach_1", [s(0.4); 3]);
    system(&t, X2, "reach_2", [s(0.4), s(0.2), s(0.2)]);
    system(&t, X2, "reach_4", [N, s(0.0), s(0.2)]);
    system(&t, X2, "attained_level", [s(0.0); 3]);
    // R2 (FedRAMP moderate × high = 3 × 4 → level 3, score 5), no risk log: first seen at its
    // result's date 06-25 (5 days before Q2 ends, 97 before Q3 ends). Deadline 12-31.
    system(&t, X2, "open_risks", [s(0.0), s(1.0), s(1.0)]);
    system(&t, X2, "residual_total", [s(0.0), s(5.0), s(5.0)]);
    system(&t, X2, "overdue_risks", [s(0.0); 3]);
    system(&t, X2, "open_age_p50_days", [N, s(5.0), s(97.0)]);
}

#[test]
fn y1_passes_everything_and_matures() {
    let t = tables();
    // All five satisfied every quarter by a tool, 10 days before the quarter's end.
    system(&t, Y1, "claimed_coverage", [s(1.0); 3]);
    system(&t, Y1, "assessed_coverage", [s(1.0); 3]);
    system(&t, Y1, "overclaim_rate", [s(0.0); 3]);
    system(&t, Y1, "regression_rate", [N, s(0.0), s(0.0)]);
    // Level 3 in Q1 (no history for 4), 4 from Q2; 5 needs four periods of history.
    system(&t, Y1, "maturity_mean", [s(3.0), s(4.0), s(4.0)]);
    system(&t, Y1, "attained_level", [s(3.0), s(4.0), s(4.0)]);
    // The newest evidence (the 20th of the quarter's last month) is 11 days and 23:59:59 old
    // at the end of March, 10 days and 23:59:59 at the end of June and September.
    let last_second = 86_399.0 / 86_400.0;
    system(
        &t,
        Y1,
        "newest_evidence_days",
        [
            s(11.0 + last_second),
            s(10.0 + last_second),
            s(10.0 + last_second),
        ],
    );
    system(&t, Y1, "open_risks", [s(0.0); 3]);
    system(&t, Y1, "residual_total", [s(0.0); 3]);
}

#[test]
fn z1_cvss_false_positive_accepted_and_adjusted_risks() {
    let t = tables();
    // Attributed by its path (region-b/city-z). Credits 1, 1, 1, 0.5, 0: 3.5/5, strict 3/5.
    system(&t, Z1, "claimed_coverage", [s(0.7); 3]);
    system(&t, Z1, "claimed_coverage_strict", [s(0.6); 3]);
    // Q1: AC-1 satisfied, IR-4 and AC-2(1) failed. Q3: IR-4 satisfied.
    system(&t, Z1, "assessed_coverage", [s(0.2), s(0.2), s(0.4)]);
    system(&t, Z1, "assessment_breadth", [s(0.6); 3]);
    // Assessed with credit > 0: AC-1, IR-4 (0.5), AC-2(1) (1, failed): 1/3.
    system(&t, Z1, "overclaim_rate", [s(1.0 / 3.0); 3]);
    // Levels Q1: AC-1 3, AC-2 2, AC-2(1) 1, IR-4 1 (weight 2), IR-5 0: 8/6.
    // Q2: AC-1 4 (evidence 03-01: 121 days): 9/6. Q3: AC-1 3 (213 days > 182.5): 8/6.
    system(
        &t,
        Z1,
        "maturity_mean",
        [s(8.0 / 6.0), s(1.5), s(8.0 / 6.0)],
    );
    system(&t, Z1, "attained_level", [s(1.0); 3]);
    // Q1: R3 CVSS 9.8 → impact 5, likelihood 3 → level 3, score 5; R4 false positive: left
    // out; R5 accepted: retained at its current level (very-low × low → 1, score 0).
    // Q2: the POA&M (05-15) adjusts R3's likelihood to low (2): level 2, score 2; deadline
    // 04-15 passed: overdue. Q3: R3 closed 09-10 (174 days after 03-20, late); R5 open,
    // now deviation-approved (still retained, still score 0).
    system(&t, Z1, "open_risks", [s(2.0), s(2.0), s(1.0)]);
    system(&t, Z1, "retained_risks", [s(1.0); 3]);
    system(&t, Z1, "residual_total", [s(5.0), s(2.0), s(0.0)]);
    system(&t, Z1, "residual_worst", [s(5.0), s(2.0), s(0.0)]);
    system(&t, Z1, "overdue_risks", [s(0.0), s(1.0), s(0.0)]);
    system(&t, Z1, "median_days_to_remediate", [N, N, s(174.0)]);
    system(&t, Z1, "on_time_rate", [N, N, s(0.0)]);
    // Ages: R3 from 03-20, R5 from its first copy, 03-28. Q1 [3, 11]: P50 7, P90 10.2;
    // Q2 [94, 102]: 98, 101.2; Q3 R5 alone, 186.
    system(&t, Z1, "open_age_p50_days", [s(7.0), s(98.0), s(186.0)]);
    system(&t, Z1, "open_age_p90_days", [s(10.2), s(101.2), s(186.0)]);

    let risk = |id: &str, p: &str, c: &str| {
        value(&t, "fact_risk_period", &[("risk", id), ("period", p)], c)
    };
    close(
        risk(R3, "2025-Q2", "current_likelihood"),
        s(2.0),
        "R3 adjusted",
    );
    close(risk(R3, "2025-Q2", "residual_level"), s(2.0), "R3 level");
    // In Q3 IR-4 is satisfied (E = 1): the residual likelihood drops by floor(2·1 + 0.5) = 2.
    close(risk(R3, "2025-Q3", "residual_likelihood"), s(1.0), "R3 Q3");
    close(risk(R5, "2025-Q1", "residual_score"), s(0.0), "R5 retained");
    for period in ["2025-Q1", "2025-Q3"] {
        let retained = value(
            &t,
            "fact_risk_period",
            &[("risk", R5), ("period", period)],
            "retained",
        );
        close(
            retained,
            s(1.0),
            "R5 retained: accepted, then deviation-approved",
        );
    }
    let frame = t.get("fact_risk_period").unwrap();
    let risks = frame.column("risk").unwrap().str().unwrap();
    assert!(
        risks.iter().all(|r| r != Some(R4)),
        "false positives are left out"
    );
}

#[test]
fn cities_weight_their_systems_and_regions_take_quantiles() {
    let t = tables();
    let city =
        |c: &str, p: &str, m: &str| value(&t, "m_city_period", &[("city", c), ("period", p)], m);
    // city-x: X1 weighs 3 (high), X2 1 (low).
    // Claimed (0.7·3 + 0.5·1)/4 = 0.65; N/A (0·3 + 0.2·1)/4 = 0.05.
    close(
        city("city-x", "2025-Q1", "claimed_coverage"),
        s(0.65),
        "x claimed",
    );
    close(city("city-x", "2025-Q1", "na_rate"), s(0.05), "x na");
    // Assessed: X2 is null in Q1, so X1 alone (0.4); Q2 (0.4·3 + 0.25)/4 = 0.3625.
    close(
        city("city-x", "2025-Q1", "assessed_coverage"),
        s(0.4),
        "x assessed Q1",
    );
    close(
        city("city-x", "2025-Q2", "assessed_coverage"),
        s(0.3625),
        "x assessed Q2",
    );
    close(
        city("city-x", "2025-Q2", "assessed_coverage_change"),
        s(-0.0375),
        "x change",
    );
    // Maturity (2.0·3 + 0.8)/4 = 1.7; (2.5·3 + 0.8)/4 = 2.075; (13/6·3 + 1)/4 = 1.875.
    close(
        city("city-x", "2025-Q1", "maturity_mean"),
        s(1.7),
        "x maturity Q1",
    );
    close(
        city("city-x", "2025-Q2", "maturity_mean"),
        s(2.075),
        "x maturity Q2",
    );
    close(
        city("city-x", "2025-Q3", "maturity_mean"),
        s(1.875),
        "x maturity Q3",
    );
    // Pooled (weights system × control): reach_1 = (3+3+6+3 + 1+1)/(18 + 5) = 17/23 < 0.85.
    close(
        city("city-x", "2025-Q1", "attained_level"),
        s(1.0),
        "x attained",
    );
    // Residual: weighted mean of system totals (5·3 + 0)/4 = 3.75, then (5·3 + 5)/4 = 5,
    // then (0 + 5)/4 = 1.25; P90 of system worsts [5, 0] = 4.5.
    close(
        city("city-x", "2025-Q1", "residual_mean"),
        s(3.75),
        "x residual Q1",
    );
    close(
        city("city-x", "2025-Q2", "residual_mean"),
        s(5.0),
        "x residual Q2",
    );
    close(
        city("city-x", "2025-Q3", "residual_mean"),
        s(1.25),
        "x residual Q3",
    );
    close(
        city("city-x", "2025-Q1", "residual_worst_p90"),
        s(4.5),
        "x worst p90",
    );
    // Ages pooled over the city's risks in Q2: R1 107, R2 5 → median 56.
    close(
        city("city-x", "2025-Q2", "open_age_p50_days"),
        s(56.0),
        "x ages",
    );
    close(
        city("city-y", "2025-Q3", "attained_level"),
        s(4.0),
        "y attained",
    );

    let region = |r: &str, p: &str, m: &str| {
        value(&t, "m_region_period", &[("region", r), ("period", p)], m)
    };
    // region-a, Q1: city assessed coverage x 0.4, y 1.0 → mean 0.7, P10 0.46, P90 0.94;
    // maturity x 1.7, y 3.0 → median 2.35; residual x 3.75, y 0 → median 1.875, P90 3.375.
    close(region("region-a", "2025-Q1", "cities"), s(2.0), "cities");
    close(
        region("region-a", "2025-Q1", "assessed_coverage_mean"),
        s(0.7),
        "a mean",
    );
    close(
        region("region-a", "2025-Q1", "assessed_coverage_p10"),
        s(0.46),
        "a p10",
    );
    close(
        region("region-a", "2025-Q1", "assessed_coverage_p90"),
        s(0.94),
        "a p90",
    );
    close(
        region("region-a", "2025-Q1", "maturity_mean_median"),
        s(2.35),
        "a maturity",
    );
    close(
        region("region-a", "2025-Q1", "residual_median"),
        s(1.875),
        "a residual",
    );
    close(
        region("region-a", "2025-Q1", "residual_p90"),
        s(3.375),
        "a residual p90",
    );
    close(
        region("region-b", "2025-Q3", "assessed_coverage_median"),
        s(0.4),
        "b",
    );
    // Attained levels x 1, y 3 → mean 2.
    close(
        region("region-a", "2025-Q1", "attained_level_mean"),
        s(2.0),
        "a attained",
    );
}

#[test]
fn controls_and_families_across_systems() {
    let t = tables();
    let control = |c: &str, p: &str, m: &str| {
        value(&t, "m_control_period", &[("control", c), ("period", p)], m)
    };
    // AC-1: N/A in X2 (1 of 4); claimed by the other three; satisfied in X1, Y1, Z1.
    close(control("ac-1", "2025-Q1", "na_rate"), s(0.25), "ac-1 na");
    close(
        control("ac-1", "2025-Q1", "assessed_coverage"),
        s(1.0),
        "ac-1 assessed",
    );
    // IR-5: credits X1 1, X2 1, Y1 1, Z1 0 → 0.75; Q2 X2 fails, Y1 passes: failure 1/2.
    close(
        control("ir-5", "2025-Q2", "claimed_coverage"),
        s(0.75),
        "ir-5 claimed",
    );
    close(
        control("ir-5", "2025-Q2", "failure_rate"),
        s(0.5),
        "ir-5 failures",
    );
    close(
        control("ir-5", "2025-Q1", "failure_rate"),
        s(0.0),
        "ir-5 Q1",
    );
    // Family AC of city-x, Q1, weights system × control (X1 3, X2 1); rows: X1 AC-1, AC-2,
    // AC-2(1) and X2 AC-2, AC-2(1) (AC-1 N/A): claimed (3·1 + 3·0.5 + 0 + 1 + 0)/11 = 0.5.
    let family = |m: &str| {
        value(
            &t,
            "m_family_period",
            &[("city", "city-x"), ("family", "ac"), ("period", "2025-Q1")],
            m,
        )
    };
    close(family("claimed_coverage"), s(0.5), "family claimed");
    // Satisfied: X1 AC-1 (3) of 11 → 3/11.
    close(
        family("assessed_coverage"),
        s(3.0 / 11.0),
        "family assessed",
    );
    // Maturity: X1 3·3 + 1·3 + 0 and X2 2·1 + 0 = 14 over 11.
    close(family("maturity_mean"), s(14.0 / 11.0), "family maturity");
}

#[test]
fn overclaimed_controls_per_city() {
    let t = tables();
    let frame = t.get("m_city_overclaim_period").unwrap();
    // Claimed in full (credit 1) and failed: x2's inherited IR-5 in Q2 and Q3 (x1 also claims
    // IR-5: 2 claiming systems), z1's AC-2(1) in every quarter. Nothing else.
    assert_eq!(frame.height(), 5, "{frame}");
    for (city, control, period, claimed) in [
        ("city-x", "ir-5", "2025-Q2", 2.0),
        ("city-x", "ir-5", "2025-Q3", 2.0),
        ("city-z", "ac-2.1", "2025-Q1", 1.0),
        ("city-z", "ac-2.1", "2025-Q2", 1.0),
        ("city-z", "ac-2.1", "2025-Q3", 1.0),
    ] {
        let keys = [("city", city), ("control", control), ("period", period)];
        let what = format!("{city} {control} {period}");
        let overclaimed = value(&t, "m_city_overclaim_period", &keys, "overclaimed_systems");
        close(overclaimed, s(1.0), &what);
        let claiming = value(&t, "m_city_overclaim_period", &keys, "claimed_systems");
        close(claiming, s(claimed), &what);
    }
}

#[test]
fn results_tied_on_date_and_document_go_to_the_later_finding() {
    // X1's AC-1 was last assessed in Q2 (satisfied). One more document gives it, on 09-15, two
    // results of the same date: the later finding in the document counts, as if alone.
    let finding = |result: &str, satisfied: bool| mim6_ingest::FindingRow {
        system: X1.into(),
        document: std::path::Path::new("x1/ar-2025-09-15.json").into(),
        result: result.into(),
        date: "2025-09-15T00:00:00Z".parse().unwrap(),
        finding: mim6_ingest::Uuid::of(&format!("{result}-f")),
        control: "ac-1".into(),
        target: "ac-1_smt".into(),
        satisfied,
        observations: 1,
        automated: 0,
        evidence: None,
        risks: Vec::new(),
    };
    let pass = finding("000000e1-0000-4000-8000-000000000001", true);
    let fail = finding("000000e1-0000-4000-8000-000000000002", false);
    let with = |rows: Vec<mim6_ingest::FindingRow>| {
        let (mut facts, baseline, settings) = fixture();
        facts.findings.extend(rows);
        compute(facts, &baseline, &settings).unwrap()
    };
    // Q3 assessed coverage: AC-1 and IR-4 of 5 when AC-1 passes, IR-4 alone when it fails.
    for (rows, alone, coverage) in [
        (vec![pass.clone(), fail.clone()], fail.clone(), 0.2),
        (vec![fail, pass.clone()], pass, 0.4),
    ] {
        let (tied, single) = (with(rows), with(vec![alone]));
        for table in ["m_system_period", "m_control_period", "m_city_period"] {
            let (a, b) = (tied.get(table).unwrap(), single.get(table).unwrap());
            assert!(a.equals_missing(b), "{table}:\n{a}\n{b}");
        }
        system(
            &tied,
            X1,
            "assessed_coverage",
            [s(0.4), s(0.4), s(coverage)],
        );
    }
}

#[test]
fn a_table_that_cannot_be_written_fails_the_run_and_leaves_no_tables() {
    // `fact_risk_period` is written beside the metrics, on a thread of its own: its failure
    // ends the run with the file's name, and the tables folder is never swapped in.
    let (facts, baseline, settings) = fixture();
    let out = tempfile::tempdir().unwrap();
    let formats = mim6_analytics::Formats {
        parquet: true,
        csv: true,
    };
    let mut collector = mim6_analytics::Collector::to_folder(&baseline, out.path(), formats)
        .unwrap()
        .shard_cities(1);
    collector.add(facts).unwrap();
    let blocked = out.path().join("tables.staging/fact_risk_period.csv");
    std::fs::create_dir(&blocked).unwrap();
    let error = collector.finish(&settings).unwrap_err().to_string();
    assert!(
        error.contains(&blocked.display().to_string()),
        "the error names the file: {error}"
    );
    assert!(!out.path().join("tables").exists());
}
