#!/usr/bin/env python3
"""Write the MIM6 city baseline and its GDPR mapping into profiles/.

    python3 scripts/make_city_baseline.py
    cargo run --bin mim6 -- convert profiles/mim6-city-baseline.json -o profiles/mim6-city-baseline.xml

The profile and the mapping are mim6's own synthesis (see profiles/README.md for the rationale
of every choice). Control lists come from NIST's baseline profiles in tests/fixtures so that
they follow NIST's publication exactly; everything else is written out here, in one place.
"""

import json
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NIST = ROOT / "tests" / "fixtures" / "nist" / "nist-sp800-53r5" / "json"
PROFILES = ROOT / "profiles"

NS = "urn:mim6:oscal"
SEED = uuid.UUID("6d1f3a52-8c1e-4f0a-9b7e-5a2c4d6e8f10")
LAST_MODIFIED = "2026-11-28T00:00:00Z"

NIST_BASE = "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/"
MODERATE = "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"
PRIVACY = "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json"
CATALOG = "NIST_SP-800-53_rev5_catalog.json"

# Privacy controls that implement US law (Privacy Act system of records notices, computer
# matching, US-specific notices): not applicable to European cities.
US_ONLY = ["pt-5.2", "pt-6", "pt-6.1", "pt-6.2", "pt-7.1", "pt-7.2", "pt-8", "pm-24"]

# Controls GDPR and MIM6 need beyond MODERATE and PRIVACY.
ADDED = ["sa-9.5"]

# Controls the baseline must contain (checked by the tests), with why.
REQUIRED = {
    "ir-4": "incident handling (GDPR Art. 33)",
    "ir-5": "incident monitoring (GDPR Art. 33(5) documentation of breaches)",
    "ir-6": "incident reporting to the supervisory authority (GDPR Art. 33)",
    "ir-8.1": "breach response in the incident response plan (GDPR Art. 33, 34)",
    "ra-3": "risk assessment (GDPR Art. 32, 35; ISO/IEC 27005)",
    "ra-7": "risk response (ISO/IEC 27005 risk treatment)",
    "ra-8": "privacy impact assessment = DPIA (GDPR Art. 35)",
    "pm-19": "privacy program leadership role = data protection officer (GDPR Art. 37-39)",
    "sa-9.5": "processing, storage and service location (GDPR Art. 44-49 transfers)",
    "ac-3": "access enforcement (MIM6 data access)",
    "ac-6": "least privilege (MIM6 data access)",
    "ia-2": "identification and authentication of users (MIM6 data access)",
    "ia-5": "authenticator management (MIM6 data access)",
    "sc-8": "transmission confidentiality and integrity (MIM6 data integrity)",
    "sc-12": "cryptographic key management (MIM6 data integrity)",
    "sc-13": "cryptographic protection (MIM6 data integrity)",
    "sc-17": "public key infrastructure certificates (MIM6 data provenance)",
}

# Parameter values a regional body can fix for all its cities.
PARAMETERS = [
    ("ir-06_odp.01", ["72 hours"],
     "GDPR Art. 33(1): a personal data breach is notified to the supervisory authority without "
     "undue delay and, where feasible, not later than 72 hours after becoming aware of it."),
    ("ir-06_odp.02", ["the supervisory authority competent under GDPR Art. 55-56 and the national CSIRT"],
     "GDPR Art. 33 names the supervisory authority; NIS2 Art. 23 the CSIRT or competent authority."),
    ("ca-02_odp.01", ["at least annually, and after every significant change"],
     "MIM6 asks for regular maturity assessments; GDPR Art. 32(1)(d) for regular testing."),
    ("ca-07_odp.02", ["quarterly"],
     "The regional pipeline aggregates assessments per quarter; monitoring feeds each period."),
    ("ca-07_odp.03", ["quarterly"],
     "Reporting to the regional body follows the same quarterly period."),
    ("au-11_odp", ["at least one year, or longer where national law requires"],
     "Audit records support breach investigation (GDPR Art. 33(5)); retention limited per Art. 5(1)(e)."),
    ("ra-03_odp.03", ["at least annually"],
     "ISO/IEC 27005 risk reviews are periodic; annual is the usual city cycle."),
    ("ra-03_odp.05", ["at least annually, and when a DPIA is triggered"],
     "GDPR Art. 35(11): review the assessment when the risk of processing changes."),
    ("ir-08_odp.02", ["at least annually"],
     "The incident and breach response plan is reviewed with the yearly assessment."),
    ("ac-02_odp.06", ["24 hours"],
     "Accounts of leavers are disabled promptly to keep personal data access to those who need it."),
    ("sa-09.05_odp.01", ["information processing", "information or data"],
     "Location of processing and of data matters for transfers outside the EEA (GDPR Chapter V)."),
    ("sa-09.05_odp.02", ["the European Economic Area or countries with an adequacy decision"],
     "GDPR Art. 45: transfers without further safeguards go only to adequate countries."),
    ("sa-09.05_odp.03", ["GDPR Chapter V and the city's data protection policy"],
     "Transfers elsewhere need Art. 46 safeguards or Art. 49 derogations."),
]

