//! Facts from ingest as polars frames: systems and controls numbered, times in seconds since
//! the epoch, one row per fact.

use mim6_ingest::Facts;
use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::{BaselineControl, Result};

/// The frames the metrics are computed from.
pub(crate) struct Inputs {
    /// `sys, system, city, region, city_name, population, name, impact_c, impact_i, impact_a, sw`
    pub(crate) systems: DataFrame,
    /// `ctl, control, parent, family, title, cw, gdpr_articles, tags`
    pub(crate) controls: DataFrame,
    /// `sys, ctl, state, inherited`
    pub(crate) claims: DataFrame,
    /// `sys, ctl, result, date, doc, satisfied, observations, automated, evidence`
    pub(crate) findings: DataFrame,
    /// `sys, ctl, risk, date`: findings naming risks, and risks' mitigating implementations.
    pub(crate) risk_controls: DataFrame,
    /// `sys, risk, date, doc, status, deadline, first_seen, closed, likelihood, impact,
    /// likelihood_adjusted, impact_adjusted, false_positive, accepted, title`
    pub(crate) risks: DataFrame,
}

pub(crate) fn seconds(t: jiff::Timestamp) -> i64 {
    t.as_second()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    Ok(DataFrame::new_infer_height(columns)?)
}

pub(crate) fn build(facts: &Facts, baseline: &[BaselineControl]) -> Result<Inputs> {
    let system_index: FxHashMap<&str, u32> = facts
        .systems
        .iter()
        .enumerate()
        .map(|(i, s)| (s.system.as_str(), i as u32))
        .collect();
    let control_index: FxHashMap<&str, u32> = baseline
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i as u32))
        .collect();
    let sys = |id: &str| system_index.get(id).copied();
    let ctl = |id: &str| control_index.get(id).copied();

    let s = &facts.systems;
    let impact =
        |k: usize| -> Vec<Option<u32>> { s.iter().map(|r| r.impact[k].map(u32::from)).collect() };
    let systems = frame(vec![
        Column::new("sys".into(), (0..s.len() as u32).collect::<Vec<u32>>()),
        Column::new(
            "system".into(),
            s.iter().map(|r| r.system.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "city".into(),
            s.iter().map(|r| r.city.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "region".into(),
            s.iter().map(|r| r.region.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "city_name".into(),
            s.iter().map(|r| r.city_name.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "population".into(),
            s.iter().map(|r| r.population).collect::<Vec<_>>(),
        ),
        Column::new(
            "name".into(),
            s.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("impact_c".into(), impact(0)),
        Column::new("impact_i".into(), impact(1)),
        Column::new("impact_a".into(), impact(2)),
        Column::new(
            "sw".into(),
            s.iter().map(|r| f64::from(r.weight)).collect::<Vec<_>>(),
        ),
    ])?;

    let b = baseline;
    let controls = frame(vec![
        Column::new("ctl".into(), (0..b.len() as u32).collect::<Vec<u32>>()),
        Column::new(
            "control".into(),
            b.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "parent".into(),
            b.iter().map(|c| c.parent.as_deref()).collect::<Vec<_>>(),
        ),
        Column::new(
            "family".into(),
            b.iter().map(|c| c.family.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "title".into(),
            b.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("cw".into(), b.iter().map(|c| c.weight).collect::<Vec<_>>()),
        Column::new(
            "gdpr_articles".into(),
            b.iter()
                .map(|c| c.gdpr_articles.join("|"))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "tags".into(),
            b.iter().map(|c| c.tags.join("|")).collect::<Vec<_>>(),
        ),
    ])?;

    let (mut c_sys, mut c_ctl, mut c_state, mut c_inh) = (vec![], vec![], vec![], vec![]);
    for row in &facts.implementations {
        if let (Some(s), Some(c)) = (sys(&row.system), ctl(&row.control)) {
            c_sys.push(s);
            c_ctl.push(c);
            c_state.push(row.state.as_deref());
            c_inh.push(row.inherited);
        }
    }
    let claims = frame(vec![
        Column::new("sys".into(), c_sys),
        Column::new("ctl".into(), c_ctl),
        Column::new("state".into(), c_state),
        Column::new("inherited".into(), c_inh),
    ])?;

    let mut f = FindingColumns::default();
    let mut rc = RiskControlColumns::default();
    for row in &facts.findings {
        let (Some(s), Some(c)) = (sys(&row.system), ctl(&row.control)) else {
            continue;
        };
        let date = seconds(row.date);
        f.sys.push(s);
        f.ctl.push(c);
        f.result.push(row.result.as_str());
        f.date.push(date);
        f.doc.push(row.document.to_string_lossy().into_owned());
        f.satisfied.push(row.satisfied);
        f.observations.push(row.observations);
        f.automated.push(row.automated);
        f.evidence.push(row.evidence.map(seconds));
        for risk in &row.risks {
            rc.push(s, c, risk, date);
        }
    }
    let findings = frame(vec![
        Column::new("sys".into(), f.sys),
        Column::new("ctl".into(), f.ctl),
        Column::new("result".into(), f.result),
        Column::new("date".into(), f.date),
        Column::new("doc".into(), f.doc),
        Column::new("satisfied".into(), f.satisfied),
        Column::new("observations".into(), f.observations),
        Column::new("automated".into(), f.automated),
        Column::new("evidence".into(), f.evidence),
    ])?;

    let r = &facts.risks;
    let mut keep = Vec::with_capacity(r.len());
    for row in r {
        let Some(s) = sys(&row.system) else { continue };
        keep.push((s, row));
        for control in &row.mitigated_controls {
            if let Some(c) = ctl(control) {
                rc.push(s, c, &row.risk, seconds(row.date));
            }
        }
    }
    let level = |f: fn(&mim6_ingest::RiskRow) -> Option<u8>| -> Vec<Option<i32>> {
        keep.iter().map(|(_, r)| f(r).map(i32::from)).collect()
    };
    let risks = frame(vec![
        Column::new(
            "sys".into(),
            keep.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        ),
        Column::new(
            "risk".into(),
            keep.iter()
                .map(|(_, r)| r.risk.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "date".into(),
            keep.iter()
                .map(|(_, r)| seconds(r.date))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "doc".into(),
            keep.iter()
                .map(|(_, r)| r.document.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            keep.iter()
                .map(|(_, r)| r.status.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "deadline".into(),
            keep.iter()
                .map(|(_, r)| r.deadline.map(seconds))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "first_seen".into(),
            keep.iter()
                .map(|(_, r)| seconds(r.first_seen))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "closed".into(),
            keep.iter()
                .map(|(_, r)| r.closed.map(seconds))
                .collect::<Vec<_>>(),
        ),
        Column::new("likelihood".into(), level(|r| r.likelihood)),
        Column::new("impact".into(), level(|r| r.impact)),
        Column::new(
            "likelihood_adjusted".into(),
            level(|r| r.likelihood_adjusted),
        ),
        Column::new("impact_adjusted".into(), level(|r| r.impact_adjusted)),
        Column::new(
            "naming".into(),
            keep.iter()
                .map(|(_, r)| r.naming.name())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "false_positive".into(),
            keep.iter()
                .map(|(_, r)| r.false_positive)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "accepted".into(),
            keep.iter().map(|(_, r)| r.accepted).collect::<Vec<_>>(),
        ),
        Column::new(
            "title".into(),
            keep.iter()
                .map(|(_, r)| r.title.as_str())
                .collect::<Vec<_>>(),
        ),
    ])?;
    let risk_controls = frame(vec![
        Column::new("sys".into(), rc.sys),
        Column::new("ctl".into(), rc.ctl),
        Column::new("risk".into(), rc.risk),
        Column::new("date".into(), rc.date),
    ])?;
    Ok(Inputs {
        systems,
        controls,
        claims,
        findings,
        risk_controls,
        risks,
    })
}

#[derive(Default)]
struct FindingColumns<'a> {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    result: Vec<&'a str>,
    date: Vec<i64>,
    doc: Vec<String>,
    satisfied: Vec<bool>,
    observations: Vec<u32>,
    automated: Vec<u32>,
    evidence: Vec<Option<i64>>,
}

#[derive(Default)]
struct RiskControlColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    risk: Vec<String>,
    date: Vec<i64>,
}

impl RiskControlColumns {
    fn push(&mut self, sys: u32, ctl: u32, risk: &str, date: i64) {
        self.sys.push(sys);
        self.ctl.push(ctl);
        self.risk.push(risk.to_owned());
        self.date.push(date);
    }
}
