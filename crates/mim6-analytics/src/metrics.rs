//! The metric tables, as lazy polars queries over the input frames, one period at a time.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::input::{Inputs, flag_if_sorted, pair_key_expr, read_spilled, spill_frame};
use crate::tables::Metrics;
use crate::{Result, Settings};

const DAY: f64 = 86_400.0;

/// Join arguments that keep the left frame's row order, so that sums run in the same order
/// every time and the same inputs give the same bytes.
fn joined(how: JoinType) -> JoinArgs {
    let mut args = JoinArgs::new(how);
    args.maintain_order = MaintainOrderJoin::LeftRight;
    args
}

fn null_f64() -> Expr {
    lit(NULL).cast(DataType::Float64)
}

/// `num / den`, null when `den` is 0.
fn ratio(num: Expr, den: Expr) -> Expr {
    when(den.clone().gt(lit(0)))
        .then(num.cast(DataType::Float64) / den.cast(DataType::Float64))
        .otherwise(null_f64())
}

fn count(condition: Expr) -> Expr {
    condition.fill_null(lit(false)).cast(DataType::UInt32).sum()
}

/// Weighted mean of `x` by `w`, over the rows where `x` is not null.
fn weighted_mean(x: &str, w: &str) -> Expr {
    let present = col(x).is_not_null();
    ratio(
        (col(x) * col(w)).filter(present.clone()).sum(),
        col(w).filter(present).sum(),
    )
}

/// Share of the weight `w` of rows whose maturity level reaches `j`, over rows with a level.
fn share(j: i32, w: &str) -> Expr {
    let has = col("level").is_not_null();
    ratio(
        col(w).filter(col("level").gt_eq(lit(j))).sum(),
        col(w).filter(has).sum(),
    )
    .alias(format!("reach_{j}"))
}

/// The attained level (ISO/IEC 33020 thresholds): the highest `k` with more than 85 % reaching
/// every lower level and more than 50 % reaching `k`.
fn attained() -> Expr {
    let above = |j: i32, t: f64| col(format!("reach_{j}")).gt(lit(t)).fill_null(lit(false));
    let mut level = lit(0);
    for k in 1..=5 {
        let mut reached = above(k, 0.5);
        for j in 1..k {
            reached = reached.and(above(j, 0.85));
        }
        level = when(reached).then(lit(k)).otherwise(level);
    }
    level.alias("attained_level")
}

/// Each value's number, the values numbered in order of first appearance, and the distinct
/// values in that order.
fn first_appearance<K: std::hash::Hash + Eq + Copy>(
    values: impl Iterator<Item = K>,
) -> (Vec<u32>, Vec<K>) {
    let mut seen: rustc_hash::FxHashMap<K, u32> = Default::default();
    let mut distinct = Vec::new();
    let numbers = values
        .map(|value| {
            *seen.entry(value).or_insert_with(|| {
                distinct.push(value);
                distinct.len() as u32 - 1
            })
        })
        .collect();
    (numbers, distinct)
}

/// `frame` with column `name`: the values of text column `column` numbered in order of first
/// appearance (a null is a value of its own).
fn numbered(frame: &DataFrame, column: &str, name: &str) -> Result<DataFrame> {
    let (numbers, _) = first_appearance(frame.column(column)?.str()?.iter());
    let mut frame = frame.clone();
    frame.with_column(Column::new(name.into(), numbers))?;
    Ok(frame)
}

/// The shard's systems with column `cty`, their (region, city) numbered in order of first
/// appearance, and the frame `cty, region, city` of those numbers: the queries group by one
/// number where they grouped by two texts, and put the texts back after.
fn numbered_cities(systems: &DataFrame) -> Result<(DataFrame, DataFrame)> {
    let regions = systems.column("region")?.str()?;
    let cities = systems.column("city")?.str()?;
    let (numbers, places) = first_appearance(regions.iter().zip(cities.iter()));
    let (region, city): (Vec<_>, Vec<_>) = places.into_iter().unzip();
    let places = DataFrame::new_infer_height(vec![
        Column::new("cty".into(), (0..region.len() as u32).collect::<Vec<_>>()),
        Column::new("region".into(), region),
        Column::new("city".into(), city),
    ])?;
    let mut systems = systems.clone();
    systems.with_column(Column::new("cty".into(), numbers))?;
    Ok((systems, places))
}

/// Per system and control: N/A and claimed credit (DESIGN "Coverage").
fn claims(inputs: &Inputs) -> LazyFrame {
    let state = || col("state");
    let is_na = state().eq(lit("not-applicable")).fill_null(lit(false));
    let credit = when(state().is_null())
        .then(lit(1.0))
        .when(
            state()
                .eq(lit("implemented"))
                .or(state().eq(lit("alternative"))),
        )
        .then(lit(1.0))
        .when(state().eq(lit("partial")))
        .then(lit(0.5))
        .otherwise(lit(0.0));
    inputs
        .claims
        .clone()
        .lazy()
        // A by-component without status counts as `inherited` when it has inherited entries,
        // and is ignored otherwise.
        .filter(state().is_not_null().or(col("inherited")))
        .group_by_stable([col("sc")])
        .agg([
            len().alias("n_status"),
            count(is_na.clone()).alias("n_na"),
            credit.filter(is_na.not()).min().alias("credit"),
        ])
        .select([
            col("sc"),
            col("n_na").eq(col("n_status")).alias("na"),
            col("credit"),
        ])
}

