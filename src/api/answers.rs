//! Finished answers kept per data version: the encoded body of every successful
//! `values`, `compare` and `contrast` answer, keyed by the data version, the endpoint,
//! the normalised question (caller scope included) and the rendering.
//!
//! An answer depends on nothing else: the engine is deterministic over one load, and the
//! limits are fixed per server. A repeated question (dashboards refresh, many staff ask
//! the same thing) is then answered without computing or encoding, which is what keeps
//! latency flat under concurrent load. Concurrent askers of one question share one
//! computation. Errors are never kept. The cache is bounded by
//! the bytes of the bodies it holds (`--answer-cache-mb`) and evicts with quick_cache's
//! CLOCK-Pro policy; 0 switches it off.

use std::future::Future;

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// An encoded answer.
#[derive(Debug, Clone)]
pub struct Answer {
    content_type: &'static str,
    body: Bytes,
    /// The file name a browser saves a download under (spreadsheets).
    file_name: Option<String>,
}

impl Answer {
    /// A JSON body.
    pub fn json<T: serde::Serialize>(value: &T) -> Result<Answer, serde_json::Error> {
        Ok(Answer {
            content_type: "application/json",
            body: Bytes::from(serde_json::to_vec(value)?),
            file_name: None,
        })
    }

    /// A CSV body.
    pub fn csv(text: String) -> Answer {
        Answer {
            content_type: "text/csv; charset=utf-8",
            body: Bytes::from(text),
            file_name: None,
        }
    }

    /// A file to download: `body` of `content_type`, saved as `file_name`.
    pub fn download(content_type: &'static str, body: Vec<u8>, file_name: String) -> Answer {
        Answer {
            content_type,
            body: Bytes::from(body),
            file_name: Some(file_name),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        let disposition = self.file_name.and_then(|name| {
            HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).ok()
        });
        if let Some(disposition) = disposition {
            headers.insert(header::CONTENT_DISPOSITION, disposition);
        }
        response
    }
}

#[derive(Debug, Clone, Copy)]
struct BodyBytes;

impl Weighter<String, Answer> for BodyBytes {
    fn weight(&self, key: &String, answer: &Answer) -> u64 {
        (key.len() + answer.body.len()) as u64
    }
}

/// The answers of one server, bounded in bytes.
pub struct Answers {
    cache: Option<Cache<String, Answer, BodyBytes>>,
}

impl Answers {
    /// A cache holding at most `budget` bytes of keys and bodies (0: none).
    pub fn new(budget: u64) -> Answers {
        // quick_cache wants an estimate of the item count; assume 16 KiB answers.
        let items = usize::try_from(budget / 16_384)
            .unwrap_or(usize::MAX)
            .max(16);
        Answers {
            cache: (budget > 0).then(|| Cache::with_weighter(items, budget, BodyBytes)),
        }
    }

    /// Forgets every kept answer (new data was swapped in).
    pub fn clear(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// The kept answer for `key`, or `compute`'s, kept if it succeeds.
    ///
    /// Questions asked at the same time share one computation: while one request
    /// computes an answer, others with the same key wait for it instead of computing
    /// it again (quick_cache's placeholder guard). If the computation fails, the guard
    /// is dropped and the next waiter computes in its turn; errors are not kept.
    pub async fn get_or_compute<E>(
        &self,
        key: &str,
        compute: impl Future<Output = Result<Answer, E>>,
    ) -> Result<Answer, E> {
        let Some(cache) = &self.cache else {
            return compute.await;
        };
        match cache.get_value_or_guard_async(key).await {
            Ok(kept) => Ok(kept),
            Err(guard) => {
                let fresh = compute.await?;
                // Fails only if the entry was replaced meanwhile; the answer stands.
                let _ = guard.insert(fresh.clone());
                Ok(fresh)
            }
        }
    }
}
