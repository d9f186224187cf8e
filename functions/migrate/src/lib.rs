//! A CloudFormation custom resource that applies the migrations on Create and Update, and
//! always answers the stack's ResponseURL (SUCCESS or FAILED with the reason), so a deploy
//! never hangs. Delete answers SUCCESS and leaves the data alone.

mod custom_resource;

use std::time::Duration;

use anyhow::Context;
use dispatcher_core::db::{self, MIGRATOR};
use dispatcher_core::deadline::budget_until;
use dispatcher_core::Config;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};

pub use custom_resource::{CustomResourceRequest, CustomResourceResponse, RequestType, Status};

/// The physical id of the one migrations resource; stable, so updates never replace it.
pub const PHYSICAL_RESOURCE_ID: &str = "message-dispatcher-migrations";

/// Time kept back from the Lambda deadline to send the answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// Without a usable deadline (none, or `cargo lambda watch`'s timeout in its place), the most
/// Lambda ever gives a function.
const NO_DEADLINE: Duration = Duration::from_secs(900);

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct MigrateHandler {
    env: Lookup,
    http: reqwest::Client,
}

impl MigrateHandler {
    pub fn from_process_env() -> Self {
        Self::new(Box::new(|var| std::env::var(var).ok()))
    }

    /// `env` is where the configuration is read from, at each invocation.
    pub fn new(env: Lookup) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default();
        Self { env, http }
    }

    /// A CloudFormation request is answered at its ResponseURL; any other payload (a manual
    /// invoke) just runs the migrations and returns the schema version.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        let deadline = event.context.deadline;
        match serde_json::from_value::<CustomResourceRequest>(event.payload.clone()) {
            Ok(request) => self.handle_custom_resource(request, deadline).await,
            Err(_) => Ok(json!({ "schema_version": self.migrate().await.map_err(|e| format!("{e:#}"))? })),
        }
    }

    async fn handle_custom_resource(
        &self,
        request: CustomResourceRequest,
        deadline_ms: u64,
    ) -> Result<Value, lambda_runtime::Error> {
        tracing::info!(request_type = ?request.request_type, stack = %request.stack_id, "custom resource request");
        let outcome = match request.request_type {
            // Deleting the stack must not drop the messages.
            RequestType::Delete => Ok(None),
            RequestType::Create | RequestType::Update => {
                let budget = migration_budget(deadline_ms);
                match tokio::time::timeout(budget, self.migrate()).await {
                    Ok(result) => result.map(Some),
                    Err(_) => Err(anyhow::anyhow!("migrations did not finish within {} s", budget.as_secs())),
                }
            }
        };
        let response = match &outcome {
            Ok(version) => CustomResourceResponse::success(&request, PHYSICAL_RESOURCE_ID, *version),
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), "migrations failed");
                CustomResourceResponse::failed(&request, PHYSICAL_RESOURCE_ID, &format!("{err:#}"))
            }
        };
        response.send(&self.http, &request.response_url).await?;
        Ok(serde_json::to_value(&response)?)
    }

    async fn migrate(&self) -> anyhow::Result<i64> {
        let config = Config::from_lookup(&self.env)?;
        let pool = db::connect(&config.database, 1).await?;
        MIGRATOR.run(&pool).await.context("applying migrations")?;
        let version = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        tracing::info!(version, "migrations applied");
        pool.close().await;
        Ok(version)
    }
}

/// Time the migrations may take: until the invocation's deadline, less the time to answer.
fn migration_budget(deadline_ms: u64) -> Duration {
    budget_until(deadline_ms, NO_DEADLINE).saturating_sub(ANSWER_MARGIN)
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    #[test]
    fn the_budget_follows_the_deadline_and_survives_an_emulators_timeout() {
        assert_eq!(migration_budget(0), Duration::from_secs(895));
        // `cargo lambda watch` sends its timeout (600000) where Lambda sends the deadline.
        assert_eq!(migration_budget(600_000), Duration::from_secs(895));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let budget = migration_budget((now + Duration::from_secs(300)).as_millis() as u64);
        assert!(budget > Duration::from_secs(292) && budget <= Duration::from_secs(294), "{budget:?}");
    }
}
