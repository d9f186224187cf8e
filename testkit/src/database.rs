//! A database made for one test on DATABASE_URL's server, migrated or empty, and dropped when
//! the test ends, passed or failed (`#[sqlx::test]` keeps a failed test's database; the
//! black-box suites that run real processes need a URL of their own).

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl ScratchDatabase {
    /// A database with the schema at the latest migration.
    pub async fn create() -> Self {
        let db = Self::create_empty().await;
        dispatcher_core::db::MIGRATOR.run(&db.pool).await.unwrap();
        db
    }

    /// A database with no schema yet (the migrate function's first deploy).
    pub async fn create_empty() -> Self {
        let admin_url = std::env::var("DATABASE_URL")
            .expect("DATABASE_URL names the PostgreSQL server the tests use; scripts/test sets it");
        let name = format!("scratch_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        let pool = PgPool::connect(&url).await.unwrap();
        Self { admin_url, name, url, pool }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        fetch_i64(&self.pool, sql).await
    }

    pub async fn status_count(&self, status: &str) -> i64 {
        status_count(&self.pool, status).await
    }

    /// Refuses new connections and cuts every existing one (the database "goes away").
    pub async fn cut_connections(&self) {
        self.allow_connections(false).await;
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(&self.name)
            .execute(&mut admin)
            .await
            .unwrap();
    }

    pub async fn restore_connections(&self) {
        self.allow_connections(true).await;
    }

    async fn allow_connections(&self, allow: bool) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::raw_sql(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS {allow}", self.name))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

impl Drop for ScratchDatabase {
    /// On a thread of its own with its own runtime: `drop` cannot await, and after a panic the
    /// test's runtime may be gone. Errors are ignored: a test must not fail in its clean-up.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropping = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::raw_sql(&sql).execute(&mut admin).await;
                }
            });
        });
        let _ = dropping.join();
    }
}

/// The one number a query returns (a count, a sum), for assertions.
pub async fn fetch_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Messages in `status` now.
pub async fn status_count(pool: &PgPool, status: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = $1")
        .bind(status)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The URL a pool connects with (no password: the test server trusts local users), for a
/// process or a function that takes DATABASE_URL.
pub fn url_of(pool: &PgPool) -> String {
    let options: &PgConnectOptions = &pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap()
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    async fn exists(name: &str) -> bool {
        let mut admin = PgConnection::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap();
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .unwrap()
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
    }

    #[test]
    fn a_scratch_database_is_dropped_when_its_test_panics() {
        let created: Arc<Mutex<Option<String>>> = Arc::default();
        let seen = created.clone();
        let failing_test = std::thread::spawn(move || {
            block_on(async move {
                let db = ScratchDatabase::create().await;
                *seen.lock().unwrap() = Some(db.name.clone());
                panic!("a test that fails while {} exists", db.name);
            })
        });
        assert!(failing_test.join().is_err(), "the test panicked");
        let name = created.lock().unwrap().clone().unwrap();
        assert!(name.starts_with("scratch_"), "{name}");
        assert!(!block_on(exists(&name)), "{name} outlived its test");
    }
}
