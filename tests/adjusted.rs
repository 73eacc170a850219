//! The adjusted modes of `compare` and `contrast` on a fixture worked out by hand:
//! indirect standardisation of districts by sex (O, E, O/E and its interval, adjusted
//! value, rank, limits), the three reference populations, one stratum giving the crude
//! figures, withheld strata withholding O/E, and the refusals of bad `adjust`.

use wirkung::answers::compare::{self, CompareRequest, Comparison, Flag};
use wirkung::answers::standardised::Reference;
use wirkung::answers::values::Status;
use wirkung::engine::QuestionError;
use wirkung::month::Month;
use wirkung::open::Project;
use wirkung::stats;

use crate::support::fixture::{Fixture, Val, d, s};

/// Invitations of 2017 per district and sex as (attended, invitations):
///
/// | district | women | men | all |
/// |---|---|---|---|
/// | J1-A (J1, IIa) | 8 of 10 | 2 of 10 | 10 of 20 |
/// | J1-B (J1, IIa) | 3 of 4 | 6 of 16 | 9 of 20 |
/// | J2-A (J2, IIIb) | 6 of 12 | 4 of 8 | 10 of 20 |
///
/// Pooled: women 17 of 26, men 12 of 34, all 29 of 60. Women attend more often, and
/// J1-B invites mostly men: its crude share is the lowest, its adjusted one the highest.
const INVITED: [(&str, [(u32, u32); 2]); 3] = [
    ("J1-A", [(8, 10), (2, 10)]),
    ("J1-B", [(3, 4), (6, 16)]),
    ("J2-A", [(6, 12), (4, 8)]),
];

/// Districts far apart (crude shares 95 %, 5 % and 50 % around a pooled 50 %): the
/// z-scores ±4.02 and 0 winsorise to ±3.22 and 0, φ = 6.9, and I·φ = 20.7 > I − 1, so
/// the units are over-dispersed (τ² > 0).
const DISPERSED: [(&str, [(u32, u32); 2]); 3] = [
    ("J1-A", [(10, 10), (9, 10)]),
    ("J1-B", [(1, 10), (0, 10)]),
    ("J2-A", [(5, 10), (5, 10)]),
];

/// The fixture of [`INVITED`], every invitation in `format`.
fn invited(format: &str) -> Fixture {
    invited_from(&INVITED, format)
}

/// The fixture of a table like [`INVITED`].
fn invited_from(table: &[(&str, [(u32, u32); 2])], format: &str) -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.present("invitations");
    let mut id = 0;
    for &(district, sexes) in table {
        for ((attended, invitations), sex) in sexes.into_iter().zip(["f", "m"]) {
            let person = format!("{district}-{sex}");
            f.person(&person, sex, "1980-05-01")
                .benefit(&person, district, "2016-01", "2017-12", true);
            for k in 0..invitations {
                id += 1;
                f.row(
                    "invitations",
                    vec![
                        s(&format!("i{id}")),
                        s(&person),
                        d(&format!("2017-{:02}-10", 1 + k % 12)),
                        s(format),
                        s("general"),
                        Val::B(Some(k < attended)),
                    ],
                );
            }
        }
    }
    f
}

async fn open(fixture: &Fixture) -> (tempfile::TempDir, Project) {
    let dir = fixture.written();
    let project = crate::support::open(dir.path()).await;
    (dir, project)
}

fn month() -> Month {
    "2017-12".parse().expect("a month")
}

fn request(adjust: &[&str]) -> CompareRequest {
    CompareRequest {
        adjust: adjust.iter().map(|a| a.to_string()).collect(),
        ..CompareRequest::new("S6", month(), "district_id")
    }
}