/// The latest result with findings on each control, on or before `end`: its verdict (within
/// T), effectiveness and evidence.
fn assessments(inputs: &Inputs, end: i64, t_days: i64) -> Result<LazyFrame> {
    let t = t_days as f64;
    let found = inputs
        .findings
        .clone()
        .lazy()
        .filter(col("date").lt_eq(lit(end)));
    let age = (lit(end) - col("newest")).cast(DataType::Float64) / lit(DAY);
    let freshness = when(col("evidence_age").lt_eq(lit(t)))
        .then(lit(1.0))
        .when(col("evidence_age").gt_eq(lit(2.0 * t)))
        .then(lit(0.0))
        .otherwise((lit(2.0 * t) - col("evidence_age")) / lit(t));
    // The frame is sorted by system, control, date and document (see `input`): a control's
    // latest result is that of its last finding.
    let latest = col("result").last().over([col("sc")])?;
    Ok(found
        .filter(col("result").eq(latest))
        .group_by_stable([col("sc")])
        .agg([
            len().alias("n_findings"),
            count(col("satisfied")).alias("n_satisfied"),
            col("observations").sum().alias("obs"),
            col("automated").sum().alias("auto"),
            col("evidence").max(),
            col("date").max().alias("result_date"),
        ])
        .with_column(coalesce(&[col("evidence"), col("result_date")]).alias("newest"))
        .with_column(age.alias("evidence_age"))
        .with_columns([
            when(col("result_date").gt_eq(lit(end - t_days * 86_400)))
                .then(col("n_satisfied").eq(col("n_findings")))
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias("satisfied"),
            (col("n_satisfied").cast(DataType::Float64)
                / col("n_findings").cast(DataType::Float64)
                * freshness)
                .alias("effectiveness"),
        ])
        .select([
            col("sc"),
            col("satisfied"),
            col("effectiveness"),
            col("obs"),
            col("auto"),
            col("evidence_age"),
        ]))
}

/// The risk matrix as a frame: likelihood, impact → level, score.
fn matrix_frame(settings: &Settings, prefix: &str) -> Result<LazyFrame> {
    let (mut l, mut i, mut level, mut score) = (vec![], vec![], vec![], vec![]);
    for li in 1..=5_i32 {
        for ii in 1..=5_i32 {
            let v = settings.matrix[(li - 1) as usize][(ii - 1) as usize].clamp(1, 5);
            l.push(li);
            i.push(ii);
            level.push(i32::from(v));
            score.push(settings.scores[usize::from(v - 1)]);
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(format!("{prefix}_l").into(), l),
        Column::new(format!("{prefix}_i").into(), i),
        Column::new(format!("{prefix}_level").into(), level),
        Column::new(format!("{prefix}_score").into(), score),
    ])?
    .lazy())
}

/// The risks as they stand at the end of the period (DESIGN "Residual risk"), one row per
/// system and risk, false positives left out.
fn risks_at(
    inputs: &Inputs,
    settings: &Settings,
    grid: &DataFrame,
    start: i64,
    end: i64,
) -> Result<(DataFrame, LazyFrame)> {
    let current = inputs
        .risks
        .clone()
        .lazy()
        .filter(col("date").lt_eq(lit(end)))
        // The frame is sorted by system, risk, date and document (see `input`).
        .unique_stable_generic(Some(vec![col("sr")]), UniqueKeepStrategy::Last)
        .filter(col("false_positive").not());
    // First seen: the earliest first-seen of any copy so far (a copy without a risk log
    // starts at its own date).
    let first_seen = inputs
        .risks
        .clone()
        .lazy()
        .filter(col("date").lt_eq(lit(end)))
        .group_by_stable([col("sr")])
        .agg([col("first_seen").min().alias("earliest")]);
    let current = current
        .join(first_seen, [col("sr")], [col("sr")], joined(JoinType::Left))
        .with_column(col("earliest").alias("first_seen"));
    let links = inputs
        .risk_controls
        .clone()
        .lazy()
        .filter(col("date").lt_eq(lit(end)))
        .select([col("sr"), col("sc")])
        .unique_stable(None, UniqueKeepStrategy::First)
        // Read by the risks' effectiveness and by the controls' flags.
        .collect()?;
    let effectiveness = links
        .clone()
        .lazy()
        .join(
            grid.clone()
                .lazy()
                .select([col("sc"), col("effectiveness")]),
            [col("sc")],
            [col("sc")],
            joined(JoinType::Left),
        )
        .group_by_stable([col("sr")])
        .agg([
            col("effectiveness")
                .fill_null(lit(0.0))
                .mean()
                .alias("mean_e"),
            len().alias("n_controls"),
        ]);
    let open = col("status").neq(lit("closed"));
    let retained = col("accepted").or(col("status").eq(lit("deviation-approved")));
    let reduced = (lit(2.0) * col("mean_e") + lit(0.5))
        .floor()
        .cast(DataType::Int32);
    let risks = current
        .join(
            effectiveness,
            [col("sr")],
            [col("sr")],
            joined(JoinType::Left),
        )
        .with_columns([
            coalesce(&[col("likelihood_adjusted"), col("likelihood")]).alias("current_likelihood"),
            coalesce(&[col("impact_adjusted"), col("impact")]).alias("current_impact"),
            open.clone().alias("open"),
            retained.alias("retained"),
        ])
        .with_column(
            when(col("likelihood_adjusted").is_not_null())
                .then(col("likelihood_adjusted"))
                .when(col("retained"))
                .then(col("current_likelihood"))
                .when(col("n_controls").fill_null(lit(0)).gt(lit(0)))
                .then((col("likelihood") - reduced).clip_min(lit(1)))
                .otherwise(col("likelihood"))
                .alias("residual_likelihood"),
        )
        .join(
            matrix_frame(settings, "cur")?,
            [col("current_likelihood"), col("current_impact")],
            [col("cur_l"), col("cur_i")],
            joined(JoinType::Left),
        )
        .join(
            matrix_frame(settings, "res")?,
            [col("residual_likelihood"), col("current_impact")],
            [col("res_l"), col("res_i")],
            joined(JoinType::Left),
        )
        .with_columns([
            col("cur_level").alias("current_level"),
            col("res_level").alias("residual_level"),
            col("res_level").is_null().alias("unrated"),
            when(col("open").and(col("res_score").is_not_null()))
                .then(col("res_score"))
                .otherwise(lit(0.0))
                .alias("residual_score"),
            col("open")
                .and(col("deadline").is_not_null())
                .and(col("deadline").lt(lit(end)))
                .alias("overdue"),
            col("open")
                .and(col("res_level").gt_eq(lit(4)).fill_null(lit(false)))
                .alias("open_high"),
        ])
        .with_column(
            col("closed")
                .is_not_null()
                .and(open.not())
                .and(col("closed").gt_eq(lit(start)))
                .and(col("closed").lt_eq(lit(end)))
                .alias("closed_in_period"),
        )
        .with_columns([
            when(col("closed_in_period"))
                .then((col("closed") - col("first_seen")).cast(DataType::Float64) / lit(DAY))
                .otherwise(null_f64())
                .alias("days_to_remediate"),
            when(col("closed_in_period"))
                .then(
                    col("deadline")
                        .is_null()
                        .or(col("closed").lt_eq(col("deadline"))),
                )
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias("on_time"),
            // Whole days, counted back from the period's end.
            when(col("open"))
                .then(((lit(end) - col("first_seen")) / lit(86_400_i64)).cast(DataType::Float64))
                .otherwise(null_f64())
                .alias("open_age_days"),
        ])
        .select([
            col("sys"),
            col("risk"),
            col("title"),
            col("status"),
            col("doc"),
            col("naming"),
            col("likelihood"),
            col("impact"),
            col("current_likelihood"),
            col("current_impact"),
            col("residual_likelihood"),
            col("current_level"),
            col("residual_level"),
            col("residual_score"),
            col("mean_e").alias("mean_effectiveness"),
            col("n_controls").fill_null(lit(0)).alias("controls"),
            col("open"),
            col("retained"),
            col("unrated"),
            col("overdue"),
            col("open_high"),
            col("deadline"),
            col("first_seen"),
            col("closed"),
            col("closed_in_period"),
            col("days_to_remediate"),
            col("on_time"),
            col("open_age_days"),
        ])
        .collect()?;
    let flags = links
        .lazy()
        .join(
            risks.clone().lazy().select([
                pair_key_expr("sys", "risk").alias("sr"),
                col("open_high"),
                col("overdue"),
            ]),
            [col("sr")],
            [col("sr")],
            joined(JoinType::Inner),
        )
        .group_by_stable([col("sc")])
        .agg([
            col("open_high").any(true).alias("blocks_verified"),
            col("overdue").any(true).alias("blocks_managed"),
        ]);
    Ok((risks, flags))
}

