//! What the template builds and how the dispatch function is timed: three Rust functions for
//! the chosen architecture, a valid schedule, timeouts that fit, retention's range.

use super::*;

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    run_on_template(Command::new("cfn-lint"), "cfn-lint");
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
        let config = dispatcher_core::Config::from_pairs(&[
            ("WEBHOOK_TIMEOUT_SECONDS", &webhook.to_string()),
            ("MESSAGE_LEASE_SECONDS", &lease.to_string()),
        ]);
        assert!(config.is_ok(), "the functions refuse the lease {lease} for a {webhook} s timeout");
        // What the dispatch function has when invoked, less the runtime's second.
        let budget = std::time::Duration::from_secs(function) - dispatcher_core::deadline::DEADLINE_MARGIN;
        let needed = dispatcher_core::deadline::room_for_one_send(std::time::Duration::from_secs(webhook));
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
        let config = dispatcher_core::Config::from_pairs(&[("MESSAGE_RETENTION_DAYS", &days.to_string())]);
        assert_eq!(config.unwrap().dispatch.retention_days, u32::try_from(days).unwrap(), "{days}");
    }
}
