//! The plan of a fleet: regions, cities, their maturity and trend, their systems.

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::FleetSpec;

/// How a city's security practice moves over the periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Maturity rises period after period.
    Improving,
    /// Maturity stays about where it is.
    Stagnating,
    /// Maturity falls (staff leave, budgets cut).
    Regressing,
}

/// A city's maturity: where it starts and where it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Maturity {
    /// Probability that a control is claimed implemented in the first period, 0–1.
    pub start: f64,
    /// Its direction over the periods.
    pub trend: Trend,
}

/// A system of a city.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    /// Folder name and short name (`system-03`).
    pub slug: String,
    /// Human name.
    pub name: String,
    /// Confidentiality, integrity, availability impact: `fips-199-low|moderate|high`.
    pub impact: [&'static str; 3],
}

/// A city.
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// `city-007`.
    pub id: String,
    /// `region-2`.
    pub region: String,
    /// Human name.
    pub name: String,
    /// Inhabitants.
    pub population: u64,
    /// Where its practice stands and goes.
    pub maturity: Maturity,
    /// Its systems (the shared platform is separate).
    pub systems: Vec<System>,
}

impl City {
    /// The city's folder under the fleet's root: `ROOT/REGION/CITY`.
    pub fn folder(&self, root: &Path) -> PathBuf {
        root.join(&self.region).join(&self.id)
    }
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The seed.
    pub seed: u64,
    /// Number of periods.
    pub periods: usize,
    /// The cities, in order.
    pub cities: Vec<City>,
}

const SYSTEMS: [&str; 12] = [
    "Traffic management",
    "Parking sensors",
    "Citizen portal",
    "Water quality monitoring",
    "Waste collection routing",
    "Public lighting control",
    "Library services",
    "Permits and licences",
    "Public transport ticketing",
    "Emergency dispatch",
    "Air quality sensors",
    "Social services case management",
];

const CITY_STEMS: [&str; 16] = [
    "Aldmere",
    "Brenford",
    "Caldora",
    "Dunvale",
    "Eskhaven",
    "Farrowgate",
    "Glenmarsh",
    "Holmbury",
    "Ivelport",
    "Juniper Falls",
    "Kestrelton",
    "Larkspur",
    "Marrowick",
    "Northwold",
    "Oakhurst",
    "Pellston",
];

impl Fleet {
    /// Plans a fleet: about one region per eight cities (at least two), maturity drawn per
    /// city, impact levels drawn per system (moderate is the most common).
    pub fn plan(spec: &FleetSpec) -> Fleet {
        let regions = (spec.cities / 8).max(2).min(spec.cities.max(1));
        let cities = (0..spec.cities)
            .map(|index| {
                let mut rng = rng_for(spec.seed, &format!("city/{index}"));
                let trend = match rng.random_range(0..10) {
                    0..=3 => Trend::Improving,
                    4..=7 => Trend::Stagnating,
                    _ => Trend::Regressing,
                };
                let maturity = Maturity {
                    start: rng.random_range(0.35..0.9),
                    trend,
                };
                let systems = (0..spec.systems_per_city)
                    .map(|s| {
                        let level = |rng: &mut ChaCha8Rng| match rng.random_range(0..10) {
                            0..=2 => "fips-199-low",
                            3..=8 => "fips-199-moderate",
                            _ => "fips-199-high",
                        };
                        System {
                            slug: format!("system-{:02}", s + 1),
                            name: SYSTEMS[(index * 5 + s) % SYSTEMS.len()].to_owned(),
                            impact: [level(&mut rng), level(&mut rng), level(&mut rng)],
                        }
                    })
                    .collect();
                let stem = CITY_STEMS[index % CITY_STEMS.len()];
                let name = if index < CITY_STEMS.len() {
                    stem.to_owned()
                } else {
                    format!("{stem} {}", index / CITY_STEMS.len() + 1)
                };
                City {
                    id: format!("city-{:03}", index + 1),
                    region: format!("region-{}", index % regions + 1),
                    name,
                    population: rng.random_range(20_000..2_000_000),
                    maturity,
                    systems,
                }
            })
            .collect();
        Fleet {
            seed: spec.seed,
            periods: spec.periods,
            cities,
        }
    }

    /// A uuid for `name` within this fleet: the same seed and name give the same uuid.
    pub fn uuid(&self, name: &str) -> String {
        oscal_model::uuid_from_name(&format!("{}/{name}", self.seed))
    }

    /// A random number generator for `name` within this fleet, independent of the order in
    /// which documents are generated.
    pub(crate) fn rng(&self, name: &str) -> ChaCha8Rng {
        rng_for(self.seed, name)
    }
}

fn rng_for(seed: u64, name: &str) -> ChaCha8Rng {
    let mixed = name.bytes().fold(seed ^ 0x9e37_79b9_7f4a_7c15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    ChaCha8Rng::seed_from_u64(mixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_reproducible_and_varied() {
        let spec = FleetSpec {
            cities: 20,
            systems_per_city: 3,
            periods: 4,
            seed: 1,
        };
        let a = Fleet::plan(&spec);
        let b = Fleet::plan(&spec);
        assert_eq!(a.cities, b.cities);
        let regions: std::collections::BTreeSet<_> =
            a.cities.iter().map(|c| c.region.clone()).collect();
        assert_eq!(regions.len(), 2);
        let trends: std::collections::BTreeSet<_> = a
            .cities
            .iter()
            .map(|c| format!("{:?}", c.maturity.trend))
            .collect();
        assert_eq!(trends.len(), 3, "cities improve, stagnate and regress");
        let other = Fleet::plan(&FleetSpec { seed: 2, ..spec });
        assert_ne!(a.cities, other.cities);
    }
}