/// Risk aggregates over the rows of a group of risks.
fn risk_aggregates() -> Vec<Expr> {
    vec![
        count(col("open")).alias("open_risks"),
        count(col("open").and(col("unrated"))).alias("unrated_risks"),
        count(col("open").and(col("retained"))).alias("retained_risks"),
        count(col("open_high")).alias("open_high_risks"),
        count(col("overdue")).alias("overdue_risks"),
        col("residual_score").sum().alias("residual_total"),
        col("residual_score").max().alias("residual_worst"),
    ]
    .into_iter()
    .chain(remediation_aggregates())
    .collect()
}

/// Remediation trends over the rows of a group of risks: median days to remediate, on-time
/// closure rate, open-risk age P50 and P90.
fn remediation_aggregates() -> Vec<Expr> {
    vec![
        col("days_to_remediate")
            .median()
            .alias("median_days_to_remediate"),
        ratio(count(col("on_time")), count(col("closed_in_period"))).alias("on_time_rate"),
        col("open_age_days")
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("open_age_p50_days"),
        col("open_age_days")
            .quantile(lit(0.9), QuantileMethod::Linear)
            .alias("open_age_p90_days"),
    ]
}

/// Coverage and maturity aggregates over rows of the control grid, coverage weighted by `sw`
/// and maturity by `mw`.
fn coverage_aggregates(sw: &str, mw: &str) -> Vec<Expr> {
    let applicable = col("na").not();
    let w = || col(sw);
    let sum_w = |cond: Expr| w().filter(cond.fill_null(lit(false))).sum();
    let credit_one = col("credit").eq(lit(1.0));
    let assessed = col("satisfied").is_not_null();
    let failed = col("satisfied").eq(lit(false));
    let mut aggs = vec![
        len().alias("controls"),
        count(col("na")).alias("not_applicable"),
        ratio(sum_w(col("na")), w().sum()).alias("na_rate"),
        ratio(
            (col("credit") * w()).filter(applicable.clone()).sum(),
            sum_w(applicable.clone()),
        )
        .alias("claimed_coverage"),
        ratio(
            sum_w(applicable.clone().and(credit_one.clone())),
            sum_w(applicable.clone()),
        )
        .alias("claimed_coverage_strict"),
        // A period without any assessment gives nulls, not zeros.
        when(sum_w(applicable.clone().and(assessed.clone())).gt(lit(0.0)))
            .then(ratio(
                sum_w(applicable.clone().and(col("satisfied").eq(lit(true)))),
                sum_w(applicable.clone()),
            ))
            .otherwise(null_f64())
            .alias("assessed_coverage"),
        when(sum_w(applicable.clone().and(assessed.clone())).gt(lit(0.0)))
            .then(ratio(
                sum_w(applicable.clone().and(assessed.clone())),
                sum_w(applicable.clone()),
            ))
            .otherwise(null_f64())
            .alias("assessment_breadth"),
        ratio(
            sum_w(applicable.clone().and(credit_one).and(failed.clone())),
            sum_w(applicable.and(col("credit").gt(lit(0.0))).and(assessed)),
        )
        .alias("overclaim_rate"),
        ratio(
            sum_w(col("satisfied_before").and(failed)),
            sum_w(col("satisfied_before")),
        )
        .alias("regression_rate"),
        weighted_mean("level", mw).alias("maturity_mean"),
    ];
    aggs.extend((1..=5).map(|j| share(j, mw)));
    aggs
}

/// Per-entity trend columns on a table sorted by period: change since the last period and the
/// least-squares slope over the last four periods (null with fewer).
fn trends(table: LazyFrame, entity: &[&str], columns: &[&str]) -> Result<LazyFrame> {
    let by: Vec<Expr> = entity.iter().map(|e| col(*e)).collect();
    let mut exprs = Vec::new();
    for c in columns {
        let x = |n: i64| col(*c).shift(lit(n)).over(by.clone());
        exprs.push((col(*c) - x(1)?).alias(format!("{c}_change")));
        exprs.push(
            ((lit(-1.5) * x(3)? - lit(0.5) * x(2)? + lit(0.5) * x(1)? + lit(1.5) * col(*c))
                / lit(5.0))
            .alias(format!("{c}_slope4")),
        );
    }
    let mut sort: Vec<Expr> = by;
    sort.push(col("period_index"));
    Ok(table
        .sort_by_exprs(sort, SortMultipleOptions::default())
        .with_columns(exprs))
}

