//! The extension S1–S6 and P1–P4 against values worked out by hand.
//!
//! Span 2015-01 … 2017-06. J1 (district J1-A): p1 … p4, eLb all months, so each is LZB
//! from 2016-12 and Ø⁻ELB(2016-12) = 4. J2 (J2-A): z eLb all months; p5 eLb until 2016-09
//! (exit to pension 2016-09-30); p6 until 2016-10 (exit to SGB XII 2016-11-05, before the
//! 15th: no row in November); p7 NEF until 2016-12 (exit to pension 2016-12-20); p8 eLb in
//! 2016-06 only (exit to pension 2016-06-20: no row in 2016-05).
//!
//! § 16a services (J1): p1 psychosocial 2016-03-05 … 04-30 and debt counselling
//! 2016-03-10 … 06-30 (one person-month, counted under psychosocial, which started
//! first), childcare from 2016-07-01 (open); p2 addiction counselling 2016-05-20 …
//! 2016-12-14; p3 debt counselling from 2016-12-15 (open). Health: p2 two therapy starts
//! in 2016-08 (one person-month), p4 a rehab start (not a therapy).
//! Invitations: p1 2016-02 standard attended and standard not attended, 2016-06 contact
//! café attended (topic health); p2 2016-04 contact café not attended (no topic),
//! 2016-10 group info attended (topic orientation); p7 (NEF) standard attended.
//! Programmes: c1 p1 health_check 2016-03-01 … 03-07, svb start on 2016-09-07 (last day
//! of the follow-up); c2 p2 health_check 2016-04-04 … 04-08, svb on 2016-10-09 (the day
//! after) and the therapy of 2016-08; c3 p3 health_check 2016-05-02 … 05-06 followed by
//! c5 p3 avgs 2016-06-01 … 08-31; c4 p4 health_check 2016-06-06 … 06-10, nothing after;
//! c6 p5 health_check 2016-07-04 … 07-08 (J2), exit to pension within the follow-up;
//! c7 p1 health_check from 2016-10-03 without end date (no cohort); c8 p7 (NEF)
//! health_check 2016-05-02 … 05-06 (not in a cohort: attribution row not eLb).

use wirkung::answers::values::Status;

use crate::support::fixture::{Fixture, Val, d, od, os, s};
use crate::support::{assert_available, assert_unavailable, compute, open, request, row};

fn extension() -> Fixture {
    let mut f = Fixture::two_jobcenters();
    for p in ["z", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"] {
        f.person(
            p,
            if p == "p2" || p == "p4" { "m" } else { "f" },
            "1960-01-01",
        );
    }
    for p in ["p1", "p2", "p3", "p4"] {
        f.benefit(p, "J1-A", "2015-01", "2017-06", true);
    }
    f.benefit("z", "J2-A", "2015-01", "2017-06", true)
        .benefit("p5", "J2-A", "2015-01", "2016-09", true)
        .benefit("p6", "J2-A", "2015-01", "2016-10", true)
        .benefit("p7", "J2-A", "2015-01", "2016-12", false)
        .benefit("p8", "J2-A", "2016-06", "2016-06", true);
    let service = |f: &mut Fixture, p: &str, what: &str, from: &str, to: Option<&str>| {
        f.row("services_16a", vec![s(p), s(what), d(from), od(to)]);
    };
    service(
        &mut f,
        "p1",
        "psychosocial",
        "2016-03-05",
        Some("2016-04-30"),
    );
    service(
        &mut f,
        "p1",
        "debt_counselling",
        "2016-03-10",
        Some("2016-06-30"),
    );
    service(&mut f, "p1", "childcare", "2016-07-01", None);
    service(
        &mut f,
        "p2",
        "addiction_counselling",
        "2016-05-20",
        Some("2016-12-14"),
    );
    service(&mut f, "p3", "debt_counselling", "2016-12-15", None);
    for (p, date, event) in [
        ("p2", "2016-08-08", "therapy_start"),
        ("p2", "2016-08-20", "therapy_start"),
        ("p4", "2016-09-01", "rehab_start"),
    ] {
        f.row("health_events", vec![s(p), d(date), s(event)]);
    }
    for (p, date, reason) in [
        ("p5", "2016-09-30", "pension"),
        ("p6", "2016-11-05", "sgb_xii"),
        ("p7", "2016-12-20", "pension"),
        ("p8", "2016-06-20", "pension"),
    ] {
        f.row("exits", vec![s(p), d(date), s(reason)]);
    }
    let invitations = [
        ("i1", "p1", "2016-02-03", "standard", None, true),
        ("i2", "p1", "2016-02-17", "standard", None, false),
        (
            "i3",
            "p1",
            "2016-06-09",
            "contact_cafe",
            Some("health"),
            true,
        ),
        ("i4", "p2", "2016-04-12", "contact_cafe", None, false),
        (
            "i5",
            "p2",
            "2016-10-05",
            "group_info",
            Some("orientation"),
            true,
        ),
        ("i6", "p7", "2016-03-01", "standard", None, true),
    ];
    for (id, p, date, format, topic, attended) in invitations {
        f.row(
            "invitations",
            vec![
                s(id),
                s(p),
                d(date),
                s(format),
                os(topic),
                Val::B(Some(attended)),
            ],
        );
    }
    f.measure(
        "c1",
        "p1",
        "health_check",
        "active",
        "2016-03-01",
        Some("2016-03-07"),
    )
    .measure(
        "c2",
        "p2",
        "health_check",
        "active",
        "2016-04-04",
        Some("2016-04-08"),
    )
    .measure(
        "c3",
        "p3",
        "health_check",
        "active",
        "2016-05-02",
        Some("2016-05-06"),
    )
    .measure(
        "c4",
        "p4",
        "health_check",
        "active",
        "2016-06-06",
        Some("2016-06-10"),
    )
    .measure(
        "c5",
        "p3",
        "avgs",
        "active",
        "2016-06-01",
        Some("2016-08-31"),
    )
    .measure(
        "c6",
        "p5",
        "health_check",
        "active",
        "2016-07-04",
        Some("2016-07-08"),
    )
    .measure("c7", "p1", "health_check", "active", "2016-10-03", None)
    .measure(
        "c8",
        "p7",
        "health_check",
        "active",
        "2016-05-02",
        Some("2016-05-06"),
    );
    f.start("p1", "2016-09-07", "svb")
        .start("p2", "2016-10-09", "svb");
    f
}

