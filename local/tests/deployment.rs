//! The SAM template passes cfn-lint (PyPI), and declares what the deployment promises.
//!
//! The template is read through cfn-lint's own YAML decoder (local/tests/template_json.py), so
//! the checks below look at its structure (`!Ref X` is `{"Ref": "X"}`), not at its spelling.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn template_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn template() -> PathBuf {
    template_dir().join("template.yaml")
}

/// The Python cfn-lint runs on (the venv scripts/test puts on PATH), else `python3`.
fn python() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("cfn-lint").is_file())
        .map(|dir| dir.join("python3"))
        .filter(|python| python.is_file())
        .unwrap_or_else(|| "python3".into())
}

/// template.yaml as cfn-lint decodes it.
fn parsed() -> Value {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/template_json.py");
    let output = Command::new(python())
        .arg(helper)
        .arg(template())
        .output()
        .expect("cannot run python3: run the tests with scripts/test, which installs cfn-lint");
    assert!(
        output.status.success(),
        "cannot decode template.yaml with cfn-lint's decoder:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Does `pattern` (a parameter's AllowedPattern) match the whole of `value`, as CloudFormation checks it?
fn fully_matches(pattern: &str, value: &str) -> bool {
    Command::new(python())
        .args(["-c", "import re, sys; sys.exit(0 if re.fullmatch(sys.argv[1], sys.argv[2]) else 1)"])
        .args([pattern, value])
        .status()
        .unwrap()
        .success()
}

fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> BTreeMap<&'a str, &'a Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str(), resource))
        .collect()
}

fn functions(template: &Value) -> BTreeMap<&str, &Value> {
    let functions = resources_of_type(template, "AWS::Serverless::Function");
    assert_eq!(
        functions.keys().copied().collect::<Vec<_>>(),
        ["ApiFunction", "DispatchFunction", "MigrateFunction"]
    );
    functions
}

/// Every statement of a function's inline policies.
fn statements(function: &Value) -> Vec<&Value> {
    function["Properties"]["Policies"]
        .as_array()
        .map(|policies| policies.iter().flat_map(|policy| policy["Statement"].as_array().unwrap()).collect())
        .unwrap_or_default()
}

/// The few intrinsic functions the template's conditional values use, evaluated for `values`
/// (parameters not given take their Default).
fn evaluate(template: &Value, value: &Value, values: &BTreeMap<&str, &str>) -> Value {
    let parameter = |name: &str| -> String {
        values.get(name).map(|v| (*v).to_owned()).unwrap_or_else(|| {
            match &template["Parameters"][name]["Default"] {
                Value::String(text) => text.clone(),
                Value::Null => panic!("no value for the parameter {name}"),
                other => other.to_string(),
            }
        })
    };
    let Some(object) = value.as_object() else { return value.clone() };
    if object.len() != 1 {
        return value.clone();
    }
    let (function, argument) = object.iter().next().unwrap();
    let evaluated = |v: &Value| evaluate(template, v, values);
    match function.as_str() {
        "Ref" => Value::String(parameter(argument.as_str().unwrap())),
        "Fn::Equals" => Value::Bool(evaluated(&argument[0]) == evaluated(&argument[1])),
        "Fn::Not" => Value::Bool(evaluated(&argument[0]) == Value::Bool(false)),
        "Fn::If" => {
            let condition = &template["Conditions"][argument[0].as_str().unwrap()];
            if evaluated(condition) == Value::Bool(true) {
                evaluated(&argument[1])
            } else {
                evaluated(&argument[2])
            }
        }
        "Fn::Sub" => {
            let mut text = argument.as_str().unwrap().to_owned();
            while let Some(start) = text.find("${") {
                let end = start + text[start..].find('}').unwrap();
                text.replace_range(start..=end, &parameter(&text[start + 2..end]));
            }
            Value::String(text)
        }
        _ => value.clone(),
    }
}

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    let output = Command::new("cfn-lint")
        .arg(template())
        .output()
        .expect("cannot run cfn-lint: run the tests with scripts/test, which installs it");
    assert!(
        output.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_template_builds_three_rust_functions_for_the_chosen_architecture_and_an_enabled_schedule() {
    let template = parsed();
    for (name, function) in functions(&template) {
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = name.trim_end_matches("Function").to_lowercase();
        assert_eq!(function["Metadata"]["BuildProperties"]["Binary"], binary.as_str(), "{name}");
        assert!(function["Properties"].get("Architectures").is_none(), "{name} overrides the Architecture");
    }
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], json!([reference("Architecture")]));
    let architecture = &template["Parameters"]["Architecture"];
    assert_eq!(architecture["AllowedValues"], json!(["arm64", "x86_64"]));
    assert_eq!(architecture["Default"], "arm64");

    let schedules = resources_of_type(&template, "AWS::Scheduler::Schedule");
    let schedule = &schedules["DispatchSchedule"]["Properties"];
    assert_eq!(schedule["State"], "ENABLED");
    assert_eq!(schedule["Target"]["Arn"], json!({"Fn::GetAtt": ["DispatchFunction", "Arn"]}));
    assert_eq!(resources_of_type(&template, "Custom::Migrations").len(), 1);
    for secret in ["WebhookAuthKey", "WebhookSigningSecret", "ApiAuthToken", "RedisUrl"] {
        assert_eq!(template["Parameters"][secret]["NoEcho"], true, "{secret}");
    }
}

