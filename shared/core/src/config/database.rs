//! Where the database is: DATABASE_URL, DATABASE_SECRET_ARN or the DB_* parts.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::{check_scheme, Env};
use super::ConfigError;

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