# GDPR articles and MIM6 capabilities per control family (with per-control refinements).
FAMILY = {
    "ac": (["32"], "data access"), "at": (["32", "39"], "governance"), "au": (["32", "33"], "data provenance"),
    "ca": (["32"], "maturity assessment"), "cm": (["32"], "data integrity"), "cp": (["32"], "risk management"),
    "ia": (["32"], "data access"), "ir": (["33", "34"], "risk management"), "ma": (["32"], "data integrity"),
    "mp": (["32"], "data integrity"), "pe": (["32"], "data access"), "pl": (["24", "25"], "governance"),
    "pm": (["24"], "governance"), "ps": (["32"], "governance"), "pt": (["5", "6", "13", "14"], "governance"),
    "ra": (["32", "35"], "risk management"), "sa": (["25", "28"], "governance"), "sc": (["32"], "data integrity"),
    "si": (["32"], "data integrity"), "sr": (["28", "32"], "risk management"),
}
CONTROL = {
    "ra-8": (["35"], "risk management"), "pm-19": (["37", "38", "39"], "governance"),
    "sa-9.5": (["44", "45", "46"], "governance"), "ir-6": (["33"], "risk management"),
    "ir-8.1": (["33", "34"], "risk management"), "si-12": (["5"], "data integrity"),
    "au-11": (["5", "33"], "data provenance"), "sc-17": (["32"], "data provenance"),
    "si-7": (["32"], "data integrity"), "au-10": (["32"], "data provenance"),
    "ca-2": (["32"], "maturity assessment"), "ca-7": (["32"], "maturity assessment"),
}


def uid(name):
    return str(uuid.uuid5(SEED, name))


def with_ids(profile_file):
    profile = json.loads((NIST / profile_file).read_text())["profile"]
    return [i for call in profile["imports"][0]["include-controls"] for i in call["with-ids"]]


def classify(control_id):
    if control_id in CONTROL:
        return CONTROL[control_id]
    return FAMILY[control_id.split("-")[0]]


