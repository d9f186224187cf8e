//! moto's server (PyPI `moto[server]`) on a free loopback port, standing in for AWS.
//! A missing `moto_server` fails the test with the fix, never skips.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_scheduler::config::SharedCredentialsProvider;

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

impl MotoServer {
    pub fn start() -> Self {
        let port = super::free_port();
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start {program} ({err}); run the tests with scripts/test, which installs moto[server]")
            });
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, endpoint: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto accepts any credentials; these are the ones the tests give every AWS client.
pub fn credentials() -> aws_sdk_scheduler::config::Credentials {
    aws_sdk_scheduler::config::Credentials::new("testing", "testing", None, None, "tests")
}

/// What a test builds any AWS client from (`aws_sdk_*::Client::new(&config)`): `endpoint`
/// (moto, or a stand-in), `region`, [`credentials`], and the functions' own HTTP client.
pub fn sdk_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    let http = dispatcher_core::aws_http_client::http_client().expect("the AWS HTTP client builds");
    aws_config::SdkConfig::builder()
        .http_client(http)
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials()))
        .endpoint_url(endpoint)
        .build()
}
