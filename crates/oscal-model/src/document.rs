//! The root of an OSCAL document: an optional `$schema` and exactly one model.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::CollectUnrecognized;
use crate::generated::{
    AssessmentPlan, AssessmentResults, Catalog, ComponentDefinition, MappingCollection,
    PlanOfActionAndMilestones, Profile, SystemSecurityPlan,
};

/// The eight models of the OSCAL release, named by their root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModelKind {
    /// `catalog`
    Catalog,
    /// `profile`
    Profile,
    /// `component-definition`
    ComponentDefinition,
    /// `system-security-plan`
    SystemSecurityPlan,
    /// `assessment-plan`
    AssessmentPlan,
    /// `assessment-results`
    AssessmentResults,
    /// `plan-of-action-and-milestones`
    PlanOfActionAndMilestones,
    /// `mapping-collection`
    MappingCollection,
}

impl ModelKind {
    /// Every model, in the order of the OSCAL layers (control, implementation, assessment).
    pub const ALL: [ModelKind; 8] = [
        ModelKind::Catalog,
        ModelKind::Profile,
        ModelKind::MappingCollection,
        ModelKind::ComponentDefinition,
        ModelKind::SystemSecurityPlan,
        ModelKind::AssessmentPlan,
        ModelKind::AssessmentResults,
        ModelKind::PlanOfActionAndMilestones,
    ];

    /// The JSON property (and XML root element) that holds this model.
    pub fn root_key(self) -> &'static str {
        match self {
            ModelKind::Catalog => "catalog",
            ModelKind::Profile => "profile",
            ModelKind::ComponentDefinition => "component-definition",
            ModelKind::SystemSecurityPlan => "system-security-plan",
            ModelKind::AssessmentPlan => "assessment-plan",
            ModelKind::AssessmentResults => "assessment-results",
            ModelKind::PlanOfActionAndMilestones => "plan-of-action-and-milestones",
            ModelKind::MappingCollection => "mapping-collection",
        }
    }

    /// The model held under `key`, if `key` is a model root.
    pub fn from_root_key(key: &str) -> Option<ModelKind> {
        ModelKind::ALL
            .into_iter()
            .find(|kind| kind.root_key() == key)
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.root_key())
    }
}

/// A key that names no OSCAL model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownModel(pub String);

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an OSCAL model (expected one of ", self.0)?;
        for (i, kind) in ModelKind::ALL.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{kind}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownModel {}

impl std::str::FromStr for ModelKind {
    type Err = UnknownModel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelKind::from_root_key(s).ok_or_else(|| UnknownModel(s.to_owned()))
    }
}

/// The model a document holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// A catalog of controls.
    Catalog(Box<Catalog>),
    /// A profile (baseline or overlay) that selects and tailors controls.
    Profile(Box<Profile>),
    /// A component definition.
    ComponentDefinition(Box<ComponentDefinition>),
    /// A system security plan.
    SystemSecurityPlan(Box<SystemSecurityPlan>),
    /// An assessment plan.
    AssessmentPlan(Box<AssessmentPlan>),
    /// Assessment results.
    AssessmentResults(Box<AssessmentResults>),
    /// A plan of action and milestones.
    PlanOfActionAndMilestones(Box<PlanOfActionAndMilestones>),
    /// A mapping collection.
    MappingCollection(Box<MappingCollection>),
}

impl Model {
    /// Which model this is.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Catalog(_) => ModelKind::Catalog,
            Model::Profile(_) => ModelKind::Profile,
            Model::ComponentDefinition(_) => ModelKind::ComponentDefinition,
            Model::SystemSecurityPlan(_) => ModelKind::SystemSecurityPlan,
            Model::AssessmentPlan(_) => ModelKind::AssessmentPlan,
            Model::AssessmentResults(_) => ModelKind::AssessmentResults,
            Model::PlanOfActionAndMilestones(_) => ModelKind::PlanOfActionAndMilestones,
            Model::MappingCollection(_) => ModelKind::MappingCollection,
        }
    }

    /// The document's metadata, which every model has.
    pub fn metadata(&self) -> &crate::Metadata {
        match self {
            Model::Catalog(m) => &m.metadata,
            Model::Profile(m) => &m.metadata,
            Model::ComponentDefinition(m) => &m.metadata,
            Model::SystemSecurityPlan(m) => &m.metadata,
            Model::AssessmentPlan(m) => &m.metadata,
            Model::AssessmentResults(m) => &m.metadata,
            Model::PlanOfActionAndMilestones(m) => &m.metadata,
            Model::MappingCollection(m) => &m.metadata,
        }
    }

    /// The document's uuid.
    pub fn uuid(&self) -> &str {
        match self {
            Model::Catalog(m) => &m.uuid,
            Model::Profile(m) => &m.uuid,
            Model::ComponentDefinition(m) => &m.uuid,
            Model::SystemSecurityPlan(m) => &m.uuid,
            Model::AssessmentPlan(m) => &m.uuid,
            Model::AssessmentResults(m) => &m.uuid,
            Model::PlanOfActionAndMilestones(m) => &m.uuid,
            Model::MappingCollection(m) => &m.uuid,
        }
    }
}

