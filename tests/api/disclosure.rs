//! Disclosure control across every kind of answer: an attacker collects every number the
//! API publishes for one month — values by many breakdowns and filters, as JSON and CSV,
//! comparisons and contrasts — and solves every additive line (a total and its parts) for
//! the cells it does not see. No published or derived count may be 1 or 2.
//!
//! The fixture (`tempting`) tempts it with J1-A's single contact-café invitation, J2-A's
//! single attended group session, two counts of 2, a whole jobcenter (J4) of one person,
//! and a person of sex d (counted under m, so that f and m add up to every total). The same attack on a server with `--min-count 0` must find
//! those counts, which shows the attack is strong enough to matter.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wirkung::api::Limits;

use super::{Server, tempting};

type Key = BTreeMap<String, String>;

const DISTRICTS: [(&str, &str, &str); 5] = [
    ("J1-A", "J1", "IIa"),
    ("J1-B", "J1", "IIa"),
    ("J2-A", "J2", "IIIb"),
    ("J3-A", "J3", "IIa"),
    ("J4-A", "J4", "IIa"),
];
const FORMATS: [&str; 3] = ["standard", "contact_cafe", "group_info"];
// Sex d is counted under m or f by birth month: the two add up to every total.
const SEXES: [&str; 2] = ["f", "m"];

/// Drops unit levels implied by a finer one; `None` for an impossible combination.
fn normalize(mut key: Key) -> Option<Key> {
    key.remove("topic"); // every invitation has topic "general"
    if let Some(d) = key.get("district_id").cloned() {
        let &(_, j, t) = DISTRICTS.iter().find(|x| x.0 == d)?;
        if key.get("jobcenter_id").is_some_and(|x| x != j)
            || key.get("comparison_type").is_some_and(|x| x != t)
        {
            return None;
        }
        key.remove("jobcenter_id");
        key.remove("comparison_type");
    } else if let Some(j) = key.get("jobcenter_id").cloned() {
        let &(_, _, t) = DISTRICTS.iter().find(|x| x.1 == j)?;
        if key.get("comparison_type").is_some_and(|x| x != t) {
            return None;
        }
        key.remove("comparison_type");
    }
    Some(key)
}

/// Every additive line the key takes part in as a part: (total, parts).
fn lines_of(key: &Key) -> Vec<(Key, Vec<Key>)> {
    let mut lines = Vec::new();
    let with = |base: &Key, dim: &str, values: &[&str]| -> Vec<Key> {
        values
            .iter()
            .filter_map(|v| {
                let mut k = base.clone();
                k.insert(dim.into(), v.to_string());
                normalize(k)
            })
            .collect()
    };
    for (dim, domain) in [("invitation_format", &FORMATS[..]), ("sex", &SEXES[..])] {
        if key.contains_key(dim) {
            let mut total = key.clone();
            total.remove(dim);
            lines.push((total.clone(), with(&total, dim, domain)));
        }
    }
    let mut rest = key.clone();
    for level in ["district_id", "jobcenter_id", "comparison_type"] {
        rest.remove(level);
    }
    let jobcenters: BTreeSet<&str> = DISTRICTS.iter().map(|d| d.1).collect();
    let types: BTreeSet<&str> = DISTRICTS.iter().map(|d| d.2).collect();
    let districts_of =
        |j: &str| -> Vec<&str> { DISTRICTS.iter().filter(|d| d.1 == j).map(|d| d.0).collect() };
    let jobcenters_of = |t: &str| -> Vec<&str> {
        let set: BTreeSet<&str> = DISTRICTS.iter().filter(|d| d.2 == t).map(|d| d.1).collect();
        set.into_iter().collect()
    };
    let all: Vec<&str> = DISTRICTS.iter().map(|d| d.0).collect();
    lines.push((rest.clone(), with(&rest, "district_id", &all)));
    lines.push((
        rest.clone(),
        with(
            &rest,
            "jobcenter_id",
            &jobcenters.iter().copied().collect::<Vec<_>>(),
        ),
    ));
    lines.push((
        rest.clone(),
        with(
            &rest,
            "comparison_type",
            &types.iter().copied().collect::<Vec<_>>(),
        ),
    ));
    for j in &jobcenters {
        let total = with(&rest, "jobcenter_id", &[j]).remove(0);
        lines.push((total, with(&rest, "district_id", &districts_of(j))));
    }
    for t in &types {
        let total = with(&rest, "comparison_type", &[t]).remove(0);
        lines.push((
            total.clone(),
            with(&rest, "jobcenter_id", &jobcenters_of(t)),
        ));
        let districts: Vec<&str> = DISTRICTS
            .iter()
            .filter(|d| d.2 == *t)
            .map(|d| d.0)
            .collect();
        lines.push((total, with(&rest, "district_id", &districts)));
    }
    lines
}

