//! Who may read which secret: the database secret at run time, the signing secret given to
//! the dispatch function alone.

use super::*;

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
