//! DATABASE_SECRET_ARN: the database URL read from Secrets Manager at run time, once per
//! process (a Lambda cold start), instead of resolved by CloudFormation into an environment
//! variable anyone with console access can read and no rotation can reach. DATABASE_URL, when
//! set, wins (local runs). The secret's value never reaches a log or an error.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::aws_http_client;
use crate::config::DatabaseLocation;

/// The URL as read, for every later caller in this process: the one place it is kept.
static DATABASE_URL: OnceCell<SecretString> = OnceCell::const_new();

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the database secret {arn}: {reason}")]
    Read { arn: String, reason: String },
    #[error("the database secret {arn} {problem}")]
    Unusable { arn: String, problem: String },
}

/// The database URL held by the secret `arn`, read on the first call in this process and kept
/// for the others (AWS credentials and region from the usual chain; `AWS_ENDPOINT_URL`
/// overrides the endpoint). A failed read is not kept: the next call tries again.
pub async fn read_once(arn: &str, location: &DatabaseLocation) -> Result<SecretString, SecretError> {
    // Boxed: the SDK's future is deep, and every caller's future would carry its whole type.
    let url = DATABASE_URL.get_or_try_init(|| Box::pin(read(arn, location))).await?;
    Ok(url.clone())
}

async fn read(arn: &str, location: &DatabaseLocation) -> Result<SecretString, SecretError> {
    let aws = aws_http_client::load_config()
        .await
        .map_err(|err| SecretError::Read { arn: arn.to_owned(), reason: err.to_string() })?;
    let client = aws_sdk_secretsmanager::Client::new(&aws);
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|err| SecretError::Read { arn: arn.to_owned(), reason: read_failure(&err) })?;
    let text = output.secret_string().ok_or_else(|| SecretError::Unusable {
        arn: arn.to_owned(),
        problem: "has no SecretString (a binary secret?)".into(),
    })?;
    let url = url_from_secret(text, location)
        .map_err(|problem| SecretError::Unusable { arn: arn.to_owned(), problem: problem.into() })?;
    tracing::info!(secret = arn, "database URL read from Secrets Manager");
    Ok(url)
}

/// Why the read failed, in one line: the service's error code and message (access denied, no
/// such secret), or the chain of causes when it could not be asked at all.
fn read_failure<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(service) = err.as_service_error() {
        return format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("no message")
        );
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The secret's text as a database URL: a `postgres://` URL as it is, or the JSON that RDS
/// writes (`username`, `password`, and `host`, `port`, `dbname` unless DB_HOST, DB_PORT and
/// DB_NAME say where). The problem, if any, never quotes the secret.
pub fn url_from_secret(text: &str, location: &DatabaseLocation) -> Result<SecretString, &'static str> {
    let text = text.trim();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return match Url::parse(text) {
            Ok(url) if url.has_host() => Ok(SecretString::from(text.to_owned())),
            _ => Err("holds a postgres:// URL that does not parse"),
        };
    }
    let json: Value = serde_json::from_str(text)
        .map_err(|_| "is neither a postgres:// URL nor JSON with username and password")?;
    let field = |name: &str| match json.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let username = field("username").ok_or("has no username")?;
    let password = field("password").ok_or("has no password")?;
    let host =
        field("host").or_else(|| location.host.clone()).ok_or("has no host (and DB_HOST is not set)")?;
    let port = match field("port") {
        Some(port) => port.parse::<u16>().map_err(|_| "has a port that is not a number from 1 to 65535")?,
        None => location.port,
    };
    let name = field("dbname").unwrap_or_else(|| location.name.clone());
    let mut url = Url::parse("postgres://localhost").map_err(|_| "cannot build a URL")?;
    url.set_host(Some(&host)).map_err(|_| "has a host that is not a host name")?;
    let _ = url.set_port(Some(port));
    let _ = url.set_username(&username);
    let _ = url.set_password(Some(&password));
    url.set_path(&name);
    Ok(SecretString::from(url.to_string()))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn location() -> DatabaseLocation {
        DatabaseLocation { host: Some("proxy.internal".into()), port: 6432, name: "dispatcher".into() }
    }

    #[test]
    fn a_url_secret_is_taken_as_it_is() {
        let url = url_from_secret(" postgres://app:p%40ss@db:5432/x\n", &location()).unwrap();
        assert_eq!(url.expose_secret(), "postgres://app:p%40ss@db:5432/x");
    }

    #[test]
    fn rds_json_becomes_a_url_with_its_parts_escaped() {
        let text = r#"{"engine":"postgres","username":"app","password":"p@ss/w:rd","host":"db.rds","port":5432,"dbname":"messages"}"#;
        let url = url_from_secret(text, &location()).unwrap();
        assert_eq!(url.expose_secret(), "postgres://app:p%40ss%2Fw%3Ard@db.rds:5432/messages");
    }

    #[test]
    fn credentials_only_json_points_where_db_host_says() {
        let url = url_from_secret(r#"{"username":"app","password":"pw"}"#, &location()).unwrap();
        assert_eq!(url.expose_secret(), "postgres://app:pw@proxy.internal:6432/dispatcher");
        let nowhere = DatabaseLocation { host: None, ..location() };
        assert_eq!(
            url_from_secret(r#"{"username":"app","password":"pw"}"#, &nowhere).unwrap_err(),
            "has no host (and DB_HOST is not set)"
        );
    }

    #[test]
    fn an_unusable_secret_says_why_without_quoting_it() {
        for (text, problem) in [
            ("hunter2", "is neither a postgres:// URL nor JSON with username and password"),
            (r#"{"username":"app"}"#, "has no password"),
            (r#"{"password":"hunter2"}"#, "has no username"),
            (
                r#"{"username":"a","password":"hunter2","port":"x"}"#,
                "has a port that is not a number from 1 to 65535",
            ),
        ] {
            let err = url_from_secret(text, &location()).unwrap_err();
            assert_eq!(err, problem);
            assert!(!err.contains("hunter2"));
        }
    }
}
