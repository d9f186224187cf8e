//! Property tests for the input parsers: any string at all is either accepted exactly when the
//! rules say so, or rejected with a reason; never a panic.

use dispatcher_core::domain::{Content, PhoneNumber};
use proptest::prelude::*;

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else { return false };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_string_is_a_phone_number_exactly_when_it_is_e164(input in any::<String>()) {
        prop_assert_eq!(PhoneNumber::parse(&input).is_ok(), is_e164(&input));
    }

    #[test]
    fn plus_and_digits_parse_by_length_alone(digits in "[0-9]{0,20}") {
        let input = format!("+{digits}");
        prop_assert_eq!(PhoneNumber::parse(&input).is_ok(), (8..=15).contains(&digits.len()));
    }

    #[test]
    fn content_is_accepted_exactly_within_the_limit_in_characters(input in any::<String>(), limit in 1usize..300) {
        let chars = input.chars().count();
        let expected = chars >= 1 && chars <= limit && !input.contains('\0');
        let parsed = Content::parse(&input, limit);
        prop_assert_eq!(parsed.is_ok(), expected);
        if let Ok(content) = parsed {
            prop_assert_eq!(content.as_str(), input.as_str(), "kept verbatim");
        }
    }

    #[test]
    fn multi_byte_text_counts_characters_not_bytes(ch in any::<char>().prop_filter("not NUL", |c| *c != '\0'), n in 1usize..400) {
        let text: String = std::iter::repeat_n(ch, n).collect();
        prop_assert_eq!(Content::parse(&text, 160).is_ok(), n <= 160);
    }
}
