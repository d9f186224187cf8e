use super::validated_text::validated_text;

/// The most characters any configuration may allow; the database enforces it too.
pub const CONTENT_HARD_LIMIT: usize = 1600;

/// Message text: 1 to `limit` Unicode characters (not bytes: "ş" counts once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("content is empty")]
    Empty,
    #[error("content has {length} characters; the limit is {limit}")]
    TooLong { length: usize, limit: usize },
    /// PostgreSQL text cannot hold U+0000, and no SMS carries it.
    #[error("content contains a NUL character (U+0000)")]
    NulCharacter,
}

impl Content {
    pub fn parse(input: &str, limit: usize) -> Result<Self, ContentError> {
        if input.is_empty() {
            return Err(ContentError::Empty);
        }
        if input.contains('\0') {
            return Err(ContentError::NulCharacter);
        }
        let length = input.chars().count();
        if length > limit {
            return Err(ContentError::TooLong { length, limit });
        }
        Ok(Self(input.to_owned()))
    }
}

validated_text!(Content);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_byte_characters_count_once() {
        let at_limit = "ş".repeat(160);
        assert_eq!(at_limit.len(), 320, "two bytes each");
        assert!(Content::parse(&at_limit, 160).is_ok());

        let over = "ş".repeat(161);
        assert_eq!(Content::parse(&over, 160), Err(ContentError::TooLong { length: 161, limit: 160 }));
    }

    #[test]
    fn four_byte_emoji_count_once() {
        assert!(Content::parse(&"🚀".repeat(160), 160).is_ok());
        assert!(Content::parse(&"🚀".repeat(161), 160).is_err());
    }

    #[test]
    fn empty_content_is_rejected() {
        assert_eq!(Content::parse("", 160), Err(ContentError::Empty));
    }

    #[test]
    fn whitespace_sql_and_control_characters_are_kept_verbatim() {
        for text in [" ", "'; DROP TABLE messages; --", "line1\nline2\t\u{0007}", "Merhaba dünya"] {
            assert_eq!(Content::parse(text, 160).unwrap().as_str(), text);
        }
    }

    #[test]
    fn a_nul_character_is_rejected() {
        assert_eq!(Content::parse("a\0b", 160), Err(ContentError::NulCharacter));
    }

    #[test]
    fn the_limit_is_the_configured_one() {
        assert!(Content::parse("abcde", 5).is_ok());
        assert!(Content::parse("abcdef", 5).is_err());
    }
}
