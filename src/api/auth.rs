//! Access: the `--auth` file of token hashes, roles and jobcenter scopes, the bearer
//! check, and the rule that a question may not reach outside its asker's scope.
//!
//! The file holds the SHA-256 of each token, never the token (docs/operations.md). A presented token
//! is hashed and looked up; comparing hashes leaks nothing useful through timing, since
//! an attacker does not choose the hash. Scopes are enforced in two ways: a filter (or a
//! contrasted unit) that names or covers a jobcenter outside the scope is refused with
//! 403, and everything else is restricted to the scope by the engine (a scoped asker's
//! unfiltered total is the total over its jobcenters).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::access_log::CallerName;
use super::problem::Problem;
use crate::engine::Unit;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read indicators.
    Reader,
    /// Read, and administer the server (`POST /api/v1/reload`).
    Admin,
}

/// The caller of a request, as the auth file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's name, shown in logs.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The jobcenters it may see; `None` for `["*"]`.
    pub scope: Option<BTreeSet<String>>,
}

impl Caller {
    /// The caller of a server started without `--auth` (loopback only): sees everything.
    pub fn open() -> Caller {
        Caller {
            name: "open".into(),
            role: Role::Admin,
            scope: None,
        }
    }
}

/// Why the auth file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("auth file {}: {reason}", file.display())]
pub struct AuthError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    keys: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    token_sha256: String,
    role: Role,
    jobcenters: Vec<String>,
}

/// The keys of an auth file, by token hash.
#[derive(Debug, Clone)]
pub struct Keys {
    by_hash: HashMap<[u8; 32], Caller>,
}

impl Keys {
    /// Reads and checks an auth file.
    pub fn load(path: &Path) -> Result<Keys, AuthError> {
        let fail = |reason: String| AuthError {
            file: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        Keys::parse(&text).map_err(fail)
    }

    /// Parses the TOML text of an auth file.
    pub fn parse(text: &str) -> Result<Keys, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.keys.is_empty() {
            return Err("no [[keys]]".into());
        }
        let mut by_hash = HashMap::new();
        for (i, e) in file.keys.into_iter().enumerate() {
            let at = |reason: &str| format!("key {} ('{}'): {reason}", i + 1, e.name);
            if e.name.trim().is_empty() {
                return Err(at("name is empty"));
            }
            let hash = decode_hex(&e.token_sha256)
                .ok_or_else(|| at("token_sha256 must be 64 hexadecimal digits"))?;
            let scope = match &e.jobcenters[..] {
                [] => return Err(at("jobcenters is empty; list ids or [\"*\"]")),
                [all] if all == "*" => None,
                ids if ids.iter().any(|j| j == "*") => {
                    return Err(at("\"*\" cannot be combined with jobcenter ids"));
                }
                ids => Some(ids.iter().cloned().collect()),
            };
            let caller = Caller {
                name: e.name.clone(),
                role: e.role,
                scope,
            };
            if by_hash.insert(hash, caller).is_some() {
                return Err(at("the same token hash appears twice"));
            }
        }
        Ok(Keys { by_hash })
    }

    /// The caller holding `token`, if any.
    pub fn caller(&self, token: &str) -> Option<&Caller> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&hash)
    }

    /// A warning for every key scoped to a jobcenter the data does not hold (checked at
    /// start and after each reload: such a key sees nothing of that jobcenter).
    pub fn unknown_scopes(&self, units: &[Unit]) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .callers()
            .flat_map(|caller| {
                caller
                    .scope
                    .iter()
                    .flatten()
                    .filter(|j| !units.iter().any(|u| &u.jobcenter_id == *j))
                    .map(move |j| {
                        format!(
                            "key '{}' is scoped to jobcenter {j}, which this extract does not hold",
                            caller.name
                        )
                    })
            })
            .collect();
        warnings.sort();
        warnings
    }

    /// Every key's scope, for warnings about jobcenters the extract lacks.
    pub fn callers(&self) -> impl Iterator<Item = &Caller> {
        self.by_hash.values()
    }
}

fn decode_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The bearer check in front of every protected route: puts the [`Caller`] on the
/// request (open mode: [`Caller::open`]) and its name on the response for the log.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match state.keys() {
        None => Caller::open(),
        Some(keys) => {
            let header = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let Some(token) = bearer(header) else {
                return Problem::unauthorized("send the header 'Authorization: Bearer <token>'")
                    .into_response();
            };
            match keys.caller(token) {
                Some(caller) => caller.clone(),
                None => {
                    return Problem::unauthorized("the bearer token is not known").into_response();
                }
            }
        }
    };
    let name = CallerName(caller.name.clone());
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(name);
    response
}

