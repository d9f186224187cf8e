//! DATABASE_SECRET_ARN: the database URL read from Secrets Manager (moto's server on
//! 127.0.0.1 standing in for AWS) once per process, then a real PostgreSQL connection with it.
//! Its own test binary: it sets the process's AWS environment, as Lambda would.

#![allow(clippy::unwrap_used)]

use dispatcher_core::{db, Config};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use testkit::database::url_of;
use testkit::moto::{sdk_config, MotoServer};

#[sqlx::test(migrator = "dispatcher_core::db::MIGRATOR")]
async fn the_url_comes_from_the_secret_once_per_process_and_connects(pool: PgPool) {
    let moto = MotoServer::start();
    // What Lambda's environment gives every function, pointed at moto.
    for (var, value) in [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ] {
        std::env::set_var(var, value);
    }
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config(&moto.endpoint, "eu-west-1"));
    let created = secrets
        .create_secret()
        .name("message-dispatcher/database")
        .secret_string(url_of(&pool))
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_owned();

    // A secret that does not exist: one line naming the ARN, nothing cached.
    let missing = arn.replace("message-dispatcher/database", "message-dispatcher/nothing-here");
    let config = Config::from_pairs(&[("DATABASE_SECRET_ARN", &missing)]).unwrap();
    let err = db::connect(&config.database, 1).await.unwrap_err();
    let line = format!("{err:#}");
    assert_eq!(
        line,
        format!(
            "cannot read the database secret {missing}: ResourceNotFoundException: Secrets Manager can't find the specified secret."
        )
    );

    let config = Config::from_pairs(&[("DATABASE_SECRET_ARN", &arn)]).unwrap();
    let from_secret = db::connect(&config.database, 1).await.unwrap();
    let database: String =
        sqlx::query_scalar("SELECT current_database()").fetch_one(&from_secret).await.unwrap();
    assert_eq!(database, url_of(&pool).rsplit_once('/').unwrap().1, "the secret's database");
    assert!(config.database.url.is_none(), "connecting leaves the settings as they were");

    // Read once per process: with Secrets Manager gone, the next connection still has its URL.
    drop(moto);
    db::connect(&config.database, 1).await.unwrap();

    // DATABASE_URL, when set, wins (local runs).
    let local =
        Config::from_pairs(&[("DATABASE_SECRET_ARN", &arn), ("DATABASE_URL", "postgres://x@127.0.0.1:1/y")]);
    assert_eq!(local.unwrap().database.url.unwrap().expose_secret(), "postgres://x@127.0.0.1:1/y");
}
