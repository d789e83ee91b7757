//! System security plans: a city's shared platform, and each system leveraging it.

use oscal_model::{
    AuthorizationBoundary, ByComponent, ControlImplementationResponsibility, Document, Export,
    Impact, ImplementationStatus, ImportProfile, InformationType, InformationTypeCategorization,
    InheritedControlImplementation, LeveragedAuthorization, Link, MIM6_NAMESPACE, Metadata, Model,
    OSCAL_VERSION, Party, Property, ProvidedControlImplementation, ResponsibleParty, Role,
    SatisfiedControlImplementationResponsibility, SecurityImpactLevel, SspControlImplementation,
    SspImplementedRequirement, SystemCharacteristics, SystemComponent, SystemComponentStatus,
    SystemId, SystemImplementation, SystemInformation, SystemSecurityPlan, SystemStatus,
};
use rand::RngExt;

use crate::fleet::{City, Fleet, System};
use crate::{Baseline, BaselineControl};

/// The date every generated plan carries (plans are dated before the first period).
const PLAN_DATE: &str = "2025-01-01T00:00:00Z";

/// Control families that a city's shared platform provides to its systems (hosting, physical
/// protection, maintenance, media, contingency): the systems inherit them.
const PLATFORM_FAMILIES: [&str; 5] = ["pe", "ma", "mp", "cp", "sc-7"];

/// True when `control` is provided by the city's platform.
pub(crate) fn inherited(control: &str) -> bool {
    PLATFORM_FAMILIES.iter().any(|family| {
        control == *family
            || control.starts_with(&format!("{family}-"))
            || control.starts_with(&format!("{family}."))
    })
}

fn prop(name: &str, value: &str) -> Property {
    Property {
        name: name.into(),
        ns: Some(MIM6_NAMESPACE.into()),
        value: value.into(),
        ..Property::default()
    }
}

/// Metadata of a generated document: the city's attribution props and its owner.
pub(crate) fn metadata_for(
    title: String,
    city: &City,
    party: &str,
    last_modified: &str,
) -> Metadata {
    Metadata {
        title,
        last_modified: last_modified.into(),
        version: "1.0".into(),
        oscal_version: OSCAL_VERSION.into(),
        props: Some(vec![
            prop("city-id", &city.id),
            prop("region-id", &city.region),
            prop("city-name", &city.name),
            prop("population", &city.population.to_string()),
        ]),
        roles: Some(vec![Role {
            id: "system-owner".into(),
            title: "System Owner".into(),
            ..Role::default()
        }]),
        parties: Some(vec![Party {
            uuid: Some(party.into()),
            r#type: Some("organization".into()),
            name: Some(format!("City of {}", city.name)),
            ..Party::default()
        }]),
        responsible_parties: Some(vec![ResponsibleParty {
            role_id: "system-owner".into(),
            party_uuids: vec![party.into()],
            ..ResponsibleParty::default()
        }]),
        ..Metadata::default()
    }
}

