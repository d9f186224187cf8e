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
    let route = if auth_required { get(page_asking_for_the_token) } else { get(page) };
    Router::new().route("/dashboard", route)
}

/// The live operations page: counts, the scheduler with start/stop, sent and failed per minute,
/// failed messages with a retry button, the last runs. HTML served from the binary; it calls
/// the API on the same origin and asks for the bearer token when the API needs one.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard", operation_id = "dashboard",
    responses((status = 200, description = "the page (gzip-encoded)", body = String, content_type = "text/html")))]
async fn page() -> Response {
    respond(PAGE_AUTH_NONE_GZ)
}

async fn page_asking_for_the_token() -> Response {
    respond(PAGE_AUTH_REQUIRED_GZ)
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
