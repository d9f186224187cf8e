//! The API's form of an enum the core stores as text (a status, a breaker state, an outcome):
//! the stored spelling on the wire, and a schema that lists the core's `NAMES`, so that a new
//! variant in the core reaches the answers, the filters and the OpenAPI document by itself.

/// `$out` wraps the core's `$core` for the API: `Serialize` and `Deserialize` as its stored
/// spelling, and a string schema named `$name` whose `enum` is `$core::NAMES`.
macro_rules! wire_enum {
    ($(#[doc = $doc:literal])* $out:ident for $core:ty, named $name:literal) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $out(pub $core);

        impl From<$core> for $out {
            fn from(value: $core) -> Self {
                Self(value)
            }
        }

        impl serde::Serialize for $out {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.0.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $out {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse::<$core>()
                    .map(Self)
                    .map_err(|_| serde::de::Error::unknown_variant(&text, <$core>::NAMES))
            }
        }

        impl utoipa::PartialSchema for $out {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let description = [$($doc),*].map(str::trim).join(" ");
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(<$core>::NAMES.iter().copied()))
                    .description((!description.is_empty()).then_some(description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $out {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

pub(crate) use wire_enum;
