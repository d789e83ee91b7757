//! What happens to one system over the periods: which controls are assessed, what the
//! assessments find, and the life of each risk from the failed finding that opens it to its
//! remediation (or not).
//!
//! The history is drawn once per system, from one generator, so that the assessment results
//! and POA&Ms of different periods tell one consistent story.

use jiff::ToSpan;
use jiff::civil::Date;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::Baseline;
use crate::fleet::{City, Fleet, System, Trend};

/// The calendar quarter `period` (1-based) of 2025 onwards: its first and last day.
pub(crate) fn quarter(period: usize) -> (Date, Date) {
    let index = period - 1;
    let year = 2025 + i16::try_from(index / 4).unwrap_or(i16::MAX - 2025);
    let month = i8::try_from(index % 4 * 3 + 1).unwrap_or(1);
    let start = Date::new(year, month, 1).unwrap_or(Date::MAX);
    let end = (start + 2.months()).last_of_month();
    (start, end)
}

/// The city's maturity in `period`: its start, moved by its trend.
pub(crate) fn maturity(city: &City, period: usize) -> f64 {
    let step = (period as f64 - 1.0) * 0.05;
    let m = match city.maturity.trend {
        Trend::Improving => city.maturity.start + step,
        Trend::Stagnating => city.maturity.start,
        Trend::Regressing => city.maturity.start - step,
    };
    m.clamp(0.05, 0.98)
}

/// How an assessor gathered the evidence behind a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// An automated test by the city's scanner (a `tool` origin).
    Test,
    /// Examination of documents or configuration by the city's assessor.
    Examine,
    /// Interview by the city's assessor.
    Interview,
}

impl Method {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Test => "TEST",
            Method::Examine => "EXAMINE",
            Method::Interview => "INTERVIEW",
        }
    }
}

/// One control assessed in one period.
#[derive(Debug, Clone)]
pub(crate) struct Assessed {
    /// Index of the control in the baseline.
    pub(crate) control: usize,
    pub(crate) satisfied: bool,
    pub(crate) method: Method,
    /// When the evidence was collected.
    pub(crate) collected: Date,
    /// The risk the finding is about (opened by it, still open, or closed by its re-test).
    pub(crate) risk: Option<usize>,
}

/// How a risk's likelihood and impact are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    /// `http://csrc.nist.gov/ns/oscal`, five levels (very-low … very-high).
    Nist,
    /// `http://fedramp.gov/ns/oscal`, three levels (low, moderate, high).
    FedrampNs,
    /// `https://fedramp.gov`, three levels.
    FedrampSite,
    /// `http://www.first.org/cvss/v3.1`, a base score only.
    Cvss,
}

/// What the organisation decided about a risk besides remediating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    Remediate,
    /// `deviation-approved` status.
    DeviationApproved,
    /// Open with prop `accepted` = true.
    Accepted,
    /// Open with prop `false-positive` = true.
    FalsePositive,
}

/// A risk from the failed finding that opened it to its closure.
#[derive(Debug, Clone)]
pub(crate) struct RiskLife {
    pub(crate) control: usize,
    /// The period whose assessment opened it.
    pub(crate) opened: usize,
    pub(crate) first_seen: Date,
    /// Likelihood and impact, 1–5 (very low … very high).
    pub(crate) likelihood: u8,
    pub(crate) impact: u8,
    /// The CVSS base score, for [`Naming::Cvss`].
    pub(crate) score: f64,
    pub(crate) naming: Naming,
    pub(crate) deadline: Date,
    /// A later deadline, agreed when the first one passed.
    pub(crate) extended: Option<Date>,
    /// The assessor's adjusted likelihood, from the period after the opening on.
    pub(crate) adjusted: Option<u8>,
    pub(crate) disposition: Disposition,
    /// When the remediation was verified (may lie beyond the last period).
    pub(crate) closed: Option<Date>,
}

impl RiskLife {
    /// Whether the risk is listed in `period`: opened by then and not closed before it began.
    pub(crate) fn alive_in(&self, period: usize) -> bool {
        let (start, _) = quarter(period);
        self.opened <= period && self.closed.is_none_or(|closed| closed >= start)
    }

    /// Whether its remediation was verified within `period`.
    pub(crate) fn closes_in(&self, period: usize) -> bool {
        let (start, end) = quarter(period);
        self.closed
            .is_some_and(|closed| closed >= start && closed <= end)
    }

    /// The deadline in force at the end of `period`.
    pub(crate) fn deadline_in(&self, period: usize) -> Date {
        match self.extended {
            Some(extended) if self.deadline < quarter(period).1 => extended,
            _ => self.deadline,
        }
    }
}

/// What one system went through.
#[derive(Debug, Clone)]
pub(crate) struct History {
    /// Per period (index 0 is period 1), the controls assessed, in baseline order.
    pub(crate) periods: Vec<Vec<Assessed>>,
    pub(crate) risks: Vec<RiskLife>,
}

/// Probability that an assessment of a control claimed `claim` finds it satisfied, for a city
/// at maturity `m`: claims of implementation hold as often as the city is mature, partial ones
/// less, planned ones rarely.
fn pass_rate(claim: &str, m: f64) -> f64 {
    match claim {
        "implemented" | "alternative" => m,
        "partial" => 0.4 * m,
        _ => 0.05,
    }
}

fn level(rng: &mut ChaCha8Rng, weights: [u32; 5]) -> u8 {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if roll < *w {
            return u8::try_from(i + 1).unwrap_or(5);
        }
        roll -= w;
    }
    5
}