/// An OSCAL document: one model under its root key, and the optional `$schema` directive.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The `$schema` directive, when the document names its schema.
    pub schema: Option<String>,
    /// The model the document holds.
    pub model: Model,
}

impl Document {
    /// A document holding `model`, with no `$schema` directive.
    pub fn new(model: Model) -> Document {
        Document {
            schema: None,
            model,
        }
    }

    /// Which model the document holds.
    pub fn kind(&self) -> ModelKind {
        self.model.kind()
    }

    /// JSON pointers of the properties that the model release does not define (kept verbatim
    /// when the document was read), in document order.
    pub fn unrecognized(&self) -> Vec<String> {
        let mut at = format!("/{}", self.kind().root_key());
        let mut out = Vec::new();
        match &self.model {
            Model::Catalog(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::Profile(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::ComponentDefinition(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::SystemSecurityPlan(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::AssessmentPlan(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::AssessmentResults(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::PlanOfActionAndMilestones(m) => m.collect_unrecognized(&mut at, &mut out),
            Model::MappingCollection(m) => m.collect_unrecognized(&mut at, &mut out),
        }
        out
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + usize::from(self.schema.is_some())))?;
        if let Some(schema) = &self.schema {
            map.serialize_entry("$schema", schema)?;
        }
        let key = self.kind().root_key();
        match &self.model {
            Model::Catalog(m) => map.serialize_entry(key, m)?,
            Model::Profile(m) => map.serialize_entry(key, m)?,
            Model::ComponentDefinition(m) => map.serialize_entry(key, m)?,
            Model::SystemSecurityPlan(m) => map.serialize_entry(key, m)?,
            Model::AssessmentPlan(m) => map.serialize_entry(key, m)?,
            Model::AssessmentResults(m) => map.serialize_entry(key, m)?,
            Model::PlanOfActionAndMilestones(m) => map.serialize_entry(key, m)?,
            Model::MappingCollection(m) => map.serialize_entry(key, m)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OSCAL document: an object with one model property such as \"catalog\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut schema = None;
        let mut model: Option<Model> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "$schema" {
                if schema.is_some() {
                    return Err(de::Error::duplicate_field("$schema"));
                }
                schema = Some(map.next_value()?);
                continue;
            }
            let Some(kind) = ModelKind::from_root_key(&key) else {
                return Err(de::Error::custom(UnknownModel(key.into_owned())));
            };
            if let Some(existing) = &model {
                return Err(de::Error::custom(format_args!(
                    "a document holds one model, found {:?} after {:?}",
                    kind.root_key(),
                    existing.kind().root_key()
                )));
            }
            model = Some(match kind {
                ModelKind::Catalog => Model::Catalog(map.next_value()?),
                ModelKind::Profile => Model::Profile(map.next_value()?),
                ModelKind::ComponentDefinition => Model::ComponentDefinition(map.next_value()?),
                ModelKind::SystemSecurityPlan => Model::SystemSecurityPlan(map.next_value()?),
                ModelKind::AssessmentPlan => Model::AssessmentPlan(map.next_value()?),
                ModelKind::AssessmentResults => Model::AssessmentResults(map.next_value()?),
                ModelKind::PlanOfActionAndMilestones => {
                    Model::PlanOfActionAndMilestones(map.next_value()?)
                }
                ModelKind::MappingCollection => Model::MappingCollection(map.next_value()?),
            });
        }
        match model {
            Some(model) => Ok(Document { schema, model }),
            None => Err(de::Error::custom(
                "no OSCAL model in the document (expected a property such as \"catalog\")",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_round_trip() {
        for kind in ModelKind::ALL {
            assert_eq!(ModelKind::from_root_key(kind.root_key()), Some(kind));
        }
        assert_eq!(ModelKind::from_root_key("catalogue"), None);
    }

    #[test]
    fn rejects_two_models_and_unknown_roots() {
        let two = r#"{"profile": {}, "catalog": {}}"#;
        let err = serde_json::from_str::<Document>(two)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field"), "{err}");
        let unknown = serde_json::from_str::<Document>(r#"{"widget": {}}"#).unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("\"widget\" is not an OSCAL model")
        );
        let empty = serde_json::from_str::<Document>("{}").unwrap_err();
        assert!(empty.to_string().contains("no OSCAL model"));
    }
}
