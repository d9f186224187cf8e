use super::validated_text::validated_text;

/// A machine word an operator types and filters on: a campaign, an error code. 1 to 64 ASCII
/// letters, digits, `_`, `.` or `-`, so it is safe in a URL, a log line and a metric label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 64 letters, digits, '_', '.' or '-'")]
pub struct LabelError;

impl Label {
    pub const MAX_LEN: usize = 64;
    /// What [`Label::parse`] accepts, as the OpenAPI document and the schema's CHECK state it.
    pub const PATTERN: &'static str = "^[A-Za-z0-9_.-]{1,64}$";

    pub fn parse(input: &str) -> Result<Self, LabelError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        if input.is_empty() || input.len() > Self::MAX_LEN || !input.bytes().all(allowed) {
            return Err(LabelError);
        }
        Ok(Self(input.to_owned()))
    }
}

validated_text!(Label);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_a_short_machine_word() {
        for good in ["spring-sale_2026.v2", "a", "http_503", &"x".repeat(64)] {
            assert_eq!(Label::parse(good).map(|l| l.to_string()), Ok(good.to_owned()));
        }
        for bad in ["", " a", "a b", "caf\u{e9}", "a\u{0}b", "a/b", &"x".repeat(65)] {
            assert_eq!(Label::parse(bad), Err(LabelError), "{bad:?}");
        }
    }
}
