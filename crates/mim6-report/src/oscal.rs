//! OSCAL documents made from a run's tables, for other tools: per city a consolidated
//! plan of action and milestones, per region assessment results that summarise each city's
//! periods. Uuids derive from names and timestamps from the periods, so the same tables give
//! the same documents.

use std::collections::BTreeSet;

use oscal_model::{
    AssessmentResult, AssessmentResults, AssociatedRisk, BackMatter, Document, Finding,
    FindingTarget, ImportAp, Link, MIM6_NAMESPACE, Metadata, Model, OSCAL_VERSION, ObjectiveStatus,
    Observation, PlanOfActionAndMilestones, PoamItem, Property, Resource, ResourceLink,
    ReviewedControls, Risk, uuid_from_name,
};

use crate::data::{CityPeriod, FamilyPeriod, PeriodRow, Run};

fn prop(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: name.into(),
        ns: Some(MIM6_NAMESPACE.into()),
        value: value.into(),
        ..Property::default()
    }
}

/// Props for the metrics that have a value; `-` in names, as OSCAL tokens go.
fn metric_props(metrics: &[(&str, Option<f64>)]) -> Vec<Property> {
    metrics
        .iter()
        .filter_map(|(name, value)| value.map(|v| prop(&name.replace('_', "-"), v.to_string())))
        .collect()
}

fn end_of(period: &PeriodRow) -> String {
    format!("{}T23:59:59Z", period.end)
}

fn source_link(document: &str) -> Link {
    Link {
        href: document.to_owned(),
        rel: Some("reference".into()),
        text: Some("Source document, relative to the run's input folder".into()),
        ..Link::default()
    }
}

fn risks_named(list: Option<&str>, open: &BTreeSet<&str>) -> Option<Vec<AssociatedRisk>> {
    let named: Vec<AssociatedRisk> = list
        .unwrap_or_default()
        .split('|')
        .filter(|r| open.contains(r))
        .map(|r| AssociatedRisk {
            risk_uuid: r.to_owned(),
            ..AssociatedRisk::default()
        })
        .collect();
    (!named.is_empty()).then_some(named)
}

