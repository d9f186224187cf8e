use super::validated_text::validated_text;

/// An E.164 phone number: `+` then 8 to 15 digits, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number must start with '+' (E.164, e.g. +905551111111)")]
    MissingPlus,
    #[error("phone number may contain only digits after '+'")]
    NotDigits,
    #[error("phone number must have 8 to 15 digits after '+', got {0}")]
    WrongLength(usize),
}

impl PhoneNumber {
    pub const MIN_DIGITS: usize = 8;
    pub const MAX_DIGITS: usize = 15;

    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        if input.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        let digits = input.strip_prefix('+').ok_or(PhoneNumberError::MissingPlus)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneNumberError::NotDigits);
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) {
            return Err(PhoneNumberError::WrongLength(digits.len()));
        }
        Ok(Self(input.to_owned()))
    }
}

validated_text!(PhoneNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_parse() {
        for ok in ["+905551111111", "+12345678", "+123456789012345", "+447911123456"] {
            assert_eq!(PhoneNumber::parse(ok).unwrap().as_str(), ok, "{ok}");
        }
    }

    #[test]
    fn invalid_numbers_are_rejected_with_the_reason() {
        let cases = [
            ("", PhoneNumberError::Empty),
            ("905551111111", PhoneNumberError::MissingPlus),
            ("+", PhoneNumberError::WrongLength(0)),
            ("+1234567", PhoneNumberError::WrongLength(7)),
            ("+1234567890123456", PhoneNumberError::WrongLength(16)),
            ("+90 555 111 1111", PhoneNumberError::NotDigits),
            ("+90-555-1111111", PhoneNumberError::NotDigits),
            ("+90555abc1111", PhoneNumberError::NotDigits),
            ("++905551111111", PhoneNumberError::NotDigits),
            ("+９０５５５１１１１１１１", PhoneNumberError::NotDigits),
            (" +905551111111", PhoneNumberError::MissingPlus),
            ("+905551111111\n", PhoneNumberError::NotDigits),
        ];
        for (input, expected) in cases {
            assert_eq!(PhoneNumber::parse(input), Err(expected), "{input:?}");
        }
    }
}
