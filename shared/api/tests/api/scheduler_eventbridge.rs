//! The EventBridge backend against moto's server: start/stop change only `State` and keep
//! every other field; status reports it; start asks the dispatch function for a run at once.

use std::sync::{Arc, Mutex};

use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{
    FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState as AwsState, Target,
};
use axum::http::HeaderMap;
use dispatcher_api::scheduler::{EventBridgeScheduler, ImmediateRun, ScheduleState, SchedulerControl};
use testkit::moto::{sdk_config, MotoServer};

const NAME: &str = "message-dispatcher";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:message-dispatcher-dispatch";

fn scheduler_client(endpoint: &str) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&sdk_config(endpoint, "us-east-1"))
}

/// A stand-in for Lambda's Invoke API on 127.0.0.1 that records each invocation's headers.
async fn lambda_stub() -> (aws_sdk_lambda::Client, Arc<Mutex<Vec<HeaderMap>>>) {
    let calls: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        axum::routing::post(move |headers: HeaderMap| async move {
            seen.lock().unwrap().push(headers);
            axum::http::StatusCode::ACCEPTED
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (aws_sdk_lambda::Client::new(&sdk_config(&endpoint, "us-east-1")), calls)
}

async fn create_schedule(client: &aws_sdk_scheduler::Client) {
    client
        .create_schedule()
        .name(NAME)
        .schedule_expression("rate(2 minutes)")
        .schedule_expression_timezone("Europe/Istanbul")
        .description("Sends pending messages every two minutes")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Flexible)
                .maximum_window_in_minutes(1)
                .build()
                .unwrap(),
        )
        .target(
            Target::builder()
                .arn(FUNCTION_ARN)
                .role_arn("arn:aws:iam::123456789012:role/message-dispatcher-scheduler")
                .input(r#"{"source":"aws.scheduler"}"#)
                .retry_policy(
                    RetryPolicy::builder()
                        .maximum_retry_attempts(2)
                        .maximum_event_age_in_seconds(300)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .state(AwsState::Enabled)
        .send()
        .await
        .unwrap();
}

async fn read(client: &aws_sdk_scheduler::Client) -> GetScheduleOutput {
    client.get_schedule().name(NAME).send().await.unwrap()
}

/// Everything but the state and the modification time.
fn kept_fields(s: &GetScheduleOutput) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        s.schedule_expression,
        s.schedule_expression_timezone,
        s.description,
        s.flexible_time_window,
        s.target,
        s.group_name,
        s.start_date,
        s.end_date
    )
}

#[tokio::test]
async fn stop_and_start_change_only_the_state_and_status_reports_it() {
    let moto = MotoServer::start();
    let client = scheduler_client(&moto.endpoint);
    create_schedule(&client).await;
    let before = read(&client).await;
    let (lambda, invocations) = lambda_stub().await;
    let immediate = ImmediateRun { lambda, function_name: FUNCTION_ARN.into() };
    let backend = EventBridgeScheduler::new(client.clone(), NAME, None, Some(immediate));

    let status = backend.status().await.unwrap();
    assert_eq!(status.state, ScheduleState::Running);
    assert_eq!(status.expression.as_deref(), Some("rate(2 minutes)"));

    for _ in 0..2 {
        assert_eq!(backend.stop().await.unwrap().state, ScheduleState::Stopped);
        let stopped = read(&client).await;
        assert_eq!(stopped.state, Some(AwsState::Disabled));
        assert_eq!(kept_fields(&stopped), kept_fields(&before), "stop kept every other field");
    }
    assert_eq!(backend.status().await.unwrap().state, ScheduleState::Stopped);
    assert!(invocations.lock().unwrap().is_empty());

    assert_eq!(backend.start().await.unwrap().state, ScheduleState::Running);
    let started = read(&client).await;
    assert_eq!(started.state, Some(AwsState::Enabled));
    assert_eq!(kept_fields(&started), kept_fields(&before), "start kept every other field");
    assert_eq!(backend.status().await.unwrap().state, ScheduleState::Running);

    let invocations = invocations.lock().unwrap();
    assert_eq!(invocations.len(), 1, "start asked for one run at once");
    assert_eq!(invocations[0]["x-amz-invocation-type"], "Event");
}

#[tokio::test]
async fn a_missing_schedule_is_a_clear_error() {
    let moto = MotoServer::start();
    let backend = EventBridgeScheduler::new(scheduler_client(&moto.endpoint), "no-such-schedule", None, None);
    let err = backend.status().await.unwrap_err().to_string();
    assert!(err.contains("GetSchedule no-such-schedule"), "{err}");
}