#[tokio::test]
async fn s1_counts_person_months_with_a_service_start_split_by_first_service() {
    // 2016-12, J1: p1 2016-03 (psychosocial), p1 2016-07 (childcare), p2 2016-05
    // (addiction), p3 2016-12 (debt) = 4 person-months per Ø 4 eLb.
    let dir = extension().written();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("S1", "2016-12", "2016-12", &["jobcenter_id"])).await;
    assert_available(row(&v, "2016-12", &["J1"]), 4.0, 4.0, 100.0);
    let mut req = request("S1", "2016-12", "2016-12", &["service"]);
    req.filters = vec![("jobcenter_id".into(), "J1".into())];
    let v = compute(&p, &req).await;
    // The breakdown splits the numerator; the denominator stays the eLb stock.
    for (service, n) in [
        ("psychosocial", 1.0),
        ("childcare", 1.0),
        ("addiction_counselling", 1.0),
        ("debt_counselling", 1.0),
    ] {
        assert_available(row(&v, "2016-12", &[service]), n, 4.0, 25.0);
    }
    // Every service of the contract is a row; nobody started home care: a zero, not a gap.
    assert_available(row(&v, "2016-12", &["home_care"]), 0.0, 4.0, 0.0);
    assert_eq!(v.rows.len(), 5, "{}", v.to_json());
}

#[tokio::test]
async fn s2_counts_lzb_with_a_service_on_the_reference_day() {
    // 2016-12-15: p1 childcare (open) and p3 debt counselling (starts that day) covered,
    // p2's addiction counselling ended the 14th. LZB(2016-12) in J1 = 4.
    let dir = extension().written();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("S2", "2016-11", "2016-12", &["jobcenter_id"])).await;
    assert_available(row(&v, "2016-12", &["J1"]), 2.0, 4.0, 50.0);
    assert_unavailable(row(&v, "2016-11", &["J1"]), "2014-12");
}

#[tokio::test]
async fn s3_counts_therapy_person_months_not_rehab() {
    let dir = extension().written();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("S3", "2016-12", "2016-12", &["jobcenter_id"])).await;
    assert_available(row(&v, "2016-12", &["J1"]), 1.0, 4.0, 25.0);
}

