//! How the domain types are read from their columns: each parses on the way in (a stored status,
//! phone number or text the rules refuse is a decode error, never a panic), so queries return
//! domain types directly (`"status: _"` in the checked macros) and no row struct stands between.
//! The schema's checks hold every stored row to the same rules.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, Postgres, Type};
use uuid::Uuid;

use crate::domain::{
    AttemptOutcome, BreakerState, Content, DeliveryStatus, Label, MessageId, MessageStatus, PhoneNumber,
    Priority, CONTENT_HARD_LIMIT,
};

/// `Type` and `Decode` for a type stored as text and parsed by `$parse`.
macro_rules! text_column {
    ($type:ty, $parse:expr) => {
        impl Type<Postgres> for $type {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $type {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                Ok($parse(text)?)
            }
        }
    };
}

text_column!(PhoneNumber, PhoneNumber::parse);
text_column!(Content, |text| Content::parse(text, CONTENT_HARD_LIMIT));
text_column!(MessageStatus, str::parse::<MessageStatus>);
text_column!(BreakerState, str::parse::<BreakerState>);
text_column!(AttemptOutcome, str::parse::<AttemptOutcome>);
text_column!(DeliveryStatus, str::parse::<DeliveryStatus>);
text_column!(Label, Label::parse);

/// A priority is stored as its lane number (`smallint`), so that the lanes sort in claim order.
impl Type<Postgres> for Priority {
    fn type_info() -> PgTypeInfo {
        <i16 as Type<Postgres>>::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for Priority {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let lane = <i16 as Decode<Postgres>>::decode(value)?;
        Ok(Priority::of_lane(lane).ok_or_else(|| format!("no priority has lane {lane}"))?)
    }
}

impl Type<Postgres> for MessageId {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for MessageId {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(<Uuid as Decode<Postgres>>::decode(value)?.into())
    }
}
