//! Real processes for the black-box tests: the harness binary, a scratch database, a webhook
//! receiver on 127.0.0.1 that can be slowed down or taken away, and a private Redis.
#![allow(dead_code, clippy::unwrap_used)]

pub mod harness;
pub mod moto;
pub mod receiver;
pub mod template;

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, PgPool};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `check` every 100 ms until it is true; fails the test after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A database made for one test, migrated, dropped at the end.
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl ScratchDatabase {
    pub async fn create() -> Self {
        let db = Self::create_empty().await;
        shared::db::MIGRATOR.run(&db.pool).await.unwrap();
        db
    }

    /// A database with no schema yet (the migrate function's first deploy).
    pub async fn create_empty() -> Self {
        let admin_url = std::env::var("DATABASE_URL").unwrap();
        let name = format!("reliability_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        let pool = PgPool::connect(&url).await.unwrap();
        Self { admin_url, name, url, pool }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    pub async fn status_count(&self, status: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = $1")
            .bind(status)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Inserts `n` pending messages, oldest first.
    pub async fn seed(&self, n: i32) {
        sqlx::query(
            "INSERT INTO messages (phone_number, content, created_at)
             SELECT '+9055577' || lpad(i::text, 6, '0'), 'reliability ' || i, now() - interval '1 hour' + i * interval '1 ms'
             FROM generate_series(1, $1) AS i",
        )
        .bind(n)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// Refuses new connections and cuts every existing one (the database "goes away").
    pub async fn cut_connections(&self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::raw_sql(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", self.name))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(&self.name)
            .execute(&mut admin)
            .await
            .unwrap();
    }

    pub async fn restore_connections(&self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::raw_sql(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self.name))
            .execute(&mut admin)
            .await
            .unwrap();
    }

    pub async fn drop(self) {
        self.pool.close().await;
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(&sql).execute(&mut admin).await.unwrap();
    }
}

/// A redis-server of the test's own on a free port, so stopping it disturbs nobody else.
pub struct PrivateRedis {
    pub port: u16,
}

impl PrivateRedis {
    pub fn start() -> Self {
        let redis = Self { port: free_port() };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn restart(&self) {
        let status = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--daemonize", "yes", "--logfile", "/dev/null", "--dir", "/tmp"])
            .status()
            .expect("redis-server is needed (it is installed on the project's machines)");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "private redis did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&self) {
        let _ = std::process::Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "shutdown", "nosave"])
            .output();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "private redis did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = std::process::Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "shutdown", "nosave"])
            .output();
    }
}
