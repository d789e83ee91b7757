//! Facts packed for the metrics, batch by batch: systems and controls numbered, strings the
//! metrics only compare or sort replaced by numbers (documents and risks by their rank in
//! sorted order, so that sorting the numbers sorts the strings), times in seconds since the
//! epoch. What the packed rows hold is a few dozen bytes a fact, whatever its text.

use std::sync::Arc;

use mim6_ingest::{Facts, SystemRow};
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
    /// likelihood_adjusted, impact_adjusted, naming, false_positive, accepted, title`, sorted by
    /// `sys, risk, date, doc`
    pub(crate) risks: DataFrame,
    /// The names of the numbers in the `risk`, `doc` and `title` columns.
    pub(crate) names: Names,
}

/// The strings behind numbered columns.
pub(crate) struct Names {
    pub(crate) risks: Vec<Arc<str>>,
    pub(crate) documents: Vec<Arc<str>>,
    pub(crate) titles: Vec<Arc<str>>,
}

pub(crate) fn seconds(t: jiff::Timestamp) -> i64 {
    t.as_second()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    Ok(DataFrame::new_infer_height(columns)?)
}

/// Strings numbered in order of first appearance.
#[derive(Default)]
struct Interner {
    ids: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        id
    }

    /// The names sorted, and for each id its rank among them.
    fn ranked(self) -> (Vec<Arc<str>>, Vec<u32>) {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|a, b| self.names[*a as usize].cmp(&self.names[*b as usize]));
        let mut rank = vec![0; order.len()];
        for (r, id) in order.iter().enumerate() {
            rank[*id as usize] = r as u32;
        }
        let names = order
            .iter()
            .map(|id| Arc::clone(&self.names[*id as usize]))
            .collect();
        (names, rank)
    }
}

/// Packs batches of facts.
#[derive(Default)]
pub(crate) struct Packer {
    pub(crate) systems: Vec<SystemRow>,
    system_index: FxHashMap<Arc<str>, u32>,
    control_index: FxHashMap<String, u32>,
    states: Interner,
    results: Interner,
    documents: Interner,
    risk_ids: Interner,
    titles: Interner,
    statuses: Interner,
    claims: ClaimColumns,
    findings: FindingColumns,
    risk_controls: RiskControlColumns,
    risks: RiskColumns,
    /// The earliest and latest date of a finding, risk or POA&M.
    pub(crate) dates: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

#[derive(Default)]
struct ClaimColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    state: Vec<Option<u32>>,
    inherited: Vec<bool>,
}

#[derive(Default)]
struct FindingColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    result: Vec<u32>,
    date: Vec<i64>,
    doc: Vec<u32>,
    satisfied: Vec<bool>,
    observations: Vec<u32>,
    automated: Vec<u32>,
    evidence: Vec<Option<i64>>,
}

#[derive(Default)]
struct RiskControlColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    risk: Vec<u32>,
    date: Vec<i64>,
}

#[derive(Default)]
struct RiskColumns {
    sys: Vec<u32>,
    risk: Vec<u32>,
    date: Vec<i64>,
    doc: Vec<u32>,
    status: Vec<u32>,
    deadline: Vec<Option<i64>>,
    first_seen: Vec<i64>,
    closed: Vec<Option<i64>>,
    levels: [Vec<Option<i32>>; 4],
    naming: Vec<&'static str>,
    false_positive: Vec<bool>,
    accepted: Vec<bool>,
    title: Vec<u32>,
}

