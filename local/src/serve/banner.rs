use std::net::SocketAddr;

use dispatcher_core::config::redact_url;
use dispatcher_core::Config;

/// What is running where, printed once at start-up.
pub fn print(config: &Config, api: SocketAddr, mock_receiver: Option<&str>) {
    let base = format!("http://{api}");
    let database = config.database.url.as_ref().map(redact_url).unwrap_or_default();
    let redis = config.redis_url.as_ref().map(redact_url).unwrap_or_else(|| "off (REDIS_URL unset)".into());
    let webhook = match (mock_receiver, &config.webhook.url) {
        (Some(url), _) => format!("{url} (built-in mock receiver; set WEBHOOK_URL to use yours)"),
        (None, Some(url)) => url.to_string(),
        (None, None) => String::new(),
    };
    let signing = match (&config.webhook.signer, mock_receiver) {
        (None, _) => "off (WEBHOOK_SIGNING_SECRET unset)".to_owned(),
        (Some(signer), Some(_)) => {
            format!("Standard Webhooks, {} secret(s); the mock receiver verifies", signer.secret_count())
        }
        (Some(signer), None) => format!("Standard Webhooks, {} secret(s)", signer.secret_count()),
    };
    println!(
        "\nmessage-dispatcher is running\n\
         \x20 dashboard    {base}/dashboard\n\
         \x20 API          {base}/api/v1\n\
         \x20 Swagger UI   {base}/swagger/index.html\n\
         \x20 health       {base}/health\n\
         \x20 webhook      {webhook}\n\
         \x20 signing      {signing}\n\
         \x20 database     {database}\n\
         \x20 redis        {redis}\n\
         \x20 scheduler    local: a run now, then every {} s ({} messages a run)\n\
         \x20              POST {base}/api/v1/scheduler/start runs it at once; .../stop pauses it\n\
         Ctrl-C stops it (sends in flight finish, unsent claims are handed back).\n",
        config.scheduler.interval().as_secs(),
        config.dispatch.batch_size,
    );
}
