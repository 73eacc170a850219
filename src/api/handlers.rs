//! One function per endpoint of docs/api.md: extract the parameters, check access, ask the
//! engine, encode. The `#[utoipa::path]` attributes are the source of the OpenAPI
//! document.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::answers::Answer;
use super::auth::{Caller, Role, check_reach};
use super::params::{Params, Rendering};
use super::problem::{MEDIA_TYPE, Problem};
use super::reload::{ReloadStatus, finished};
use super::snapshot::Snapshot;
use crate::answers::compare::{CompareRequest, Comparison};
use crate::answers::contrast::{Contrast, ContrastRequest};
use crate::answers::question::{Answer as QuestionAnswer, Question};
use crate::answers::sheet::{Language, Provenance, sheet};
use crate::answers::spreadsheet;
use crate::answers::targets::{TargetsRequest, TargetsView};
use crate::answers::values::Values;
use crate::definition::{Definition, Display, IntervalMethod, Kind, Polarity};
use crate::engine::Request;
use crate::engine::dimensions::is_unit;

/// The data span.
#[derive(Debug, Serialize, ToSchema)]
pub struct Span {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
}

/// What is being served.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthData {
    /// Identifies the extract's files; changes when other data is loaded.
    pub version: String,
    /// When the data was loaded (RFC 3339, UTC).
    pub loaded_at: String,
    /// The months the data covers.
    pub span: Span,
}

/// The health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` while the server answers from loaded data (a failed reload leaves the data
    /// loaded before serving; `reload.last_error` reports it); `loading` while its first
    /// load runs, when every question is answered 503 `loading` and `reload.progress`
    /// shows how far the load has come.
    pub status: String,
    /// The loaded data; `null` while the first load runs.
    pub data: Option<HealthData>,
    /// Reloading: running, watching, the last failure.
    pub reload: ReloadStatus,
    /// The software and its version.
    pub software: String,
}

/// The header naming the data version an answer was computed from: after a reload,
/// answers from before and after can be told apart.
pub const DATA_VERSION: HeaderName = HeaderName::from_static("wirkung-data-version");

/// An indicator of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorEntry {
    /// Code, e.g. `K2`.
    pub code: String,
    /// German name.
    pub name_de: String,
    /// English name.
    pub name_en: String,
    /// Goal of § 48a (1–3) or of the extension (4–5).
    pub goal: u8,
    /// Kennzahl, Ergänzungsgröße or extension.
    pub kind: Kind,
    /// Rate, share or change.
    pub display: Display,
    /// Which direction is good.
    pub polarity: Polarity,
    /// Legal basis.
    pub legal_basis: String,
    /// German description.
    pub description_de: String,
    /// English description.
    pub description_en: Option<String>,
    /// Dimensions accepted in `by` and as filters.
    pub dimensions: Vec<String>,
    /// The interval every value carries.
    pub interval: IntervalMethod,
    /// The declarative definition the indicator is built from.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

impl IndicatorEntry {
    fn of(def: &Definition) -> IndicatorEntry {
        IndicatorEntry {
            code: def.code.clone(),
            name_de: def.name_de.clone(),
            name_en: def.name_en.clone(),
            goal: def.goal,
            kind: def.kind,
            display: def.display,
            polarity: def.polarity,
            legal_basis: def.legal_basis.clone(),
            description_de: def.description_de.clone(),
            description_en: def.description_en.clone(),
            dimensions: def.dimensions.clone(),
            interval: def.interval_method(),
            definition: serde_json::to_value(def).unwrap_or_default(),
        }
    }
}

/// The catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorList {
    /// Every indicator.
    pub indicators: Vec<IndicatorEntry>,
}

/// The `{code}` path segment, refused as a problem when it cannot be decoded.
pub struct Code(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Code {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| Code(p.0))
            .map_err(|e| Problem::bad_parameter("code", e.body_text()))
    }
}