impl Packer {
    pub(crate) fn new(baseline: &[BaselineControl]) -> Packer {
        Packer {
            control_index: baseline
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.clone(), i as u32))
                .collect(),
            ..Packer::default()
        }
    }

    /// The system `id`, once a batch has brought its plan.
    pub(crate) fn system(&self, id: &str) -> Option<&SystemRow> {
        self.system_index
            .get(id)
            .map(|&i| &self.systems[i as usize])
    }

    fn saw(&mut self, t: jiff::Timestamp) {
        self.dates = Some(match self.dates {
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
            None => (t, t),
        });
    }

    /// Adds a batch. Its systems are numbered first, so rows may name a system of the same
    /// batch; rows of unknown systems or controls outside the baseline are left out.
    pub(crate) fn add(&mut self, facts: &Facts) {
        for s in &facts.systems {
            if !self.system_index.contains_key(s.system.as_str()) {
                let next = self.systems.len() as u32;
                self.system_index.insert(Arc::from(s.system.as_str()), next);
                self.systems.push(s.clone());
            }
        }
        let sys = |index: &FxHashMap<Arc<str>, u32>, id: &str| index.get(id).copied();
        for row in &facts.implementations {
            let (Some(s), Some(&c)) = (
                sys(&self.system_index, &row.system),
                self.control_index.get(&row.control),
            ) else {
                continue;
            };
            self.claims.sys.push(s);
            self.claims.ctl.push(c);
            self.claims
                .state
                .push(row.state.as_deref().map(|t| self.states.id(t)));
            self.claims.inherited.push(row.inherited);
        }
        for row in &facts.findings {
            self.saw(row.date);
            let (Some(s), Some(&c)) = (
                sys(&self.system_index, &row.system),
                self.control_index.get(&row.control),
            ) else {
                continue;
            };
            let date = seconds(row.date);
            let f = &mut self.findings;
            f.sys.push(s);
            f.ctl.push(c);
            f.result.push(self.results.id(&row.result));
            f.date.push(date);
            f.doc
                .push(self.documents.id(&row.document.to_string_lossy()));
            f.satisfied.push(row.satisfied);
            f.observations.push(row.observations);
            f.automated.push(row.automated);
            f.evidence.push(row.evidence.map(seconds));
            for risk in &row.risks {
                let id = self.risk_ids.id(risk);
                self.risk_controls.push(s, c, id, date);
            }
        }
        for row in &facts.risks {
            self.saw(row.date);
            let Some(s) = sys(&self.system_index, &row.system) else {
                continue;
            };
            let risk = self.risk_ids.id(&row.risk);
            for control in &row.mitigated_controls {
                if let Some(&c) = self.control_index.get(control) {
                    self.risk_controls.push(s, c, risk, seconds(row.date));
                }
            }
            let r = &mut self.risks;
            r.sys.push(s);
            r.risk.push(risk);
            r.date.push(seconds(row.date));
            r.doc
                .push(self.documents.id(&row.document.to_string_lossy()));
            r.status.push(self.statuses.id(&row.status));
            r.deadline.push(row.deadline.map(seconds));
            r.first_seen.push(seconds(row.first_seen));
            r.closed.push(row.closed.map(seconds));
            for (k, level) in [
                row.likelihood,
                row.impact,
                row.likelihood_adjusted,
                row.impact_adjusted,
            ]
            .into_iter()
            .enumerate()
            {
                r.levels[k].push(level.map(i32::from));
            }
            r.naming.push(row.naming.name());
            r.false_positive.push(row.false_positive);
            r.accepted.push(row.accepted);
            r.title.push(self.titles.id(&row.title));
        }
        for row in &facts.poam_items {
            self.saw(row.date);
        }
    }

    /// The frames, with the baseline's controls.
    pub(crate) fn finish(self, baseline: &[BaselineControl]) -> Result<Inputs> {
        let s = &self.systems;
        let impact = |k: usize| -> Vec<Option<u32>> {
            s.iter().map(|r| r.impact[k].map(u32::from)).collect()
        };
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

        let states = &self.states.names;
        let c = self.claims;
        let claims = frame(vec![
            Column::new("sys".into(), c.sys),
            Column::new("ctl".into(), c.ctl),
            Column::new(
                "state".into(),
                c.state
                    .iter()
                    .map(|id| id.map(|id| &*states[id as usize]))
                    .collect::<Vec<_>>(),
            ),
            Column::new("inherited".into(), c.inherited),
        ])?;

        // Documents and risks are compared by their names' order: their numbers become ranks.
        let (documents, doc_rank) = self.documents.ranked();
        let (risk_names, risk_rank) = self.risk_ids.ranked();
        let rank = |ids: Vec<u32>, ranks: &[u32]| -> Vec<u32> {
            ids.into_iter().map(|id| ranks[id as usize]).collect()
        };

        let f = self.findings;
        let findings = frame(vec![
            Column::new("sys".into(), f.sys),
            Column::new("ctl".into(), f.ctl),
            Column::new("result".into(), f.result),
            Column::new("date".into(), f.date),
            Column::new("doc".into(), rank(f.doc, &doc_rank)),
            Column::new("satisfied".into(), f.satisfied),
            Column::new("observations".into(), f.observations),
            Column::new("automated".into(), f.automated),
            Column::new("evidence".into(), f.evidence),
        ])?;
        let rc = self.risk_controls;
        let risk_controls = frame(vec![
            Column::new("sys".into(), rc.sys),
            Column::new("ctl".into(), rc.ctl),
            Column::new("risk".into(), rank(rc.risk, &risk_rank)),
            Column::new("date".into(), rc.date),
        ])?;
        let statuses = &self.statuses.names;
        let r = self.risks;
        let [likelihood, impact, likelihood_adjusted, impact_adjusted] = r.levels;
        let risks = frame(vec![
            Column::new("sys".into(), r.sys),
            Column::new("risk".into(), rank(r.risk, &risk_rank)),
            Column::new("date".into(), r.date),
            Column::new("doc".into(), rank(r.doc, &doc_rank)),
            Column::new(
                "status".into(),
                r.status
                    .iter()
                    .map(|id| &*statuses[*id as usize])
                    .collect::<Vec<_>>(),
            ),
            Column::new("deadline".into(), r.deadline),
            Column::new("first_seen".into(), r.first_seen),
            Column::new("closed".into(), r.closed),
            Column::new("likelihood".into(), likelihood),
            Column::new("impact".into(), impact),
            Column::new("likelihood_adjusted".into(), likelihood_adjusted),
            Column::new("impact_adjusted".into(), impact_adjusted),
            Column::new("naming".into(), r.naming),
            Column::new("false_positive".into(), r.false_positive),
            Column::new("accepted".into(), r.accepted),
            Column::new("title".into(), r.title),
        ])?;
        // Sorted once by system, risk, date and document: the copy of a risk that counts at a
        // period's end is then the last one dated on or before it, without a sort per period.
        let risks = risks.sort(
            ["sys", "risk", "date", "doc"],
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        Ok(Inputs {
            systems,
            controls,
            claims,
            findings,
            risk_controls,
            risks,
            names: Names {
                risks: risk_names,
                documents,
                titles: self.titles.names,
            },
        })
    }
}

impl RiskControlColumns {
    fn push(&mut self, sys: u32, ctl: u32, risk: u32, date: i64) {
        self.sys.push(sys);
        self.ctl.push(ctl);
        self.risk.push(risk);
        self.date.push(date);
    }
}

/// Replaces the numbers in `column` of `frame` by the names they stand for.
pub(crate) fn decode(frame: &mut DataFrame, column: &str, names: &[Arc<str>]) -> Result<()> {
    if frame.height() == 0 {
        return Ok(());
    }
    let ids = frame.column(column)?.u32()?.clone();
    let text: Vec<Option<&str>> = ids
        .iter()
        .map(|id| id.map(|id| &*names[id as usize]))
        .collect();
    frame.replace(column, Column::new(column.into(), text))?;
    Ok(())
}