/// The metrics of one shard of cities: the tables of systems, cities, families and
/// overclaims whole (each of their rows concerns one city), the control table as sums to be
/// combined with the other shards', and the shard's `fact_risk_period` rows.
pub(crate) struct ShardMetrics {
    pub(crate) m_system: DataFrame,
    pub(crate) m_city: DataFrame,
    pub(crate) m_family: DataFrame,
    pub(crate) m_city_overclaim: DataFrame,
    /// Per period and control: counts and sums over the shard's systems.
    pub(crate) control_sums: DataFrame,
    /// Sorted by period, system and risk.
    pub(crate) fact_risk_period: DataFrame,
}

/// Computes the metrics of one shard; `settings.periods` is not empty.
pub(crate) fn compute_shard(inputs: &Inputs, settings: &Settings) -> Result<ShardMetrics> {
    let t = settings.freshness_days;
    let (systems, cities) = numbered_cities(&inputs.systems)?;
    let systems = systems.lazy();
    let controls = numbered(&inputs.controls, "family", "fam")?.lazy();
    let base = systems
        .clone()
        .select([col("sys"), col("sw"), col("cty")])
        .cross_join(
            controls
                .clone()
                .select([col("ctl"), col("cw"), col("family"), col("fam")]),
            None,
        )
        .with_column(pair_key_expr("sys", "ctl").alias("sc"))
        .join(
            claims(inputs),
            [col("sc")],
            [col("sc")],
            joined(JoinType::Left),
        )
        .with_columns([
            col("na").fill_null(lit(false)),
            col("credit").fill_null(lit(0.0)),
        ])
        .with_column((col("sw") * col("cw")).alias("swcw"));
    let base = base.collect()?;

    // What later periods need of each period's grid (levels 4 and 5 look two periods back);
    // older ones are dropped to keep memory flat in the number of periods.
    let mut grids: Vec<Option<DataFrame>> = Vec::new();
    let mut system_tables = Vec::new();
    let mut city_tables = Vec::new();
    let mut family_tables = Vec::new();
    let mut control_sums = Vec::new();
    let mut overclaim_tables = Vec::new();
    let mut risk_tables = Vec::new();
    for (index, period) in settings.periods.iter().enumerate() {
        let (start, end) = (period.start_seconds(), period.end_seconds());
        // Each period's verdicts and risks are computed once and read by every table below.
        let mut assessed = base
            .clone()
            .lazy()
            .join(
                assessments(inputs, end, t)?,
                [col("sc")],
                [col("sc")],
                joined(JoinType::Left),
            )
            .collect()?;
        let (risks, flags) = risks_at(inputs, settings, &assessed, start, end)?;
        // Every period's grid has the rows of `base` in its order (left joins on unique keys
        // keep the left frame's rows and order), so the columns of earlier periods' grids are
        // put beside this one's as they are.
        for (back, name, alias) in [
            (1, "verified", "verified_1"),
            (1, "managed", "managed_1"),
            (2, "managed", "managed_2"),
            (1, "satisfied", "satisfied_1"),
        ] {
            let earlier = index.checked_sub(back).and_then(|i| grids.get(i)?.as_ref());
            let column = match earlier {
                Some(frame) => frame.column(name)?.clone().with_name(alias.into()),
                None => Column::full_null(alias.into(), assessed.height(), &DataType::Boolean),
            };
            assessed.with_column(column)?;
        }
        let grid = assessed
            .lazy()
            .join(flags, [col("sc")], [col("sc")], joined(JoinType::Left));
        let flag = |name: &str| col(name).fill_null(lit(false));
        let half_t = t as f64 / 2.0;
        let verified = col("na")
            .not()
            .and(col("credit").eq(lit(1.0)))
            .and(flag("satisfied"))
            .and(col("obs").fill_null(lit(0)).gt_eq(lit(1)))
            .and(flag("blocks_verified").not());
        let managed = col("verified")
            .and(flag("verified_1"))
            .and(col("evidence_age").lt_eq(lit(half_t)).fill_null(lit(false)))
            .and(flag("blocks_managed").not());
        let optimised = col("managed")
            .fill_null(lit(false))
            .and(flag("managed_1"))
            .and(flag("managed_2"))
            .and(
                ratio(col("auto"), col("obs"))
                    .gt_eq(lit(0.5))
                    .fill_null(lit(false)),
            )
            .and(col("evidence_age").lt_eq(lit(30.0)).fill_null(lit(false)));
        let grid = grid
            .with_column(verified.alias("verified"))
            .with_column(if index >= 1 {
                managed.alias("managed")
            } else {
                lit(NULL).cast(DataType::Boolean).alias("managed")
            })
            .with_column(if index >= 3 {
                optimised.alias("optimised")
            } else {
                lit(NULL).cast(DataType::Boolean).alias("optimised")
            })
            .with_column(
                when(col("na"))
                    .then(lit(NULL).cast(DataType::Int32))
                    .when(col("credit").eq(lit(0.0)))
                    .then(lit(0))
                    .when(
                        col("credit")
                            .lt(lit(1.0))
                            .or(col("satisfied").eq(lit(false)).fill_null(lit(false))),
                    )
                    .then(lit(1))
                    .when(flag("optimised"))
                    .then(lit(5))
                    .when(flag("managed"))
                    .then(lit(4))
                    .when(col("verified"))
                    .then(lit(3))
                    .otherwise(lit(2))
                    .alias("level"),
            )
            .with_column(
                flag("satisfied_1")
                    .and(col("na").not())
                    .alias("satisfied_before"),
            );
        let mut grid = grid.collect()?;
        // In system order when the shard's systems are (see `base`).
        flag_if_sorted(&mut grid, "sys")?;
        let label = period.label.as_str();
        let stamp = |frame: LazyFrame| {
            frame.with_columns([
                lit(label).alias("period"),
                lit(index as u32).alias("period_index"),
            ])
        };
        let lazy_grid = grid.clone().lazy();
        // The region and city of a city number, put back after grouping by numbers.
        let with_names = |frame: LazyFrame| {
            frame.join(
                cities.clone().lazy(),
                [col("cty")],
                [col("cty")],
                joined(JoinType::Left),
            )
        };
        // Null out the shares of levels the history cannot support yet.
        let unsupported = |frame: LazyFrame| {
            let mut frame = frame;
            if index < 1 {
                frame = frame.with_column(null_f64().alias("reach_4"));
            }
            if index < 3 {
                frame = frame.with_column(null_f64().alias("reach_5"));
            }
            frame.with_column(attained())
        };

        let mut system_aggs = coverage_aggregates("one", "cw");
        system_aggs.push(col("evidence_age").min().alias("newest_evidence_days"));
        let system_metrics = unsupported(
            lazy_grid
                .clone()
                .with_column(lit(1.0).alias("one"))
                .group_by_stable([col("sys")])
                .agg(system_aggs),
        );
        let system_risks = risks
            .clone()
            .lazy()
            .group_by_stable([col("sys")])
            .agg(risk_aggregates());
        let system_metrics = stamp(
            system_metrics
                .join(
                    system_risks,
                    [col("sys")],
                    [col("sys")],
                    joined(JoinType::Left),
                )
                .with_columns(
                    [
                        "open_risks",
                        "unrated_risks",
                        "retained_risks",
                        "open_high_risks",
                        "overdue_risks",
                    ]
                    .map(|c| col(c).fill_null(lit(0))),
                )
                .with_columns([
                    col("residual_total").fill_null(lit(0.0)),
                    col("residual_worst").fill_null(lit(0.0)),
                ]),
        )
        .collect()?;

        let city_pooled = unsupported(
            lazy_grid
                .clone()
                .group_by_stable([col("cty")])
                .agg((1..=5).map(|j| share(j, "swcw")).collect::<Vec<_>>()),
        )
        .select([col("cty"), col("attained_level")]);
        let city_risks = risks
            .clone()
            .lazy()
            .join(
                systems.clone().select([col("sys"), col("city")]),
                [col("sys")],
                [col("sys")],
                joined(JoinType::Left),
            )
            .group_by_stable([col("city")])
            .agg(remediation_aggregates());
        let by_system = system_metrics.clone().lazy().join(
            systems.clone(),
            [col("sys")],
            [col("sys")],
            joined(JoinType::Left),
        );
        let mut city_aggs: Vec<Expr> = vec![
            len().alias("systems"),
            col("city_name").first(),
            col("population").first(),
        ];
        for metric in [
            "na_rate",
            "claimed_coverage",
            "claimed_coverage_strict",
            "assessed_coverage",
            "assessment_breadth",
            "overclaim_rate",
            "regression_rate",
            "maturity_mean",
        ] {
            city_aggs.push(weighted_mean(metric, "sw").alias(metric));
        }
        city_aggs.extend([
            weighted_mean("residual_total", "sw").alias("residual_mean"),
            col("residual_worst")
                .quantile(lit(0.9), QuantileMethod::Linear)
                .alias("residual_worst_p90"),
            col("open_risks").sum(),
            col("open_high_risks").sum(),
            col("overdue_risks").sum(),
            col("unrated_risks").sum(),
            col("cty").first(),
        ]);
        let city_metrics = stamp(
            by_system
                .group_by_stable([col("region"), col("city")])
                .agg(city_aggs)
                .join(
                    city_pooled,
                    [col("cty")],
                    [col("cty")],
                    joined(JoinType::Left),
                )
                .join(
                    city_risks,
                    [col("city")],
                    [col("city")],
                    joined(JoinType::Left),
                )
                .drop(cols(["cty"])),
        )
        .collect()?;

        let mut family_aggs = vec![col("cty").first(), col("family").first()];
        family_aggs.extend(coverage_aggregates("sw", "swcw"));
        let family_metrics = stamp(unsupported(
            with_names(
                lazy_grid
                    .clone()
                    .with_column(pair_key_expr("cty", "fam").alias("cf"))
                    .group_by_stable([col("cf")])
                    .agg(family_aggs),
            )
            .select([
                col("region"),
                col("city"),
                col("family"),
                all()
                    .exclude_cols(["cf", "cty", "region", "city", "family"])
                    .as_expr(),
            ]),
        ))
        .collect()?;

        // Controls a city claims fully implemented on a system whose assessment failed them.
        let overclaimed = col("na")
            .not()
            .and(col("credit").eq(lit(1.0)))
            .and(col("satisfied").eq(lit(false)));
        let city_control = || pair_key_expr("cty", "ctl").alias("cc");
        let overclaim_metrics = stamp(
            with_names(
                lazy_grid
                    .clone()
                    .filter(overclaimed.clone())
                    .group_by_stable([city_control()])
                    .agg([
                        col("cty").first(),
                        col("ctl").first(),
                        len().cast(DataType::UInt32).alias("overclaimed_systems"),
                    ]),
            )
            .join(
                lazy_grid
                    .clone()
                    .filter(col("na").not().and(col("credit").eq(lit(1.0))))
                    .group_by_stable([city_control()])
                    .agg([len().cast(DataType::UInt32).alias("claimed_systems")]),
                [col("cc")],
                [col("cc")],
                joined(JoinType::Left),
            )
            .select([
                col("region"),
                col("city"),
                col("ctl"),
                col("overclaimed_systems"),
                col("claimed_systems"),
            ])
            .join(
                controls
                    .clone()
                    .select([col("ctl"), col("control"), col("family"), col("title")]),
                [col("ctl")],
                [col("ctl")],
                joined(JoinType::Left),
            ),
        )
        .collect()?;

        // Sums and counts, not ratios: shards combine by adding them (see `Combined`).
        let applicable = || col("na").not();
        let control_part = stamp(
            lazy_grid.clone().group_by_stable([col("ctl")]).agg([
                len().alias("systems"),
                count(col("na")).alias("n_na"),
                col("credit").filter(applicable()).sum().alias("credit_sum"),
                count(applicable()).alias("n_applicable"),
                count(applicable().and(col("satisfied").eq(lit(true)))).alias("n_satisfied"),
                count(applicable().and(col("satisfied").eq(lit(false)))).alias("n_failed"),
                count(applicable().and(col("satisfied").is_not_null())).alias("n_assessed"),
                col("level")
                    .cast(DataType::Float64)
                    .sum()
                    .alias("level_sum"),
                col("level").count().alias("n_level"),
            ]),
        )
        .collect()?;

        let risk_rows = stamp(
            risks.lazy().join(
                systems
                    .clone()
                    .select([col("sys"), col("system"), col("city"), col("region")]),
                [col("sys")],
                [col("sys")],
                joined(JoinType::Left),
            ),
        )
        .collect()?;

        system_tables.push(system_metrics);
        city_tables.push(city_metrics);
        family_tables.push(family_metrics);
        control_sums.push(control_part);
        overclaim_tables.push(overclaim_metrics);
        risk_tables.push(risk_rows);
        grids.push(Some(grid.select(["verified", "managed", "satisfied"])?));
        if let Some(old) = index.checked_sub(2).and_then(|i| grids.get_mut(i)) {
            *old = None;
        }
    }

    let m_system = trends(
        concat_lazy(system_tables)?.join(
            systems.select([
                col("sys"),
                col("system"),
                col("name"),
                col("city"),
                col("region"),
                col("sw").alias("weight"),
            ]),
            [col("sys")],
            [col("sys")],
            joined(JoinType::Left),
        ),
        &["system"],
        &["assessed_coverage", "maturity_mean", "residual_total"],
    )?
    .collect()?;
    let m_city = trends(
        concat_lazy(city_tables)?,
        &["city"],
        &["assessed_coverage", "maturity_mean", "residual_mean"],
    )?
    .collect()?;
    let fact_risk_period = concat_lazy(risk_tables)?
        .sort_by_exprs(
            [col("period_index"), col("system"), col("risk")],
            SortMultipleOptions::default(),
        )
        .collect()?;
    Ok(ShardMetrics {
        m_system,
        m_city,
        m_family: concat_lazy(family_tables)?.collect()?,
        m_city_overclaim: concat_lazy(overclaim_tables)?.collect()?,
        control_sums: concat_lazy(control_sums)?.collect()?,
        fact_risk_period,
    })
}