def main():
    moderate = with_ids(MODERATE)
    privacy = [i for i in with_ids(PRIVACY) if i not in moderate and i not in US_ONLY]
    selected = moderate + privacy + [i for i in ADDED if i not in moderate and i not in privacy]
    missing = [c for c in REQUIRED if c not in selected and c.split(".")[0] not in selected]
    assert not missing, missing

    def resource(name, file_name, title):
        return {
            "uuid": uid(name),
            "title": title,
            "rlinks": [{"href": NIST_BASE + file_name, "media-type": "application/oscal+json"}],
        }

    # Parents of selected enhancements are in the result too (as their containers): tag them.
    tagged = list(selected)
    for control_id in selected:
        parent = control_id.split(".")[0]
        if parent not in tagged:
            tagged.append(parent)
    alters = []
    for control_id in tagged:
        articles, capability = classify(control_id)
        props = [{"name": "gdpr-article", "ns": NS, "value": a} for a in articles]
        props.append({"name": "mim6-capability", "ns": NS, "value": capability})
        alters.append({"control-id": control_id, "adds": [{"position": "ending", "props": props}]})

    profile = {
        "uuid": uid("mim6-city-baseline"),
        "metadata": {
            "title": "MIM6 city baseline: NIST SP 800-53r5 MODERATE and PRIVACY for European cities, with GDPR",
            "last-modified": LAST_MODIFIED,
            "version": "1.0.0",
            "oscal-version": "1.2.3",
            "props": [{"name": "keywords", "value": "MIM6, OASC, smart city, GDPR, SP 800-53r5"}],
            "remarks": (
                "The baseline a city writes its system security plans against, for the OASC MIM6 "
                "Security Management objective. It selects NIST SP 800-53r5 MODERATE, the PRIVACY "
                "baseline without its US-specific controls, and the controls GDPR needs beyond "
                "them; sets the parameters a regional body can fix for all its cities; and tags "
                "each control with the GDPR articles it supports and the MIM6 capability it "
                "serves. The GDPR articles and MIM6 capabilities are mim6's own synthesis, not an "
                "official crosswalk. See profiles/README.md."
            ),
        },
        "imports": [
            {"href": "#" + uid("moderate"), "include-controls": [{"with-ids": moderate}]},
            {"href": "#" + uid("privacy"), "include-controls": [{"with-ids": privacy}]},
            {"href": "#" + uid("catalog"), "include-controls": [{"with-ids": ADDED}]},
        ],
        "merge": {"as-is": True},
        "modify": {
            # OSCAL's set-parameter has no remarks; the reason travels as the remarks of a prop,
            # which resolution copies onto the parameter.
            "set-parameters": [
                {
                    "param-id": pid,
                    "values": values,
                    "props": [{"name": "set-by", "ns": NS, "value": "mim6-city-baseline", "remarks": why}],
                }
                for pid, values, why in PARAMETERS
            ],
            "alters": alters,
        },
        "back-matter": {
            "resources": [
                resource("moderate", MODERATE, "NIST SP 800-53r5 MODERATE baseline"),
                resource("privacy", PRIVACY, "NIST SP 800-53r5 PRIVACY baseline"),
                resource("catalog", CATALOG, "NIST SP 800-53r5 catalog"),
            ]
        },
    }
    PROFILES.mkdir(exist_ok=True)
    (PROFILES / "mim6-city-baseline.json").write_text(
        json.dumps({"profile": profile}, indent=2) + "\n", encoding="utf-8")

    # The GDPR ↔ SP 800-53r5 mapping, from the same table.
    by_article = {}
    for control_id in selected:
        for article in classify(control_id)[0]:
            by_article.setdefault(article, []).append(control_id)
    maps = []
    for article in sorted(by_article, key=int):
        maps.append({
            "uuid": uid(f"map-art-{article}"),
            "relationship": "intersects-with",
            "sources": [{"type": "control", "id-ref": f"gdpr-art-{article}"}],
            "targets": [{"type": "control", "id-ref": c} for c in by_article[article]],
        })
    mapping = {
        "uuid": uid("gdpr-mapping"),
        "metadata": {
            "title": "GDPR articles to NIST SP 800-53r5 controls, as used by the MIM6 city baseline",
            "last-modified": LAST_MODIFIED,
            "version": "1.0.0",
            "oscal-version": "1.2.3",
            "remarks": (
                "A synthesis made for the MIM6 city baseline, not an official crosswalk by NIST, "
                "the European Data Protection Board or any supervisory authority. Each GDPR "
                "article is related to the controls that support it; `intersects-with` because "
                "no article is fully implemented by controls alone."
            ),
        },
        "provenance": {
            "method": "human",
            "matching-rationale": "functional",
            "status": "draft",
            "mapping-description": "GDPR articles (Regulation (EU) 2016/679) related to the controls of the MIM6 city baseline.",
        },
        "mappings": [{
            "uuid": uid("gdpr-mapping-set"),
            "source-resource": {"type": "regulation", "href": "https://eur-lex.europa.eu/eli/reg/2016/679/oj"},
            "target-resource": {"type": "profile", "href": "mim6-city-baseline.json"},
            "maps": maps,
        }],
    }
    (PROFILES / "gdpr-to-sp800-53r5-mapping.json").write_text(
        json.dumps({"mapping-collection": mapping}, indent=2) + "\n", encoding="utf-8")
    print(f"{len(selected)} controls selected; {len(maps)} GDPR articles mapped")


if __name__ == "__main__":
    main()
