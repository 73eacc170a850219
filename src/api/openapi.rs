//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the answer types' schemas — nothing here is kept by hand but the list of paths —
//! and completed per server: [`document_for`] states what this server accepts (months
//! with their pattern, the catalogue's codes, its dimensions with their values, a
//! security requirement only when it checks tokens).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use serde_json::{Value, json};

use super::handlers;
use crate::answers::compare::ACROSS;
use crate::blocks::Domains;
use crate::definition::{Catalogue, Display};
use crate::engine::Unit;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wirkung",
        description = "§ 48a SGB II indicators and their social-integration extension, by month and breakdown, with comparisons of units and contrasts of groups. Every answer has passed disclosure control."
    ),
    paths(
        handlers::health,
        handlers::indicators,
        handlers::indicator,
        handlers::values,
        handlers::compare,
        handlers::contrast,
        handlers::targets,
        handlers::units,
        handlers::openapi,
        handlers::reload
    ),
    modifiers(&Bearer),
    tags(
        (name = "server", description = "Health, reloading and this document"),
        (name = "indicators", description = "The catalogue and its values"),
        (name = "comparisons", description = "Units compared, groups contrasted")
    )
)]
struct ApiDoc;

/// Declares the bearer scheme the `security` requirements of the paths refer to.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "Required when the server runs with --auth; the file holds the token's SHA-256",
                ))
                .build(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", scheme);
    }
}

/// The document served at `/api/v1/openapi.json`, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// What a served document describes: the server's configuration and the data it serves.
pub struct Served<'a> {
    /// Whether the server checks bearer tokens (`--auth`).
    pub auth: bool,
    /// The published values the building blocks declare.
    pub domains: Option<&'a Domains>,
    /// The catalogue served (`None` while the first load runs).
    pub catalogue: Option<&'a Catalogue>,
    /// The units of the extract served (empty: unit ids are not listed).
    pub units: &'a [Unit],
}

/// A month: `YYYY-MM`.
pub const MONTH_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

/// The document of a server configured and loaded as `served`.
///
/// Starting from the generated document: an open server declares no security
/// requirement; `from`, `to` and `month` carry the month pattern; `code` lists the
/// catalogue's codes (for `contrast`, the share indicators); `by` is a list of distinct
/// dimensions; the free-form filters become one optional parameter per dimension of the
/// catalogue, with its values where they are fixed or known (units); `across` and
/// `dimension` list what they accept, `groups` is a list of distinct values. Rules
/// across parameters (`from` not after `to`, at most two attributes at the public
/// threshold, a dimension the indicator accepts, groups that are values of the
/// contrasted dimension) cannot be stated in OpenAPI; breaking them is a 400 that names
/// the parameter.
pub fn document_for(served: &Served) -> Value {
    let mut doc = serde_json::to_value(document()).unwrap_or(Value::Null);
    if !served.auth {
        strip_security(&mut doc);
    }
    let dims = served
        .catalogue
        .map(Catalogue::dimensions)
        .unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    complete(path, params, served, &dims);
                }
            }
        }
    }
    doc
}

fn strip_security(doc: &mut Value) {
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                op.remove("security");
            }
        }
    }
    if let Some(components) = doc["components"].as_object_mut() {
        components.remove("securitySchemes");
    }
}

/// The values a dimension's filter accepts, when they are known.
fn values_of(dim: &str, units: &[Unit], domains: Option<&Domains>) -> Option<Vec<String>> {
    let mut values: Vec<String> = match dim {
        "jobcenter_id" => units.iter().map(|u| u.jobcenter_id.clone()).collect(),
        "district_id" => units.iter().map(|u| u.district_id.clone()).collect(),
        "comparison_type" => units
            .iter()
            .filter_map(|u| u.comparison_type.clone())
            .collect(),
        other => return domains.and_then(|d| d.get(other)).cloned(),
    };
    values.sort();
    values.dedup();
    (!values.is_empty()).then_some(values)
}

fn text_schema(values: Option<Vec<String>>) -> Value {
    match values {
        Some(v) => json!({"type": "string", "enum": v}),
        None => json!({"type": "string", "minLength": 1, "pattern": "^[^,]+$"}),
    }
}

fn list_schema(items: Value, min: usize) -> Value {
    json!({"type": "array", "items": items, "minItems": min, "uniqueItems": true})
}

/// Completes one operation's parameters (see [`document_for`]).
fn complete(path: &str, params: &mut Vec<Value>, served: &Served, dims: &[String]) {
    let codes: Option<Vec<String>> = served.catalogue.map(|c| {
        c.all()
            .iter()
            .filter(|d| !path.ends_with("/contrast") || d.display == Display::Share)
            .map(|d| d.code.clone())
            .collect()
    });
    let mut had_filters = false;
    params.retain_mut(|p| {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        match name.as_str() {
            "from" | "to" | "month" => {
                p["schema"] = json!({"type": "string", "pattern": MONTH_PATTERN});
            }
            "code" => {
                if let Some(codes) = &codes {
                    p["schema"] = json!({"type": "string", "enum": codes});
                }
            }
            "by" if !dims.is_empty() => {
                p["schema"] = list_schema(json!({"type": "string", "enum": dims}), 1);
                p["style"] = json!("form");
                p["explode"] = json!(false);
            }
            "across" => {
                p["schema"] = json!({"type": "string", "enum": ACROSS});
            }
            "dimension" if !dims.is_empty() => {
                p["schema"] = json!({"type": "string", "enum": dims});
            }
            "groups" => {
                p["schema"] = list_schema(text_schema(None), 2);
                p["style"] = json!("form");
                p["explode"] = json!(false);
            }
            "format" => {
                p["schema"] = json!({"type": "string", "enum": ["csv", "json"]});
            }
            "filters" => {
                had_filters = true;
                return served.catalogue.is_none();
            }
            _ => {}
        }
        true
    });
    if !had_filters || served.catalogue.is_none() {
        return;
    }
    for dim in dims {
        if params.iter().any(|p| p["name"] == dim.as_str()) {
            continue;
        }
        params.push(json!({
            "name": dim,
            "in": "query",
            "required": false,
            "description": format!("Filter: only `{dim}` = this value (indicators that accept `{dim}`)"),
            "schema": text_schema(values_of(dim, served.units, served.domains)),
        }));
    }
}