fn characteristics(
    fleet: &Fleet,
    key: &str,
    name: &str,
    description: &str,
    impact: [&'static str; 3],
) -> SystemCharacteristics {
    let highest = if impact.contains(&"fips-199-high") {
        "fips-199-high"
    } else if impact.contains(&"fips-199-moderate") {
        "fips-199-moderate"
    } else {
        "fips-199-low"
    };
    let base = |level: &str| Impact {
        base: level.into(),
        ..Impact::default()
    };
    SystemCharacteristics {
        system_ids: vec![SystemId {
            identifier_type: Some("http://ietf.org/rfc/rfc4122".into()),
            id: fleet.uuid(&format!("{key}/system-id")),
            ..SystemId::default()
        }],
        system_name: name.into(),
        description: description.into(),
        security_sensitivity_level: Some(highest.into()),
        system_information: SystemInformation {
            information_types: vec![InformationType {
                uuid: Some(fleet.uuid(&format!("{key}/information-type"))),
                title: "Citizen and municipal service data".into(),
                description: "Personal data of residents and operational data of the service."
                    .into(),
                categorizations: Some(vec![InformationTypeCategorization {
                    system: "http://doi.org/10.6028/NIST.SP.800-60v2r1".into(),
                    information_type_ids: Some(vec!["C.2.8.12".into()]),
                    ..InformationTypeCategorization::default()
                }]),
                confidentiality_impact: Some(base(impact[0])),
                integrity_impact: Some(base(impact[1])),
                availability_impact: Some(base(impact[2])),
                ..InformationType::default()
            }],
            ..SystemInformation::default()
        },
        security_impact_level: Some(SecurityImpactLevel {
            security_objective_confidentiality: impact[0].into(),
            security_objective_integrity: impact[1].into(),
            security_objective_availability: impact[2].into(),
            ..SecurityImpactLevel::default()
        }),
        status: SystemStatus {
            state: "operational".into(),
            ..SystemStatus::default()
        },
        authorization_boundary: AuthorizationBoundary {
            description: format!("The {name} and the city infrastructure it runs on."),
            ..AuthorizationBoundary::default()
        },
        ..SystemCharacteristics::default()
    }
}

fn component(uuid: String, kind: &str, title: &str, description: &str) -> SystemComponent {
    SystemComponent {
        uuid,
        r#type: kind.into(),
        title: title.into(),
        description: description.into(),
        status: SystemComponentStatus {
            state: "operational".into(),
            ..SystemComponentStatus::default()
        },
        ..SystemComponent::default()
    }
}

fn document(plan: SystemSecurityPlan) -> Document {
    Document::new(Model::SystemSecurityPlan(Box::new(plan)))
}

/// The SSP of a city's shared platform: it implements the controls it provides and exports
/// them for the city's systems.
pub(crate) fn platform(fleet: &Fleet, city: &City, baseline: &Baseline) -> Document {
    let key = format!("{}/platform", city.id);
    let party = fleet.uuid(&format!("{}/party", city.id));
    let this = fleet.uuid(&format!("{key}/this-system"));
    let requirements = baseline
        .controls
        .iter()
        .map(|control| {
            let id = &control.id;
            let upper = id.to_uppercase();
            let by_component = if inherited(id) {
                ByComponent {
                    component_uuid: this.clone(),
                    uuid: fleet.uuid(&format!("{key}/by-component/{id}")),
                    description: format!(
                        "The city platform implements {upper} for every system it hosts."
                    ),
                    implementation_status: Some(ImplementationStatus {
                        state: "implemented".into(),
                        ..ImplementationStatus::default()
                    }),
                    export: Some(Export {
                        provided: Some(vec![ProvidedControlImplementation {
                            uuid: provided_uuid(fleet, city, id),
                            description: format!("{upper} as operated by the city platform."),
                            ..ProvidedControlImplementation::default()
                        }]),
                        responsibilities: shared(id).then(|| {
                            vec![ControlImplementationResponsibility {
                                uuid: responsibility_uuid(fleet, city, id),
                                provided_uuid: Some(provided_uuid(fleet, city, id)),
                                description: format!(
                                    "Each hosted system sets its own recovery objectives for {upper}."
                                ),
                                ..ControlImplementationResponsibility::default()
                            }]
                        }),
                        ..Export::default()
                    }),
                    ..ByComponent::default()
                }
            } else {
                ByComponent {
                    component_uuid: this.clone(),
                    uuid: fleet.uuid(&format!("{key}/by-component/{id}")),
                    description: format!("{upper} is not the platform's to implement."),
                    implementation_status: Some(ImplementationStatus {
                        state: "not-applicable".into(),
                        remarks: Some(format!(
                            "{upper} is implemented by each system the platform hosts, in its own plan."
                        )),
                        ..ImplementationStatus::default()
                    }),
                    ..ByComponent::default()
                }
            };
            SspImplementedRequirement {
                uuid: fleet.uuid(&format!("{key}/requirement/{id}")),
                control_id: id.clone(),
                by_components: Some(vec![by_component]),
                ..SspImplementedRequirement::default()
            }
        })
        .collect();
    document(SystemSecurityPlan {
        uuid: fleet.uuid(&format!("{key}/ssp")),
        metadata: metadata_for(
            format!("{}: shared city platform system security plan", city.name),
            city,
            &party,
            PLAN_DATE,
        ),
        import_profile: ImportProfile {
            href: baseline.href.clone(),
            ..ImportProfile::default()
        },
        system_characteristics: characteristics(
            fleet,
            &key,
            &format!("{} shared platform", city.name),
            "The city's shared hosting, network and facilities platform, on which its systems run.",
            [
                "fips-199-moderate",
                "fips-199-moderate",
                "fips-199-moderate",
            ],
        ),
        system_implementation: SystemImplementation {
            components: vec![component(
                this,
                "this-system",
                "Shared city platform",
                "Hosting, network and facilities.",
            )],
            ..SystemImplementation::default()
        },
        control_implementation: SspControlImplementation {
            description: "Controls the platform provides to the city's systems.".into(),
            implemented_requirements: requirements,
            ..SspControlImplementation::default()
        },
        ..SystemSecurityPlan::default()
    })
}

fn provided_uuid(fleet: &Fleet, city: &City, control: &str) -> String {
    fleet.uuid(&format!("{}/platform/provided/{control}", city.id))
}

/// True when the platform shares `control` with its systems: it provides the service
/// (backups, alternate sites) and each system keeps a responsibility (its recovery objectives).
fn shared(control: &str) -> bool {
    control.starts_with("cp-")
}

fn responsibility_uuid(fleet: &Fleet, city: &City, control: &str) -> String {
    fleet.uuid(&format!("{}/platform/responsibility/{control}", city.id))
}

/// The state claimed for a control of a system, drawn from the city's maturity.
fn claimed_state(rng: &mut rand_chacha::ChaCha8Rng, maturity: f64) -> &'static str {
    let roll: f64 = rng.random();
    if roll < 0.04 {
        "not-applicable"
    } else if roll < 0.04 + maturity * 0.9 {
        "implemented"
    } else if roll < 0.07 + maturity * 0.9 {
        "alternative"
    } else if roll < 0.07 + maturity * 0.9 + (1.0 - maturity) * 0.5 {
        "partial"
    } else {
        "planned"
    }
}

