use secrecy::ExposeSecret;

use super::*;

#[test]
fn defaults_match_the_design() {
    let config = Config::from_pairs(&[]).unwrap();
    assert!(config.database.url.is_none());
    assert!(config.redis_url.is_none());
    assert_eq!(config.dispatch.batch_size, 2);
    assert_eq!(config.scheduler.interval_minutes, 2);
    assert_eq!(config.scheduler.interval(), Duration::from_secs(120));
    assert_eq!(config.messages.char_limit, 160);
    assert_eq!(config.dispatch.worker_count, 5);
    assert_eq!(config.messages.max_attempts, 3);
    assert_eq!(config.dispatch.lease, Duration::from_secs(60));
    assert_eq!(config.dispatch.retry.base, Duration::from_secs(30));
    assert_eq!(config.dispatch.retry.max, Duration::from_secs(1800));
    assert_eq!(config.webhook.timeout, Duration::from_secs(10));
    assert_eq!(config.webhook.rate_limit_per_second, 10);
    assert_eq!((config.dispatch.breaker.window, config.dispatch.breaker.failure_rate), (20, 95));
    assert_eq!(config.database.statement_cache_capacity, 100);
    assert!(config.database.secret_arn.is_none());
    assert_eq!(config.dispatch.breaker.cooldown, Duration::from_secs(30));
    assert_eq!(config.dispatch.breaker.max_cooldown, Duration::from_secs(600));
    assert!(config.webhook.url.is_none() && config.api.auth_token.is_none());
}

#[test]
fn interval_seconds_overrides_minutes() {
    let config = Config::from_pairs(&[("MESSAGE_INTERVAL_SECONDS", "5")]).unwrap();
    assert_eq!(config.scheduler.interval(), Duration::from_secs(5));
}

#[test]
fn db_parts_build_a_url_when_database_url_is_unset() {
    let config = Config::from_pairs(&[
        ("DB_HOST", "db.internal"),
        ("DB_PORT", "6543"),
        ("DB_USER", "app"),
        ("DB_PASSWORD", "p@ss/word"),
        ("DB_NAME", "messages"),
    ])
    .unwrap();
    let url = config.database.url.unwrap();
    assert_eq!(url.expose_secret(), "postgres://app:p%40ss%2Fword@db.internal:6543/messages");
}

#[test]
fn database_url_wins_over_parts() {
    let config = Config::from_pairs(&[("DATABASE_URL", "postgres://a@h/d"), ("DB_HOST", "other")]).unwrap();
    assert_eq!(config.database.url.unwrap().expose_secret(), "postgres://a@h/d");
}

#[test]
fn redis_host_and_port_build_a_url() {
    let config = Config::from_pairs(&[("REDIS_HOST", "cache"), ("REDIS_PORT", "6380")]).unwrap();
    assert_eq!(config.redis_url.unwrap().expose_secret(), "redis://cache:6380");
}

