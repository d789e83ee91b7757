//! Deliberately broken documents, for the robustness tests of whatever reads a fleet.

use oscal_model::{Document, Model};

/// How a document is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Cut in the middle: not well-formed JSON or XML.
    Truncated,
    /// Well-formed, but `metadata/last-modified` is not a date-time (schema-invalid).
    SchemaInvalid,
    /// Its import (`import-ap`, `import-ssp`) names a file that does not exist.
    DanglingImport,
    /// Two of its objects share a uuid.
    DuplicateUuid,
    /// A profile where results or a POA&M were expected.
    WrongModel,
    /// An XML document declaring nested entities (the "billion laughs").
    XmlBomb,
}

impl Fault {
    /// Every kind, in the order a document's draw picks from.
    pub const ALL: [Fault; 6] = [
        Fault::Truncated,
        Fault::SchemaInvalid,
        Fault::DanglingImport,
        Fault::DuplicateUuid,
        Fault::WrongModel,
        Fault::XmlBomb,
    ];

    /// Its name in `faults.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Truncated => "truncated",
            Fault::SchemaInvalid => "schema-invalid",
            Fault::DanglingImport => "dangling-import",
            Fault::DuplicateUuid => "duplicate-uuid",
            Fault::WrongModel => "wrong-model",
            Fault::XmlBomb => "xml-bomb",
        }
    }
}

/// Breaks `document` in the way of `fault`, before it is written.
pub(crate) fn corrupt_document(document: &mut Document, fault: Fault) {
    match (&mut document.model, fault) {
        (Model::AssessmentResults(results), Fault::SchemaInvalid) => {
            results.metadata.last_modified = "last quarter".into();
        }
        (Model::PlanOfActionAndMilestones(poam), Fault::SchemaInvalid) => {
            poam.metadata.last_modified = "last quarter".into();
        }
        (Model::AssessmentResults(results), Fault::DanglingImport) => {
            results.import_ap.href = format!("missing-{}", results.import_ap.href);
        }
        (Model::PlanOfActionAndMilestones(poam), Fault::DanglingImport) => {
            if let Some(import) = &mut poam.import_ssp {
                import.href = format!("missing-{}", import.href);
            }
        }
        (Model::AssessmentResults(results), Fault::DuplicateUuid) => {
            let uuid = results.uuid.clone();
            if let Some(result) = results.results.first_mut() {
                result.uuid = uuid;
            }
        }
        (Model::PlanOfActionAndMilestones(poam), Fault::DuplicateUuid) => {
            let uuid = poam.uuid.clone();
            if let Some(item) = poam.poam_items.first_mut() {
                item.uuid = Some(uuid);
            }
        }
        (_, Fault::WrongModel) => {
            let metadata = match &document.model {
                Model::AssessmentResults(results) => results.metadata.clone(),
                Model::PlanOfActionAndMilestones(poam) => poam.metadata.clone(),
                _ => return,
            };
            let uuid = oscal_model::uuid_from_name(&format!("wrong-model/{}", metadata.title));
            document.model = Model::Profile(Box::new(oscal_model::Profile {
                uuid,
                metadata,
                imports: vec![oscal_model::Import {
                    href: Some("mim6-city-baseline.json".into()),
                    include_all: Some(oscal_model::IncludeAll::default()),
                    ..oscal_model::Import::default()
                }],
                ..oscal_model::Profile::default()
            }));
        }
        _ => {}
    }
}

/// Breaks the bytes of a written document in the way of `fault`.
pub(crate) fn corrupt_bytes(bytes: Vec<u8>, fault: Fault) -> Vec<u8> {
    match fault {
        Fault::Truncated => bytes[..bytes.len() / 2].to_vec(),
        Fault::XmlBomb => {
            let mut bomb = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n");
            bomb.push_str("  <!ENTITY lol0 \"lol\">\n");
            for i in 1..10 {
                let previous = format!("&lol{};", i - 1).repeat(10);
                bomb.push_str(&format!("  <!ENTITY lol{i} \"{previous}\">\n"));
            }
            bomb.push_str("]>\n<assessment-results xmlns=\"http://csrc.nist.gov/ns/oscal/1.0\" uuid=\"&lol9;\"/>\n");
            bomb.into_bytes()
        }
        _ => bytes,
    }
}
