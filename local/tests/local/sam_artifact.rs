//! The deployable artifact itself: the `bootstrap` files `sam build` made from template.yaml
//! (arm64 as shipped, run under qemu-aarch64; or x86_64, run as is), each started under a
//! Lambda Runtime API emulator with exactly the environment the template gives it, against
//! moto (Secrets Manager, EventBridge Scheduler), real PostgreSQL and a real receiver. It
//! catches a template that builds the wrong binary, misses a variable or a permission's
//! counterpart, or a handler that cannot start on the architecture we ship.
//!
//! It needs a `sam build` first (minutes), so `cargo test` leaves it ignored and .ci/run runs
//! it through `scripts/artifact-test`, which builds and then runs it with SAM_BUILD_DIR and
//! SAM_ARCHITECTURE set.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::template::Template;
use serde_json::{json, Value};
use testkit::cloudformation::ResponseUrl;
use testkit::lambda_runtime_emulator::Emulator;
use testkit::moto::{sdk_config, MotoServer};
use testkit::Receiver;
use testkit::{wait_until, ScratchDatabase};

const STACK: &str = "message-dispatcher";
const REGION: &str = "eu-west-1";

fn build_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("SAM_BUILD_DIR").expect("SAM_BUILD_DIR is not set: run scripts/artifact-test"),
    )
}

fn architecture() -> String {
    std::env::var("SAM_ARCHITECTURE").unwrap_or_else(|_| "arm64".into())
}

/// One function's bootstrap, started as Lambda would, its stdout kept (metrics records).
struct Function {
    child: Child,
    emulator: Emulator,
    stdout: PathBuf,
}

impl Function {
    async fn start(template: &Template, logical_id: &str, extra: &[(&str, String)]) -> Self {
        let emulator = Emulator::with_timeout(template.timeout(logical_id)).await.unwrap();
        let bootstrap = build_dir().join(logical_id).join("bootstrap");
        assert!(bootstrap.exists(), "{} is missing: did sam build build {logical_id}?", bootstrap.display());
        let mut command = if architecture() == "arm64" {
            let mut qemu = Command::new("qemu-aarch64");
            qemu.args(["-L", "/usr/aarch64-linux-gnu"]).arg(&bootstrap);
            qemu
        } else {
            Command::new(&bootstrap)
        };
        let stdout = std::env::temp_dir().join(format!("{logical_id}-{}.out", uuid::Uuid::new_v4().simple()));
        command
            .env_clear()
            .envs(template.environment(logical_id))
            .envs(lambda_environment(template, logical_id, &emulator))
            .envs(extra.iter().map(|(k, v)| (k.to_string(), v.clone())))
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(Stdio::inherit());
        let child =
            command.spawn().unwrap_or_else(|err| panic!("cannot start {logical_id}'s bootstrap: {err}"));
        Self { child, emulator, stdout }
    }

    async fn invoke(&self, payload: &Value) -> Value {
        let answer = self.emulator.invoke(&payload.to_string(), Duration::from_secs(120)).await.unwrap();
        serde_json::from_str(&answer).unwrap()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stdout);
    }
}

