//! Assessment plans and results, one of each per system and period.

use oscal_model::{
    AssessedControls, AssessmentPlan, AssessmentResult, AssessmentResults, AssociatedRisk,
    Characterization, Document, Facet, Finding, FindingTarget, ImportAp, ImportSsp, IncludeAll,
    Model, ObjectiveStatus, Observation, Origin, OriginActor, RelatedObservation, ReviewedControls,
    Risk,
};
use rand::RngExt;

use crate::Baseline;
use crate::fleet::{City, Fleet, System, Trend};
use crate::ssp::{inherited, metadata_for};

/// The quarter `period` (1-based) of 2025 onwards: its first and last day.
pub(crate) fn quarter(period: usize) -> (String, String) {
    let index = period - 1;
    let year = 2025 + index / 4;
    let (start, end) = match index % 4 {
        0 => ("01-01", "03-31"),
        1 => ("04-01", "06-30"),
        2 => ("07-01", "09-30"),
        _ => ("10-01", "12-31"),
    };
    (format!("{year}-{start}"), format!("{year}-{end}"))
}

/// The city's maturity in `period`: its start, moved by its trend.
fn maturity(city: &City, period: usize) -> f64 {
    let step = (period as f64 - 1.0) * 0.05;
    let m = match city.maturity.trend {
        Trend::Improving => city.maturity.start + step,
        Trend::Stagnating => city.maturity.start,
        Trend::Regressing => city.maturity.start - step,
    };
    m.clamp(0.05, 0.98)
}

/// The assessment plan of a system for a period.
pub(crate) fn plan(fleet: &Fleet, city: &City, system: &System, period: usize) -> Document {
    let key = format!("{}/{}/ap-{period}", city.id, system.slug);
    let party = fleet.uuid(&format!("{}/party", city.id));
    let (start, _) = quarter(period);
    Document::new(Model::AssessmentPlan(Box::new(AssessmentPlan {
        uuid: fleet.uuid(&key),
        metadata: metadata_for(
            format!(
                "{}: {} assessment plan, period {period}",
                city.name, system.name
            ),
            city,
            &party,
            &format!("{start}T00:00:00Z"),
        ),
        import_ssp: ImportSsp {
            href: "ssp.json".into(),
            ..ImportSsp::default()
        },
        reviewed_controls: ReviewedControls {
            control_selections: vec![AssessedControls {
                include_all: Some(IncludeAll::default()),
                ..AssessedControls::default()
            }],
            ..ReviewedControls::default()
        },
        ..AssessmentPlan::default()
    })))
}