#[test]
fn the_schedule_expression_is_valid_for_every_interval() {
    let template = parsed();
    let expression = &template["Resources"]["DispatchSchedule"]["Properties"]["ScheduleExpression"];
    let interval = &template["Parameters"]["IntervalMinutes"];
    assert_eq!((interval["MinValue"].as_u64(), interval["MaxValue"].as_u64()), (Some(1), Some(1440)));
    for (minutes, rendered) in [
        ("1", "rate(1 minute)"),
        ("2", "rate(2 minutes)"),
        ("15", "rate(15 minutes)"),
        ("1440", "rate(1440 minutes)"),
    ] {
        let values = BTreeMap::from([("IntervalMinutes", minutes)]);
        assert_eq!(evaluate(&template, expression, &values), rendered, "IntervalMinutes={minutes}");
    }
    // The default interval, as deployed without overrides.
    assert_eq!(evaluate(&template, expression, &BTreeMap::new()), "rate(2 minutes)");
}

#[test]
fn the_functions_read_the_database_secret_at_run_time_and_may_read_no_other() {
    let text = std::fs::read_to_string(template()).unwrap();
    assert!(
        !text.contains("{{resolve:secretsmanager"),
        "the secret must not be resolved into the environment"
    );
    let template = parsed();
    assert!(template["Parameters"].get("DatabaseUrlSecret").is_none());

    let secret = &template["Parameters"]["DatabaseSecretArn"];
    assert_eq!(secret["Type"], "String");
    assert!(secret.get("Default").is_none(), "the secret has no default");
    let pattern = secret["AllowedPattern"].as_str().unwrap();
    assert!(pattern.starts_with("^arn:"), "{pattern}");
    for arn in [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:message-dispatcher/database-AbC123",
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:db-url-x1Y2z3",
    ] {
        assert!(fully_matches(pattern, arn), "{arn} is a secret's full ARN");
    }
    for not_an_arn in [
        "message-dispatcher/database-url",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:message-dispatcher/database",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/db-AbC123",
    ] {
        assert!(!fully_matches(pattern, not_an_arn), "{not_an_arn} is not a secret's full ARN");
    }
    // samconfig.toml's placeholder must be replaced before a deploy goes anywhere.
    let samconfig = std::fs::read_to_string(template_dir().join("samconfig.toml")).unwrap();
    let placeholder = samconfig.split("DatabaseSecretArn=\\\"").nth(1).unwrap().split("\\\"").next().unwrap();
    assert!(placeholder.starts_with("arn:") && !fully_matches(pattern, placeholder), "{placeholder}");

    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(variables["DATABASE_SECRET_ARN"], reference("DatabaseSecretArn"));
    assert!(variables.get("DATABASE_URL").is_none(), "no database URL in the environment");
    assert_eq!(variables["DATABASE_STATEMENT_CACHE_CAPACITY"], reference("StatementCacheCapacity"));
    let cache = &template["Parameters"]["StatementCacheCapacity"];
    assert_eq!(cache["Type"], "Number");
    assert_eq!(
        (cache["Default"].as_u64(), cache["MinValue"].as_u64(), cache["MaxValue"].as_u64()),
        (Some(100), Some(0), Some(10000))
    );

    for (name, function) in functions(&template) {
        let own = &function["Properties"]["Environment"]["Variables"];
        for variable in ["DATABASE_URL", "DATABASE_SECRET_ARN", "DATABASE_STATEMENT_CACHE_CAPACITY"] {
            assert!(own.get(variable).is_none(), "{name} overrides {variable}");
        }
        let reads = json!({
            "Sid": "ReadTheDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": reference("DatabaseSecretArn"),
        });
        let statements = statements(function);
        assert!(statements.contains(&&reads), "{name} cannot read the secret: {statements:?}");
        for statement in statements {
            let secrets = statement.to_string().contains("secretsmanager");
            assert!(!secrets || *statement == reads, "{name} gets more than the one secret: {statement}");
        }
    }
}