/// The SSP of one system: the controls it implements itself, with a realistic mix of states,
/// and the ones it inherits from the city platform through a leveraged authorization.
pub(crate) fn system(
    fleet: &Fleet,
    city: &City,
    system: &System,
    baseline: &Baseline,
    claims: &[Option<&'static str>],
    ext: &str,
) -> Document {
    let key = format!("{}/{}", city.id, system.slug);
    let party = fleet.uuid(&format!("{}/party", city.id));
    let this = fleet.uuid(&format!("{key}/this-system"));
    let leveraged = fleet.uuid(&format!("{key}/leveraged-platform"));
    let requirements = baseline
        .controls
        .iter()
        .zip(claims)
        .map(|(control, claim)| requirement(fleet, city, &key, control, *claim, &this, &leveraged))
        .collect();
    let mut platform = component(
        leveraged,
        "system",
        "City shared platform (leveraged)",
        "The city's shared platform, authorized separately; this system inherits its exported controls.",
    );
    platform.props = Some(vec![Property {
        name: "leveraged-authorization-uuid".into(),
        value: fleet.uuid(&format!("{key}/leveraged-authorization")),
        ..Property::default()
    }]);
    document(SystemSecurityPlan {
        uuid: fleet.uuid(&format!("{key}/ssp")),
        metadata: metadata_for(
            format!("{}: {} system security plan", city.name, system.name),
            city,
            &party,
            PLAN_DATE,
        ),
        import_profile: ImportProfile {
            href: baseline.href.clone(),
            ..ImportProfile::default()
        },
        system_characteristics: characteristics(
            fleet,
            &key,
            &system.name,
            &format!(
                "The {} of the City of {}.",
                system.name.to_lowercase(),
                city.name
            ),
            system.impact,
        ),
        system_implementation: SystemImplementation {
            leveraged_authorizations: Some(vec![LeveragedAuthorization {
                uuid: fleet.uuid(&format!("{key}/leveraged-authorization")),
                title: format!("{} shared platform", city.name),
                party_uuid: party.clone(),
                date_authorized: "2024-06-01".into(),
                links: Some(vec![Link {
                    href: format!("../platform/ssp.{ext}"),
                    rel: Some("system-security-plan".into()),
                    ..Link::default()
                }]),
                ..LeveragedAuthorization::default()
            }]),
            components: vec![
                component(this, "this-system", &system.name, "The system as a whole."),
                platform,
            ],
            ..SystemImplementation::default()
        },
        control_implementation: SspControlImplementation {
            description: format!("How the {} implements the city baseline.", system.name),
            implemented_requirements: requirements,
            ..SspControlImplementation::default()
        },
        ..SystemSecurityPlan::default()
    })
}

/// What a system's SSP claims for each baseline control, in baseline order: `None` for the
/// controls inherited from the city platform, else the implementation state, drawn from the
/// city's starting maturity.
pub(crate) fn claims(
    fleet: &Fleet,
    city: &City,
    system: &System,
    baseline: &Baseline,
) -> Vec<Option<&'static str>> {
    let mut rng = fleet.rng(&format!("{}/{}", city.id, system.slug));
    baseline
        .controls
        .iter()
        .map(|control| {
            (!inherited(&control.id)).then(|| claimed_state(&mut rng, city.maturity.start))
        })
        .collect()
}

