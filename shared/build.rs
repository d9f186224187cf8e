// `sqlx::migrate!` embeds migrations/ at compile time: rebuild when it changes.
// The vendored Swagger UI files are gzipped here, so the binary carries them compressed.
use std::io::Write;

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=assets/swagger-ui");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let source = std::fs::read(format!("assets/swagger-ui/{name}")).expect("vendored Swagger UI file");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&source).expect("gzip in memory");
        let compressed = encoder.finish().expect("gzip in memory");
        std::fs::write(format!("{out}/{name}.gz"), compressed).expect("write to OUT_DIR");
    }
}