#[test]
fn the_signing_secret_is_optional_checked_at_deploy_and_given_to_the_dispatch_function_alone() {
    let template = parsed();
    let parameter = &template["Parameters"]["WebhookSigningSecret"];
    assert_eq!((parameter["NoEcho"].as_bool(), parameter["Default"].as_str()), (Some(true), Some("")));
    let pattern = parameter["AllowedPattern"].as_str().unwrap();
    let one = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let two = format!("{one} whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    for good in ["", one, two.as_str()] {
        assert!(fully_matches(pattern, good), "{good:?} is allowed");
    }
    for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_abc def", "whsec_a!b"] {
        assert!(!fully_matches(pattern, bad), "{bad:?} is refused");
    }
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(globals.get("WEBHOOK_SIGNING_SECRET").is_none(), "not every function needs it");
    for (name, function) in functions(&template) {
        let own = function["Properties"]["Environment"]["Variables"].get("WEBHOOK_SIGNING_SECRET");
        let expected = (name == "DispatchFunction").then(|| reference("WebhookSigningSecret"));
        assert_eq!(own, expected.as_ref(), "{name}");
    }
}

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
    let document = shared::http::ApiDoc::openapi();
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

/// `(webhook timeout, function timeout, lease)` for each row of the DispatchTimeouts mapping.
fn dispatch_timeouts(text: &str) -> Vec<(u64, u64, u64)> {
    let section = text.split("  DispatchTimeouts:\n").nth(1).unwrap();
    let number = |s: &str, key: &str| -> u64 {
        let rest = s.split(key).nth(1).unwrap().trim_start_matches(": ");
        rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
    };
    section
        .lines()
        .take_while(|line| line.starts_with("    \""))
        .map(|line| {
            let webhook = line.trim().trim_start_matches('"').split('"').next().unwrap().parse().unwrap();
            (webhook, number(line, "FunctionSeconds"), number(line, "LeaseSeconds"))
        })
        .collect()
}

#[test]
fn every_allowed_webhook_timeout_fits_in_the_dispatch_functions_timeout_and_lease() {
    let text = std::fs::read_to_string(template()).unwrap();
    let rows = dispatch_timeouts(&text);
    let allowed: Vec<u64> = rows.iter().map(|row| row.0).collect();
    assert_eq!(allowed, [5, 10, 15, 20, 30, 60]);
    assert!(
        text.contains("AllowedValues: [5, 10, 15, 20, 30, 60]"),
        "the parameter allows exactly the mapped values"
    );
    for (webhook, function, lease) in rows {
        let config = shared::Config::from_pairs(&[
            ("WEBHOOK_TIMEOUT_SECONDS", &webhook.to_string()),
            ("MESSAGE_LEASE_SECONDS", &lease.to_string()),
        ]);
        assert!(config.is_ok(), "the functions refuse the lease {lease} for a {webhook} s timeout");
        // What the dispatch function has when invoked, less the runtime's second.
        let budget = std::time::Duration::from_secs(function) - shared::deadline::DEADLINE_MARGIN;
        let needed = shared::deadline::room_for_one_send(std::time::Duration::from_secs(webhook));
        assert!(budget > needed * 2, "a {function} s function leaves too little for {webhook} s requests");
    }
    assert!(
        text.contains("Timeout: !FindInMap [DispatchTimeouts, !Ref WebhookTimeoutSeconds, FunctionSeconds]")
    );
    assert!(text.contains(
        "MESSAGE_LEASE_SECONDS: !FindInMap [DispatchTimeouts, !Ref WebhookTimeoutSeconds, LeaseSeconds]"
    ));
}

#[test]
fn retention_is_a_parameter_the_functions_accept_across_its_whole_range() {
    let template = parsed();
    let parameter = &template["Parameters"]["RetentionDays"];
    assert_eq!((parameter["Default"].as_u64(), parameter["MinValue"].as_u64()), (Some(0), Some(0)));
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(variables["MESSAGE_RETENTION_DAYS"], reference("RetentionDays"));
    for days in [parameter["MinValue"].as_u64().unwrap(), 30, parameter["MaxValue"].as_u64().unwrap()] {
        let config = shared::Config::from_pairs(&[("MESSAGE_RETENTION_DAYS", &days.to_string())]);
        assert_eq!(config.unwrap().retention_days, u32::try_from(days).unwrap(), "{days}");
    }
}
