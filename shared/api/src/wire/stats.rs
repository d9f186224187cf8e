//! Message counts by status: `GET /api/v1/messages/stats` and the scheduler status's `stats`.
//! One field per status the core knows (`MessageStatus::ALL`) and per delivery status, so a new
//! status is counted here, in the document and on the dashboard without a change.

use std::borrow::Cow;

use dispatcher_core::domain::{DeliveryStatus, MessageStatus};
use dispatcher_core::repository::Stats;
use serde::ser::{Serialize, SerializeMap, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// `{"<status>": count, ..., "total": count, "deliveries": {"<delivery status>": count, ...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsOut(pub Stats);

/// Sent messages by their latest delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveriesOut(pub Stats);

impl From<Stats> for StatsOut {
    fn from(stats: Stats) -> Self {
        Self(stats)
    }
}

impl Serialize for StatsOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(MessageStatus::ALL.len() + 2))?;
        for &status in MessageStatus::ALL {
            map.serialize_entry(status.as_str(), &self.0.count(status))?;
        }
        map.serialize_entry("total", &self.0.total())?;
        map.serialize_entry("deliveries", &DeliveriesOut(self.0.clone()))?;
        map.end()
    }
}

impl Serialize for DeliveriesOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(DeliveryStatus::ALL.len()))?;
        for &status in DeliveryStatus::ALL {
            map.serialize_entry(status.as_str(), &self.0.deliveries(status))?;
        }
        map.end()
    }
}

/// An object of int64 counts named `names`, all required.
fn counts(names: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    names.into_iter().fold(ObjectBuilder::new(), |object, name| {
        let count = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)));
        object.property(name, count).required(name)
    })
}

impl PartialSchema for StatsOut {
    fn schema() -> RefOr<Schema> {
        let mut deliveries = Ref::from_schema_name(DeliveriesOut::name());
        deliveries.description = "Sent messages by their latest delivery receipt.".into();
        counts(MessageStatus::NAMES.iter().copied().chain(["total"]))
            .property("deliveries", RefOr::Ref(deliveries))
            .required("deliveries")
            .description(Some(
                "Messages by status (`total`: all of them), from counts kept exact by the schema.",
            ))
            .into()
    }
}

impl ToSchema for StatsOut {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Stats")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((DeliveriesOut::name().into(), DeliveriesOut::schema()));
    }
}

impl PartialSchema for DeliveriesOut {
    fn schema() -> RefOr<Schema> {
        counts(DeliveryStatus::NAMES.iter().copied()).into()
    }
}

impl ToSchema for DeliveriesOut {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Deliveries")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_a_field_and_the_total_sums_them() {
        let stats = Stats::from_counts([(MessageStatus::Pending, 3), (MessageStatus::Expired, 2)])
            .with_deliveries([(DeliveryStatus::Delivered, 1)]);
        let json = serde_json::to_value(StatsOut(stats)).unwrap();
        for &status in MessageStatus::ALL {
            assert!(json[status.as_str()].is_i64(), "{status} in {json}");
        }
        assert_eq!(
            (json["pending"].as_i64(), json["expired"].as_i64(), json["total"].as_i64()),
            (Some(3), Some(2), Some(5))
        );
        assert_eq!(json["deliveries"], serde_json::json!({"delivered": 1, "undelivered": 0}));
    }
}
