//! The served OpenAPI document describes what the server really answers: every answer's
//! body is checked against the schema the document gives for that path and status.

use serde_json::Value;

use super::Server;

/// Follows `$ref`s into `components.schemas`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Checks `value` against `schema`: required properties present, properties and array
/// items recursively, one alternative of `oneOf` for non-null values. Returns the
/// violations found, with their JSON path.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(alternatives) = schema["oneOf"].as_array() {
        if value.is_null() {
            return;
        }
        let fits = alternatives
            .iter()
            .filter(|a| a["type"] != "null")
            .any(|a| {
                let mut errs = Vec::new();
                check(doc, a, value, at, &mut errs);
                errs.is_empty()
            });
        if !fits {
            out.push(format!("{at}: fits no alternative of oneOf"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let type_ok = types.is_empty()
        || types.contains(&actual)
        || (actual == "integer" && types.contains(&"number"));
    if !type_ok {
        out.push(format!("{at}: {actual} where the schema says {types:?}"));
        return;
    }
    if let (Some(required), Value::Object(map)) = (schema["required"].as_array(), value) {
        for r in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                out.push(format!("{at}: required property '{r}' missing"));
            }
        }
    }
    if let (Some(props), Value::Object(map)) = (schema["properties"].as_object(), value) {
        for (k, v) in map {
            if let Some(s) = props.get(k) {
                check(doc, s, v, &format!("{at}.{k}"), out);
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(doc, s, v, &format!("{at}[{i}]"), out);
        }
    }
}

#[tokio::test]
async fn every_answer_fits_the_schema_the_document_gives_for_it() {
    let server = Server::fixture().await;
    let doc = server.ok("/api/v1/openapi.json").await;
    let cases = [
        ("/api/v1/health", "/api/v1/health", "200"),
        ("/api/v1/indicators", "/api/v1/indicators", "200"),
        ("/api/v1/indicators/{code}", "/api/v1/indicators/S6", "200"),
        (
            "/api/v1/indicators/{code}/values",
            "/api/v1/indicators/S6/values?from=2017-11&to=2017-12&by=district_id,invitation_format",
            "200",
        ),
        (
            "/api/v1/indicators/K1E2/values",
            "/api/v1/indicators/K1E2/values?from=2017-12&by=sex",
            "200",
        ),
        (
            "/api/v1/indicators/{code}/compare",
            "/api/v1/indicators/S6/compare?month=2017-12&across=district_id",
            "200",
        ),
        (
            "/api/v1/indicators/{code}/contrast",
            "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe",
            "200",
        ),
        (
            "/api/v1/indicators/{code}/contrast",
            "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard",
            "400",
        ),
        ("/api/v1/indicators/{code}", "/api/v1/indicators/K99", "404"),
    ];
    let mut violations = Vec::new();
    for (template, path, status) in cases {
        // The change indicator K1E2 answers with the values schema too.
        let template = if template.contains("K1E2") {
            "/api/v1/indicators/{code}/values"
        } else {
            template
        };
        let answer = server.get(path).await;
        assert_eq!(answer.status.to_string(), status, "{path}: {}", answer.body);
        let content = &doc["paths"][template]["get"]["responses"][status]["content"];
        let media = content
            .as_object()
            .and_then(|c| c.keys().find(|k| k.ends_with("json")).cloned())
            .unwrap_or_else(|| panic!("{template} {status}: no JSON content in the document"));
        assert_eq!(answer.content_type, media, "{path}");
        check(
            &doc,
            &content[&media]["schema"],
            &answer.json(),
            path,
            &mut violations,
        );
    }
    assert!(violations.is_empty(), "{violations:#?}");
    server.stop().await;
}

#[tokio::test]
async fn the_document_states_what_this_server_accepts() {
    let server = Server::fixture().await;
    let doc = server.ok("/api/v1/openapi.json").await;
    let param = |path: &str, name: &str| -> Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
    };
    let values = "/api/v1/indicators/{code}/values";
    let contrast = "/api/v1/indicators/{code}/contrast";
    let compare = "/api/v1/indicators/{code}/compare";
    // Months with their pattern (an empty month is not valid by the schema).
    for (path, name) in [
        (values, "from"),
        (values, "to"),
        (compare, "month"),
        (contrast, "month"),
    ] {
        assert_eq!(
            param(path, name)["schema"]["pattern"],
            "^[0-9]{4}-(0[1-9]|1[0-2])$",
            "{path} {name}"
        );
    }
    // The catalogue's codes; contrast takes share indicators only.
    let codes = |path: &str| -> Vec<String> {
        param(path, "code")["schema"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    // 25 indicators and the four comparison groups of P1–P4 (P1V–P4V).
    assert_eq!(codes(values).len(), 29);
    assert!(codes(values).contains(&"K2".to_string()));
    assert!(codes(contrast).contains(&"S6".to_string()));
    assert!(!codes(contrast).contains(&"K2".to_string()), "K2 is a rate");
    // Every dimension is a filter with its values: fixed domains and the extract's units.
    assert_eq!(
        param(values, "sex")["schema"]["enum"],
        serde_json::json!(["f", "m"])
    );
    assert_eq!(
        param(values, "district_id")["schema"]["enum"],
        serde_json::json!(["J1-A", "J1-B", "J2-A", "J3-A"])
    );
    assert_eq!(param(values, "programme")["schema"]["type"], "string");
    assert!(
        param(values, "by")["schema"]["uniqueItems"]
            .as_bool()
            .unwrap()
    );
    assert_eq!(
        param(compare, "across")["schema"]["enum"],
        serde_json::json!(["district_id", "jobcenter_id"])
    );
    // The free-form filters object is gone.
    assert!(
        doc["paths"][values]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "filters")
    );
    server.stop().await;
}