fn concat_lazy(frames: Vec<DataFrame>) -> Result<LazyFrame> {
    if frames.is_empty() {
        return Ok(DataFrame::empty().lazy());
    }
    Ok(concat(
        frames.into_iter().map(IntoLazy::lazy).collect::<Vec<_>>(),
        UnionArgs::default(),
    )?)
}

/// A part of a table's rows, held or set aside in a file until it is taken back.
enum Part {
    Held(DataFrame),
    File(PathBuf),
}

impl Part {
    /// The rows; a file is read once and removed.
    fn take(self) -> Result<DataFrame> {
        match self {
            Part::Held(frame) => Ok(frame),
            Part::File(path) => read_spilled(&path),
        }
    }
}

/// A shard's rows of one [`ByRegion`] table, split by region (each region's part set aside
/// when the table has a folder): made on the shard's own thread, added in shard order.
pub(crate) struct RegionParts {
    /// The columns, without rows.
    empty: DataFrame,
    parts: Vec<(String, Part)>,
}

/// A table of the shards' rows, each region's apart (in files, when given a folder, so that
/// what the shards add up to is not in memory while shards are computed), so that the rows
/// are taken back a few whole regions at a time, in region order, never the fleet's.
struct ByRegion {
    name: &'static str,
    folder: Option<PathBuf>,
    /// Each region's parts, in shard order.
    regions: std::collections::BTreeMap<String, Vec<Part>>,
    /// The columns, without rows, of the first shard's rows.
    empty: Option<DataFrame>,
}

