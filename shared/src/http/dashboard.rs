//! `GET /dashboard`: the live operations page. One hand-written HTML file with its CSS and JS
//! inline (no CDN, nothing fetched but the API), embedded gzipped by build.rs in two variants:
//! with API_AUTH_TOKEN set the page asks for the token before its first call, so it never
//! meets a 401 it could have avoided.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const PAGE_AUTH_REQUIRED_GZ: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dashboard-auth-required.html.gz"));
const PAGE_AUTH_NONE_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dashboard-auth-none.html.gz"));

/// `/dashboard`, open without a token (the page holds no data; the API it calls is guarded).
pub fn routes<S: Clone + Send + Sync + 'static>(auth_required: bool) -> Router<S> {
    let page = if auth_required { PAGE_AUTH_REQUIRED_GZ } else { PAGE_AUTH_NONE_GZ };
    Router::new().route("/dashboard", get(move || async move { respond(page) }))
}

fn respond(page: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_ENCODING, "gzip"),
            (header::CACHE_CONTROL, "no-cache"),
            // The page talks only to this origin and runs only its own inline code.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        ],
        page,
    )
        .into_response()
}