/// The assessment results of a system for a period: findings on a sample of the controls the
/// system claims, each backed by an observation, and a risk for each failed finding.
pub(crate) fn results(
    fleet: &Fleet,
    city: &City,
    system: &System,
    baseline: &Baseline,
    period: usize,
) -> Document {
    let key = format!("{}/{}/ar-{period}", city.id, system.slug);
    let party = fleet.uuid(&format!("{}/party", city.id));
    let tool = fleet.uuid(&format!("{}/scanner", city.id));
    let (start, end) = quarter(period);
    let mut rng = fleet.rng(&key);
    let m = maturity(city, period);
    let (mut findings, mut observations, mut risks) = (Vec::new(), Vec::new(), Vec::new());
    for control in baseline.controls.iter().filter(|c| !inherited(&c.id)) {
        // About a third of the controls are assessed each period.
        if !rng.random_bool(0.35) {
            continue;
        }
        let id = &control.id;
        let satisfied = rng.random_bool(m);
        let observation = fleet.uuid(&format!("{key}/observation/{id}"));
        let by_tool = rng.random_bool(0.4);
        let day = rng.random_range(1..28);
        let collected = format!("{}-{day:02}T10:00:00Z", &end[..7]);
        observations.push(Observation {
            uuid: observation.clone(),
            description: format!(
                "Evidence gathered for {} in period {period}.",
                id.to_uppercase()
            ),
            methods: vec![
                if by_tool {
                    "TEST"
                } else if rng.random_bool(0.5) {
                    "EXAMINE"
                } else {
                    "INTERVIEW"
                }
                .into(),
            ],
            types: Some(vec!["control-objective".into()]),
            origins: Some(vec![Origin {
                actors: vec![OriginActor {
                    r#type: if by_tool { "tool" } else { "party" }.into(),
                    actor_uuid: if by_tool { tool.clone() } else { party.clone() },
                    ..OriginActor::default()
                }],
                ..Origin::default()
            }]),
            collected,
            ..Observation::default()
        });
        let mut related_risks = None;
        if !satisfied {
            let risk = fleet.uuid(&format!("{key}/risk/{id}"));
            let likelihood = ["low", "moderate", "high"][rng.random_range(0..3)];
            let impact = ["low", "moderate", "high"][rng.random_range(0..3)];
            let system_ns = if rng.random_bool(0.5) {
                "http://csrc.nist.gov/ns/oscal"
            } else {
                "http://fedramp.gov/ns/oscal"
            };
            risks.push(Risk {
                uuid: risk.clone(),
                title: format!("{} not satisfied", id.to_uppercase()),
                description: format!(
                    "The assessment of {} in period {period} found it not satisfied.",
                    id.to_uppercase()
                ),
                statement: "Until remediated, the weakness may be exploited.".into(),
                status: "open".into(),
                characterizations: Some(vec![Characterization {
                    origin: Origin {
                        actors: vec![OriginActor {
                            r#type: "party".into(),
                            actor_uuid: party.clone(),
                            ..OriginActor::default()
                        }],
                        ..Origin::default()
                    },
                    facets: vec![
                        Facet {
                            name: "likelihood".into(),
                            system: system_ns.into(),
                            value: likelihood.into(),
                            ..Facet::default()
                        },
                        Facet {
                            name: "impact".into(),
                            system: system_ns.into(),
                            value: impact.into(),
                            ..Facet::default()
                        },
                    ],
                    ..Characterization::default()
                }]),
                deadline: Some(format!("{}T00:00:00Z", quarter(period + 1).1)),
                related_observations: Some(vec![RelatedObservation {
                    observation_uuid: observation.clone(),
                    ..RelatedObservation::default()
                }]),
                ..Risk::default()
            });
            related_risks = Some(vec![AssociatedRisk {
                risk_uuid: risk,
                ..AssociatedRisk::default()
            }]);
        }
        findings.push(Finding {
            uuid: fleet.uuid(&format!("{key}/finding/{id}")),
            title: format!("Assessment of {}", id.to_uppercase()),
            description: format!("{} was assessed in period {period}.", id.to_uppercase()),
            target: FindingTarget {
                r#type: "objective-id".into(),
                target_id: format!("{id}_obj"),
                status: ObjectiveStatus {
                    state: if satisfied {
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
            related_risks,
            ..Finding::default()
        });
    }
    let result = AssessmentResult {
        uuid: fleet.uuid(&format!("{key}/result")),
        title: format!("Period {period} assessment"),
        description: format!("Assessment of the {} for {start} to {end}.", system.name),
        start: format!("{start}T00:00:00Z"),
        end: Some(format!("{end}T23:59:59Z")),
        reviewed_controls: ReviewedControls {
            control_selections: vec![AssessedControls {
                include_all: Some(IncludeAll::default()),
                ..AssessedControls::default()
            }],
            ..ReviewedControls::default()
        },
        observations: non_empty(observations),
        risks: non_empty(risks),
        findings: non_empty(findings),
        ..AssessmentResult::default()
    };
    Document::new(Model::AssessmentResults(Box::new(AssessmentResults {
        uuid: fleet.uuid(&key),
        metadata: metadata_for(
            format!(
                "{}: {} assessment results, period {period}",
                city.name, system.name
            ),
            city,
            &party,
            &format!("{end}T23:59:59Z"),
        ),
        import_ap: ImportAp {
            href: format!("ap-{period}.json"),
            ..ImportAp::default()
        },
        results: vec![result],
        ..AssessmentResults::default()
    })))
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters() {
        assert_eq!(
            quarter(1),
            ("2025-01-01".to_owned(), "2025-03-31".to_owned())
        );
        assert_eq!(
            quarter(6),
            ("2026-04-01".to_owned(), "2026-06-30".to_owned())
        );
    }
}