/// The consolidated POA&M of `city`: the risks open at the end of the latest period in any of
/// its systems, the failed findings that name them, and the items that track them (an item
/// made for each risk that no item tracks). `None` when nothing is open.
pub(crate) fn city_poam(run: &Run, region: &str, city: &str) -> Option<Document> {
    let latest = run.latest()?;
    let name = run.city_name(city);
    let mut seen = BTreeSet::new();
    let mut city_risks: Vec<_> = Run::of_city(&run.open_risks, city, |r| &r.city)
        .iter()
        .collect();
    city_risks.sort_by(|a, b| a.system.cmp(&b.system).then(a.risk.cmp(&b.risk)));
    city_risks.retain(|r| seen.insert(r.risk.as_str()));
    if city_risks.is_empty() {
        return None;
    }
    let open: BTreeSet<&str> = city_risks.iter().map(|r| r.risk.as_str()).collect();
    let level = |l: Option<u8>| l.map_or_else(|| "unrated".to_owned(), |l| l.to_string());
    let risks: Vec<Risk> = city_risks
        .iter()
        .map(|r| {
            let system = run.system_name(&r.system);
            let first_seen = jiff::Timestamp::from_second(r.first_seen)
                .map(|t| t.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default();
            let mut props = vec![
                prop("system-uuid", r.system.clone()),
                prop("residual-level", level(r.residual_level)),
                prop("current-likelihood", level(r.current_likelihood)),
                prop("current-impact", level(r.current_impact)),
                prop("overdue", r.overdue.to_string()),
                prop("retained", r.retained.to_string()),
            ];
            if let Some(score) = r.residual_score {
                props.push(prop("residual-score", score.to_string()));
            }
            Risk {
                uuid: r.risk.clone(),
                title: r.title.clone(),
                description: format!(
                    "Open at the end of {} in the system {system} ({}).",
                    latest.period, r.system
                ),
                statement: format!(
                    "Residual level {} of 5, first seen {first_seen}.",
                    level(r.residual_level)
                ),
                props: Some(props),
                links: Some(vec![source_link(&r.doc)]),
                status: r.status.clone(),
                deadline: r
                    .deadline
                    .and_then(|s| jiff::Timestamp::from_second(s).ok())
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
                ..Risk::default()
            }
        })
        .collect();

    let mut seen = BTreeSet::new();
    let findings: Vec<Finding> = Run::of_city(&run.open_findings, city, |f| &f.city)
        .iter()
        .filter(|f| seen.insert(f.finding.as_str()))
        .map(|f| Finding {
            uuid: f.finding.clone(),
            title: format!("Assessment of {}", f.control.to_uppercase()),
            description: format!(
                "Not satisfied in the assessment of {} dated {}.",
                run.system_name(&f.system),
                f.date
            ),
            props: Some(vec![prop("system-uuid", f.system.clone())]),
            links: Some(vec![source_link(&f.document)]),
            target: FindingTarget {
                r#type: "objective-id".into(),
                target_id: f.target.clone(),
                status: ObjectiveStatus {
                    state: "not-satisfied".into(),
                    ..ObjectiveStatus::default()
                },
                ..FindingTarget::default()
            },
            related_risks: risks_named(f.risks.as_deref(), &open),
            ..Finding::default()
        })
        .collect();

    let mut tracked = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut items: Vec<PoamItem> = Vec::new();
    for i in Run::of_city(&run.open_items, city, |i| &i.city) {
        if let Some(uuid) = &i.item
            && !seen.insert(uuid.as_str())
        {
            continue;
        }
        let related = risks_named(i.risks.as_deref(), &open);
        for r in related.iter().flatten() {
            tracked.insert(r.risk_uuid.clone());
        }
        items.push(PoamItem {
            uuid: i.item.clone(),
            title: i.title.clone(),
            description: format!("Tracked by the system {}.", run.system_name(&i.system)),
            props: Some(vec![prop("system-uuid", i.system.clone())]),
            links: Some(vec![source_link(&i.document)]),
            related_risks: related,
            ..PoamItem::default()
        });
    }
    for r in &city_risks {
        if tracked.contains(&r.risk) {
            continue;
        }
        items.push(PoamItem {
            uuid: Some(uuid_from_name(&format!("mim6/poam-item/{city}/{}", r.risk))),
            title: format!("Remediate: {}", r.title),
            description: format!(
                "No POA&M of the system {} tracks this open risk.",
                run.system_name(&r.system)
            ),
            props: Some(vec![prop("system-uuid", r.system.clone())]),
            related_risks: Some(vec![AssociatedRisk {
                risk_uuid: r.risk.clone(),
                ..AssociatedRisk::default()
            }]),
            ..PoamItem::default()
        });
    }

    Some(Document::new(Model::PlanOfActionAndMilestones(Box::new(
        PlanOfActionAndMilestones {
            uuid: uuid_from_name(&format!("mim6/poam/{region}/{city}")),
            metadata: Metadata {
                title: format!(
                    "{name}: consolidated plan of action and milestones, {}",
                    latest.period
                ),
                last_modified: end_of(latest),
                version: latest.period.clone(),
                oscal_version: OSCAL_VERSION.into(),
                props: Some(vec![
                    prop("city-id", city),
                    prop("region-id", region),
                    prop("city-name", name),
                ]),
                ..Metadata::default()
            },
            risks: Some(risks),
            findings: (!findings.is_empty()).then_some(findings),
            poam_items: items,
            ..PlanOfActionAndMilestones::default()
        },
    ))))
}

fn city_metrics(c: &CityPeriod) -> Vec<Property> {
    let mut props = metric_props(&[
        ("na_rate", c.na_rate),
        ("claimed_coverage", c.claimed_coverage),
        ("assessed_coverage", c.assessed_coverage),
        ("assessment_breadth", c.assessment_breadth),
        ("overclaim_rate", c.overclaim_rate),
        ("maturity_mean", c.maturity_mean),
        ("attained_level", c.attained_level),
        ("residual_mean", c.residual_mean),
        ("residual_worst_p90", c.residual_worst_p90),
        ("median_days_to_remediate", c.median_days_to_remediate),
        ("on_time_rate", c.on_time_rate),
    ]);
    props.extend([
        prop("systems", c.systems.to_string()),
        prop("open-risks", c.open_risks.to_string()),
        prop("open-high-risks", c.open_high_risks.to_string()),
        prop("overdue-risks", c.overdue_risks.to_string()),
    ]);
    props
}

fn family_observation(f: &FamilyPeriod, name: &str, period: &PeriodRow) -> Observation {
    let family = f.family.to_uppercase();
    let mut props = metric_props(&[
        ("claimed_coverage", f.claimed_coverage),
        ("assessed_coverage", f.assessed_coverage),
        ("overclaim_rate", f.overclaim_rate),
        ("maturity_mean", f.maturity_mean),
        ("attained_level", f.attained_level),
    ]);
    props.insert(0, prop("control-family", f.family.clone()));
    props.push(prop("controls", f.controls.to_string()));
    Observation {
        uuid: uuid_from_name(&format!(
            "mim6/observation/{}/{}/{}/{}",
            f.region, f.city, f.family, period.period
        )),
        title: Some(format!("{family} family, {name}, {}", period.period)),
        description: format!(
            "The {family} controls of the baseline across the systems of {name} in {}.",
            period.period
        ),
        props: Some(props),
        methods: vec!["EXAMINE".into()],
        types: Some(vec!["control-objective".into()]),
        collected: end_of(period),
        ..Observation::default()
    }
}

/// The assessment results of `region`: one result per city and period, the city's metrics as
/// its props and one observation per control family with the family's metrics.
pub(crate) fn region_results(run: &Run, region: &str) -> Option<Document> {
    let mut periods = run.fleet.periods.clone();
    periods.sort_by_key(|p| p.period_index);
    let (first, last) = (periods.first()?, periods.last()?);
    let mut cities: Vec<&CityPeriod> = run
        .city_periods
        .iter()
        .filter(|c| c.region == region)
        .collect();
    cities.sort_by(|a, b| {
        a.city
            .cmp(&b.city)
            .then(a.period_index.cmp(&b.period_index))
    });
    let results: Vec<AssessmentResult> = cities
        .iter()
        .filter_map(|c| {
            let period = periods.iter().find(|p| p.period_index == c.period_index)?;
            let observations: Vec<Observation> = run
                .families
                .iter()
                .filter(|f| f.city == c.city && f.period_index == c.period_index)
                .map(|f| family_observation(f, &c.city_name, period))
                .collect();
            let mut props = vec![prop("city-id", c.city.clone()), prop("city-name", c.city_name.clone())];
            props.extend(city_metrics(c));
            Some(AssessmentResult {
                uuid: uuid_from_name(&format!("mim6/result/{region}/{}/{}", c.city, c.period)),
                title: format!("{} ({}), {}", c.city_name, c.city, c.period),
                description: format!(
                    "Security management metrics of {} in {}: coverage, maturity and residual risk over its systems.",
                    c.city_name, c.period
                ),
                props: Some(props),
                start: format!("{}T00:00:00Z", period.start),
                end: Some(end_of(period)),
                reviewed_controls: ReviewedControls::all(),
                observations: (!observations.is_empty()).then_some(observations),
                ..AssessmentResult::default()
            })
        })
        .collect();
    if results.is_empty() {
        return None;
    }
    let run_resource = uuid_from_name(&format!("mim6/run/{region}"));
    Some(Document::new(Model::AssessmentResults(Box::new(
        AssessmentResults {
            uuid: uuid_from_name(&format!("mim6/assessment-results/{region}")),
            metadata: Metadata {
                title: format!(
                    "Region {region}: security management of its cities, {} to {}",
                    first.period, last.period
                ),
                last_modified: end_of(last),
                version: last.period.clone(),
                oscal_version: OSCAL_VERSION.into(),
                props: Some(vec![prop("region-id", region)]),
                ..Metadata::default()
            },
            import_ap: ImportAp {
                href: format!("#{run_resource}"),
                remarks: Some(
                    "The plan of these results is the mim6 run that measured them.".into(),
                ),
                ..ImportAp::default()
            },
            results,
            back_matter: Some(BackMatter {
                resources: Some(vec![Resource {
                    uuid: run_resource,
                    title: Some("mim6 run summary".into()),
                    description: Some(
                        "The run: its pipeline, baseline, periods and documents.".into(),
                    ),
                    rlinks: Some(vec![ResourceLink {
                        href: "../run.json".into(),
                        media_type: Some("application/json".into()),
                        ..ResourceLink::default()
                    }]),
                    ..Resource::default()
                }]),
                ..BackMatter::default()
            }),
            ..AssessmentResults::default()
        },
    ))))
}
