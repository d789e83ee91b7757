//! The XML that mim6 writes validates against NIST's official XSDs (checked with xmllint).

use std::process::Command;

use oscal_io::{json, xml};
use oscal_model::ModelKind;

use crate::{files_with_extension, fixtures};

fn xsd_of(model: ModelKind) -> &'static str {
    match model {
        ModelKind::Catalog => "oscal_catalog_schema.xsd",
        ModelKind::Profile => "oscal_profile_schema.xsd",
        ModelKind::ComponentDefinition => "oscal_component_schema.xsd",
        ModelKind::SystemSecurityPlan => "oscal_ssp_schema.xsd",
        ModelKind::AssessmentPlan => "oscal_assessment-plan_schema.xsd",
        ModelKind::AssessmentResults => "oscal_assessment-results_schema.xsd",
        ModelKind::PlanOfActionAndMilestones => "oscal_poam_schema.xsd",
        ModelKind::MappingCollection => "oscal_mapping_schema.xsd",
    }
}

#[test]
fn xml_written_from_nist_json_validates_against_the_official_xsd() {
    let xmllint = Command::new("xmllint").arg("--version").output();
    assert!(
        xmllint.is_ok(),
        "xmllint is needed to check XML against the official XSDs: apt-get install libxml2-utils"
    );
    let schemas = fixtures().join("../../oscal-schemas/xml");
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let files = files_with_extension(&fixtures().join("nist"), "json");
    for file in &files {
        let doc = json::from_slice(file, &std::fs::read(file).unwrap()).unwrap();
        let out = dir
            .path()
            .join(file.file_name().unwrap())
            .with_extension("xml");
        std::fs::write(&out, xml::to_string(&doc).unwrap()).unwrap();
        let result = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(schemas.join(xsd_of(doc.kind())))
            .arg(&out)
            .output()
            .unwrap();
        if !result.status.success() {
            let stderr = String::from_utf8_lossy(&result.stderr);
            let first: Vec<&str> = stderr.lines().take(3).collect();
            failures.push(format!("{}: {}", file.display(), first.join(" | ")));
        }
    }
    assert!(files.len() >= 19);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
