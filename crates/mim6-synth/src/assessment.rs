//! Per system and period: the assessment plan, the assessment results and the POA&M, written
//! from the system's [`History`].

use jiff::civil::Date;
use oscal_model::{
    AssessmentPlan, AssessmentResult, AssessmentResults, AssociatedRisk, Characterization,
    Document, Facet, Finding, FindingTarget, ImportAp, ImportSsp, MIM6_NAMESPACE, MitigatingFactor,
    Model, ObjectiveStatus, Observation, Origin, OriginActor, PlanOfActionAndMilestones, PoamItem,
    Property, RelatedObservation, ReviewedControls, Risk, RiskLog, RiskLogEntry, SystemId,
};

use crate::Baseline;
use crate::fleet::{City, Fleet, System};
use crate::history::{Disposition, History, Method, Naming, RiskLife, quarter};
use crate::ssp::{metadata_for, requirement_uuid};

/// What every document of one system needs to know.
pub(crate) struct Context<'a> {
    pub(crate) fleet: &'a Fleet,
    pub(crate) city: &'a City,
    pub(crate) system: &'a System,
    pub(crate) baseline: &'a Baseline,
    pub(crate) history: &'a History,
    /// File extension of the system's documents (`json`, `xml`).
    pub(crate) ext: &'a str,
}

impl Context<'_> {
    /// `CITY/SLUG`: the prefix of every uuid name of the system.
    fn key(&self) -> String {
        format!("{}/{}", self.city.id, self.system.slug)
    }

    fn party(&self) -> String {
        self.fleet.uuid(&format!("{}/party", self.city.id))
    }

    fn control_id(&self, index: usize) -> &str {
        &self.baseline.controls[index].id
    }

    fn risk_uuid(&self, risk: &RiskLife) -> String {
        self.fleet.uuid(&format!(
            "{}/risk/{}/{}",
            self.key(),
            self.control_id(risk.control),
            risk.opened
        ))
    }

    fn observation_uuid(&self, period: usize, control: usize) -> String {
        self.fleet.uuid(&format!(
            "{}/ar-{period}/observation/{}",
            self.key(),
            self.control_id(control)
        ))
    }
}

fn timestamp(date: Date) -> String {
    format!("{date}T00:00:00Z")
}

fn end_of_day(date: Date) -> String {
    format!("{date}T23:59:59Z")
}

