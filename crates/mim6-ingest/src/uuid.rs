//! Uuids as the fact rows hold them: sixteen bytes for a uuid in the form the fleets write
//! (lowercase, `8-4-4-4-12` hex digits), the text itself for anything else, so that the rows
//! of a run make no allocation a uuid and compare uuids as numbers.

use std::cmp::Ordering;
use std::fmt;

/// A uuid read from a document: its text, held as a number when it is in lowercase canonical
/// form. Equal, ordered and written as the text it was read from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Uuid(pub(crate) Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Repr {
    /// A lowercase canonical uuid, its 32 hex digits as a number.
    Number(u128),
    /// Any other text (never a lowercase canonical uuid, so that equal texts are equal).
    Text(Box<str>),
}

/// The length of a canonical uuid's text.
const LENGTH: usize = 36;

/// The hex digits of each group of the canonical text, a hyphen between one and the next.
const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];

/// Each byte's value as a lowercase hex digit, or `0xff`.
const DIGITS: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut b = 0;
    while b < 10 {
        table[b'0' as usize + b] = b as u8;
        b += 1;
    }
    let mut b = 0;
    while b < 6 {
        table[b'a' as usize + b] = 10 + b as u8;
        b += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Uuid {
    /// The uuid whose text is `text`.
    pub fn of(text: &str) -> Uuid {
        match number(text.as_bytes()) {
            Some(number) => Uuid(Repr::Number(number)),
            None => Uuid(Repr::Text(text.into())),
        }
    }

    /// Its text, written into `buffer` when it is held as a number.
    pub fn as_str<'a>(&'a self, buffer: &'a mut [u8; LENGTH]) -> &'a str {
        match &self.0 {
            Repr::Text(text) => text,
            Repr::Number(number) => {
                // The digits from the last, the text from its end.
                let mut number = *number;
                let mut at = LENGTH;
                for (k, &group) in GROUPS.iter().enumerate().rev() {
                    for _ in 0..group {
                        at -= 1;
                        buffer[at] = HEX[(number & 0xf) as usize];
                        number >>= 4;
                    }
                    if k > 0 {
                        at -= 1;
                        buffer[at] = b'-';
                    }
                }
                std::str::from_utf8(buffer).expect("hex digits and hyphens")
            }
        }
    }

    /// Appends its text to `out`.
    pub fn push_to(&self, out: &mut String) {
        out.push_str(self.as_str(&mut [0; LENGTH]));
    }
}

/// The number of a lowercase canonical uuid's text, `None` for any other text.
fn number(text: &[u8]) -> Option<u128> {
    let text: &[u8; LENGTH] = text.try_into().ok()?;
    let mut number = 0u128;
    let mut invalid = 0u8;
    let mut at = 0;
    for (k, &group) in GROUPS.iter().enumerate() {
        if k > 0 {
            if text[at] != b'-' {
                return None;
            }
            at += 1;
        }
        for &byte in &text[at..at + group] {
            let digit = DIGITS[usize::from(byte)];
            invalid |= digit;
            number = number << 4 | u128::from(digit & 0xf);
        }
        at += group;
    }
    (invalid & 0xf0 == 0).then_some(number)
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str(&mut [0; LENGTH]))
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(&mut [0; LENGTH]), f)
    }
}

impl Ord for Uuid {
    /// The order of their texts.
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            // Fixed-width lowercase hex digits sort as their numbers do.
            (Repr::Number(a), Repr::Number(b)) => a.cmp(b),
            _ => self
                .as_str(&mut [0; LENGTH])
                .cmp(other.as_str(&mut [0; LENGTH])),
        }
    }
}

impl PartialOrd for Uuid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<str> for Uuid {
    fn eq(&self, other: &str) -> bool {
        self.as_str(&mut [0; LENGTH]) == other
    }
}

impl PartialEq<&str> for Uuid {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_written_as_it_was_read_whatever_its_form() {
        for text in [
            "6f3c1e2a-0000-4000-8000-00000000000b",
            "0123abcd-4567-89ef-0123-456789abcdef",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "00000000-0000-0000-0000-000000000000",
            "6F3C1E2A-0000-4000-8000-00000000000C",
            "6f3c1e2a-0000-4000-8000-00000000000g",
            "6f3c1e2a00000-4000-8000-00000000000b",
            "6f3c1e2a-0000-4000-8000-00000000000",
            "not-a-uuid",
            "",
            "é3c1e2a-0000-4000-8000-00000000000b",
        ] {
            let uuid = Uuid::of(text);
            assert_eq!(uuid.to_string(), text);
            assert_eq!(uuid, *text);
        }
        assert!(matches!(
            Uuid::of("6f3c1e2a-0000-4000-8000-00000000000b").0,
            Repr::Number(0x6f3c1e2a_0000_4000_8000_00000000000b)
        ));
        assert!(matches!(
            Uuid::of("0123abcd-4567-89ef-0123-456789abcdef").0,
            Repr::Number(0x0123abcd_4567_89ef_0123_456789abcdef)
        ));
        // A hyphen out of place, or a digit in a hyphen's place: kept as text.
        for text in [
            "0123abcd-4567-89ef-0123-456789abcde-",
            "0123abcd-4567-89ef-01230456789abcdef",
            "-123abcd-4567-89ef-0123-456789abcdef",
        ] {
            assert!(matches!(Uuid::of(text).0, Repr::Text(_)), "{text}");
            assert_eq!(Uuid::of(text).to_string(), text);
        }
        assert!(matches!(
            Uuid::of("6F3C1E2A-0000-4000-8000-00000000000C").0,
            Repr::Text(_)
        ));
    }

    #[test]
    fn uuids_sort_and_compare_as_their_texts() {
        let texts = [
            "00000000-0000-4000-8000-000000000001",
            "0000000a-0000-4000-8000-000000000000",
            "00000009-0000-4000-8000-000000000000",
            "6F3C1E2A-0000-4000-8000-00000000000C",
            "6f3c1e2a-0000-4000-8000-00000000000c",
            "a",
            "zz",
            "f",
        ];
        let mut uuids: Vec<Uuid> = texts.iter().map(|t| Uuid::of(t)).collect();
        uuids.sort();
        let mut sorted = texts.to_vec();
        sorted.sort();
        let back: Vec<String> = uuids.iter().map(Uuid::to_string).collect();
        assert_eq!(back, sorted);
        assert_ne!(
            Uuid::of("6F3C1E2A-0000-4000-8000-00000000000C"),
            Uuid::of("6f3c1e2a-0000-4000-8000-00000000000c")
        );
    }
}
