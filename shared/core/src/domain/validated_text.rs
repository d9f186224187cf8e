//! Text that passed its checks (a phone number, a message's content): read as `&str`
//! everywhere after, never built unchecked.

/// `as_str`, `AsRef<str>` and `Display` for a newtype over a checked `String`.
macro_rules! validated_text {
    ($type:ty) => {
        impl $type {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use validated_text;