/// The impact level (1–5) of a CVSS base score.
pub(crate) fn cvss_level(score: f64) -> u8 {
    match score {
        s if s <= 0.0 => 1,
        s if s < 4.0 => 2,
        s if s < 7.0 => 3,
        s if s < 9.0 => 4,
        _ => 5,
    }
}

fn open_risk(
    rng: &mut ChaCha8Rng,
    control: usize,
    period: usize,
    first_seen: Date,
    m: f64,
) -> RiskLife {
    let naming = match rng.random_range(0..20) {
        0..=6 => Naming::Nist,
        7..=11 => Naming::FedrampNs,
        12..=15 => Naming::FedrampSite,
        _ => Naming::Cvss,
    };
    let (likelihood, impact, score) = match naming {
        Naming::Nist => (
            level(rng, [1, 3, 4, 2, 1]),
            level(rng, [1, 3, 4, 2, 1]),
            0.0,
        ),
        Naming::FedrampNs | Naming::FedrampSite => (
            level(rng, [0, 4, 4, 2, 0]),
            level(rng, [0, 3, 4, 3, 0]),
            0.0,
        ),
        Naming::Cvss => {
            let score = f64::from(rng.random_range(10..=100_u32)) / 10.0;
            (3, cvss_level(score), score)
        }
    };
    // FedRAMP's remediation windows: 30 days for high risks, 90 for moderate, 180 for low.
    let days = match likelihood.max(impact) {
        4.. => 30,
        3 => 90,
        _ => 180,
    };
    let deadline = first_seen + days.days();
    let disposition = match rng.random_range(0..100) {
        0..=4 => Disposition::DeviationApproved,
        5..=7 => Disposition::Accepted,
        8..=9 => Disposition::FalsePositive,
        _ => Disposition::Remediate,
    };
    // Mature cities fix faster: 10 to 70 days at m = 0.9, 10 to 290 at m = 0.35.
    let slowest = 30 + (400.0 * (1.0 - m)) as i64;
    // A fix is verified at the earliest in the next period's assessment.
    let next_period = quarter(period).1 + 1.day();
    let closed = (disposition == Disposition::Remediate)
        .then(|| (first_seen + rng.random_range(10..=slowest.max(20)).days()).max(next_period));
    let extended = rng.random_bool(0.15).then(|| deadline + 90.days());
    let adjusted =
        (likelihood > 1 && naming != Naming::Cvss && rng.random_bool(0.2)).then(|| likelihood - 1);
    RiskLife {
        control,
        opened: period,
        first_seen,
        likelihood,
        impact,
        score,
        naming,
        deadline,
        extended,
        adjusted,
        disposition,
        closed,
    }
}

/// Draws the history of `system` over the fleet's periods. `claims` is what its SSP claims per
/// baseline control (`None` for inherited controls, which the city platform's assessors cover).
pub(crate) fn draw(
    fleet: &Fleet,
    city: &City,
    system: &System,
    baseline: &Baseline,
    claims: &[Option<&'static str>],
) -> History {
    let mut rng = fleet.rng(&format!("{}/{}/history", city.id, system.slug));
    let mut risks: Vec<RiskLife> = Vec::new();
    // The risk currently open on each control.
    let mut open: Vec<Option<usize>> = vec![None; baseline.controls.len()];
    let mut periods = Vec::with_capacity(fleet.periods);
    for period in 1..=fleet.periods {
        let m = maturity(city, period);
        let (_, end) = quarter(period);
        let mut assessed = Vec::new();
        for (control, claim) in claims.iter().enumerate() {
            let Some(claim) = claim else { continue };
            if *claim == "not-applicable" {
                continue;
            }
            // Evidence is collected in the quarter's last month.
            let day = rng.random_range(1..=28_i8);
            let collected = end.first_of_month() + i64::from(day - 1).days();
            let method = match rng.random_range(0..10) {
                0..=3 => Method::Test,
                4..=6 => Method::Examine,
                _ => Method::Interview,
            };
            let (satisfied, risk) = match open[control] {
                Some(r) if risks[r].closes_in(period) => {
                    // The fix is verified by a re-test, which closes the risk.
                    open[control] = None;
                    let collected = risks[r].closed.unwrap_or(collected);
                    assessed.push(Assessed {
                        control,
                        satisfied: true,
                        method,
                        collected,
                        risk: Some(r),
                    });
                    continue;
                }
                Some(r) => {
                    // Still open: re-assessed half the time, failing again.
                    if !rng.random_bool(0.5) {
                        continue;
                    }
                    (false, Some(r))
                }
                None => {
                    if !rng.random_bool(0.35) {
                        continue;
                    }
                    if rng.random_bool(pass_rate(claim, m)) {
                        (true, None)
                    } else {
                        risks.push(open_risk(&mut rng, control, period, collected, m));
                        open[control] = Some(risks.len() - 1);
                        (false, Some(risks.len() - 1))
                    }
                }
            };
            assessed.push(Assessed {
                control,
                satisfied,
                method,
                collected,
                risk,
            });
        }
        periods.push(assessed);
    }
    History { periods, risks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters() {
        let day = |text: &str| text.parse::<Date>().unwrap();
        assert_eq!(quarter(1), (day("2025-01-01"), day("2025-03-31")));
        assert_eq!(quarter(6), (day("2026-04-01"), day("2026-06-30")));
        assert_eq!(quarter(8).1, day("2026-12-31"));
    }

    #[test]
    fn cvss_scores_map_to_the_design_levels() {
        assert_eq!(cvss_level(0.0), 1);
        assert_eq!(cvss_level(3.9), 2);
        assert_eq!(cvss_level(4.0), 3);
        assert_eq!(cvss_level(8.9), 4);
        assert_eq!(cvss_level(9.0), 5);
    }
}
