//! Adapts our reqwest client to the `oauth2` crate, keeping the status and `Retry-After` of 429
//! and 5xx answers (which `oauth2` would otherwise fold into a parse error).

use std::future::Future;
use std::pin::Pin;

use crate::azure::entra::errors::HttpFailure;
use crate::http;

/// Our HTTP client, as `oauth2` sees it.
pub(crate) struct OAuthHttp(pub(crate) reqwest::Client);

type Pending<'c> =
    Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpFailure>> + Send + 'c>>;

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpFailure;
    type Future = Pending<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| HttpFailure::Transport(http::describe(e)))?;
            let response = self
                .0
                .execute(request)
                .await
                .map_err(|e| HttpFailure::Transport(http::describe(e)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = http::read_body(response)
                .await
                .map_err(|e| HttpFailure::Transport(e.to_string()))?;
            if status.as_u16() == 429 || status.is_server_error() {
                return Err(HttpFailure::Status {
                    status: status.as_u16(),
                    retry_after: http::retry_after(&headers),
                    body: serde_json::from_slice(&body).ok(),
                });
            }
            let mut builder = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in &headers {
                builder = builder.header(name.as_str(), value.as_bytes());
            }
            builder
                .body(body)
                .map_err(|e| HttpFailure::Transport(e.to_string()))
        })
    }
}
