//! Date-times as the documents write them.
//!
//! Nearly every date-time in a fleet is written `YYYY-MM-DDTHH:MM:SSZ`; that form is taken
//! apart here directly and made an instant by jiff's calendar, a few hundred times a document,
//! and every other form (fractions of a second, offsets, lower-case separators, a leap second,
//! a date that does not exist) goes to jiff's RFC 3339 parser. Both give the same instant or
//! both refuse.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// `text` as an instant, if it is a date-time with a time zone (RFC 3339).
pub(crate) fn parse(text: &str) -> Option<Timestamp> {
    match utc_fields(text.as_bytes()) {
        Some(datetime) => Offset::UTC.to_timestamp(datetime).ok(),
        None => text.parse().ok(),
    }
}

/// The date and time of `YYYY-MM-DDTHH:MM:SSZ` when `text` is exactly that and a real date and
/// time of day; `None` for anything else, left to the full parser.
fn utc_fields(text: &[u8]) -> Option<DateTime> {
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
        b'Z',
    ] = *text
    else {
        return None;
    };
    let digits = |pair: [u8; 2]| -> Option<i8> {
        let [a, b] = pair;
        (a.is_ascii_digit() && b.is_ascii_digit()).then(|| ((a - b'0') * 10 + (b - b'0')) as i8)
    };
    let year = i16::from(digits([y0, y1])?) * 100 + i16::from(digits([y2, y3])?);
    let (month, day) = (digits([m0, m1])?, digits([d0, d1])?);
    let (hour, minute, second) = (digits([h0, h1])?, digits([i0, i1])?, digits([s0, s1])?);
    DateTime::new(year, month, day, hour, minute, second, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(text: &str) -> Option<Timestamp> {
        text.parse().ok()
    }

    #[test]
    fn every_day_of_four_centuries_reads_as_jiff_reads_it() {
        // 1600–2000 covers every leap-year rule; the days around the ends of the range jiff
        // can represent are checked below.
        let mut date = jiff::civil::date(1600, 1, 1);
        let end = jiff::civil::date(2001, 1, 1);
        let mut days = 0;
        while date < end {
            let text = format!("{date}T13:07:59Z");
            assert!(utc_fields(text.as_bytes()).is_some(), "{text}");
            assert_eq!(parse(&text), full(&text), "{text}");
            date = date.tomorrow().unwrap();
            days += 1;
        }
        assert_eq!(days, 146_097 + 366);
    }

    #[test]
    fn what_is_not_a_real_date_or_time_is_refused_as_jiff_refuses_it() {
        for year in [
            "0000", "0001", "1900", "1970", "2000", "2024", "2025", "9999",
        ] {
            for month in ["00", "01", "02", "04", "12", "13", "99"] {
                for day in ["00", "01", "28", "29", "30", "31", "32"] {
                    for time in ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60"] {
                        let text = format!("{year}-{month}-{day}T{time}Z");
                        assert_eq!(parse(&text), full(&text), "{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn other_forms_go_to_the_full_parser() {
        for text in [
            "2025-03-01T00:00:00.5Z",
            "2025-03-01T00:00:00+02:00",
            "2025-03-01t00:00:00z",
            "2025-03-01T00:00:00",
            "2025-03-01",
            "+2025-03-01T00:00:00Z",
            "2025-3-01T00:00:00Z",
            "2025-03-01T00:00:0aZ",
            "２０２５-03-01T00:00:00Z",
            "",
        ] {
            assert_eq!(utc_fields(text.as_bytes()), None, "{text}");
            assert_eq!(parse(text), full(text), "{text}");
        }
        assert!(parse("2025-03-01T00:00:00.5Z").is_some());
        assert!(parse("2025-03-01T00:00:00").is_none());
    }

    #[test]
    fn instants_beyond_what_a_timestamp_holds_are_refused() {
        // jiff's timestamps end within the last day of year 9999.
        for text in [
            "9999-12-31T23:59:59Z",
            "9999-12-30T22:00:00Z",
            "9999-12-30T22:00:01Z",
        ] {
            assert!(utc_fields(text.as_bytes()).is_some());
            assert_eq!(parse(text), full(text), "{text}");
        }
        assert!(parse("9999-12-31T23:59:59Z").is_none());
    }
}
