//! A private PostgreSQL for the harness when DATABASE_URL is unset: started from the installed
//! server binaries, data kept under a git-ignored folder (so messages survive a restart),
//! stopped cleanly on shutdown. PostgreSQL refuses to run as root, so as root the server runs
//! as the `postgres` system user, which is given the data folder.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use secrecy::SecretString;

/// What a newcomer can do when there is no PostgreSQL at all.
pub const HOW_TO_FIX: &str = "no PostgreSQL found: set DATABASE_URL, \
or run `docker compose -f local/docker-compose.yml up -d` and set \
DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5433/dispatcher, \
or install PostgreSQL (e.g. `apt-get install postgresql`) so the harness can start its own";

const DATABASE: &str = "dispatcher";

pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
}

impl EmbeddedPostgres {
    /// Initialises (first time) and starts the server; reuses one left running by a killed harness.
    pub fn start(data_root: &Path, port: u16) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().context(HOW_TO_FIX)?;
        let data_dir = data_root.join("postgres");
        let run_as = if running_as_root()? { Some(postgres_user()?) } else { None };
        let server = Self { bin_dir, data_dir, port, run_as };
        std::fs::create_dir_all(data_root).with_context(|| format!("creating {}", data_root.display()))?;
        if !server.data_dir.join("PG_VERSION").exists() {
            server.init()?;
        }
        if !server.is_running() {
            server.pg_ctl(&["start", "-w", "-t", "60", "-l", &server.log_file(), "-o", &server.options()])?;
        }
        tracing::info!(data = %server.data_dir.display(), port, "private PostgreSQL running");
        Ok(server)
    }

    /// The URL of the harness's database (created on first use by [`EmbeddedPostgres::ensure_database`]).
    pub fn url(&self) -> SecretString {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port).into()
    }

    pub async fn ensure_database(&self) -> anyhow::Result<()> {
        use sqlx::Connection;
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let mut conn =
            sqlx::PgConnection::connect(&admin).await.context("connecting to the private PostgreSQL")?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            sqlx::raw_sql(&format!("CREATE DATABASE {DATABASE}")).execute(&mut conn).await?;
        }
        Ok(())
    }

    pub fn stop(&self) {
        match self.pg_ctl(&["stop", "-w", "-m", "fast"]) {
            Ok(()) => tracing::info!("private PostgreSQL stopped"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "could not stop the private PostgreSQL"),
        }
    }

    fn init(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&self.data_dir, Some(uid), Some(gid))
                .context("giving the data folder to the postgres user")?;
        }
        tracing::info!(data = %self.data_dir.display(), "initialising a private PostgreSQL (first start)");
        let data = self.data_dir.to_string_lossy().into_owned();
        let args = ["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"];
        self.run("initdb", &args)
    }

    fn is_running(&self) -> bool {
        self.pg_ctl(&["status"]).is_ok()
    }

    fn options(&self) -> String {
        format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}'",
            self.port,
            self.data_dir.display()
        )
    }

    fn log_file(&self) -> String {
        // Inside the data folder: the only place the server's user may write.
        self.data_dir.join("server.log").to_string_lossy().into_owned()
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let data = self.data_dir.to_string_lossy().into_owned();
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut command = Command::new(self.bin_dir.join(program));
        command.args(args).current_dir(self.data_dir.parent().unwrap_or(Path::new("/")));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        let output = command.output().with_context(|| format!("running {program}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            let said = stderr.lines().chain(stdout.lines()).rfind(|l| !l.trim().is_empty()).unwrap_or("");
            bail!("{program} {} failed: {said}", args.first().unwrap_or(&""));
        }
        Ok(())
    }
}

/// POSTGRES_BIN_DIR if set (and only it); else PATH; else the usual install folders.
fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("pg_ctl").is_file() && dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("POSTGRES_BIN_DIR") {
        return Some(PathBuf::from(dir)).filter(|dir| has_server(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|dir| has_server(dir)) {
            return Some(dir);
        }
    }
    let mut candidates: Vec<PathBuf> = ["/usr/lib/postgresql", "/opt/homebrew/opt", "/usr/local/opt"]
        .iter()
        .filter_map(|root| std::fs::read_dir(root).ok())
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .chain([PathBuf::from("/usr/local/pgsql/bin")])
        .filter(|dir| has_server(dir))
        .collect();
    candidates.sort();
    candidates.pop()
}

fn running_as_root() -> anyhow::Result<bool> {
    Ok(std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false))
}

/// uid and gid of the `postgres` system user, from /etc/passwd.
fn postgres_user() -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .context(
            "running as root, and there is no `postgres` user to run PostgreSQL as (PostgreSQL refuses root)",
        )
}