/// The rows of whole regions taken back at a time, in bytes (at least one region).
const REGION_BATCH_BYTES: usize = 64 << 20;

impl ByRegion {
    fn new(name: &'static str, folder: Option<&Path>) -> ByRegion {
        ByRegion {
            name,
            folder: folder.map(Path::to_owned),
            regions: std::collections::BTreeMap::new(),
            empty: None,
        }
    }

    /// Splits shard `shard`'s rows by region, writing each region's part to a file of its
    /// own when the table has a folder; the shard's number keeps its files apart from every
    /// other shard's, so that shards are split side by side.
    fn split(&self, frame: &DataFrame, shard: usize) -> Result<RegionParts> {
        let mut parts = Vec::new();
        if frame.height() > 0 {
            for (i, mut part) in frame
                .partition_by_stable(["region"], true)?
                .into_iter()
                .enumerate()
            {
                let region = part
                    .column("region")?
                    .str()?
                    .get(0)
                    .unwrap_or_default()
                    .to_owned();
                let part = match &self.folder {
                    None => Part::Held(part),
                    Some(folder) => {
                        let path = folder.join(format!("{}-{shard}-{i}.parquet", self.name));
                        spill_frame(&path, &mut part)?;
                        Part::File(path)
                    }
                };
                parts.push((region, part));
            }
        }
        Ok(RegionParts {
            empty: frame.clear(),
            parts,
        })
    }

    /// Adds a shard's rows, split by [`ByRegion::split`]; shards are added in order.
    fn add(&mut self, split: RegionParts) {
        if self.empty.is_none() {
            self.empty = Some(split.empty);
        }
        for (region, part) in split.parts {
            self.regions.entry(region).or_default().push(part);
        }
    }

    /// Hands the rows to `each` whole regions at a time (about [`REGION_BATCH_BYTES`]), in
    /// region order, each region's rows in shard order; a table without rows is handed on
    /// once, empty, with its columns.
    fn each_batch(
        self,
        batch_bytes: usize,
        mut each: impl FnMut(Vec<DataFrame>) -> Result<()>,
    ) -> Result<()> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        let mut handed = false;
        for (_, parts) in self.regions {
            for part in parts {
                let frame = part.take()?;
                bytes += frame.estimated_size();
                batch.push(frame);
            }
            if bytes >= batch_bytes {
                each(std::mem::take(&mut batch))?;
                (bytes, handed) = (0, true);
            }
        }
        if !batch.is_empty() || !handed {
            batch.extend(self.empty);
            each(batch)?;
        }
        Ok(())
    }

    /// The remediation aggregates of every region and period, whole regions at a time.
    fn aggregate(self) -> Result<LazyFrame> {
        let mut done = Vec::new();
        self.each_batch(REGION_BATCH_BYTES, |frames| {
            done.push(
                concat_lazy(frames)?
                    .group_by_stable([col("region"), col("period")])
                    .agg(remediation_aggregates())
                    .collect()?,
            );
            Ok(())
        })?;
        concat_lazy(done)
    }
}

