//! Assessment periods: calendar quarters unless the pipeline file says otherwise.

use jiff::ToSpan;
use jiff::civil::Date;

/// How long a period is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeriodLength {
    /// Calendar months (`2025-03`).
    Month,
    /// Calendar quarters (`2025-Q1`).
    #[default]
    Quarter,
    /// Calendar years (`2025`).
    Year,
}

/// One period.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    /// Label (`2025-Q1`).
    pub label: String,
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
}

impl Period {
    /// The period of `length` holding `date`.
    pub fn containing(date: Date, length: PeriodLength) -> Period {
        let year = date.year();
        let (start, label) = match length {
            PeriodLength::Month => (date.first_of_month(), format!("{year}-{:02}", date.month())),
            PeriodLength::Quarter => {
                let quarter = (date.month() - 1) / 3;
                (
                    Date::new(year, quarter * 3 + 1, 1).unwrap_or(date),
                    format!("{year}-Q{}", quarter + 1),
                )
            }
            PeriodLength::Year => (Date::new(year, 1, 1).unwrap_or(date), year.to_string()),
        };
        let months = match length {
            PeriodLength::Month => 1,
            PeriodLength::Quarter => 3,
            PeriodLength::Year => 12,
        };
        let end = start
            .checked_add(months.months())
            .and_then(|next| next.checked_sub(1.day()))
            .unwrap_or(Date::MAX);
        Period { label, start, end }
    }

    /// Every period from the one holding `first` to the one holding `last`.
    pub fn covering(first: Date, last: Date, length: PeriodLength) -> Vec<Period> {
        let mut periods = Vec::new();
        let mut period = Period::containing(first, length);
        while period.start <= last {
            let next = period.end.checked_add(1.day());
            periods.push(period);
            match next {
                Ok(next) => period = Period::containing(next, length),
                Err(_) => break,
            }
        }
        periods
    }

    /// The last second of the period, in seconds since the epoch (UTC).
    pub fn end_seconds(&self) -> i64 {
        jiff::tz::TimeZone::UTC
            .to_timestamp(self.end.at(23, 59, 59, 0))
            .map(|t| t.as_second())
            .unwrap_or(i64::MAX)
    }

    /// The first second of the period.
    pub fn start_seconds(&self) -> i64 {
        jiff::tz::TimeZone::UTC
            .to_timestamp(self.start.at(0, 0, 0, 0))
            .map(|t| t.as_second())
            .unwrap_or(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn quarters_months_and_years() {
        let q = Period::containing(day("2025-05-17"), PeriodLength::Quarter);
        assert_eq!(
            (q.label.as_str(), q.start, q.end),
            ("2025-Q2", day("2025-04-01"), day("2025-06-30"))
        );
        let m = Period::containing(day("2024-02-10"), PeriodLength::Month);
        assert_eq!((m.label.as_str(), m.end), ("2024-02", day("2024-02-29")));
        let y = Period::containing(day("2026-12-31"), PeriodLength::Year);
        assert_eq!((y.label.as_str(), y.start), ("2026", day("2026-01-01")));
        let all = Period::covering(day("2025-02-01"), day("2025-10-01"), PeriodLength::Quarter);
        let labels: Vec<&str> = all.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]);
        assert_eq!(q.end_seconds() - q.start_seconds(), 91 * 86_400 - 1);
    }
}
