//! Likelihood and impact facets, whatever naming system wrote them, on one 1–5 scale
//! (very low … very high, NIST SP 800-30).

use crate::facts::FacetNaming;
use crate::project::{Characterization, Facet};

/// A risk's facets on the common scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Levels {
    pub(crate) likelihood: Option<u8>,
    pub(crate) impact: Option<u8>,
    pub(crate) likelihood_adjusted: Option<u8>,
    pub(crate) impact_adjusted: Option<u8>,
    pub(crate) naming: FacetNaming,
}

fn naming_of(system: &str) -> Option<FacetNaming> {
    if system.contains("csrc.nist.gov") {
        Some(FacetNaming::Nist)
    } else if system.contains("fedramp.gov") {
        Some(FacetNaming::Fedramp)
    } else if system.contains("first.org/cvss") {
        Some(FacetNaming::Cvss)
    } else {
        None
    }
}

/// A qualitative value on the 1–5 scale: NIST's five levels (or 1–5 written as numbers, for
/// NIST's naming only); FedRAMP's low, moderate and high are the same 2, 3 and 4. Case, spaces
/// and underscores do not matter.
fn level(naming: FacetNaming, value: &str) -> Option<u8> {
    let value = value.trim();
    let is = |word: &str| {
        value.len() == word.len()
            && value.bytes().zip(word.bytes()).all(|(a, b)| {
                a.to_ascii_lowercase() == b || (b == b'-' && matches!(a, b' ' | b'_'))
            })
    };
    let level = if is("very-low") {
        1
    } else if is("low") {
        2
    } else if is("moderate") || is("medium") {
        3
    } else if is("high") {
        4
    } else if is("very-high") {
        5
    } else if naming == FacetNaming::Nist {
        return value.parse::<u8>().ok().filter(|n| (1..=5).contains(n));
    } else {
        return None;
    };
    Some(level)
}

/// The impact level of a CVSS base score: 0.0 → 1, up to 3.9 → 2, up to 6.9 → 3, up to 8.9
/// → 4, from 9.0 → 5.
pub(crate) fn cvss_level(score: f64) -> Option<u8> {
    match score {
        s if !(0.0..=10.0).contains(&s) => None,
        0.0 => Some(1),
        s if s < 4.0 => Some(2),
        s if s < 7.0 => Some(3),
        s if s < 9.0 => Some(4),
        _ => Some(5),
    }
}

fn adjusted(facet: &Facet<'_>) -> bool {
    facet
        .props
        .iter()
        .any(|p| p.name == "state" && matches!(p.value.as_ref(), "adjusted" | "residual"))
}

/// Reads the likelihood and impact of a risk from its characterizations: initial and adjusted
/// (a facet with prop `state` = `adjusted` or `residual`). A CVSS facet whose name contains
/// `score` gives the impact only when no `impact` facet does; likelihood then defaults to 3.
pub(crate) fn normalise(characterizations: &[Characterization<'_>]) -> Levels {
    let mut levels = Levels {
        likelihood: None,
        impact: None,
        likelihood_adjusted: None,
        impact_adjusted: None,
        naming: FacetNaming::None,
    };
    let mut score = None;
    for facet in characterizations.iter().flat_map(|c| c.facets.iter()) {
        let Some(naming) = naming_of(&facet.system) else {
            continue;
        };
        let name = facet.name.as_ref();
        let value = if naming == FacetNaming::Cvss && name.to_ascii_lowercase().contains("score") {
            score = facet.value.trim().parse::<f64>().ok().and_then(cvss_level);
            if levels.naming == FacetNaming::None {
                levels.naming = naming;
            }
            continue;
        } else {
            level(naming, &facet.value)
        };
        let likelihood = name.eq_ignore_ascii_case("likelihood");
        if !likelihood && !name.eq_ignore_ascii_case("impact") {
            continue;
        }
        let slot = match (likelihood, adjusted(facet)) {
            (true, false) => &mut levels.likelihood,
            (true, true) => &mut levels.likelihood_adjusted,
            (false, false) => &mut levels.impact,
            (false, true) => &mut levels.impact_adjusted,
        };
        if value.is_some() {
            *slot = value;
            if levels.naming == FacetNaming::None || levels.naming == FacetNaming::Cvss {
                levels.naming = naming;
            }
        }
    }
    if levels.impact.is_none() && score.is_some() {
        levels.impact = score;
        levels.likelihood = levels.likelihood.or(Some(3));
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn characterizations(json: &str) -> Vec<Characterization<'_>> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn naming_systems_meet_on_one_scale() {
        let nist = characterizations(
            r#"[{"facets": [
                {"name": "likelihood", "system": "http://csrc.nist.gov/ns/oscal", "value": "very-high"},
                {"name": "impact", "system": "http://csrc.nist.gov/ns/oscal", "value": "low"}]}]"#,
        );
        let l = normalise(&nist);
        assert_eq!(
            (l.likelihood, l.impact, l.naming),
            (Some(5), Some(2), FacetNaming::Nist)
        );

        let fedramp = characterizations(
            r#"[{"facets": [
                {"name": "likelihood", "system": "https://fedramp.gov", "value": "low"},
                {"name": "impact", "system": "http://fedramp.gov/ns/oscal", "value": "high"}]},
               {"facets": [{"name": "likelihood", "system": "https://fedramp.gov", "value": "low",
                "props": [{"name": "state", "value": "adjusted"}]}]}]"#,
        );
        let l = normalise(&fedramp);
        assert_eq!((l.likelihood, l.impact), (Some(2), Some(4)));
        assert_eq!(l.likelihood_adjusted, Some(2));
        assert_eq!(l.naming, FacetNaming::Fedramp);

        let cvss = characterizations(
            r#"[{"facets": [{"name": "base-score", "system": "http://www.first.org/cvss/v3.1", "value": "9.0"}]}]"#,
        );
        let l = normalise(&cvss);
        assert_eq!(
            (l.likelihood, l.impact, l.naming),
            (Some(3), Some(5), FacetNaming::Cvss)
        );

        let unrated = characterizations(
            r#"[{"facets": [{"name": "likelihood", "system": "http://example.com", "value": "high"}]}]"#,
        );
        assert_eq!(normalise(&unrated).naming, FacetNaming::None);
    }

    #[test]
    fn cvss_scores_follow_the_design_bands() {
        let bands = [
            (0.0, 1),
            (0.1, 2),
            (3.9, 2),
            (4.0, 3),
            (6.9, 3),
            (7.0, 4),
            (8.9, 4),
            (9.0, 5),
            (10.0, 5),
        ];
        for (score, level) in bands {
            assert_eq!(cvss_level(score), Some(level), "{score}");
        }
        assert_eq!(cvss_level(10.5), None);
    }

    #[test]
    fn levels_ignore_case_spaces_and_underscores() {
        assert_eq!(level(FacetNaming::Nist, " Very High"), Some(5));
        assert_eq!(level(FacetNaming::Nist, "very_low"), Some(1));
        assert_eq!(level(FacetNaming::Nist, "4"), Some(4));
        assert_eq!(level(FacetNaming::Fedramp, "MODERATE"), Some(3));
        assert_eq!(level(FacetNaming::Fedramp, "very-high"), Some(5));
        assert_eq!(level(FacetNaming::Fedramp, "4"), None);
        assert_eq!(level(FacetNaming::Nist, "lowish"), None);
    }
}
