//! What an operator relies on once deployed: retries and a dead-letter queue, alarms, JSON
//! logs with a retention, a throttled HTTP API that routes every documented operation.

use super::*;

#[test]
fn failed_dispatch_invocations_are_retried_once_then_kept_in_a_dead_letter_queue() {
    let template = parsed();
    let dispatch = &template["Resources"]["DispatchFunction"]["Properties"];
    assert_eq!(dispatch["ReservedConcurrentExecutions"], reference("DispatchReservedConcurrency"));
    let reserved = &template["Parameters"]["DispatchReservedConcurrency"];
    assert_eq!((reserved["Default"].as_u64(), reserved["MinValue"].as_u64()), (Some(2), Some(1)));

    let invoke = &dispatch["EventInvokeConfig"];
    assert_eq!(invoke["MaximumRetryAttempts"], 1);
    // The least AWS allows, and the shortest interval: a stale run is never worth starting.
    assert_eq!(invoke["MaximumEventAgeInSeconds"], 60);
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"],
        json!({"Type": "SQS", "Destination": {"Fn::GetAtt": ["DispatchDeadLetterQueue", "Arn"]}})
    );
    let queue = &template["Resources"]["DispatchDeadLetterQueue"];
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    assert_eq!(queue["Properties"]["MessageRetentionPeriod"], 14 * 24 * 3600);
    assert_eq!(template["Outputs"]["DeadLetterQueueUrl"]["Value"], reference("DispatchDeadLetterQueue"));
}

#[test]
fn alarms_watch_errors_failures_the_backlog_the_dead_letter_queue_and_the_breaker() {
    let template = parsed();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    let topic = json!([reference("AlarmTopic")]);
    let mut watched = BTreeMap::new();
    for (name, alarm) in &alarms {
        let alarm = &alarm["Properties"];
        assert_eq!(alarm["AlarmActions"], topic, "{name}");
        assert_eq!(alarm["OKActions"], topic, "{name}");
        assert_eq!(alarm["Period"], 300, "{name}");
        let metric =
            format!("{}/{}", alarm["Namespace"].as_str().unwrap(), alarm["MetricName"].as_str().unwrap());
        if metric.starts_with("MessageDispatcher/") {
            // What the dispatch function's Embedded Metric Format record carries.
            assert_eq!(
                alarm["Dimensions"],
                json!([{"Name": "FunctionName", "Value": reference("DispatchFunction")}]),
                "{name}"
            );
            assert_eq!(alarm["TreatMissingData"], "notBreaching", "{name}: no run is no alarm");
        }
        let rule = (
            alarm["Statistic"].as_str().unwrap().to_owned(),
            alarm["ComparisonOperator"].as_str().unwrap().to_owned(),
            alarm["Threshold"].clone(),
            alarm["EvaluationPeriods"].as_u64().unwrap(),
        );
        assert!(watched.insert(metric, rule).is_none(), "two alarms on one metric");
    }
    let rule = |statistic: &str, operator: &str, threshold: Value, periods: u64| {
        (statistic.to_owned(), operator.to_owned(), threshold, periods)
    };
    let expected = BTreeMap::from([
        ("AWS/Lambda/Errors".to_owned(), rule("Sum", "GreaterThanThreshold", json!(0), 1)),
        (
            "MessageDispatcher/Failed".to_owned(),
            rule("Sum", "GreaterThanThreshold", reference("FailedMessagesAlarmThreshold"), 1),
        ),
        (
            "MessageDispatcher/OldestPendingAgeSeconds".to_owned(),
            rule("Maximum", "GreaterThanThreshold", reference("OldestPendingAlarmSeconds"), 2),
        ),
        (
            "AWS/SQS/ApproximateNumberOfMessagesVisible".to_owned(),
            rule("Maximum", "GreaterThanThreshold", json!(0), 1),
        ),
        (
            "MessageDispatcher/BreakerOpen".to_owned(),
            rule("Maximum", "GreaterThanOrEqualToThreshold", json!(1), 3),
        ),
    ]);
    assert_eq!(watched, expected);

    let errors = alarms.values().find(|alarm| alarm["Properties"]["Namespace"] == "AWS/Lambda").unwrap();
    assert_eq!(
        errors["Properties"]["Dimensions"],
        json!([{"Name": "FunctionName", "Value": reference("DispatchFunction")}])
    );
    let dead_letters = alarms.values().find(|alarm| alarm["Properties"]["Namespace"] == "AWS/SQS").unwrap();
    assert_eq!(
        dead_letters["Properties"]["Dimensions"],
        json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DispatchDeadLetterQueue", "QueueName"]}}])
    );
    let parameters = &template["Parameters"];
    assert_eq!(parameters["FailedMessagesAlarmThreshold"]["Default"], 0);
    assert_eq!(parameters["OldestPendingAlarmSeconds"]["Default"], 900);

    // The topic, and an email subscription only when AlarmEmail is set.
    assert_eq!(template["Resources"]["AlarmTopic"]["Type"], "AWS::SNS::Topic");
    assert_eq!(template["Outputs"]["AlarmTopicArn"]["Value"], reference("AlarmTopic"));
    assert_eq!(parameters["AlarmEmail"]["Default"], "");
    let subscriptions = resources_of_type(&template, "AWS::SNS::Subscription");
    let [subscription] = &subscriptions.values().collect::<Vec<_>>()[..] else { panic!("{subscriptions:?}") };
    assert_eq!(subscription["Properties"]["Protocol"], "email");
    assert_eq!(subscription["Properties"]["Endpoint"], reference("AlarmEmail"));
    let condition = &template["Conditions"][subscription["Condition"].as_str().unwrap()];
    for (email, subscribed) in [("", false), ("ops@example.com", true)] {
        let values = BTreeMap::from([("AlarmEmail", email)]);
        assert_eq!(evaluate(&template, condition, &values), subscribed, "AlarmEmail={email:?}");
    }
}

