//! Problem details (RFC 9457): the one shape of every error the API returns.
//!
//! Each question error maps to a status explicitly (no catch-all): unknown indicator 404, bad parameter
//! 400, access 401/403, limits 400/503 (rows, time, memory), anything internal 500. An internal error is
//! logged with its cause and answered with a generic detail, never a stack trace or a
//! query plan.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::QuestionError;

/// The media type of problem details.
pub const MEDIA_TYPE: &str = "application/problem+json";

/// A parameter that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvalidParam {
    /// The query parameter (or path segment) at fault.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

/// An RFC 9457 problem.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// Identifies the kind of problem: `urn:wirkung:problem:<slug>` (listed in docs/api.md).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
    /// The refused parameters, for 400s.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
}

impl Problem {
    /// A problem of kind `slug` with `status`, `title` and `detail`.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:wirkung:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            invalid_params: Vec::new(),
        }
    }

    /// 400: a parameter is wrong.
    pub fn bad_parameter(name: &str, reason: impl Into<String>) -> Problem {
        let reason = reason.into();
        let mut p = Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-parameter",
            "Bad parameter",
            format!("parameter '{name}': {reason}"),
        );
        p.invalid_params.push(InvalidParam {
            name: name.into(),
            reason,
        });
        p
    }

    /// 404: no such indicator.
    pub fn unknown_indicator(code: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-indicator",
            "Unknown indicator",
            format!("there is no indicator '{code}'; GET /api/v1/indicators lists them"),
        )
    }

    /// 401: no or an unknown bearer token.
    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    /// 403: the question reaches outside the caller's scope.
    pub fn forbidden(name: &str, reason: impl Into<String>) -> Problem {
        let reason = reason.into();
        let mut p = Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Outside your scope",
            format!("parameter '{name}': {reason}"),
        );
        p.invalid_params.push(InvalidParam {
            name: name.into(),
            reason,
        });
        p
    }

    /// 500: something failed inside; the cause goes to the log, not to the caller.
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server could not answer; the cause is in its log",
        )
    }
}

impl From<QuestionError> for Problem {
    /// Each kind of question error to its problem, named one by one: a new kind does not
    /// compile until it is placed here.
    fn from(e: QuestionError) -> Problem {
        match e {
            QuestionError::UnknownIndicator(code) => Problem::unknown_indicator(&code),
            QuestionError::BadParameter { name, reason } => Problem::bad_parameter(&name, reason),
            e @ QuestionError::TooManyRows { .. } => Problem::new(
                StatusCode::BAD_REQUEST,
                "too-many-rows",
                "Answer too large",
                e.to_string(),
            ),
            e @ QuestionError::BeyondProfile { .. } => Problem::new(
                StatusCode::BAD_REQUEST,
                "beyond-publication-profile",
                "Finer than the publication profile",
                e.to_string(),
            ),
            e @ QuestionError::Unscoped(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Outside your scope",
                e.to_string(),
            ),
            QuestionError::Query(datafusion::error::DataFusionError::ResourcesExhausted(why)) => {
                tracing::warn!(reason = %why, "query refused: memory limit");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server-busy",
                    "Server busy",
                    "the question needs more memory than the server may use now; retry later or ask for less",
                )
            }
            e @ QuestionError::Query(_) => {
                tracing::error!(error = %chain(&e), "request failed");
                Problem::internal()
            }
        }
    }
}

/// An error with its causes, outermost first.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wirkung\""),
            );
        }
        response
    }
}