/// Is the server up, and what data does it serve?
#[utoipa::path(get, path = "/api/v1/health", tag = "server",
    responses((status = 200, description = "The server answers", body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(health_of(&state))
}

fn health_of(state: &AppState) -> Health {
    let data = state.snapshot().map(|snapshot| {
        let (from, to) = snapshot.project.engine.span();
        HealthData {
            version: snapshot.version.clone(),
            loaded_at: snapshot
                .loaded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            span: Span {
                from: from.to_string(),
                to: to.to_string(),
            },
        }
    });
    Health {
        status: if data.is_some() { "ok" } else { "loading" }.into(),
        data,
        reload: state.reload_status(),
        software: concat!("wirkung ", env!("CARGO_PKG_VERSION")).into(),
    }
}

/// Loads the data, definitions and building blocks again from the folders the server
/// was started with, and swaps them in once loaded; role `admin` only. Questions are
/// answered from the old data meanwhile, and if the load fails the old data stays.
#[utoipa::path(post, path = "/api/v1/reload", tag = "server",
    security(("bearer" = [])),
    params(("wait" = Option<bool>, Query, description = "Wait for the outcome (default `true`); with `false` the answer is 202 at once and `health` shows the progress")),
    responses((status = 200, description = "The new data is being served", body = Health),
        (status = 202, description = "Reloading (wait=false); a reload asked while one runs joins it", body = Health),
        (status = 400, description = "A bad parameter", body = Problem, content_type = MEDIA_TYPE),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 403, description = "The caller's role is not `admin`", body = Problem, content_type = MEDIA_TYPE),
        (status = 409, description = "The server has no folders to reload from", body = Problem, content_type = MEDIA_TYPE),
        (status = 422, description = "The new data was refused (the detail says why); the old data is still served", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The server began to shut down while waiting", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn reload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    if caller.role != Role::Admin {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            format!(
                "reloading needs the role admin; the key '{}' is a reader",
                caller.name
            ),
        ));
    }
    let mut params = Params::parse(query.as_deref())?;
    let wait = params.flag("wait")?.unwrap_or(true);
    params.nothing_else()?;
    let pending = state.reload().map_err(|e| {
        Problem::new(
            StatusCode::CONFLICT,
            "not-reloadable",
            "Cannot reload",
            e.to_string(),
        )
    })?;
    tracing::info!(caller = %caller.name, wait, "reload asked");
    if !wait {
        return Ok((StatusCode::ACCEPTED, Json(health_of(&state))).into_response());
    }
    let outcome = tokio::select! {
        outcome = finished(pending) => outcome,
        () = state.shutting_down() => {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting-down",
                "Shutting down",
                "the server is shutting down; the reload was abandoned",
            ));
        }
    };
    match outcome {
        Ok(()) => Ok(Json(health_of(&state)).into_response()),
        Err(why) => {
            let still = match state.snapshot() {
                Some(old) => format!(
                    "Still serving the data loaded at {} (version {}).",
                    old.loaded_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    old.version
                ),
                None => "No data is served: the first load failed too.".into(),
            };
            Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reload-failed",
                "Reload refused",
                format!("{why}\n{still}"),
            ))
        }
    }
}

