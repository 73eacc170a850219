//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the answer types' schemas — nothing here is kept by hand but the list of paths.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::handlers;

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
