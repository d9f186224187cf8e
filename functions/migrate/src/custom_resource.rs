//! The CloudFormation custom resource protocol: the request, and the answer PUT to its
//! pre-signed ResponseURL.

use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceResponse {
    pub status: Status,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub data: Value,
}

/// CloudFormation shows at most about 4 KB of the reason.
const REASON_LIMIT: usize = 3000;

impl CustomResourceResponse {
    pub fn success(request: &CustomResourceRequest, physical_id: &str, schema_version: Option<i64>) -> Self {
        let data = match schema_version {
            Some(version) => json!({ "SchemaVersion": version.to_string() }),
            None => json!({}),
        };
        Self::new(request, physical_id, Status::Success, "OK".into(), data)
    }

    pub fn failed(request: &CustomResourceRequest, physical_id: &str, reason: &str) -> Self {
        let mut reason = reason.to_owned();
        if reason.len() > REASON_LIMIT {
            let mut end = REASON_LIMIT;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        Self::new(request, physical_id, Status::Failed, reason, json!({}))
    }

    fn new(
        request: &CustomResourceRequest,
        physical_id: &str,
        status: Status,
        reason: String,
        data: Value,
    ) -> Self {
        Self {
            status,
            reason,
            // Keep the id CloudFormation already has: a new one would mean "replaced".
            physical_resource_id: request.physical_resource_id.clone().unwrap_or_else(|| physical_id.into()),
            stack_id: request.stack_id.clone(),
            request_id: request.request_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
            data,
        }
    }

    /// PUTs the answer, with the empty Content-Type a pre-signed S3 URL expects; retried a few
    /// times, since an answer that never arrives leaves the stack waiting for an hour.
    pub async fn send(&self, http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
        let body = serde_json::to_string(self)?;
        let mut last_error = String::new();
        for attempt in 1..=3u32 {
            let result = http.put(url).header("content-type", "").body(body.clone()).send().await;
            match result {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last_error = format!("HTTP {}", response.status()),
                Err(err) => last_error = err.without_url().to_string(),
            }
            tracing::warn!(attempt, error = %last_error, "could not answer CloudFormation; retrying");
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
        bail!("could not answer CloudFormation: {last_error}")
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    fn request(physical: Option<&str>) -> CustomResourceRequest {
        serde_json::from_value(json!({
            "RequestType": "Update",
            "ResponseURL": "http://127.0.0.1:1/answer",
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/dispatcher/1",
            "RequestId": "r-1",
            "LogicalResourceId": "Migrations",
            "PhysicalResourceId": physical,
            "ResourceType": "Custom::Migrations",
            "ResourceProperties": {"ServiceToken": "arn:..."}
        }))
        .context("parse")
        .unwrap()
    }

    #[test]
    fn an_existing_physical_id_is_kept() {
        let response = CustomResourceResponse::success(&request(Some("old-id")), "new-id", Some(3));
        assert_eq!(response.physical_resource_id, "old-id");
        let response = CustomResourceResponse::success(&request(None), "new-id", Some(3));
        assert_eq!(response.physical_resource_id, "new-id");
        assert_eq!(response.data, json!({"SchemaVersion": "3"}));
    }

    #[test]
    fn long_reasons_are_cut() {
        let response = CustomResourceResponse::failed(&request(None), "id", &"ş".repeat(5000));
        assert!(response.reason.len() <= REASON_LIMIT);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["Status"], "FAILED");
        for field in ["Reason", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId", "Data"] {
            assert!(json.get(field).is_some(), "{field}");
        }
    }
}