/// What the attacker knows: per key, numerator and denominator (None = not seen).
#[derive(Default)]
struct Knowledge {
    facts: BTreeMap<Key, [Option<f64>; 2]>,
    derived: Vec<(Key, usize, f64)>,
}

impl Knowledge {
    fn learn(&mut self, key: Key, numbers: [Option<f64>; 2]) {
        let Some(key) = normalize(key) else { return };
        let entry = self.facts.entry(key.clone()).or_insert([None, None]);
        for (slot, new) in entry.iter_mut().zip(numbers) {
            if let Some(n) = new {
                if let Some(old) = slot {
                    assert!(
                        (*old - n).abs() < 1e-9,
                        "two answers disagree on {key:?}: {old} vs {n}"
                    );
                }
                *slot = Some(n);
            }
        }
    }

    fn learn_row(&mut self, filters: &Key, row: &Value, dims: &[&str]) {
        let mut key = filters.clone();
        for d in dims {
            match &row[*d] {
                Value::String(s) => {
                    key.insert(d.to_string(), s.clone());
                }
                _ => return,
            }
        }
        self.learn(
            key,
            [row["numerator"].as_f64(), row["denominator"].as_f64()],
        );
    }

    /// Solves every line with exactly one unknown until nothing changes.
    fn solve(&mut self) {
        loop {
            let mut changed = false;
            let keys: Vec<Key> = self.facts.keys().cloned().collect();
            let mut lines = Vec::new();
            for k in &keys {
                lines.extend(lines_of(k));
            }
            for (total, parts) in lines {
                for measure in 0..2 {
                    let get = |k: &Key| self.facts.get(k).and_then(|f| f[measure]);
                    let unknown_parts: Vec<&Key> =
                        parts.iter().filter(|p| get(p).is_none()).collect();
                    let derived = match (get(&total), &unknown_parts[..]) {
                        (Some(t), [only]) => {
                            let known: f64 = parts.iter().filter_map(&get).sum();
                            Some(((*only).clone(), t - known))
                        }
                        (None, []) => Some((total.clone(), parts.iter().filter_map(&get).sum())),
                        _ => None,
                    };
                    if let Some((key, value)) = derived {
                        let entry = self.facts.entry(key.clone()).or_insert([None, None]);
                        entry[measure] = Some(value);
                        self.derived.push((key, measure, value));
                        changed = true;
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// Every known count strictly between 0 and 3.
    fn revealed_small_counts(&self) -> Vec<(Key, usize, f64)> {
        let mut out = Vec::new();
        for (k, f) in &self.facts {
            for (measure, v) in f.iter().enumerate() {
                if let Some(v) = v.filter(|v| *v > 0.0 && *v < 3.0) {
                    out.push((k.clone(), measure, v));
                }
            }
        }
        out
    }
}

fn filters(query: &str) -> Key {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .filter(|(n, _)| !["from", "by", "month", "across", "dimension", "groups"].contains(n))
        .filter(|(n, _)| *n != "format") // the rendering
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Asks every question of the attack and collects the answers.
async fn attack(server: &Server) -> Knowledge {
    let mut k = Knowledge::default();
    let base = "/api/v1/indicators/S6";
    let breakdowns = [
        "",
        "jobcenter_id",
        "district_id",
        "comparison_type",
        "invitation_format",
        "sex",
        "district_id,invitation_format",
        "jobcenter_id,invitation_format",
        "comparison_type,invitation_format",
        "invitation_format,sex",
        "district_id,sex",
        "jobcenter_id,sex,invitation_format",
        "district_id,invitation_format,sex",
    ];
    let filtered = [
        "jobcenter_id=J1&by=invitation_format",
        "jobcenter_id=J2&by=invitation_format",
        "district_id=J1-A&by=invitation_format",
        "invitation_format=contact_cafe&by=district_id",
        "invitation_format=group_info&by=jobcenter_id",
        "comparison_type=IIa&by=invitation_format",
        "sex=f&by=invitation_format",
        "invitation_format=standard",
        "invitation_format=contact_cafe&jobcenter_id=J1",
        "invitation_format=group_info&comparison_type=IIIb",
        "sex=m&invitation_format=contact_cafe&by=district_id",
    ];
    let mut questions: Vec<String> = breakdowns
        .iter()
        .map(|b| {
            if b.is_empty() {
                String::new()
            } else {
                format!("&by={b}")
            }
        })
        .collect();
    questions.extend(filtered.iter().map(|f| format!("&{f}")));
    for q in &questions {
        let v = server.ok(&format!("{base}/values?from=2017-12{q}")).await;
        let by: Vec<&str> = q
            .split('&')
            .find_map(|p| p.strip_prefix("by="))
            .map(|b| b.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        for row in v["rows"].as_array().unwrap() {
            k.learn_row(&filters(q), row, &by);
        }
    }
    // CSV of the finest breakdown: the same numbers, withheld cells empty.
    let csv = server
        .get(&format!(
            "{base}/values?from=2017-12&by=district_id,invitation_format&format=csv"
        ))
        .await;
    for line in csv.body.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |s: &str| s.parse::<f64>().ok();
        let key: Key = [("district_id", f[1]), ("invitation_format", f[2])]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        k.learn(key, [num(f[3]), num(f[4])]);
    }
    for q in [
        "across=district_id",
        "across=district_id&invitation_format=contact_cafe",
        "across=jobcenter_id&invitation_format=group_info",
        "across=district_id&jobcenter_id=J1",
        "across=jobcenter_id&sex=m",
        "across=jobcenter_id",
        "across=jobcenter_id&comparison_type=IIa",
        "across=district_id&invitation_format=standard",
    ] {
        let c = server
            .ok(&format!("{base}/compare?month=2017-12&{q}"))
            .await;
        let f = filters(q);
        k.learn(
            f.clone(),
            [
                c["pooled"]["numerator"].as_f64(),
                c["pooled"]["denominator"].as_f64(),
            ],
        );
        let across = c["across"].as_str().unwrap().to_string();
        for u in c["units"].as_array().unwrap() {
            let mut key = f.clone();
            key.insert(across.clone(), u["unit"].as_str().unwrap().into());
            k.learn(key, [u["numerator"].as_f64(), u["denominator"].as_f64()]);
        }
    }
    for q in [
        "dimension=invitation_format&groups=standard,contact_cafe,group_info",
        "dimension=invitation_format&groups=standard,contact_cafe&jobcenter_id=J1",
        "dimension=invitation_format&groups=standard,contact_cafe,group_info&district_id=J1-A",
        "dimension=invitation_format&groups=standard,group_info&jobcenter_id=J2",
        "dimension=sex&groups=f,m&invitation_format=contact_cafe",
        "dimension=district_id&groups=J1-A,J1-B&invitation_format=contact_cafe",
    ] {
        let c = server
            .ok(&format!("{base}/contrast?month=2017-12&{q}"))
            .await;
        let f = filters(q);
        let dim = c["dimension"].as_str().unwrap().to_string();
        for g in c["groups"].as_array().unwrap() {
            let mut key = f.clone();
            key.insert(dim.clone(), g["group"].as_str().unwrap().into());
            k.learn(key, [g["numerator"].as_f64(), g["denominator"].as_f64()]);
            // A test result over a withheld group would let one solve for its count.
            if g["status"] != "available" {
                assert_eq!(c["test"], Value::Null, "{q}");
                assert_eq!(c["difference"], Value::Null, "{q}");
            }
        }
    }
    k.solve();
    k
}

#[tokio::test]
async fn no_count_of_1_or_2_can_be_read_or_derived_from_any_answer() {
    let server = Server::start(tempting().written(), None, Limits::default()).await;
    let k = attack(&server).await;
    let revealed = k.revealed_small_counts();
    assert!(revealed.is_empty(), "revealed: {revealed:?}");
    // The attack did work with what it saw: it derived cells it was not shown.
    assert!(!k.derived.is_empty());
    // The tempting cells were withheld, not simply absent.
    let a = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&by=district_id,invitation_format")
        .await;
    let cell = |d: &str, f: &str| {
        a["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["district_id"] == d && r["invitation_format"] == f)
            .cloned()
            .unwrap()
    };
    assert_eq!(cell("J1-A", "contact_cafe")["suppressed"], "primary");
    assert_eq!(cell("J2-A", "group_info")["suppressed"], "primary");
    let j = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&by=jobcenter_id")
        .await;
    assert_eq!(j["rows"][3]["jobcenter_id"], "J4");
    assert_eq!(j["rows"][3]["suppressed"], "primary");
    server.stop().await;
}

#[tokio::test]
async fn the_same_attack_without_disclosure_control_finds_the_small_counts() {
    let limits = Limits {
        min_count: 0,
        ..Limits::default()
    };
    let server = Server::start(tempting().written(), None, limits).await;
    let k = attack(&server).await;
    let revealed = k.revealed_small_counts();
    let key = |pairs: &[(&str, &str)]| -> Key {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let j1a_cafe = key(&[
        ("district_id", "J1-A"),
        ("invitation_format", "contact_cafe"),
    ]);
    let j2a_group = key(&[("district_id", "J2-A"), ("invitation_format", "group_info")]);
    assert!(
        revealed
            .iter()
            .any(|(k, m, v)| *k == j1a_cafe && *m == 1 && *v == 1.0),
        "{revealed:?}"
    );
    assert!(
        revealed
            .iter()
            .any(|(k, m, v)| *k == j2a_group && *m == 0 && *v == 1.0),
        "{revealed:?}"
    );
    // Read directly: J4's one attended invitation of two.
    let j4 = key(&[("jobcenter_id", "J4")]);
    assert!(
        revealed
            .iter()
            .any(|(k, m, v)| *k == j4 && *m == 0 && *v == 1.0),
        "{revealed:?}"
    );
    // Nothing is left to find by difference along sex: J2-A's f and m cells add up to
    // its total, the person of sex d (born in May) inside m.
    let by_sex = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&by=sex&district_id=J2-A")
        .await;
    let total = server
        .ok("/api/v1/indicators/S6/values?from=2017-12&district_id=J2-A")
        .await;
    let rows = by_sex["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{by_sex}");
    for field in ["numerator", "denominator"] {
        let parts: f64 = rows.iter().map(|r| r[field].as_f64().unwrap()).sum();
        assert_eq!(parts, total["rows"][0][field].as_f64().unwrap(), "{field}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_question_beyond_the_publication_profile_is_refused_at_the_public_threshold() {
    // Three attributes (sex, age group, format), over the breakdown and the filters
    // together: beyond the profile of units × at most two attributes, for values,
    // compare and contrast alike. Without disclosure control the same questions are
    // answered.
    let questions = [
        "/api/v1/indicators/S6/values?from=2017-12&by=district_id,sex,age_group,invitation_format",
        "/api/v1/indicators/S6/values?from=2017-12&by=sex,invitation_format&age_group=25_54",
        "/api/v1/indicators/S6/compare?month=2017-12&across=district_id&sex=f&age_group=25_54&invitation_format=standard",
        "/api/v1/indicators/S6/contrast?month=2017-12&dimension=invitation_format&groups=standard,contact_cafe&sex=f&age_group=25_54",
    ];
    let public = Server::start(tempting().written(), None, Limits::default()).await;
    for q in questions {
        let a = public.get(q).await;
        assert_eq!(a.status, 400, "{q}: {}", a.body);
        let problem = a.json();
        assert_eq!(
            problem["type"], "urn:wirkung:problem:beyond-publication-profile",
            "{q}"
        );
        let detail = problem["detail"].as_str().unwrap();
        for named in [
            "sex",
            "age_group",
            "invitation_format",
            "at most 2",
            "--min-count 0",
        ] {
            assert!(detail.contains(named), "{q}: {detail}");
        }
    }
    // Two attributes are inside the profile.
    public
        .ok("/api/v1/indicators/S6/values?from=2017-12&by=district_id,sex,invitation_format")
        .await;
    public.stop().await;

    let internal = Limits {
        min_count: 0,
        ..Limits::default()
    };
    let internal = Server::start(tempting().written(), None, internal).await;
    for q in questions {
        internal.ok(q).await;
    }
    internal.stop().await;
}