/// The shards' metrics put together: their tables of systems, cities, families and overclaims
/// one after the other, their control sums added up, and what the region tables need of their
/// risks. The tables that have rows per system, family, control or risk are set aside in a
/// folder, when given one, until the end, each region's apart, and are made a few whole
/// regions at a time.
pub(crate) struct Combined {
    m_system: ByRegion,
    m_city: Vec<DataFrame>,
    m_family: ByRegion,
    m_city_overclaim: ByRegion,
    control_sums: Vec<DataFrame>,
    /// `region, period, days_to_remediate, closed_in_period, on_time, open_age_days` of the
    /// risks that count for remediation (open, or closed in the period).
    remediation: ByRegion,
}

/// A shard's metrics made ready to be put together (see [`Combined::ready`]).
pub(crate) struct ReadyShard {
    m_system: RegionParts,
    m_city: DataFrame,
    m_family: RegionParts,
    m_city_overclaim: RegionParts,
    control_sums: DataFrame,
    remediation: RegionParts,
    /// Sorted by period, system and risk.
    pub(crate) fact_risk_period: DataFrame,
}

impl Combined {
    /// Shards to be put together, their larger tables set aside in `folder` if given.
    pub(crate) fn new(folder: Option<&Path>) -> Combined {
        Combined {
            m_system: ByRegion::new("m_system", folder),
            m_city: Vec::new(),
            m_family: ByRegion::new("m_family", folder),
            m_city_overclaim: ByRegion::new("m_city_overclaim", folder),
            control_sums: Vec::new(),
            remediation: ByRegion::new("remediation", folder),
        }
    }

    /// Makes shard `k`'s metrics ready to be added: its tables with rows per system,
    /// family, overclaim or risk split by region and set aside. Shards are made ready side by
    /// side, on their own threads, and added one by one.
    pub(crate) fn ready(&self, shard: ShardMetrics, k: usize) -> Result<ReadyShard> {
        let remediation = shard
            .fact_risk_period
            .clone()
            .lazy()
            .filter(col("open").or(col("closed_in_period")))
            .select([
                col("region"),
                col("period"),
                col("days_to_remediate"),
                col("closed_in_period"),
                col("on_time"),
                col("open_age_days"),
            ])
            .collect()?;
        Ok(ReadyShard {
            m_system: self.m_system.split(&shard.m_system, k)?,
            m_city: shard.m_city,
            m_family: self.m_family.split(&shard.m_family, k)?,
            m_city_overclaim: self.m_city_overclaim.split(&shard.m_city_overclaim, k)?,
            control_sums: shard.control_sums,
            remediation: self.remediation.split(&remediation, k)?,
            fact_risk_period: shard.fact_risk_period,
        })
    }

    /// Takes a shard made ready by [`Combined::ready`], in shard order; hands back its
    /// `fact_risk_period` rows.
    pub(crate) fn add(&mut self, shard: ReadyShard) -> DataFrame {
        self.m_system.add(shard.m_system);
        self.m_city.push(shard.m_city);
        self.m_family.add(shard.m_family);
        self.m_city_overclaim.add(shard.m_city_overclaim);
        self.control_sums.push(shard.control_sums);
        self.remediation.add(shard.remediation);
        shard.fact_risk_period
    }

    /// The metric tables of the whole run, `fact_risk_period` left to the caller.
    pub(crate) fn finish(self, controls: &DataFrame) -> Result<Metrics> {
        let mut made = std::collections::BTreeMap::<&str, DataFrame>::new();
        self.finish_each(controls, |name, table| {
            match made.get_mut(name) {
                Some(all) => {
                    all.vstack_mut_owned(table)?;
                }
                None => {
                    made.insert(name, table);
                }
            }
            Ok(())
        })?;
        let mut take = |name: &str| made.remove(name).unwrap_or_default();
        Ok(Metrics {
            m_system: take("m_system_period"),
            m_city: take("m_city_period"),
            m_region: take("m_region_period"),
            m_family: take("m_family_period"),
            m_control: take("m_control_period"),
            m_city_overclaim: take("m_city_overclaim_period"),
            fact_risk_period: None,
        })
    }