async fn ask(project: &Project, req: &CompareRequest) -> Comparison {
    compare::compare(&project.engine, req)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn close(a: Option<f64>, b: f64, tol: f64) {
    let a = a.expect("a number");
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[tokio::test]
async fn districts_standardised_by_sex_against_the_pooled_rates() {
    let (_dir, project) = open(&invited("standard")).await;
    let c = ask(&project, &request(&["sex"])).await;
    let adjustment = c.adjustment.as_ref().expect("adjusted");
    assert_eq!(adjustment.strata, ["sex"]);
    assert_eq!(adjustment.reference, Reference::Compared);
    assert!(adjustment.note.contains("not randomisation"));
    // E = women × 17/26 + men × 12/34.
    let (rf, rm) = (17.0 / 26.0, 12.0 / 34.0);
    let want = [
        ("J1-A", 10.0, 10.0 * rf + 10.0 * rm),
        ("J1-B", 9.0, 4.0 * rf + 16.0 * rm),
        ("J2-A", 10.0, 12.0 * rf + 8.0 * rm),
    ];
    let mut expected_total = 0.0;
    for (u, (id, o, e)) in c.units.iter().zip(want) {
        assert_eq!(u.unit, id);
        let a = u.adjusted.as_ref().expect("adjusted figures");
        assert_eq!(a.status, Status::Available);
        close(a.observed, o, 1e-9);
        close(a.expected, e, 1e-4);
        close(a.ratio, o / e, 1e-6);
        let (lo, hi) = stats::poisson_exact(o, 0.95).expect("interval");
        close(a.ci_low, lo / e, 1e-6);
        close(a.ci_high, hi / e, 1e-6);
        close(a.reference_value, 100.0 * 29.0 / 60.0, 1e-3);
        close(a.value, 100.0 * (o / e) * 29.0 / 60.0, 1e-3);
        expected_total += a.expected.unwrap_or_default();
    }
    // Against the compared units' own rates, E adds up to O.
    assert!((expected_total - 29.0).abs() < 1e-3, "{expected_total}");
    // Crude: J1-A and J2-A share rank 1 (50 %), J1-B 45 % is last. Adjusted: J1-B
    // (O/E 1.089) first, J1-A (0.993) second, J2-A (0.937) third.
    let crude: Vec<Option<u32>> = c.units.iter().map(|u| u.rank).collect();
    assert_eq!(crude, [Some(1), Some(3), Some(1)]);
    let adjusted: Vec<Option<u32>> = c
        .units
        .iter()
        .map(|u| u.adjusted.as_ref().and_then(|a| a.rank))
        .collect();
    assert_eq!(adjusted, [Some(2), Some(1), Some(3)]);
    // Three units that vary less than chance: φ < 1, τ² = 0, so the limits are the
    // exact Poisson limits of O/E around 1 for exposure E.
    let dispersion = c.dispersion.as_ref().expect("dispersion");
    assert_eq!(dispersion.scale, "log_ratio");
    assert_eq!(dispersion.units, 3);
    assert_eq!(dispersion.tau2, 0.0);
    assert!(!dispersion.overdispersed && !dispersion.applied);
    for u in &c.units {
        let a = u.adjusted.as_ref().expect("adjusted");
        let e = a.expected.expect("E");
        let (lo, hi) = stats::funnel::poisson_funnel(1.0, e, 0.998).expect("limits");
        let limits = a.funnel998.expect("limits");
        assert!((limits[0] - lo).abs() < 1e-5 && (limits[1] - hi).abs() < 1e-5);
        assert_eq!(a.flag, Some(Flag::Within));
    }
}

#[tokio::test]
async fn one_stratum_gives_the_crude_figures() {
    // Every invitation is a letter: adjusting for the format has one stratum, E is the
    // unit's denominator × the pooled share, and the adjusted value is the crude one.
    let (_dir, project) = open(&invited("standard")).await;
    let c = ask(&project, &request(&["invitation_format"])).await;
    for u in &c.units {
        let a = u.adjusted.as_ref().expect("adjusted");
        close(a.value, u.figure.value.expect("a value"), 1e-3);
        assert_eq!(a.rank, u.rank);
    }
}

#[tokio::test]
async fn reference_rates_of_the_whole_extract_or_the_comparison_type() {
    let (_dir, project) = open(&invited("standard")).await;
    let j1 = |reference| CompareRequest {
        filters: vec![("jobcenter_id".into(), "J1".into())],
        reference,
        ..request(&["sex"])
    };
    // J1's districts against J1's own rates (women 11 of 14, men 8 of 26) …
    let own = ask(&project, &j1(Reference::Compared)).await;
    let a = own.units[0].adjusted.as_ref().expect("J1-A");
    close(a.expected, 10.0 * 11.0 / 14.0 + 10.0 * 8.0 / 26.0, 1e-4);
    close(a.reference_value, 100.0 * 19.0 / 40.0, 1e-3);
    // … against the whole extract's (women 17 of 26, men 12 of 34) …
    let all = ask(&project, &j1(Reference::All)).await;
    let a = all.units[0].adjusted.as_ref().expect("J1-A");
    close(a.expected, 10.0 * 17.0 / 26.0 + 10.0 * 12.0 / 34.0, 1e-4);
    close(a.reference_value, 100.0 * 29.0 / 60.0, 1e-3);
    // … and against its comparison type IIa, which only J1 has: J1's rates again.
    let by_type = ask(&project, &j1(Reference::ComparisonType)).await;
    assert_eq!(by_type.units[0].adjusted, own.units[0].adjusted);
    // J2-A against type IIIb (only J2-A): O/E = 1 exactly.
    let c = ask(
        &project,
        &CompareRequest {
            reference: Reference::ComparisonType,
            ..request(&["sex"])
        },
    )
    .await;
    let j2 = c.units[2].adjusted.as_ref().expect("J2-A");
    close(j2.ratio, 1.0, 1e-9);
}

#[tokio::test]
async fn a_withheld_stratum_withholds_the_units_ratio() {
    // At the public threshold J1-A's men attended 2 invitations: that cell is withheld,
    // so J1-A has no O, E or O/E (E and the rates would give it back).
    let (_dir, project) = open(&invited("standard")).await;
    let req = CompareRequest {
        min_count: 3,
        ..request(&["sex"])
    };
    let c = ask(&project, &req).await;
    let a = c.units[0].adjusted.as_ref().expect("J1-A");
    assert_eq!(a.status, Status::Suppressed);
    assert!(a.observed.is_none() && a.expected.is_none() && a.ratio.is_none());
    assert!(
        a.reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("the stratum cell district_id=J1-A"),
        "{:?}",
        a.reason
    );
    // Every unit with a ratio has all its stratum cells published.
    let cells = project
        .engine
        .compute(&wirkung::engine::Request {
            by: vec!["district_id".into(), "sex".into()],
            min_count: 3,
            ..wirkung::engine::Request::new("S6", month(), month())
        })
        .await
        .expect("values");
    for u in &c.units {
        let published = cells
            .rows
            .iter()
            .filter(|r| format!("{:?}", r.cell[0].1).contains(&u.unit))
            .all(|r| r.figure.status != Status::Suppressed);
        let a = u.adjusted.as_ref().expect("adjusted");
        assert_eq!(a.ratio.is_some(), published, "{}", u.unit);
    }
}

#[tokio::test]
async fn over_dispersion_is_reported_and_widens_only_on_request_when_crude() {
    let (_dir, project) = open(&invited_from(&DISPERSED, "standard")).await;
    let crude = ask(&project, &request(&[])).await;
    assert!(crude.adjustment.is_none());
    let dispersion = crude.dispersion.as_ref().expect("reported");
    assert_eq!(dispersion.scale, "proportion");
    // φ from the z-scores of 19, 1 and 10 of 20 around 30 of 60 (see DISPERSED).
    let z = 0.45 / (0.25f64 / 20.0).sqrt();
    let winsorised = z - 0.2 * z;
    assert!((dispersion.phi - 2.0 * winsorised * winsorised / 3.0).abs() < 1e-5);
    assert!(dispersion.overdispersed && dispersion.tau2 > 0.0);
    assert!(!dispersion.applied);
    let widened = ask(
        &project,
        &CompareRequest {
            overdispersion: Some(true),
            ..request(&[])
        },
    )
    .await;
    assert!(widened.dispersion.as_ref().is_some_and(|d| d.applied));
    for (a, b) in crude.units.iter().zip(&widened.units) {
        let (x, y) = (a.funnel998.expect("limits"), b.funnel998.expect("limits"));
        assert!(y[0] <= x[0] && y[1] >= x[1], "{x:?} {y:?}");
        // τ² widens the upper limit of every unit (the lower one may stay at 0 %).
        assert!(y[1] > x[1], "{x:?} {y:?}");
    }
    // Unwidened, J1-A (95 %) and J1-B (5 %) lie outside the 99.8 % limits.
    let flags: Vec<Option<Flag>> = crude.units.iter().map(|u| u.flag).collect();
    assert_eq!(
        flags,
        [Some(Flag::Above), Some(Flag::Below), Some(Flag::Within)]
    );
    // In the adjusted mode `overdispersion` concerns the O/E limits: the crude limits
    // beside them stay the ordinary ones.
    let adjusted = ask(
        &project,
        &CompareRequest {
            overdispersion: Some(true),
            ..request(&["sex"])
        },
    )
    .await;
    for (a, b) in crude.units.iter().zip(&adjusted.units) {
        assert_eq!(a.funnel998, b.funnel998);
        assert_eq!(a.flag, b.flag);
    }
}

#[tokio::test]
async fn bad_adjustments_are_refused_with_the_reason() {
    let (_dir, project) = open(&invited("standard")).await;
    let refused = |adjust: &[&str], code: &str, min_count: u32| {
        let req = CompareRequest {
            indicator: code.into(),
            min_count,
            ..request(adjust)
        };
        let engine = &project.engine;
        async move {
            match compare::compare(engine, &req).await {
                Err(QuestionError::BadParameter { name, reason }) => {
                    assert_eq!(name, "adjust");
                    reason
                }
                other => panic!("{other:?}"),
            }
        }
    };
    assert!(
        refused(&["colour"], "S6", 0)
            .await
            .contains("no dimension 'colour'")
    );
    assert!(
        refused(&["jobcenter_id"], "S6", 0)
            .await
            .contains("is a unit")
    );
    assert!(
        refused(&["sex", "sex"], "S6", 0)
            .await
            .contains("named twice")
    );
    assert!(
        refused(&["sex"], "K1E2", 0)
            .await
            .contains("change indicator")
    );
    let beyond = refused(&["sex", "age_group", "citizenship"], "S6", 3).await;
    assert!(beyond.contains("too many strata"), "{beyond}");
    // Without disclosure control the same strata are answered.
    let c = ask(&project, &request(&["sex", "age_group", "citizenship"])).await;
    assert!(c.units.iter().all(|u| u.adjusted.is_some()));
}

/// [`invited`] with women invited to the contact café and men by letter in J1, and
/// everyone by letter in J2: within each sex × jobcenter stratum only one format, so
/// no stratum compares the formats.
fn formats_by_sex() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    f.present("invitations");
    // (person, district, sex, format, attended, invitations)
    let rows = [
        ("a", "J1-A", "f", "contact_cafe", 8, 10),
        ("b", "J1-A", "m", "standard", 2, 10),
        ("c", "J2-A", "f", "standard", 6, 12),
        ("e", "J2-A", "m", "contact_cafe", 4, 8),
    ];
    let mut id = 0;
    for (person, district, sex, format, attended, invitations) in rows {
        f.person(person, sex, "1980-05-01")
            .benefit(person, district, "2016-01", "2017-12", true);
        for k in 0..invitations {
            id += 1;
            f.row(
                "invitations",
                vec![
                    s(&format!("i{id}")),
                    s(person),
                    d(&format!("2017-{:02}-10", 1 + k % 12)),
                    s(format),
                    s("general"),
                    Val::B(Some(k < attended)),
                ],
            );
        }
    }
    f
}

fn contrast_request(adjust: &[&str]) -> wirkung::answers::contrast::ContrastRequest {
    wirkung::answers::contrast::ContrastRequest {
        indicator: "S6".into(),
        month: month(),
        dimension: "invitation_format".into(),
        groups: vec!["contact_cafe".into(), "standard".into()],
        filters: Vec::new(),
        min_count: 0,
        scope: None,
        adjust: adjust.iter().map(|a| a.to_string()).collect(),
    }
}

#[tokio::test]
async fn a_contrast_within_strata_worked_by_hand() {
    use wirkung::answers::contrast::contrast;
    let (_dir, project) = open(&formats_by_sex()).await;
    // Crude: café 12 of 18, letters 8 of 22. OR = (12·14)/(6·8) = 3.5,
    // RR = (12/18)/(8/22) = 11/6.
    let c = contrast(&project.engine, &contrast_request(&["sex"]))
        .await
        .expect("contrast");
    let s = c.adjusted.expect("stratified");
    close(s.crude_odds_ratio.map(|r| r.estimate), 3.5, 1e-6);
    close(s.crude_risk_ratio.map(|r| r.estimate), 11.0 / 6.0, 1e-6);
    // Women: café 8 of 10, letters 6 of 12 (n = 22); men: café 4 of 8, letters 2 of
    // 10 (n = 18). MH OR = (8·6/22 + 4·8/18) / (2·6/22 + 4·2/18)
    //                    = (2.181818 + 1.777778) / (0.545455 + 0.444444) = 4.0;
    // MH RR = (8·12/22 + 4·10/18) / (6·10/22 + 2·8/18) = 6.585859 / 3.616162.
    assert_eq!(s.tables.len(), 2);
    assert_eq!(s.tables[0].stratum, "sex=f");
    assert_eq!(s.tables[0].first, [8.0, 10.0]);
    assert_eq!(s.tables[0].second, [6.0, 12.0]);
    let mh_or = (8.0 * 6.0 / 22.0 + 4.0 * 8.0 / 18.0) / (2.0 * 6.0 / 22.0 + 4.0 * 2.0 / 18.0);
    close(s.odds_ratio.map(|r| r.estimate), mh_or, 1e-6);
    let mh_rr = (8.0 * 12.0 / 22.0 + 4.0 * 10.0 / 18.0) / (6.0 * 10.0 / 22.0 + 2.0 * 8.0 / 18.0);
    close(s.risk_ratio.map(|r| r.estimate), mh_rr, 1e-6);
    // CMH: Σa = 12, ΣE = 10·14/22 + 8·6/18 = 9.030303, Σvar = 10·12·14·8/(22²·21)
    // + 8·10·6·12/(18²·17) = 1.322314 + 1.045752.
    let var = 10.0 * 12.0 * 14.0 * 8.0 / (22.0 * 22.0 * 21.0)
        + 8.0 * 10.0 * 6.0 * 12.0 / (18.0 * 18.0 * 17.0);
    let expected = 10.0 * 14.0 / 22.0 + 8.0 * 6.0 / 18.0;
    close(
        s.cmh.map(|t| t.statistic),
        (12.0 - expected) * (12.0 - expected) / var,
        1e-5,
    );
    assert_eq!(s.breslow_day.map(|t| t.df), Some(1));

    // One stratum (every invitation's topic is `general`): the pooled figures are the
    // crude ones.
    let c = contrast(&project.engine, &contrast_request(&["topic"]))
        .await
        .expect("contrast");
    let s = c.adjusted.expect("stratified");
    assert_eq!(s.tables.len(), 1);
    assert_eq!(s.odds_ratio, s.crude_odds_ratio);
    assert_eq!(s.risk_ratio, s.crude_risk_ratio);
    assert_eq!(s.breslow_day, None);
}

#[tokio::test]
async fn a_withheld_stratum_cell_leaves_no_pooled_figures() {
    use wirkung::answers::contrast::contrast;
    let (_dir, project) = open(&formats_by_sex()).await;
    let req = wirkung::answers::contrast::ContrastRequest {
        min_count: 3,
        ..contrast_request(&["sex"])
    };
    let c = contrast(&project.engine, &req).await.expect("contrast");
    let s = c.adjusted.expect("stratified");
    // Men's letters: 2 attended, withheld at the threshold.
    assert!(s.odds_ratio.is_none() && s.cmh.is_none() && s.tables.is_empty());
    assert!(s.note.contains("is withheld"), "{}", s.note);
    // Three groups cannot be stratified.
    let req = wirkung::answers::contrast::ContrastRequest {
        groups: vec![
            "contact_cafe".into(),
            "standard".into(),
            "group_info".into(),
        ],
        ..contrast_request(&["sex"])
    };
    match contrast(&project.engine, &req).await {
        Err(QuestionError::BadParameter { name, .. }) => assert_eq!(name, "adjust"),
        other => panic!("{other:?}"),
    }
}