fn party_origin(party: &str) -> Origin {
    Origin {
        actors: vec![OriginActor {
            r#type: "party".into(),
            actor_uuid: party.into(),
            ..OriginActor::default()
        }],
        ..Origin::default()
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// The assessment plan of a system for a period.
pub(crate) fn plan(cx: &Context<'_>, period: usize) -> Document {
    let key = format!("{}/ap-{period}", cx.key());
    let (start, _) = quarter(period);
    Document::new(Model::AssessmentPlan(Box::new(AssessmentPlan {
        uuid: cx.fleet.uuid(&key),
        metadata: metadata_for(
            format!(
                "{}: {} assessment plan, period {period}",
                cx.city.name, cx.system.name
            ),
            cx.city,
            &cx.party(),
            &timestamp(start),
        ),
        import_ssp: ImportSsp {
            href: format!("ssp.{}", cx.ext),
            ..ImportSsp::default()
        },
        reviewed_controls: ReviewedControls::all(),
        ..AssessmentPlan::default()
    })))
}

/// The assessment results of a system for a period: a finding per assessed control backed by
/// an observation, and every risk alive in the period.
pub(crate) fn results(cx: &Context<'_>, period: usize) -> Document {
    let key = format!("{}/ar-{period}", cx.key());
    let party = cx.party();
    let tool = cx.fleet.uuid(&format!("{}/scanner", cx.city.id));
    let (start, end) = quarter(period);
    let assessed = &cx.history.periods[period - 1];
    let mut observations = Vec::with_capacity(assessed.len());
    let mut findings = Vec::with_capacity(assessed.len());
    for item in assessed {
        let id = cx.control_id(item.control);
        let upper = id.to_uppercase();
        let observation = cx.observation_uuid(period, item.control);
        let by_tool = item.method == Method::Test;
        observations.push(Observation {
            uuid: observation.clone(),
            description: format!("Evidence gathered for {upper} in period {period}."),
            methods: vec![item.method.name().into()],
            types: Some(vec!["control-objective".into()]),
            origins: Some(vec![Origin {
                actors: vec![OriginActor {
                    r#type: if by_tool { "tool" } else { "party" }.into(),
                    actor_uuid: if by_tool { tool.clone() } else { party.clone() },
                    ..OriginActor::default()
                }],
                ..Origin::default()
            }]),
            collected: timestamp(item.collected),
            expires: Some(timestamp(item.collected + jiff::ToSpan::days(365))),
            ..Observation::default()
        });
        findings.push(Finding {
            uuid: cx.fleet.uuid(&format!("{key}/finding/{id}")),
            title: format!("Assessment of {upper}"),
            description: format!("{upper} was assessed in period {period}."),
            target: FindingTarget {
                r#type: "objective-id".into(),
                target_id: format!("{id}_obj"),
                status: ObjectiveStatus {
                    state: if item.satisfied {
                        "satisfied"
                    } else {
                        "not-satisfied"
                    }
                    .into(),
                    ..ObjectiveStatus::default()
                },
                ..FindingTarget::default()
            },
            related_observations: Some(vec![RelatedObservation {
                observation_uuid: observation,
                ..RelatedObservation::default()
            }]),
            related_risks: item.risk.map(|r| {
                vec![AssociatedRisk {
                    risk_uuid: cx.risk_uuid(&cx.history.risks[r]),
                    ..AssociatedRisk::default()
                }]
            }),
            ..Finding::default()
        });
    }
    let risks = cx
        .history
        .risks
        .iter()
        .filter(|life| life.alive_in(period))
        .map(|life| {
            let observation = assessed
                .iter()
                .any(|a| a.control == life.control)
                .then(|| cx.observation_uuid(period, life.control));
            risk(cx, life, period, observation)
        })
        .collect();
    let result = AssessmentResult {
        uuid: cx.fleet.uuid(&format!("{key}/result")),
        title: format!("Period {period} assessment"),
        description: format!("Assessment of the {} for {start} to {end}.", cx.system.name),
        start: timestamp(start),
        end: Some(end_of_day(end)),
        reviewed_controls: ReviewedControls::all(),
        observations: non_empty(observations),
        risks: non_empty(risks),
        findings: non_empty(findings),
        ..AssessmentResult::default()
    };
    Document::new(Model::AssessmentResults(Box::new(AssessmentResults {
        uuid: cx.fleet.uuid(&key),
        metadata: metadata_for(
            format!(
                "{}: {} assessment results, period {period}",
                cx.city.name, cx.system.name
            ),
            cx.city,
            &party,
            &end_of_day(end),
        ),
        import_ap: ImportAp {
            href: format!("ap-{period}.{}", cx.ext),
            ..ImportAp::default()
        },
        results: vec![result],
        ..AssessmentResults::default()
    })))
}

/// The POA&M of a system at the end of a period: an item per risk alive in it (the ones closed
/// during the period included, with their closure). `None` when there is nothing to track.
pub(crate) fn poam(cx: &Context<'_>, period: usize) -> Option<Document> {
    let key = format!("{}/poam-{period}", cx.key());
    let (_, end) = quarter(period);
    let (risks, items): (Vec<Risk>, Vec<PoamItem>) = cx
        .history
        .risks
        .iter()
        .filter(|life| life.alive_in(period))
        .map(|life| {
            let risk = risk(cx, life, period, None);
            let item = PoamItem {
                uuid: Some(cx.fleet.uuid(&format!(
                    "{key}/item/{}/{}",
                    cx.control_id(life.control),
                    life.opened
                ))),
                title: format!("Remediate: {}", risk.title),
                description: format!(
                    "Bring {} back to a satisfied state.",
                    cx.control_id(life.control).to_uppercase()
                ),
                related_risks: Some(vec![AssociatedRisk {
                    risk_uuid: risk.uuid.clone(),
                    ..AssociatedRisk::default()
                }]),
                ..PoamItem::default()
            };
            (risk, item)
        })
        .unzip();
    if items.is_empty() {
        return None;
    }
    Some(Document::new(Model::PlanOfActionAndMilestones(Box::new(
        PlanOfActionAndMilestones {
            uuid: cx.fleet.uuid(&key),
            metadata: metadata_for(
                format!(
                    "{}: {} plan of action and milestones, period {period}",
                    cx.city.name, cx.system.name
                ),
                cx.city,
                &cx.party(),
                &end_of_day(end),
            ),
            import_ssp: Some(ImportSsp {
                href: format!("ssp.{}", cx.ext),
                ..ImportSsp::default()
            }),
            system_id: Some(SystemId {
                identifier_type: Some("http://ietf.org/rfc/rfc4122".into()),
                id: cx.fleet.uuid(&format!("{}/system-id", cx.key())),
                ..SystemId::default()
            }),
            risks: Some(risks),
            poam_items: items,
            ..PlanOfActionAndMilestones::default()
        },
    ))))
}

const NIST_LEVELS: [&str; 5] = ["very-low", "low", "moderate", "high", "very-high"];

fn facet(naming: Naming, name: &str, level: u8, state: Option<&str>) -> Facet {
    let (system, value) = match naming {
        Naming::Nist => (
            "http://csrc.nist.gov/ns/oscal",
            NIST_LEVELS[usize::from(level - 1)],
        ),
        Naming::FedrampNs | Naming::FedrampSite => (
            if naming == Naming::FedrampNs {
                "http://fedramp.gov/ns/oscal"
            } else {
                "https://fedramp.gov"
            },
            match level {
                ..=2 => "low",
                3 => "moderate",
                _ => "high",
            },
        ),
        Naming::Cvss => unreachable!("CVSS facets are scores"),
    };
    Facet {
        name: name.into(),
        system: system.into(),
        value: value.into(),
        props: state.map(|state| {
            vec![Property {
                name: "state".into(),
                value: state.into(),
                ..Property::default()
            }]
        }),
        ..Facet::default()
    }
}

/// A risk as listed in a document of `period`.
fn risk(cx: &Context<'_>, life: &RiskLife, period: usize, observation: Option<String>) -> Risk {
    let id = cx.control_id(life.control);
    let upper = id.to_uppercase();
    let uuid = cx.risk_uuid(life);
    let party = cx.party();
    let (_, end) = quarter(period);
    let closing = life.closes_in(period);
    let adjusted = life.adjusted.filter(|_| period > life.opened);
    let state = adjusted.map(|_| "initial");
    let facets = if life.naming == Naming::Cvss {
        vec![Facet {
            name: "base-score".into(),
            system: "http://www.first.org/cvss/v3.1".into(),
            value: format!("{:.1}", life.score),
            ..Facet::default()
        }]
    } else {
        vec![
            facet(life.naming, "likelihood", life.likelihood, state),
            facet(life.naming, "impact", life.impact, state),
        ]
    };
    let mut characterizations = vec![Characterization {
        origin: party_origin(&party),
        facets,
        ..Characterization::default()
    }];
    if let Some(likelihood) = adjusted {
        characterizations.push(Characterization {
            origin: party_origin(&party),
            facets: vec![facet(
                life.naming,
                "likelihood",
                likelihood,
                Some("adjusted"),
            )],
            ..Characterization::default()
        });
    }
    let status = if closing {
        "closed"
    } else if period == life.opened {
        "open"
    } else {
        match life.disposition {
            Disposition::DeviationApproved => "deviation-approved",
            Disposition::Remediate => "remediating",
            Disposition::Accepted | Disposition::FalsePositive => "open",
        }
    };
    let props = match life.disposition {
        Disposition::Accepted => Some(vec![mim6_prop("accepted", "true")]),
        Disposition::FalsePositive => Some(vec![mim6_prop("false-positive", "true")]),
        _ => None,
    };
    let mut log = vec![log_entry(
        cx,
        &uuid,
        "Risk identified",
        life.first_seen,
        "open",
    )];
    if period > life.opened {
        let next = match life.disposition {
            Disposition::DeviationApproved => "deviation-approved",
            _ => "remediating",
        };
        log.push(log_entry(
            cx,
            &uuid,
            "Treatment decided",
            quarter(life.opened).1,
            next,
        ));
    }
    if life.extended.is_some() && life.deadline < end {
        log.push(log_entry(cx, &uuid, "Deadline extended", life.deadline, ""));
    }
    if let Some(closed) = life.closed.filter(|_| closing) {
        log.push(log_entry(
            cx,
            &uuid,
            "Remediation verified",
            closed,
            "closed",
        ));
    }
    Risk {
        uuid,
        title: format!("{upper} not satisfied"),
        description: format!(
            "The assessment of {upper} in period {} found it not satisfied.",
            life.opened
        ),
        statement: "Until remediated, the weakness may be exploited.".into(),
        props,
        status: status.into(),
        characterizations: Some(characterizations),
        mitigating_factors: Some(vec![MitigatingFactor {
            uuid: cx.fleet.uuid(&format!("{}/mitigating", cx.risk_uuid(life))),
            implementation_uuid: Some(requirement_uuid(cx.fleet, &cx.key(), id)),
            description: format!("The system's implementation of {upper}."),
            ..MitigatingFactor::default()
        }]),
        deadline: Some(end_of_day(life.deadline_in(period))),
        risk_log: Some(RiskLog {
            entries: log,
            ..RiskLog::default()
        }),
        related_observations: observation.map(|observation_uuid| {
            vec![RelatedObservation {
                observation_uuid,
                ..RelatedObservation::default()
            }]
        }),
        ..Risk::default()
    }
}

fn mim6_prop(name: &str, value: &str) -> Property {
    Property {
        name: name.into(),
        ns: Some(MIM6_NAMESPACE.into()),
        value: value.into(),
        ..Property::default()
    }
}

fn log_entry(cx: &Context<'_>, risk: &str, title: &str, date: Date, status: &str) -> RiskLogEntry {
    RiskLogEntry {
        uuid: cx.fleet.uuid(&format!("{risk}/log/{title}")),
        title: Some(title.into()),
        start: timestamp(date),
        status_change: (!status.is_empty()).then(|| status.into()),
        ..RiskLogEntry::default()
    }
}
