//! A log writer that keeps everything in memory, for tests that search the logs, and the
//! thread-local install those tests need.

use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use tracing::subscriber::DefaultGuard;
use tracing::Subscriber;

/// Installs `subscriber` for this thread only, after making sure a process-wide subscriber that
/// wants every event exists. tracing caches each log line's interest once for the whole process,
/// worked out on the thread that reaches the line first: with thread-local subscribers alone, a
/// test running beside this one with none would mark a line this test looks for as never wanted
/// (tokio-rs/tracing#3611). The process-wide one has no output: other tests log nowhere, as before.
pub fn set_default(subscriber: impl Subscriber + Send + Sync + 'static) -> DefaultGuard {
    static PROCESS_WIDE: Once = Once::new();
    PROCESS_WIDE.call_once(|| {
        // Fails only if one is already set: then that one wants events already.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
    tracing::subscriber::set_default(subscriber)
}

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