/// The uuid of the implemented requirement for `control` in the SSP of the system whose key
/// is `system` (`CITY/SLUG`).
pub(crate) fn requirement_uuid(fleet: &Fleet, system: &str, control: &str) -> String {
    fleet.uuid(&format!("{system}/requirement/{control}"))
}

fn requirement(
    fleet: &Fleet,
    city: &City,
    key: &str,
    control: &BaselineControl,
    claim: Option<&'static str>,
    this: &str,
    leveraged: &str,
) -> SspImplementedRequirement {
    let id = &control.id;
    let by_component = if let Some(state) = claim {
        let remarks = (state == "not-applicable").then(|| {
            format!(
                "{} does not apply: the system neither stores nor transmits what it protects.",
                id.to_uppercase()
            )
        });
        ByComponent {
            component_uuid: this.into(),
            uuid: fleet.uuid(&format!("{key}/by-component/{id}")),
            description: format!("How the system meets {}.", id.to_uppercase()),
            implementation_status: Some(ImplementationStatus {
                state: state.into(),
                remarks,
                ..ImplementationStatus::default()
            }),
            ..ByComponent::default()
        }
    } else {
        ByComponent {
            component_uuid: leveraged.into(),
            uuid: fleet.uuid(&format!("{key}/by-component/{id}")),
            description: format!("{} is inherited from the city platform.", id.to_uppercase()),
            inherited: Some(vec![InheritedControlImplementation {
                uuid: fleet.uuid(&format!("{key}/inherited/{id}")),
                provided_uuid: Some(provided_uuid(fleet, city, id)),
                description: format!("{} as provided by the city platform.", id.to_uppercase()),
                ..InheritedControlImplementation::default()
            }]),
            satisfied: shared(id).then(|| {
                vec![SatisfiedControlImplementationResponsibility {
                    uuid: fleet.uuid(&format!("{key}/satisfied/{id}")),
                    responsibility_uuid: Some(responsibility_uuid(fleet, city, id)),
                    description: format!(
                        "The system's recovery objectives for {}, as the platform asks.",
                        id.to_uppercase()
                    ),
                    ..SatisfiedControlImplementationResponsibility::default()
                }]
            }),
            ..ByComponent::default()
        }
    };
    let origination = if claim.is_none() {
        "inherited"
    } else {
        "sp-system"
    };
    SspImplementedRequirement {
        uuid: requirement_uuid(fleet, key, id),
        control_id: id.clone(),
        props: Some(vec![Property {
            name: "control-origination".into(),
            ns: Some("https://fedramp.gov/ns/oscal".into()),
            value: origination.into(),
            ..Property::default()
        }]),
        by_components: Some(vec![by_component]),
        ..SspImplementedRequirement::default()
    }
}