#[tokio::test]
async fn s4_and_s5_attribute_exits_to_the_elb_row_of_the_month_before() {
    // J2, W = 2016-01 … 2016-12. Pension: p5 (row 2016-08) counts; p7 (NEF row) and p8
    // (no row in 2016-05) do not. SGB XII: p6 (row 2016-10).
    // Σ ELB(m-1), 2015-12 … 2016-11: z 12 + p5 10 + p6 11 + p8 1 = 34.
    let dir = extension().written();
    let p = open(dir.path()).await;
    let s4 = compute(&p, &request("S4", "2016-12", "2016-12", &["jobcenter_id"])).await;
    assert_available(row(&s4, "2016-12", &["J2"]), 1.0, 34.0, 100.0 / 34.0);
    let s5 = compute(&p, &request("S5", "2016-12", "2016-12", &["jobcenter_id"])).await;
    assert_available(row(&s5, "2016-12", &["J2"]), 1.0, 34.0, 100.0 / 34.0);
    assert_available(row(&s5, "2016-12", &["J1"]), 0.0, 48.0, 0.0);
}

#[tokio::test]
async fn s6_counts_every_invitation_by_format_and_topic() {
    // J1, 2016: 5 invitations (two in one month both count), 3 attended; p7's is NEF.
    let dir = extension().written();
    let p = open(dir.path()).await;
    let v = compute(&p, &request("S6", "2016-12", "2016-12", &[])).await;
    assert_available(&v.rows[0], 3.0, 5.0, 60.0);
    let v = compute(
        &p,
        &request("S6", "2016-12", "2016-12", &["invitation_format"]),
    )
    .await;
    assert_available(row(&v, "2016-12", &["standard"]), 1.0, 2.0, 50.0);
    assert_available(row(&v, "2016-12", &["contact_cafe"]), 1.0, 2.0, 50.0);
    assert_available(row(&v, "2016-12", &["group_info"]), 1.0, 1.0, 100.0);
    // A null topic enters the total only.
    let v = compute(&p, &request("S6", "2016-12", "2016-12", &["topic"])).await;
    assert_eq!(v.rows.len(), 2, "{}", v.to_json());
    assert_available(row(&v, "2016-12", &["health"]), 1.0, 1.0, 100.0);
    assert_available(row(&v, "2016-12", &["orientation"]), 1.0, 1.0, 100.0);
}

#[tokio::test]
async fn p1_to_p4_follow_cohorts_for_six_months() {
    // Cohorts 2016-01 … 2016-12: health_check c1, c2, c3, c4, c6 (c7 has no end, c8 is
    // NEF); avgs c5. Health check: P1 c1 (svb on the follow-up's last day; c2's is a day
    // late), P2 c3 (avgs after it), P3 c2 (therapy), P4 c6 (pension) → each 1 of 5.
    let dir = extension().written();
    let p = open(dir.path()).await;
    for code in ["P1", "P2", "P3", "P4"] {
        let v = compute(&p, &request(code, "2016-12", "2016-12", &["programme"])).await;
        assert_available(row(&v, "2016-12", &["health_check"]), 1.0, 5.0, 20.0);
        assert_available(row(&v, "2016-12", &["avgs"]), 0.0, 1.0, 0.0);
        assert_eq!(v.rows.len(), 2, "{code}: {}", v.to_json());
        let all = compute(&p, &request(code, "2016-12", "2016-12", &[])).await;
        assert_available(&all.rows[0], 1.0, 6.0, 100.0 / 6.0);
    }
    // 2017-01's window holds the cohort of 2017-01, followed up to 2017-07: beyond the data.
    let v = compute(&p, &request("P1", "2017-01", "2017-01", &[])).await;
    assert_unavailable(&v.rows[0], "incomplete cohort");
}

#[tokio::test]
async fn missing_optional_tables_make_only_their_indicators_unavailable() {
    let mut f = extension();
    for (table, rows) in &mut f.tables {
        if *table == "services_16a" || *table == "health_events" {
            *rows = None;
        }
    }
    let dir = f.written();
    let p = open(dir.path()).await;
    for (code, table) in [
        ("S1", "services_16a"),
        ("S2", "services_16a"),
        ("S3", "health_events"),
        ("P3", "health_events"),
    ] {
        let v = compute(&p, &request(code, "2016-12", "2016-12", &[])).await;
        assert_unavailable(
            &v.rows[0],
            &format!("the optional table '{table}' is missing"),
        );
    }
    for code in ["S4", "S6", "P1", "P2", "P4", "K2", "K3E2"] {
        let v = compute(&p, &request(code, "2016-12", "2016-12", &[])).await;
        assert_eq!(
            v.rows[0].figure.status,
            Status::Available,
            "{code}: {:?}",
            v.rows[0]
        );
    }
}
