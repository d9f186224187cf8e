//! Where the database is: DATABASE_URL, DATABASE_SECRET_ARN or the DB_* parts.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::{check_scheme, Env};
use super::ConfigError;

/// How to reach the database: DATABASE_URL, DATABASE_SECRET_ARN or the DB_* parts, and how to
/// use each connection. `db::connect` takes these and resolves the URL.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// From DATABASE_URL, else (without DATABASE_SECRET_ARN) built from
    /// DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_NAME.
    pub url: Option<SecretString>,
    /// DATABASE_SECRET_ARN: the Secrets Manager secret that holds the database URL, read at run
    /// time (`database_secret`) when DATABASE_URL is unset.
    pub secret_arn: Option<String>,
    /// DB_HOST/DB_PORT/DB_NAME: where a secret that holds only credentials points.
    pub location: DatabaseLocation,
    /// DATABASE_STATEMENT_CACHE_CAPACITY: prepared statements kept per connection; 0 turns the
    /// cache off (RDS Proxy would pin every connection; PgBouncer in transaction mode breaks).
    pub statement_cache_capacity: usize,
}

/// sqlx's default number of prepared statements kept per connection, and DATABASE_STATEMENT_CACHE_CAPACITY's.
pub const DEFAULT_STATEMENT_CACHE: usize = 100;

impl DatabaseSettings {
    /// The database at `url`, with every other setting at its default (tools and benchmarks).
    pub fn at(url: SecretString) -> Self {
        Self {
            url: Some(url),
            secret_arn: None,
            location: DatabaseLocation { host: None, port: 5432, name: "postgres".into() },
            statement_cache_capacity: DEFAULT_STATEMENT_CACHE,
        }
    }

    /// The one-line error every function shows when neither a URL nor a secret is set.
    pub fn missing_url() -> ConfigError {
        ConfigError::missing(
            "DATABASE_URL",
            "a postgres:// URL (or DATABASE_SECRET_ARN, or DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME)",
        )
    }
}

/// Where the database is, when only its credentials come from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseLocation {
    pub host: Option<String>,
    pub port: u16,
    pub name: String,
}

pub(super) fn database_url(env: &Env) -> Result<Option<SecretString>, ConfigError> {
    if let Some(url) = env.text("DATABASE_URL") {
        check_scheme("DATABASE_URL", &url, &["postgres", "postgresql"])?;
        return Ok(Some(url.into()));
    }
    if env.text("DATABASE_SECRET_ARN").is_some() {
        return Ok(None); // read at run time, with DB_HOST and the rest as its defaults
    }
    let Some(host) = env.text("DB_HOST") else {
        return Ok(None);
    };
    let port: u16 = env.int("DB_PORT", 5432, 1, 65_535)?;
    let user = env.text("DB_USER").unwrap_or_else(|| "postgres".into());
    let name = env.text("DB_NAME").unwrap_or_else(|| "postgres".into());
    let mut url = Url::parse("postgres://localhost")
        .map_err(|_| ConfigError::new("DB_HOST", Some(&host), "a host name"))?;
    url.set_host(Some(&host))
        .map_err(|_| ConfigError::new("DB_HOST", Some(&host), "a host name or IP address"))?;
    let _ = url.set_port(Some(port));
    let _ = url.set_username(&user);
    if let Some(password) = env.text("DB_PASSWORD") {
        let _ = url.set_password(Some(&password));
    }
    url.set_path(&name);
    Ok(Some(SecretString::from(url.to_string())))
}

pub(super) fn database_secret_arn(env: &Env) -> Result<Option<String>, ConfigError> {
    let Some(arn) = env.text("DATABASE_SECRET_ARN") else {
        return Ok(None);
    };
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let valid = parts.len() == 7 && parts[0] == "arn" && parts[2] == "secretsmanager" && parts[5] == "secret";
    if !valid {
        return Err(ConfigError::new(
            "DATABASE_SECRET_ARN",
            Some(&arn),
            "a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
        ));
    }
    Ok(Some(arn))
}

/// Redacts a URL's password for logs: `postgres://app:***@db/x`.
pub fn redact_url(url: &SecretString) -> String {
    match Url::parse(url.expose_secret()) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable url>".into(),
    }
}