#[test]
fn bad_values_name_the_variable_and_what_it_expects() {
    let cases = [
        (
            "MESSAGE_BATCH_SIZE",
            "abc",
            "invalid MESSAGE_BATCH_SIZE=\"abc\": expected an integer from 1 to 10000",
        ),
        ("MESSAGE_BATCH_SIZE", "0", "invalid MESSAGE_BATCH_SIZE=\"0\": expected an integer from 1 to 10000"),
        (
            "MESSAGE_CHAR_LIMIT",
            "5000",
            "invalid MESSAGE_CHAR_LIMIT=\"5000\": expected an integer from 1 to 1600",
        ),
        (
            "WEBHOOK_URL",
            "ftp://x",
            "invalid WEBHOOK_URL=\"ftp://x\": expected a URL starting with http://, https://",
        ),
        (
            "WEBHOOK_URL",
            "not a url",
            "invalid WEBHOOK_URL=\"not a url\": expected a URL starting with http://, https://",
        ),
        (
            "MESSAGE_WORKER_COUNT",
            "1.5",
            "invalid MESSAGE_WORKER_COUNT=\"1.5\": expected an integer from 1 to 1000",
        ),
    ];
    for (var, value, line) in cases {
        let err = Config::from_pairs(&[(var, value)]).unwrap_err();
        assert_eq!(err.var, var);
        assert_eq!(err.to_string(), line);
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn secret_values_are_never_echoed_in_errors() {
    let err = Config::from_pairs(&[("DATABASE_URL", "mysql://root:hunter2@db/x")]).unwrap_err();
    assert_eq!(err.var, "DATABASE_URL");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn retry_cap_below_base_is_rejected() {
    let err =
        Config::from_pairs(&[("MESSAGE_RETRY_BASE_SECONDS", "60"), ("MESSAGE_RETRY_MAX_SECONDS", "10")])
            .unwrap_err();
    assert_eq!(err.var, "MESSAGE_RETRY_MAX_SECONDS");
}

#[test]
fn empty_values_count_as_unset() {
    let config = Config::from_pairs(&[("MESSAGE_BATCH_SIZE", ""), ("WEBHOOK_URL", " ")]).unwrap();
    assert_eq!(config.dispatch.batch_size, 2);
    assert!(config.webhook.url.is_none());
}

#[tokio::test]
async fn missing_database_url_says_how_to_set_it() {
    let config = Config::from_pairs(&[]).unwrap();
    let line = crate::db::connect(&config.database, 1).await.unwrap_err().to_string();
    assert!(line.contains("DATABASE_URL") && line.contains("DB_HOST"), "{line}");
}

#[test]
fn secrets_are_redacted_for_logs_and_debug() {
    let config = Config::from_pairs(&[
        ("DATABASE_URL", "postgres://app:hunter2@db/x"),
        ("WEBHOOK_AUTH_KEY", "key-123"),
        ("API_AUTH_TOKEN", "tok-456"),
    ])
    .unwrap();
    let debug = format!("{config:?}");
    for secret in ["hunter2", "key-123", "tok-456"] {
        assert!(!debug.contains(secret), "{secret} leaked in {debug}");
    }
    assert_eq!(redact_url(config.database.url.as_ref().unwrap()), "postgres://app:***@db/x");
}

#[test]
fn a_schedule_group_needs_a_schedule_name() {
    let err = Config::from_pairs(&[("SCHEDULE_GROUP", "dispatch")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid SCHEDULE_GROUP=\"dispatch\": expected SCHEDULE_NAME to be set as well"
    );
    let ok = Config::from_pairs(&[("SCHEDULE_GROUP", "g"), ("SCHEDULE_NAME", "n")]).unwrap();
    assert_eq!(
        (ok.scheduler.schedule_name.as_deref(), ok.scheduler.schedule_group.as_deref()),
        (Some("n"), Some("g"))
    );
}

#[test]
fn a_lease_with_no_room_for_one_webhook_timeout_is_refused_naming_both_variables() {
    // The stall a new user met: every run claimed its batch and handed it straight back.
    let err = Config::from_pairs(&[("MESSAGE_LEASE_SECONDS", "5")]).unwrap_err();
    assert_eq!(err.var, "MESSAGE_LEASE_SECONDS");
    assert_eq!(
        err.to_string(),
        "invalid MESSAGE_LEASE_SECONDS=\"5\": expected at least 11: a claim must outlast one webhook \
         request (WEBHOOK_TIMEOUT_SECONDS=10) plus the time to record it"
    );
    let err = Config::from_pairs(&[("MESSAGE_LEASE_SECONDS", "30"), ("WEBHOOK_TIMEOUT_SECONDS", "30")])
        .unwrap_err();
    assert!(
        err.to_string().contains("at least 31") && err.to_string().contains("WEBHOOK_TIMEOUT_SECONDS=30")
    );
    let ok = Config::from_pairs(&[("MESSAGE_LEASE_SECONDS", "11")]).unwrap();
    assert_eq!(ok.dispatch.lease, Duration::from_secs(11));
}

#[test]
fn breaker_settings_are_read_and_checked() {
    let config = Config::from_pairs(&[
        ("RECEIVER_BREAKER_WINDOW", "30"),
        ("RECEIVER_BREAKER_FAILURE_RATE", "80"),
        ("RECEIVER_BREAKER_COOLDOWN_SECONDS", "10"),
        ("RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS", "60"),
    ])
    .unwrap();
    assert_eq!((config.dispatch.breaker.window, config.dispatch.breaker.failure_rate), (30, 80));
    assert_eq!(
        (config.dispatch.breaker.cooldown, config.dispatch.breaker.max_cooldown),
        (Duration::from_secs(10), Duration::from_secs(60))
    );
    let err = Config::from_pairs(&[("RECEIVER_BREAKER_WINDOW", "63")]).unwrap_err();
    assert_eq!(err.to_string(), "invalid RECEIVER_BREAKER_WINDOW=\"63\": expected an integer from 1 to 62");
    let err = Config::from_pairs(&[("RECEIVER_BREAKER_FAILURE_RATE", "0")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid RECEIVER_BREAKER_FAILURE_RATE=\"0\": expected an integer from 1 to 100"
    );
    // The count of failures in a row it replaced is refused, with what to set instead.
    let err = Config::from_pairs(&[("RECEIVER_BREAKER_FAILURES", "5")]).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid RECEIVER_BREAKER_FAILURES=\"5\": expected it unset")
            && err.contains("RECEIVER_BREAKER_WINDOW and RECEIVER_BREAKER_FAILURE_RATE"),
        "{err}"
    );
    let err = Config::from_pairs(&[
        ("RECEIVER_BREAKER_COOLDOWN_SECONDS", "60"),
        ("RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS", "30"),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid RECEIVER_BREAKER_MAX_COOLDOWN_SECONDS=\"30\": expected a value no smaller than RECEIVER_BREAKER_COOLDOWN_SECONDS"
    );
}

#[test]
fn a_database_secret_arn_defers_the_url_to_run_time_and_database_url_still_wins() {
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dispatcher/db-AbCdEf";
    let config = Config::from_pairs(&[("DATABASE_SECRET_ARN", arn), ("DB_HOST", "db.internal")]).unwrap();
    assert_eq!(config.database.secret_arn.as_deref(), Some(arn));
    assert!(config.database.url.is_none(), "read from the secret, not built from DB_HOST");
    assert_eq!(config.database.location.host.as_deref(), Some("db.internal"));
    let local =
        Config::from_pairs(&[("DATABASE_SECRET_ARN", arn), ("DATABASE_URL", "postgres://a@h/d")]).unwrap();
    assert_eq!(local.database.url.unwrap().expose_secret(), "postgres://a@h/d");
    let err = Config::from_pairs(&[("DATABASE_SECRET_ARN", "dispatcher/db")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid DATABASE_SECRET_ARN=\"dispatcher/db\": expected a Secrets Manager secret ARN \
         (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"
    );
}

#[test]
fn the_statement_cache_can_be_turned_off_for_poolers() {
    let config = Config::from_pairs(&[("DATABASE_STATEMENT_CACHE_CAPACITY", "0")]).unwrap();
    assert_eq!(config.database.statement_cache_capacity, 0);
    assert!(Config::from_pairs(&[("DATABASE_STATEMENT_CACHE_CAPACITY", "-1")]).is_err());
}

#[test]
fn a_signing_secret_is_keyed_once_and_a_bad_one_is_refused_without_its_value() {
    let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let config = Config::from_pairs(&[("WEBHOOK_SIGNING_SECRET", good)]).unwrap();
    assert!(config.webhook.signer.is_some());
    assert!(!format!("{config:?}").contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert!(Config::from_pairs(&[]).unwrap().webhook.signer.is_none());

    let bad = format!("{good} whsec_c2hvcnQ=");
    let err = Config::from_pairs(&[("WEBHOOK_SIGNING_SECRET", bad.as_str())]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid WEBHOOK_SIGNING_SECRET: expected space-separated whsec_<base64> secrets of 24 to 64 \
         bytes; secret 2 to decode to 24 to 64 bytes, not 5"
    );
}