/// The indicator catalogue.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators",
    security(("bearer" = [])),
    responses((status = 200, description = "Every indicator", body = IndicatorList),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn indicators(State(state): State<AppState>) -> Result<Json<IndicatorList>, Problem> {
    let snapshot = state.serving()?;
    let catalogue = snapshot.project.engine.catalogue();
    Ok(Json(IndicatorList {
        indicators: catalogue.all().iter().map(IndicatorEntry::of).collect(),
    }))
}

/// One indicator of the catalogue.
#[utoipa::path(get, path = "/api/v1/indicators/{code}", tag = "indicators",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Indicator code, e.g. K2")),
    responses((status = 200, description = "The indicator", body = IndicatorEntry),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 404, description = "Unknown indicator", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn indicator(
    State(state): State<AppState>,
    Code(code): Code,
) -> Result<Json<IndicatorEntry>, Problem> {
    let snapshot = state.serving()?;
    let def = snapshot.project.engine.catalogue().get(&code);
    def.map(|d| Json(IndicatorEntry::of(d)))
        .ok_or_else(|| Problem::unknown_indicator(&code))
}

/// Values of one indicator by month and breakdown (JSON, CSV, or a spreadsheet).
#[utoipa::path(get, path = "/api/v1/indicators/{code}/values", tag = "indicators",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Indicator code"),
        ("from" = String, Query, description = "First month, YYYY-MM"),
        ("to" = Option<String>, Query, description = "Last month, YYYY-MM (default: from)"),
        ("by" = Option<String>, Query, description = "Breakdown dimensions, comma-separated"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` (the table), or `xlsx` (a workbook with the question and the disclosure note); without it, `Accept: text/csv` or the XLSX media type choose"),
        ("locale" = Option<String>, Query, description = "With `format=csv`: `de` gives CSV for German Excel (`;`, decimal comma, UTF-8 with BOM, the question and the disclosure note around the table); with `format=xlsx`: the language of its labels (`de`, the default, or `en`)"),
        ("filters" = Option<Object>, Query, style = Form, explode, description = "Filters `dimension=value` for any accepted dimension")),
    responses((status = 200, description = "The values; as CSV or XLSX with `format` (a download with a file name)",
            content((Values = "application/json"), (String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A bad parameter", body = Problem, content_type = MEDIA_TYPE),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 403, description = "A filter reaches outside the caller's scope", body = Problem, content_type = MEDIA_TYPE),
        (status = 404, description = "Unknown indicator", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The question took too long (`query-timeout`), or the first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn values(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Code(code): Code,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let snapshot = known(&state, &code)?;
    let engine = &snapshot.project.engine;
    let mut params = Params::parse(query.as_deref())?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let rendering = params.rendering(accept, true)?;
    let from = params.month("from")?;
    let to = params.optional_month("to")?.unwrap_or(from);
    let by = params.list("by")?;
    let filters = params.filters(&engine.catalogue().dimensions())?;
    check_reach(
        caller.scope.as_ref(),
        engine.units(),
        unit_filters(&filters),
        &by,
    )?;
    let limits = state.limits();
    let request = Request {
        by,
        filters,
        min_count: limits.min_count,
        scope: caller.scope.clone(),
        max_rows: Some(limits.max_rows),
        ..Request::new(code, from, to)
    };
    rendered(&state, &snapshot, Question::Values(request), rendering).await
}

/// The answer to a question in the rendering asked, kept per rendering: JSON, CSV, or a
/// spreadsheet (the German CSV or XLSX, with the question and the disclosure note; not
/// for `targets`).
async fn rendered(
    state: &AppState,
    snapshot: &Snapshot,
    question: Question,
    rendering: Rendering,
) -> Result<Response, Problem> {
    let engine = &snapshot.project.engine;
    let key = format!("{}|{rendering:?}", question.key());
    let answer = state.answer(snapshot, key, async {
        let answer = state.bounded(question.ask(engine)).await?;
        match rendering {
            Rendering::Json => json(&answer),
            Rendering::Csv => csv(&answer),
            Rendering::GermanCsv => {
                spreadsheet(snapshot, &question, &answer, Language::De, false).await
            }
            Rendering::Xlsx(lang) => spreadsheet(snapshot, &question, &answer, lang, true).await,
        }
    });
    let mut response = versioned(answer.await?, snapshot);
    // The rendering may follow the Accept header: caches must key on it.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

fn csv(answer: &QuestionAnswer) -> Result<Answer, Problem> {
    let body = answer.to_csv().map_err(|e| {
        tracing::error!(error = %e, "CSV rendering failed");
        Problem::internal()
    })?;
    Ok(Answer::csv(body))
}

/// The answer as a spreadsheet to download: XLSX, or else the German CSV; written off
/// the async workers (a workbook of a long answer takes a while).
async fn spreadsheet(
    snapshot: &Snapshot,
    question: &Question,
    answer: &QuestionAnswer,
    lang: Language,
    xlsx: bool,
) -> Result<Answer, Problem> {
    let (code, kind, months) = match question {
        Question::Values(q) => (&q.indicator, "values", format!("{}-{}", q.from, q.to)),
        Question::Compare(q) => (&q.indicator, "compare", q.month.to_string()),
        Question::Contrast(q) => (&q.indicator, "contrast", q.month.to_string()),
        Question::Targets(_) => return Err(Problem::internal()),
    };
    let def = snapshot.project.engine.catalogue().get(code);
    let indicator_name = def.map_or("", |d| match lang {
        Language::De => d.name_de.as_str(),
        Language::En => d.name_en.as_str(),
    });
    let loaded_at = snapshot
        .loaded_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let from = Provenance {
        indicator_name,
        version: &snapshot.version,
        loaded_at: &loaded_at,
    };
    let Some(sheet) = sheet(question, answer, &from, lang) else {
        tracing::error!("a spreadsheet asked of an answer without a sheet");
        return Err(Problem::internal());
    };
    let file = format!("wirkung-{code}-{kind}-{months}");
    if xlsx {
        let name = match lang {
            Language::De => "Daten",
            Language::En => "Data",
        };
        let body = off_the_workers("XLSX", move || spreadsheet::xlsx(&sheet, name)).await?;
        Ok(Answer::download(
            spreadsheet::XLSX_MEDIA_TYPE,
            body,
            format!("{file}.xlsx"),
        ))
    } else {
        let body = off_the_workers("CSV", move || spreadsheet::german_csv(&sheet)).await?;
        Ok(Answer::download(
            "text/csv; charset=utf-8",
            body,
            format!("{file}.csv"),
        ))
    }
}

/// A rendering run off the async workers (a workbook of a long answer takes a while).
async fn off_the_workers<E: std::fmt::Display + Send + 'static>(
    what: &'static str,
    render: impl FnOnce() -> Result<Vec<u8>, E> + Send + 'static,
) -> Result<Vec<u8>, Problem> {
    let fail = |error: String| {
        tracing::error!(error, what, "rendering failed");
        Problem::internal()
    };
    tokio::task::spawn_blocking(render)
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| fail(e.to_string()))
}

fn json<T: Serialize>(body: &T) -> Result<Answer, Problem> {
    Answer::json(body).map_err(|e| {
        tracing::error!(error = %e, "JSON rendering failed");
        Problem::internal()
    })
}

/// The data to answer from, once `code` is known to be one of its indicators (404
/// before any parameter).
fn known(state: &AppState, code: &str) -> Result<Arc<Snapshot>, Problem> {
    let snapshot = state.serving()?;
    match snapshot.project.engine.catalogue().get(code) {
        Some(_) => Ok(snapshot),
        None => Err(Problem::unknown_indicator(code)),
    }
}

/// The answer with the version of the data it was computed from.
fn versioned(answer: Answer, snapshot: &Snapshot) -> Response {
    let mut response = answer.into_response();
    if let Ok(version) = HeaderValue::from_str(&snapshot.version) {
        response.headers_mut().insert(DATA_VERSION, version);
    }
    response
}

/// Districts or jobcenters compared for one month: ranks, pooled value, funnel limits,
/// over-dispersion; with `adjust`, indirectly standardised (O/E) as well.
#[utoipa::path(get, path = "/api/v1/indicators/{code}/compare", tag = "comparisons",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Indicator code"),
        ("month" = String, Query, description = "Reporting month, YYYY-MM"),
        ("across" = String, Query, description = "`district_id` or `jobcenter_id`"),
        ("adjust" = Option<String>, Query, description = "Strata for the adjusted mode (indirect standardisation), comma-separated dimensions that the indicator carries, e.g. `sex,age_group`; within the publication profile together with the filters"),
        ("reference" = Option<String>, Query, description = "Reference rates of the adjusted mode: `compared` (default: the compared units pooled), `all` (the whole extract) or `comparison_type` (the unit's type)"),
        ("overdispersion" = Option<bool>, Query, description = "Widen the funnel limits by the random-effects τ² when the units are over-dispersed; default true in the adjusted mode, false otherwise (φ and τ² are always reported)"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` (the table), or `xlsx` (a workbook with the question and the disclosure note); without it, `Accept: text/csv` or the XLSX media type choose"),
        ("locale" = Option<String>, Query, description = "With `format=csv`: `de` gives CSV for German Excel (`;`, decimal comma, UTF-8 with BOM, the question and the disclosure note around the table); with `format=xlsx`: the language of its labels (`de`, the default, or `en`)"),
        ("filters" = Option<Object>, Query, style = Form, explode, description = "Filters `dimension=value`")),
    responses((status = 200, description = "The comparison; as CSV or XLSX with `format` (a download with a file name)",
            content((Comparison = "application/json"), (String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A bad parameter", body = Problem, content_type = MEDIA_TYPE),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 403, description = "The comparison reaches outside the caller's scope", body = Problem, content_type = MEDIA_TYPE),
        (status = 404, description = "Unknown indicator", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The question took too long (`query-timeout`), or the first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn compare(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Code(code): Code,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let snapshot = known(&state, &code)?;
    let engine = &snapshot.project.engine;
    let mut params = Params::parse(query.as_deref())?;
    let rendering = params.rendering(accepted(&headers), true)?;
    let month = params.month("month")?;
    let across = params.text("across")?;
    let adjust = params.list("adjust")?;
    let reference = params.parsed("reference")?.unwrap_or_default();
    let overdispersion = params.flag("overdispersion")?;
    let filters = params.filters(&engine.catalogue().dimensions())?;
    check_reach(
        caller.scope.as_ref(),
        engine.units(),
        unit_filters(&filters),
        &[],
    )?;
    let request = CompareRequest {
        indicator: code,
        month,
        across,
        filters,
        min_count: state.limits().min_count,
        scope: caller.scope.clone(),
        adjust,
        reference,
        overdispersion,
    };
    rendered(&state, &snapshot, Question::Compare(request), rendering).await
}

/// Two or more groups of a share indicator contrasted: difference, relative risk, test;
/// with `adjust`, two groups compared within strata as well.
#[utoipa::path(get, path = "/api/v1/indicators/{code}/contrast", tag = "comparisons",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Indicator code (a share indicator)"),
        ("month" = String, Query, description = "Reporting month, YYYY-MM"),
        ("dimension" = String, Query, description = "The dimension whose values are the groups, e.g. `invitation_format`"),
        ("groups" = String, Query, description = "At least two values, comma-separated, e.g. `standard,contact_cafe`; for P1–P4 by `programme`, `no_programme` is the comparison group without a programme (P1V–P4V)"),
        ("adjust" = Option<String>, Query, description = "Strata for the stratified mode (two groups only): comma-separated dimensions the indicator carries, e.g. `age_group`; Mantel–Haenszel odds and risk ratio, CMH and Breslow–Day beside the crude figures; within the publication profile together with the contrasted dimension and the filters"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` (the table), or `xlsx` (a workbook with the question and the disclosure note); without it, `Accept: text/csv` or the XLSX media type choose"),
        ("locale" = Option<String>, Query, description = "With `format=csv`: `de` gives CSV for German Excel (`;`, decimal comma, UTF-8 with BOM, the question and the disclosure note around the table); with `format=xlsx`: the language of its labels (`de`, the default, or `en`)"),
        ("filters" = Option<Object>, Query, style = Form, explode, description = "Filters `dimension=value` on other dimensions")),
    responses((status = 200, description = "The contrast; as CSV or XLSX with `format` (a download with a file name)",
            content((Contrast = "application/json"), (String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A bad parameter", body = Problem, content_type = MEDIA_TYPE),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 403, description = "A group or filter reaches outside the caller's scope", body = Problem, content_type = MEDIA_TYPE),
        (status = 404, description = "Unknown indicator", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The question took too long (`query-timeout`), or the first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn contrast(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Code(code): Code,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let snapshot = known(&state, &code)?;
    let engine = &snapshot.project.engine;
    let mut params = Params::parse(query.as_deref())?;
    let rendering = params.rendering(accepted(&headers), true)?;
    let month = params.month("month")?;
    let dimension = params.text("dimension")?;
    let groups = params.list("groups")?;
    let adjust = params.list("adjust")?;
    let filters = params.filters(&engine.catalogue().dimensions())?;
    let contrasted = groups
        .iter()
        .filter(|_| is_unit(&dimension))
        .map(|g| ("groups", dimension.as_str(), g.as_str()));
    check_reach(
        caller.scope.as_ref(),
        engine.units(),
        unit_filters(&filters).chain(contrasted),
        std::slice::from_ref(&dimension),
    )?;
    let request = ContrastRequest {
        indicator: code,
        month,
        dimension,
        groups,
        filters,
        min_count: state.limits().min_count,
        scope: caller.scope.clone(),
        adjust,
    };
    rendered(&state, &snapshot, Question::Contrast(request), rendering).await
}

/// One jobcenter's targets (Zielwerte, `--targets`): every indicator with a target for
/// the jobcenter or one of its districts, with the latest month of the target's year
/// and where it stands.
#[utoipa::path(get, path = "/api/v1/targets", tag = "indicators",
    security(("bearer" = [])),
    params(("jobcenter_id" = String, Query, description = "The jobcenter"),
        ("format" = Option<String>, Query, description = "`csv` or `json` (default: `json`, or CSV when `Accept: text/csv`)")),
    responses((status = 200, description = "The targets (empty without a targets file)",
            content((TargetsView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A bad parameter", body = Problem, content_type = MEDIA_TYPE),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 403, description = "The jobcenter is outside the caller's scope", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The question took too long (`query-timeout`), or the first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn targets(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let snapshot = state.serving()?;
    let engine = &snapshot.project.engine;
    let mut params = Params::parse(query.as_deref())?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let rendering = params.rendering(accept, false)?;
    let jobcenter_id = params.text("jobcenter_id")?;
    params.nothing_else()?;
    check_reach(
        caller.scope.as_ref(),
        engine.units(),
        [("jobcenter_id", "jobcenter_id", jobcenter_id.as_str())],
        &[],
    )?;
    let question = Question::Targets(TargetsRequest {
        jobcenter_id,
        min_count: state.limits().min_count,
        scope: caller.scope.clone(),
    });
    rendered(&state, &snapshot, question, rendering).await
}

/// A district of a jobcenter.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictUnit {
    /// District id.
    pub district_id: String,
    /// Its name.
    pub name: String,
}

/// A jobcenter with its districts.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobcenterUnit {
    /// Jobcenter id.
    pub jobcenter_id: String,
    /// Its name.
    pub name: String,
    /// Its SGB II comparison type, if known.
    pub comparison_type: Option<String>,
    /// Its districts, by id.
    pub districts: Vec<DistrictUnit>,
}

/// The units the caller may ask about.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList {
    /// The jobcenters, in the order of their first district's id.
    pub jobcenters: Vec<JobcenterUnit>,
}

/// The jobcenters and districts of the data served, within the caller's scope: what a
/// front end offers to choose from, with names.
#[utoipa::path(get, path = "/api/v1/units", tag = "indicators",
    security(("bearer" = [])),
    responses((status = 200, description = "The jobcenters and their districts within the caller's scope", body = UnitList),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = MEDIA_TYPE),
        (status = 503, description = "The first load is still running (`loading`)", body = Problem, content_type = MEDIA_TYPE)))]
pub async fn units(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<UnitList>, Problem> {
    let snapshot = state.serving()?;
    let mut jobcenters: Vec<JobcenterUnit> = Vec::new();
    let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let visible = snapshot.project.engine.units().iter().filter(|u| {
        caller
            .scope
            .as_ref()
            .is_none_or(|s| s.contains(&u.jobcenter_id))
    });
    for unit in visible {
        let district = DistrictUnit {
            district_id: unit.district_id.clone(),
            name: unit.district_name.clone(),
        };
        match position.get(unit.jobcenter_id.as_str()) {
            Some(&i) => jobcenters[i].districts.push(district),
            None => {
                position.insert(&unit.jobcenter_id, jobcenters.len());
                jobcenters.push(JobcenterUnit {
                    jobcenter_id: unit.jobcenter_id.clone(),
                    name: unit.jobcenter_name.clone(),
                    comparison_type: unit.comparison_type.clone(),
                    districts: vec![district],
                });
            }
        }
    }
    Ok(Json(UnitList { jobcenters }))
}

/// This document, as this server answers: its security requirements, the catalogue's
/// codes and dimensions, the extract's units.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "server",
    security(("bearer" = [])),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    let snapshot = state.snapshot();
    let engine = snapshot.as_ref().map(|s| &s.project.engine);
    Json(super::openapi::document_for(&super::openapi::Served {
        auth: state.checks_tokens(),
        domains: engine.map(|e| e.blocks().domains()),
        catalogue: engine.map(|e| e.catalogue()),
        units: engine.map(|e| e.units()).unwrap_or_default(),
    }))
}

/// The `Accept` header, when it is text.
fn accepted(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

/// The filters that name units, as `(parameter, dimension, value)`.
fn unit_filters(filters: &[(String, String)]) -> impl Iterator<Item = (&str, &str, &str)> {
    filters
        .iter()
        .filter(|(d, _)| is_unit(d))
        .map(|(d, v)| (d.as_str(), d.as_str(), v.as_str()))
}