#[test]
fn every_function_logs_json_to_its_own_group_with_a_retention() {
    let template = parsed();
    let retention = &template["Parameters"]["LogRetentionDays"];
    assert_eq!(retention["Default"], 30);
    // Exactly the values CloudWatch Logs accepts.
    assert_eq!(
        retention["AllowedValues"],
        json!([
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
            3288, 3653
        ])
    );
    assert_eq!(template["Globals"]["Function"]["LoggingConfig"]["LogFormat"], "JSON");
    let mut groups = Vec::new();
    for (name, function) in functions(&template) {
        let logging = &function["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{name}");
        let group = logging["LogGroup"]["Ref"].as_str().unwrap_or_else(|| panic!("{name} has no log group"));
        let resource = &template["Resources"][group];
        assert_eq!(resource["Type"], "AWS::Logs::LogGroup", "{name}");
        assert_eq!(resource["Properties"]["RetentionInDays"], reference("LogRetentionDays"), "{name}");
        groups.push(group);
    }
    groups.sort_unstable();
    groups.dedup();
    assert_eq!(groups.len(), 3, "one group per function");
}

#[test]
fn the_http_api_is_throttled_by_default() {
    let template = parsed();
    let api = &template["Resources"]["HttpApi"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    let settings = &api["Properties"]["DefaultRouteSettings"];
    assert_eq!(settings["ThrottlingBurstLimit"], reference("ApiThrottlingBurstLimit"));
    assert_eq!(settings["ThrottlingRateLimit"], reference("ApiThrottlingRateLimit"));
    assert_eq!(template["Parameters"]["ApiThrottlingBurstLimit"]["Default"], 100);
    assert_eq!(template["Parameters"]["ApiThrottlingRateLimit"]["Default"], 50);
}

#[test]
fn the_http_api_routes_every_documented_operation_to_the_api_function() {
    use utoipa::OpenApi;
    let template = parsed();
    let mut routed: Vec<(String, String)> = Vec::new();
    for (name, event) in template["Resources"]["ApiFunction"]["Properties"]["Events"].as_object().unwrap() {
        let properties = &event["Properties"];
        assert_eq!(event["Type"], "HttpApi", "{name}");
        assert_eq!(properties["ApiId"], reference("HttpApi"), "{name}");
        routed.push((
            properties["Method"].as_str().unwrap().into(),
            properties["Path"].as_str().unwrap().into(),
        ));
    }
    let document = dispatcher_api::ApiDoc::openapi();
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in
            [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("DELETE", &item.delete)]
        {
            if operation.is_some() {
                routes.push((method.into(), path.clone()));
            }
        }
    }
    assert!(routes.contains(&("GET".into(), "/dashboard".into())), "{routes:?}");
    for route in routes {
        assert!(routed.contains(&route), "template.yaml does not route {} {}", route.0, route.1);
    }
}