/// What Lambda itself puts in a function's environment (credentials of its role, region),
/// plus the endpoint override that points the SDK at moto.
fn lambda_environment(template: &Template, logical_id: &str, emulator: &Emulator) -> Vec<(String, String)> {
    let moto = std::env::var("ARTIFACT_MOTO_ENDPOINT").unwrap();
    [
        ("AWS_LAMBDA_RUNTIME_API", emulator.address.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME", template.function_name(logical_id)),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", template.memory_size(logical_id).to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", "testing".into()),
        ("AWS_ENDPOINT_URL", moto),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("PATH", std::env::var("PATH").unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// An API Gateway HTTP API (payload 2.0) event, as the template's HttpApi sends it.
fn http_event(method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/api-create-message.json")).unwrap();
    event["routeKey"] = json!(format!("{method} {path}"));
    event["rawPath"] = json!(path);
    event["requestContext"]["routeKey"] = event["routeKey"].clone();
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["body"] = body.map_or(Value::Null, |body| json!(body.to_string()));
    event
}

/// The secret the template's DatabaseSecretArn names, and the schedule the api's
/// SCHEDULE_NAME names, in moto. Returns the secret's ARN.
async fn aws_resources(moto: &MotoServer, database_url: &str, template: &Template) -> String {
    let aws = sdk_config(&moto.endpoint, REGION);
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let secret = secrets
        .create_secret()
        .name(format!("{STACK}/database"))
        .secret_string(database_url)
        .send()
        .await
        .unwrap();
    let scheduler = aws_sdk_scheduler::Client::new(&aws);
    let schedule = template.schedule();
    let target = aws_sdk_scheduler::types::Target::builder()
        .arn(format!(
            "arn:aws:lambda:{REGION}:123456789012:function:{}",
            template.function_name("DispatchFunction")
        ))
        .role_arn("arn:aws:iam::123456789012:role/scheduler")
        .input(schedule.input.to_string())
        .build()
        .unwrap();
    scheduler
        .create_schedule()
        .name(&schedule.name)
        .schedule_expression(&schedule.expression)
        .flexible_time_window(
            aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .state(aws_sdk_scheduler::types::ScheduleState::Enabled)
        .target(target)
        .send()
        .await
        .unwrap();
    secret.arn().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a sam build: run scripts/artifact-test"]
async fn the_built_functions_start_and_serve_as_the_template_deploys_them() {
    let db = ScratchDatabase::create_empty().await; // the migrate function makes the schema
    let receiver = Receiver::accepting().await;
    let moto = MotoServer::start();
    std::env::set_var("ARTIFACT_MOTO_ENDPOINT", &moto.endpoint);
    let mut template = Template::load(STACK, REGION);
    let secret_arn = aws_resources(&moto, &db.url, &template).await;
    template.set_parameter("DatabaseSecretArn", &secret_arn);
    template.set_parameter("WebhookUrl", &receiver.url);
    template.set_parameter("Architecture", &architecture());

    // 1. migrate, as CloudFormation invokes the custom resource on the first deploy.
    let migrate = Function::start(&template, "MigrateFunction", &[]).await;
    let cloudformation = ResponseUrl::answering(200).await;
    let url = cloudformation.url.clone();
    let create = json!({
        "RequestType": "Create",
        "ServiceToken": format!("arn:aws:lambda:{REGION}:123456789012:function:{}", template.function_name("MigrateFunction")),
        "ResponseURL": url,
        "StackId": format!("arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/5b1c"),
        "RequestId": "3f1c2a8e-6b1d-4c55-9d0e-7a2b9c1d4e5f",
        "ResourceType": "Custom::Migrations",
        "LogicalResourceId": "Migrations",
        "ResourceProperties": {"ServiceToken": "arn", "MigrateVersion": "1"}
    });
    let answered = migrate.invoke(&create).await;
    assert_eq!(answered["Status"], "SUCCESS", "{answered}");
    let answers = cloudformation.bodies();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["Status"], "SUCCESS", "{}", answers[0]);
    let schema: i64 = answers[0]["Data"]["SchemaVersion"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        schema,
        dispatcher_core::db::MIGRATOR.iter().map(|m| m.version).max().unwrap(),
        "every migration applied"
    );

    // 2. api, with API Gateway v2 events: health, a message, the EventBridge schedule's status.
    let api = Function::start(&template, "ApiFunction", &[]).await;
    let health = api.invoke(&http_event("GET", "/health", None)).await;
    assert_eq!(health["statusCode"], 200, "{health}");
    let created = api
        .invoke(&http_event(
            "POST",
            "/api/v1/messages",
            Some(&json!({"phone_number": "+905551111111", "content": "from the arm64 artifact"})),
        ))
        .await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let status = api.invoke(&http_event("GET", "/api/v1/scheduler/status", None)).await;
    assert_eq!(status["statusCode"], 200, "{status}");
    let body: Value = serde_json::from_str(status["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (body["backend"].as_str(), body["state"].as_str()),
        (Some("eventbridge"), Some("running")),
        "{body}"
    );
    assert_eq!(body["schedule_expression"], template.schedule().expression);
    assert_eq!(body["receiver"]["state"], "closed");

    // 3. dispatch, with the schedule's own Input: the message reaches the receiver.
    let dispatch = Function::start(&template, "DispatchFunction", &[]).await;
    let summary = dispatch.invoke(&template.schedule().input).await;
    assert_eq!((summary["claimed"].as_i64(), summary["sent"].as_i64()), (Some(1), Some(1)), "{summary}");
    wait_until(Duration::from_secs(10), "the receiver got the message", || async {
        receiver.keys().len() == 1
    })
    .await;
    let metrics = dispatch.stdout();
    let record: Value = metrics
        .lines()
        .find_map(|line| serde_json::from_str::<Value>(line).ok().filter(|v| v.get("_aws").is_some()))
        .unwrap_or_else(|| panic!("no metrics record on the dispatch function's stdout: {metrics:?}"));
    assert_eq!(record["_aws"]["CloudWatchMetrics"][0]["Namespace"], "MessageDispatcher");
    assert_eq!(record["FunctionName"], template.function_name("DispatchFunction"));
    assert_eq!((record["Sent"].as_i64(), record["BreakerOpen"].as_i64()), (Some(1), Some(0)), "{record}");

    // 4. A function whose secret cannot be read says so, to the Runtime API as to its log.
    let gone = secret_arn.replace("/database", "/missing");
    let broken =
        Function::start(&template, "DispatchFunction", &[("DATABASE_SECRET_ARN", gone.clone())]).await;
    wait_until(Duration::from_secs(60), "the init error", || async {
        broken.emulator.init_error().is_some()
    })
    .await;
    let reported: Value = serde_json::from_str(&broken.emulator.init_error().unwrap()).unwrap();
    assert_eq!(reported["errorType"], "InitError");
    assert!(reported["errorMessage"]
        .as_str()
        .unwrap()
        .contains(&format!("cannot read the database secret {gone}")));

    println!(
        "ARTIFACT {}: migrate SUCCESS (schema {}), api health/create/status 200/201/200, dispatch sent {}, init error reported",
        architecture(),
        answers[0]["Data"]["SchemaVersion"],
        summary["sent"]
    );
    drop((migrate, api, dispatch, broken));
}
