//! Random requests (issue #7, "bad requests"): paths and query strings drawn by proptest
//! from a vocabulary of the API's own words, near-misses and garbage are thrown at every
//! endpoint of a running server. Every answer must be 2xx, or 4xx with an RFC 9457
//! problem that names its status; never a 5xx, a hang or a dropped connection. Every
//! 50th request is a reload with drawn parameters.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

use super::Server;

/// Words the API knows, near-misses, and text no parser expects.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "2017-12", "2017-01", "2018-12", "2014-12", "2099-01", "2017-13", "17-12", "2017-1",
            "0000-00", "J1", "J2", "J3", "J9", "J1-A", "J2-A", "X-A", "district_id",
            "jobcenter_id", "comparison_type", "sex", "format", "invitation_format", "topic", "age_group", "f",
            "m", "d", "standard", "contact_cafe", "group_info", "csv", "json", "true",
            "false", "null", "-1", "0", "1e308", "NaN", "", " ", ",", ",,", "sex,sex",
            "standard,contact_cafe", "a,b,c", "IIa", "IIIb",
        ]).prop_map(str::to_string),
        1 => "[a-z_]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(40).collect()),
        1 => "[0-9]{1,25}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "from", "to", "by", "month", "across", "dimension", "groups", "format", "invitation_format",
            "jobcenter_id", "district_id", "comparison_type", "sex", "age_group",
            "citizenship", "single_parent", "topic", "programme", "min_count", "scope",
        ]).prop_map(str::to_string),
        1 => "[a-z_]{0,10}",
    ]
}

/// A request path with a query string, percent-encoded as a client would send it.
fn request() -> impl Strategy<Value = String> {
    let code = prop_oneof![
        4 => prop::sample::select(vec!["S6", "K2", "K1E2", "S1", "P1"]).prop_map(str::to_string),
        1 => "[A-Za-z0-9]{0,6}",
    ];
    let endpoint = prop::sample::select(vec!["", "/values", "/compare", "/contrast", "/x"]);
    let pairs = prop::collection::vec((key(), word()), 0..7)
        .prop_map(|pairs| serde_urlencoded::to_string(&pairs).unwrap_or_default());
    // Raw query text too: stray `%`, escapes of bytes that are not UTF-8, empty pairs.
    let raw = "([a-z_]{1,8}=([a-z0-9,-]{0,8}|%[0-9A-Fa-f]{2}|%FF%FE|%ZZ|%)?&?){0,5}";
    let query = prop_oneof![4 => pairs, 1 => raw];
    (code, endpoint, query)
        .prop_map(|(code, endpoint, query)| format!("/api/v1/indicators/{code}{endpoint}?{query}"))
}

/// A reload request: `wait` with good and bad values, and strangers.
fn reload() -> impl Strategy<Value = String> {
    let pair = (
        prop_oneof![3 => Just("wait".to_string()), 1 => key()],
        prop_oneof![3 => prop::sample::select(vec!["true", "false"]).prop_map(str::to_string), 1 => word()],
    );
    prop::collection::vec(pair, 0..3).prop_map(|pairs| {
        format!(
            "/api/v1/reload?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    })
}

#[tokio::test]
async fn random_requests_never_get_a_server_error() {
    let server = Server::fixture().await;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let (strategy, reloads) = (request(), reload());
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..1500 {
        // Every 50th request asks for a reload, so that the others also run across
        // swaps of the data.
        let a = if i % 50 == 0 {
            let path = reloads.new_tree(&mut runner).unwrap().current();
            (server.post(&path, None).await, path)
        } else {
            let path = strategy.new_tree(&mut runner).unwrap().current();
            (server.get(&path).await, path)
        };
        let (a, path) = a;
        *statuses.entry(a.status).or_insert(0) += 1;
        assert!(
            (200..500).contains(&a.status),
            "{path}: {} {}",
            a.status,
            a.body
        );
        if a.status >= 400 {
            assert_eq!(a.content_type, "application/problem+json", "{path}");
            let p: Value = serde_json::from_str(&a.body).unwrap();
            assert_eq!(p["status"], a.status, "{path}: {}", a.body);
            assert!(
                p["type"]
                    .as_str()
                    .unwrap()
                    .starts_with("urn:wirkung:problem:")
            );
            assert!(!p["title"].as_str().unwrap().is_empty());
        }
    }
    eprintln!("statuses: {statuses:?}");
    // The vocabulary reaches both kinds of answer, so the property is not vacuous.
    assert!(statuses.contains_key(&200), "{statuses:?}");
    assert!(statuses.keys().any(|s| *s >= 400), "{statuses:?}");
    server.stop().await;
}
