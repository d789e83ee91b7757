//! Narrow projections of the ingested models: only the fields the facts need, strings
//! borrowed from the input where it has no escapes, everything else skipped unparsed.

use std::borrow::Cow;

use serde::Deserialize;

/// A string borrowed from the input when it has no escapes. A newtype rather than a bare
/// `Cow`, which serde borrows only as a field of its own: inside an `Option` or a `Vec` a bare
/// `Cow<str>` is always copied into a fresh `String`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Str<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

/// A document of one of the four ingested models, by its root key (other root keys, such as
/// `$schema`, are skipped).
#[derive(Debug, Deserialize)]
pub(crate) struct Root<'a> {
    #[serde(rename = "system-security-plan", borrow, default)]
    pub(crate) ssp: Option<Ssp<'a>>,
    #[serde(rename = "assessment-plan", borrow, default)]
    pub(crate) ap: Option<Ap<'a>>,
    #[serde(rename = "assessment-results", borrow, default)]
    pub(crate) ar: Option<Ar<'a>>,
    #[serde(rename = "plan-of-action-and-milestones", borrow, default)]
    pub(crate) poam: Option<Poam<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Prop<'a> {
    #[serde(borrow)]
    pub(crate) name: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) ns: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) value: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Metadata<'a> {
    #[serde(borrow)]
    pub(crate) last_modified: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) props: Vec<Prop<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Href<'a> {
    #[serde(borrow)]
    pub(crate) href: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct BackMatter<'a> {
    #[serde(borrow, default)]
    pub(crate) resources: Vec<Resource<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Resource<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) rlinks: Vec<Href<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Ssp<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) metadata: Metadata<'a>,
    #[serde(borrow)]
    pub(crate) system_characteristics: Characteristics<'a>,
    #[serde(borrow)]
    pub(crate) control_implementation: ControlImplementation<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct SystemIdentifier<'a> {
    #[serde(borrow)]
    pub(crate) id: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Characteristics<'a> {
    #[serde(borrow, default)]
    pub(crate) system_ids: Vec<SystemIdentifier<'a>>,
    #[serde(borrow)]
    pub(crate) system_name: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) security_impact_level: Option<ImpactLevel<'a>>,
    #[serde(borrow, default)]
    pub(crate) security_sensitivity_level: Option<Str<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ImpactLevel<'a> {
    #[serde(borrow)]
    pub(crate) security_objective_confidentiality: Str<'a>,
    #[serde(borrow)]
    pub(crate) security_objective_integrity: Str<'a>,
    #[serde(borrow)]
    pub(crate) security_objective_availability: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ControlImplementation<'a> {
    #[serde(borrow, default)]
    pub(crate) implemented_requirements: Vec<Requirement<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Requirement<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) control_id: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) props: Vec<Prop<'a>>,
    #[serde(borrow, default)]
    pub(crate) by_components: Vec<ByComponent<'a>>,
    #[serde(borrow, default)]
    pub(crate) statements: Vec<Statement<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Statement<'a> {
    #[serde(borrow)]
    pub(crate) statement_id: Str<'a>,
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) by_components: Vec<ByComponent<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ByComponent<'a> {
    #[serde(borrow)]
    pub(crate) component_uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) props: Vec<Prop<'a>>,
    #[serde(borrow, default)]
    pub(crate) implementation_status: Option<Status<'a>>,
    #[serde(default)]
    pub(crate) inherited: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    pub(crate) export: Option<Export>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Status<'a> {
    #[serde(borrow)]
    pub(crate) state: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Export {
    #[serde(default)]
    pub(crate) provided: Vec<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Ap<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) metadata: Metadata<'a>,
    #[serde(borrow)]
    pub(crate) import_ssp: Href<'a>,
    #[serde(borrow, default)]
    pub(crate) back_matter: Option<BackMatter<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Ar<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) metadata: Metadata<'a>,
    #[serde(borrow)]
    pub(crate) import_ap: Href<'a>,
    #[serde(borrow)]
    pub(crate) results: Vec<AssessmentResult<'a>>,
    #[serde(borrow, default)]
    pub(crate) back_matter: Option<BackMatter<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct AssessmentResult<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) start: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) end: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) observations: Vec<Observation<'a>>,
    #[serde(borrow, default)]
    pub(crate) risks: Vec<Risk<'a>>,
    #[serde(borrow, default)]
    pub(crate) findings: Vec<Finding<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Observation<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) methods: Vec<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) origins: Vec<Origin<'a>>,
    #[serde(borrow)]
    pub(crate) collected: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) expires: Option<Str<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Origin<'a> {
    #[serde(borrow, default)]
    pub(crate) actors: Vec<Actor<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Actor<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Finding<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) target: Target<'a>,
    #[serde(borrow, default)]
    pub(crate) related_observations: Vec<RelatedObservation<'a>>,
    #[serde(borrow, default)]
    pub(crate) related_risks: Vec<RelatedRisk<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Target<'a> {
    #[serde(borrow)]
    pub(crate) target_id: Str<'a>,
    #[serde(borrow)]
    pub(crate) status: Status<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RelatedObservation<'a> {
    #[serde(borrow)]
    pub(crate) observation_uuid: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RelatedRisk<'a> {
    #[serde(borrow)]
    pub(crate) risk_uuid: Str<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Risk<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) title: Str<'a>,
    #[serde(borrow)]
    pub(crate) status: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) props: Vec<Prop<'a>>,
    #[serde(borrow, default)]
    pub(crate) characterizations: Vec<Characterization<'a>>,
    #[serde(borrow, default)]
    pub(crate) mitigating_factors: Vec<MitigatingFactor<'a>>,
    #[serde(borrow, default)]
    pub(crate) deadline: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) risk_log: Option<RiskLog<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Characterization<'a> {
    #[serde(borrow)]
    pub(crate) facets: Vec<Facet<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Facet<'a> {
    #[serde(borrow)]
    pub(crate) name: Str<'a>,
    #[serde(borrow)]
    pub(crate) system: Str<'a>,
    #[serde(borrow)]
    pub(crate) value: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) props: Vec<Prop<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct MitigatingFactor<'a> {
    #[serde(borrow, default)]
    pub(crate) implementation_uuid: Option<Str<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RiskLog<'a> {
    #[serde(borrow)]
    pub(crate) entries: Vec<RiskLogEntry<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct RiskLogEntry<'a> {
    #[serde(borrow)]
    pub(crate) start: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) status_change: Option<Str<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Poam<'a> {
    #[serde(borrow)]
    pub(crate) uuid: Str<'a>,
    #[serde(borrow)]
    pub(crate) metadata: Metadata<'a>,
    #[serde(borrow, default)]
    pub(crate) import_ssp: Option<Href<'a>>,
    #[serde(borrow, default)]
    pub(crate) system_id: Option<SystemIdentifier<'a>>,
    #[serde(borrow, default)]
    pub(crate) risks: Vec<Risk<'a>>,
    #[serde(borrow)]
    pub(crate) poam_items: Vec<PoamItem<'a>>,
    #[serde(borrow, default)]
    pub(crate) back_matter: Option<BackMatter<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct PoamItem<'a> {
    #[serde(borrow, default)]
    pub(crate) uuid: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) title: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) related_risks: Vec<RelatedRisk<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn borrowed(text: &Str<'_>) -> bool {
        matches!(text.0, Cow::Borrowed(_))
    }

    #[test]
    fn strings_in_options_and_lists_are_borrowed_unless_escaped() {
        let text = r#"{"uuid": "u", "methods": ["TEST", "EXA\u004dINE"],
            "collected": "2025-01-01T00:00:00Z", "expires": "2026-01-01T00:00:00Z"}"#;
        let observation: Observation<'_> = serde_json::from_str(text).unwrap();
        assert!(borrowed(&observation.uuid));
        assert!(borrowed(&observation.methods[0]));
        assert!(borrowed(observation.expires.as_ref().unwrap()));
        // An escape has to be decoded into a string of its own.
        assert!(!borrowed(&observation.methods[1]));
        assert_eq!(&*observation.methods[1], "EXAMINE");
    }
}
