//! Swagger UI and the OpenAPI document, served from the binary: the UI's two files are
//! vendored in `shared/api/assets/swagger-ui` (no CDN, no download at build time) and embedded
//! gzipped by build.rs (1.6 MB down to about 0.45 MB), served with `Content-Encoding: gzip`.

use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};

const BUNDLE_JS_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui-bundle.js.gz"));
const STYLESHEET_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui.css.gz"));
const FAVICON: &[u8] = include_bytes!("../assets/swagger-ui/favicon-32x32.png");

const INDEX: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>message-dispatcher API</title>
  <link rel="stylesheet" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
  </script>
</body>
</html>
"##;

/// `/openapi.json` and `/swagger/...`, for `document`.
pub fn routes<S: Clone + Send + Sync + 'static>(document: utoipa::openapi::OpenApi) -> Router<S> {
    let document = std::sync::Arc::new(document);
    Router::new()
        .route("/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .route("/swagger", get(|| async { Redirect::permanent("/swagger/index.html") }))
        .route("/swagger/", get(|| async { Redirect::permanent("/swagger/index.html") }))
        .route("/swagger/index.html", get(|| async { Html(INDEX) }))
        .route(
            "/swagger/swagger-ui-bundle.js",
            get(|| async { gzipped("text/javascript; charset=utf-8", BUNDLE_JS_GZ) }),
        )
        .route("/swagger/swagger-ui.css", get(|| async { gzipped("text/css; charset=utf-8", STYLESHEET_GZ) }))
        .route("/swagger/favicon-32x32.png", get(|| async { asset("image/png", FAVICON) }))
}

/// Every browser accepts gzip; a Lambda response with a Content-Encoding goes out as binary.
fn gzipped(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = asset(content_type, bytes);
    response.headers_mut().insert(header::CONTENT_ENCODING, header::HeaderValue::from_static("gzip"));
    response
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], bytes)
        .into_response()
}