    /// The metric tables of the whole run, handed to `each` in order, `fact_risk_period` left
    /// to the caller. The tables of systems, families and overclaims come a few whole regions
    /// at a time (the same table's batches one after the other, in its row order: region and
    /// city first), so that none is ever whole in memory; each batch is let go before the next
    /// is made.
    pub(crate) fn finish_each(
        self,
        controls: &DataFrame,
        mut each: impl FnMut(&'static str, DataFrame) -> Result<()>,
    ) -> Result<()> {
        let sorted = |frames: Vec<DataFrame>, by: &[&str]| -> Result<DataFrame> {
            Ok(concat_lazy(frames)?
                .sort_by_exprs(
                    by.iter().map(|c| col(*c)).collect::<Vec<_>>(),
                    SortMultipleOptions::default(),
                )
                .collect()?)
        };
        let tables = [
            (
                "m_system_period",
                self.m_system,
                &["region", "city", "system", "period_index"][..],
            ),
            (
                "m_family_period",
                self.m_family,
                &["region", "city", "family", "period_index"],
            ),
            (
                "m_city_overclaim_period",
                self.m_city_overclaim,
                &["region", "city", "period_index", "ctl"],
            ),
        ];
        for (name, rows, by) in tables {
            rows.each_batch(REGION_BATCH_BYTES, |frames| each(name, sorted(frames, by)?))?;
        }
        let m_control = concat_lazy(self.control_sums)?
            .group_by_stable([col("period_index"), col("ctl")])
            .agg([
                col("period").first(),
                col("systems").sum().cast(DataType::UInt32),
                col("n_na").sum(),
                col("credit_sum").sum(),
                col("n_applicable").sum(),
                col("n_satisfied").sum(),
                col("n_failed").sum(),
                col("n_assessed").sum(),
                col("level_sum").sum(),
                col("n_level").sum(),
            ])
            .join(
                controls
                    .clone()
                    .lazy()
                    .select([col("ctl"), col("control"), col("family")]),
                [col("ctl")],
                [col("ctl")],
                joined(JoinType::Left),
            )
            .select([
                col("ctl"),
                col("systems"),
                ratio(col("n_na"), col("systems")).alias("na_rate"),
                ratio(col("credit_sum"), col("n_applicable")).alias("claimed_coverage"),
                ratio(col("n_satisfied"), col("n_applicable")).alias("assessed_coverage"),
                ratio(col("n_failed"), col("n_assessed")).alias("failure_rate"),
                ratio(col("level_sum"), col("n_level")).alias("maturity_mean"),
                col("control"),
                col("family"),
                col("period"),
                col("period_index"),
            ])
            .sort_by_exprs(
                [col("period_index"), col("ctl")],
                SortMultipleOptions::default(),
            )
            .collect()?;
        each("m_control_period", m_control)?;
        let m_city = sorted(self.m_city, &["city", "period_index"])?;
        let m_region = region_table(&m_city, self.remediation.aggregate()?)?;
        each("m_city_period", m_city)?;
        each("m_region_period", m_region)
    }
}

/// `m_region_period`: the cities' metrics by region, and remediation over the region's risks.
fn region_table(m_city: &DataFrame, region_risk: LazyFrame) -> Result<DataFrame> {
    let quantiles = |c: &str| -> Vec<Expr> {
        vec![
            col(c).mean().alias(format!("{c}_mean")),
            col(c).median().alias(format!("{c}_median")),
            col(c)
                .quantile(lit(0.1), QuantileMethod::Linear)
                .alias(format!("{c}_p10")),
            col(c)
                .quantile(lit(0.9), QuantileMethod::Linear)
                .alias(format!("{c}_p90")),
        ]
    };
    let mut region_aggs = vec![len().alias("cities"), col("systems").sum()];
    for c in ["assessed_coverage", "claimed_coverage", "maturity_mean"] {
        region_aggs.extend(quantiles(c));
    }
    region_aggs.extend([
        col("attained_level")
            .cast(DataType::Float64)
            .mean()
            .alias("attained_level_mean"),
        col("attained_level")
            .cast(DataType::Float64)
            .median()
            .alias("attained_level_median"),
        col("attained_level")
            .cast(DataType::Float64)
            .quantile(lit(0.1), QuantileMethod::Linear)
            .alias("attained_level_p10"),
        col("attained_level")
            .cast(DataType::Float64)
            .quantile(lit(0.9), QuantileMethod::Linear)
            .alias("attained_level_p90"),
        col("residual_mean").median().alias("residual_median"),
        col("residual_mean")
            .quantile(lit(0.9), QuantileMethod::Linear)
            .alias("residual_p90"),
        col("open_risks").sum(),
        col("open_high_risks").sum(),
        col("overdue_risks").sum(),
    ]);
    Ok(trends(
        m_city
            .clone()
            .lazy()
            .group_by_stable([col("region"), col("period"), col("period_index")])
            .agg(region_aggs)
            .join(
                region_risk,
                [col("region"), col("period")],
                [col("region"), col("period")],
                joined(JoinType::Left),
            ),
        &["region"],
        &[
            "assessed_coverage_median",
            "maturity_mean_median",
            "residual_median",
        ],
    )?
    .collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(region: &str, cities: &[&str]) -> DataFrame {
        df!(
            "region" => vec![region; cities.len()],
            "city" => cities,
        )
        .unwrap()
    }

    /// The batches `each_batch` hands on, as (region, city) pairs.
    fn batches(by: ByRegion, bytes: usize) -> Vec<Vec<(String, String)>> {
        let mut out = Vec::new();
        by.each_batch(bytes, |frames| {
            let all = concat_lazy(frames)?.collect()?;
            let (region, city) = (all.column("region")?.str()?, all.column("city")?.str()?);
            out.push(
                region
                    .iter()
                    .zip(city.iter())
                    .map(|(r, c)| (r.unwrap().to_owned(), c.unwrap().to_owned()))
                    .collect(),
            );
            Ok(())
        })
        .unwrap();
        out
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(r, c)| (r.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn rows_come_back_whole_regions_at_a_time_in_region_order() {
        let spill = tempfile::tempdir().unwrap();
        for folder in [None, Some(spill.path())] {
            let shards = [
                concat_lazy(vec![rows("b", &["b1"]), rows("a", &["a2", "a1"])])
                    .unwrap()
                    .collect()
                    .unwrap(),
                concat_lazy(vec![rows("a", &["a3"]), rows("c", &["c1", "c2"])])
                    .unwrap()
                    .collect()
                    .unwrap(),
            ];
            let fill = || {
                let mut by = ByRegion::new("t", folder);
                // Split in reverse, added in order: the shards' files are apart.
                let split: Vec<RegionParts> = (0..shards.len())
                    .rev()
                    .map(|k| by.split(&shards[k], k).unwrap())
                    .collect();
                for shard in split.into_iter().rev() {
                    by.add(shard);
                }
                by
            };
            // Each region its own batch when a byte is enough; its rows in shard order.
            assert_eq!(
                batches(fill(), 1),
                vec![
                    pairs(&[("a", "a2"), ("a", "a1"), ("a", "a3")]),
                    pairs(&[("b", "b1")]),
                    pairs(&[("c", "c1"), ("c", "c2")]),
                ]
            );
            // Every region in one batch under a large budget.
            assert_eq!(
                batches(fill(), usize::MAX),
                vec![pairs(&[
                    ("a", "a2"),
                    ("a", "a1"),
                    ("a", "a3"),
                    ("b", "b1"),
                    ("c", "c1"),
                    ("c", "c2"),
                ])]
            );
        }
        // The spilled parts are read once and removed.
        assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
        // A table without rows is handed on once, with its columns.
        let mut by = ByRegion::new("t", Some(spill.path()));
        by.add(by.split(&rows("a", &[]), 0).unwrap());
        let mut handed = Vec::new();
        by.each_batch(1, |frames| {
            handed.push(concat_lazy(frames)?.collect()?);
            Ok(())
        })
        .unwrap();
        assert_eq!(handed.len(), 1);
        assert_eq!(handed[0].height(), 0);
        assert_eq!(handed[0].get_column_names(), ["region", "city"]);
    }
}
