//! `GET /dashboard`: the live operations page. One hand-written HTML file with its CSS and JS
//! inline (no CDN, nothing fetched but the API), embedded by build.rs in two variants: with
//! API_AUTH_TOKEN set the page asks for the token before its first call, so it never meets a
//! 401 it could have avoided. Each is kept gzipped (8 KB, what browsers get) and plain (for a
//! client that does not accept gzip, such as a bare `curl`).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// One variant of the page, as plain HTML and gzipped.
struct Page {
    html: &'static [u8],
    gzipped: &'static [u8],
}

const AUTH_REQUIRED: Page = Page {
    html: include_bytes!(concat!(env!("OUT_DIR"), "/dashboard-auth-required.html")),
    gzipped: include_bytes!(concat!(env!("OUT_DIR"), "/dashboard-auth-required.html.gz")),
};
const AUTH_NONE: Page = Page {
    html: include_bytes!(concat!(env!("OUT_DIR"), "/dashboard-auth-none.html")),
    gzipped: include_bytes!(concat!(env!("OUT_DIR"), "/dashboard-auth-none.html.gz")),
};

/// The live operations page: counts, the scheduler with start/stop, sent and failed per minute,
/// failed messages with a retry button, the last runs. HTML served from the binary; it calls
/// the API on the same origin and asks for the bearer token when the API needs one.
// Open without a token: the page holds no data; the API it calls is guarded.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard", operation_id = "dashboard",
    responses((status = 200, description = "the page (gzip-encoded when the client accepts gzip)", body = String, content_type = "text/html")))]
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let page = if state.config.api.auth_token.is_some() { &AUTH_REQUIRED } else { &AUTH_NONE };
    respond(page, &headers)
}

/// `Accept-Encoding` accepts gzip: named (or, if gzip is not named, `*`) without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let codings: Vec<(String, bool)> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let refused = parts.any(|param| {
                param.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0)
            });
            (name, !refused)
        })
        .collect();
    let named = |wanted: &str| codings.iter().find(|(name, _)| name == wanted).map(|(_, accepted)| *accepted);
    named("gzip").or_else(|| named("*")).unwrap_or(false)
}

fn respond(page: &Page, request: &HeaderMap) -> Response {
    let gzip = accepts_gzip(request);
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::VARY, "accept-encoding"),
            (header::CACHE_CONTROL, "no-cache"),
            // The page talks only to this origin and runs only its own inline code.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        ],
        if gzip { page.gzipped } else { page.html },
    )
        .into_response();
    if gzip {
        response.headers_mut().insert(header::CONTENT_ENCODING, header::HeaderValue::from_static("gzip"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::ACCEPT_ENCODING, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_accept_it() {
        for yes in [&["gzip, deflate, br, zstd"][..], &["br", "GZip;q=0.5"], &["*"], &["identity, *;q=1"]] {
            assert!(accepts_gzip(&accepting(yes)), "{yes:?}");
        }
        for no in [&[][..], &["identity"], &["br, deflate"], &["gzip;q=0"], &["gzip; q=0.0, *"], &["*;q=0"]] {
            assert!(!accepts_gzip(&accepting(no)), "{no:?}");
        }
    }
}
