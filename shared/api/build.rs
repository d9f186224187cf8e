// The vendored Swagger UI files and the dashboard page are gzipped here, so the binary
// carries them compressed.
use std::io::Write;

fn main() {
    println!("cargo:rerun-if-changed=assets/swagger-ui");
    println!("cargo:rerun-if-changed=assets/dashboard");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let bytes = std::fs::read(format!("assets/swagger-ui/{name}")).expect("vendored Swagger UI file");
        write_gzipped(&format!("{out}/{name}.gz"), &bytes);
    }
    // The dashboard in two variants: one that asks for the API token before its first call,
    // one that does not (the server serves the one its configuration needs).
    let page = std::fs::read_to_string("assets/dashboard/index.html").expect("the dashboard page");
    assert!(page.contains(AUTH_MARKER), "the dashboard page lacks {AUTH_MARKER}");
    for auth in ["required", "none"] {
        let variant = page.replace(AUTH_MARKER, auth);
        std::fs::write(format!("{out}/dashboard-auth-{auth}.html"), &variant).expect("write to OUT_DIR");
        write_gzipped(&format!("{out}/dashboard-auth-{auth}.html.gz"), variant.as_bytes());
    }
}

const AUTH_MARKER: &str = "__DISPATCHER_AUTH__";

fn write_gzipped(path: &str, bytes: &[u8]) {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip in memory");
    let compressed = encoder.finish().expect("gzip in memory");
    std::fs::write(path, compressed).expect("write to OUT_DIR");
}