/// Refuses (403) a question that reaches outside `scope`: a unit filter (or contrasted
/// unit) naming a jobcenter outside it or covering one (a comparison type with a foreign
/// member), and a breakdown by comparison type that would show parts of such types.
/// `named` are `(parameter, dimension, value)` triples naming units. For a scoped caller
/// an id the data does not hold is refused alike, so that ids outside the scope cannot
/// be probed, and refusals list only the caller's own jobcenters.
pub fn check_reach<'a>(
    scope: Option<&BTreeSet<String>>,
    units: &[Unit],
    named: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    by: &[String],
) -> Result<(), Problem> {
    let Some(scope) = scope else { return Ok(()) };
    let own = scope.iter().cloned().collect::<Vec<_>>().join(", ");
    if !units.iter().any(|u| scope.contains(&u.jobcenter_id)) {
        return Err(Problem::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "Outside your scope",
            format!("none of your jobcenters ({own}) is in the data this server holds"),
        ));
    }
    for (param, dim, value) in named {
        let reached: Vec<&str> = units
            .iter()
            .filter(|u| match dim {
                "jobcenter_id" => u.jobcenter_id == value,
                "district_id" => u.district_id == value,
                "comparison_type" => u.comparison_type.as_deref() == Some(value),
                _ => false,
            })
            .map(|u| u.jobcenter_id.as_str())
            .collect();
        if reached.is_empty() || reached.iter().any(|j| !scope.contains(*j)) {
            return Err(Problem::forbidden(
                param,
                format!("{dim} = {value} is not within your scope (your jobcenters: {own})"),
            ));
        }
    }
    if by.iter().any(|d| d == "comparison_type") {
        let partial = units.iter().any(|u| {
            !scope.contains(&u.jobcenter_id)
                && units.iter().any(|o| {
                    scope.contains(&o.jobcenter_id) && o.comparison_type == u.comparison_type
                })
        });
        if partial {
            return Err(Problem::forbidden(
                "by",
                format!(
                    "a comparison type you would see holds jobcenters outside your scope (your jobcenters: {own}); break down by jobcenter_id instead"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // printf 'secret' | sha256sum
    const SECRET_SHA256: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    #[test]
    fn a_token_is_found_by_its_hash_only() {
        let keys = Keys::parse(&format!(
            "[[keys]]\nname = \"a\"\ntoken_sha256 = \"{SECRET_SHA256}\"\nrole = \"reader\"\njobcenters = [\"05515\"]\n"
        ))
        .unwrap();
        let caller = keys.caller("secret").unwrap();
        assert_eq!(caller.name, "a");
        assert_eq!(caller.scope, Some(BTreeSet::from(["05515".to_string()])));
        assert!(keys.caller("Secret").is_none());
        assert!(keys.caller(SECRET_SHA256).is_none());
    }

    #[test]
    fn bad_files_are_refused_with_the_key_and_reason() {
        let entry = |hash: &str, jobcenters: &str| {
            format!(
                "[[keys]]\nname = \"k\"\ntoken_sha256 = \"{hash}\"\nrole = \"reader\"\njobcenters = {jobcenters}\n"
            )
        };
        let err = |text: &str| Keys::parse(text).unwrap_err();
        assert!(err(&entry("abc", "[\"*\"]")).contains("64 hexadecimal"));
        assert!(err(&entry(SECRET_SHA256, "[]")).contains("jobcenters is empty"));
        assert!(err(&entry(SECRET_SHA256, "[\"*\", \"05515\"]")).contains("cannot be combined"));
        let twice = entry(SECRET_SHA256, "[\"*\"]").repeat(2);
        assert!(err(&twice).contains("twice"));
        assert!(err("keys = []").contains("no [[keys]]"));
        assert!(
            err(&entry(SECRET_SHA256, "[\"*\"]").replace("reader", "root"))
                .contains("unknown variant")
        );
    }

    #[test]
    fn keys_scoped_to_jobcenters_the_data_lacks_are_named() {
        let entry = |name: &str, hash: &str, jobcenters: &str| {
            format!(
                "[[keys]]\nname = \"{name}\"\ntoken_sha256 = \"{hash}\"\nrole = \"reader\"\njobcenters = {jobcenters}\n"
            )
        };
        let keys = Keys::parse(
            &[
                entry("region", SECRET_SHA256, "[\"05515\", \"09999\"]"),
                entry("all", &"a".repeat(64), "[\"*\"]"),
            ]
            .concat(),
        )
        .unwrap();
        let units = [Unit {
            district_id: "05515-01".into(),
            district_name: "Mitte".into(),
            jobcenter_id: "05515".into(),
            jobcenter_name: "Münster".into(),
            comparison_type: None,
        }];
        assert_eq!(
            keys.unknown_scopes(&units),
            ["key 'region' is scoped to jobcenter 09999, which this extract does not hold"]
        );
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }
}
