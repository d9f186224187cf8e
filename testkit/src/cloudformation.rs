//! A stand-in for CloudFormation's pre-signed ResponseURL: the migrate function's custom
//! resource PUTs its answer there; the test reads what arrived.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

type Answers = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

pub struct ResponseUrl {
    /// Shaped like the real one: a path and a signature in the query.
    pub url: String,
    answers: Answers,
}

impl ResponseUrl {
    /// Answers every PUT with `status` (CloudFormation's S3 answers 200; 500 tests retries).
    pub async fn answering(status: u16) -> Self {
        let answers: Answers = Arc::default();
        let seen = answers.clone();
        let app = axum::Router::new().route(
            "/cloudformation/answer",
            axum::routing::put(move |headers: HeaderMap, body: String| async move {
                seen.lock().unwrap().push((headers, serde_json::from_str(&body).unwrap()));
                StatusCode::from_u16(status).unwrap()
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url =
            format!("http://{}/cloudformation/answer?X-Amz-Signature=abc", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, answers }
    }

    /// Every PUT so far: its headers and its JSON body.
    pub fn answers(&self) -> Vec<(HeaderMap, Value)> {
        self.answers.lock().unwrap().clone()
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.answers().into_iter().map(|(_, body)| body).collect()
    }
}
