//! The AWS SDK's HTTP client: reqwest, which every function already links for the webhook,
//! instead of the SDK's default client. That one brings its own TLS stack on the aws-lc crypto
//! library, a second one beside reqwest's and sqlx's ring, and about 3 MB more in each binary
//! (BENCHMARKS.md, "What each optimisation changed").

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// The SDK's own default: a region's endpoint that does not accept a connection in this long
/// is down, and the SDK's retry takes over.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// The configuration every AWS client here is built from: region and credentials from the
/// usual chain (the Lambda environment, `AWS_*` variables, profiles), `AWS_ENDPOINT_URL`
/// honoured, requests through [`http_client`].
pub async fn load_config() -> Result<aws_config::SdkConfig, AwsHttpClientError> {
    let http = http_client()?;
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await)
}

/// The client alone, for a configuration built by hand (the tests' `testkit::moto::sdk_config`).
pub fn http_client() -> Result<SharedHttpClient, AwsHttpClientError> {
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        // The SDK signs the URL it means: a redirect is the service's answer to read, not follow.
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    Ok(SharedHttpClient::new(ReqwestClient { http }))
}

/// Only a TLS back end that cannot start makes building the client fail.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the AWS HTTP client: {0}")]
pub struct AwsHttpClientError(#[from] reqwest::Error);

#[derive(Debug, Clone)]
struct ReqwestClient {
    http: reqwest::Client,
}

impl HttpClient for ReqwestClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ReqwestConnector {
            http: self.http.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    http: reqwest::Client,
    /// The SDK's read timeout, applied to the whole request (reqwest has no per-read one).
    read_timeout: Option<Duration>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(|err| ConnectorError::user(err.into()))?;
            let (parts, body) = request.into_parts();
            let body = match body.bytes() {
                Some(bytes) => reqwest::Body::from(bytes.to_vec()),
                None => reqwest::Body::wrap(body),
            };
            let mut builder =
                http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body);
            if let Some(timeout) = read_timeout {
                builder = builder.timeout(timeout);
            }
            let response = builder.send().await.map_err(connector_error)?;
            let response = http::Response::from(response).map(SdkBody::from_body_1_x);
            HttpResponse::try_from(response).map_err(|err| ConnectorError::other(err.into(), None))
        })
    }
}

/// Timeouts and connection failures as the SDK's retry logic knows them (both are retried).
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(err.into())
    } else if err.is_connect() || err.is_request() {
        ConnectorError::io(err.into())
    } else {
        ConnectorError::other(err.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
    use aws_sdk_secretsmanager::error::SdkError;
    use aws_smithy_types::retry::RetryConfig;

    use super::http_client;

    #[tokio::test]
    async fn a_refused_connection_reaches_the_sdk_as_an_io_error_it_retries() {
        let port = testkit::free_port();
        let config = aws_sdk_secretsmanager::Config::builder()
            .http_client(http_client().unwrap())
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(testkit::moto::credentials())
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .retry_config(RetryConfig::disabled())
            .build();
        let client = aws_sdk_secretsmanager::Client::from_conf(config);
        let err = client.get_secret_value().secret_id("any").send().await.unwrap_err();
        let SdkError::DispatchFailure(failure) = &err else { panic!("not a dispatch failure: {err:?}") };
        assert!(failure.is_io(), "{err:?}");
    }
}
