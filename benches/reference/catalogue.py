#!/usr/bin/env python3
"""Reference implementation of the indicator catalogue in plain DuckDB SQL.

A second, independent computation of every indicator as docs/kennzahlen.md defines it
(K1–K3E4, S1–S6, P1–P4 and their comparison group P1V–P4V, no breakdowns) for every jobcenter and district, written from
the definitions (and docs/decisions.md), not from queries/*.sql. It is the yardstick for wirkung: `crosscheck.py` compares the
two, and the SQL wall time printed here is a baseline for benchmarks.

    python3 benches/reference/catalogue.py --data sample-data --months 12 --out ref.csv
    python3 benches/reference/catalogue.py ... --memory-limit 12GB --temp-directory /tmp/spill

`--memory-limit` and `--temp-directory` set DuckDB's `memory_limit` and `temp_directory`
(default: DuckDB's own, 80 % of RAM and `.tmp`), so that a large extract spills to disk
instead of failing; the settings DuckDB then reports are printed on one line
("DuckDB memory_limit …, temp_directory …, threads N"), which benches/run.py records.

Output: one CSV row per indicator, month, level (jobcenter|district) and unit with
numerator and denominator at full precision. Months whose value the specification
calls unavailable (window, look-back or follow-up outside the data span, incomplete
cohort, missing optional table) are omitted; units with zero counts are written.
Needs Python 3.11 and the `duckdb` package, nothing else.
"""

import argparse
import csv
import os
import sys
import time

import duckdb

REQUIRED = ["jobcenters", "districts", "persons", "benefit_months", "employment_starts", "measures"]
OPTIONAL = {  # optional table -> its columns (an absent table is an empty one here)
    "services_16a": "person_id VARCHAR, service VARCHAR, start_date DATE, end_date DATE",
    "health_events": "person_id VARCHAR, date DATE, event VARCHAR",
    "exits": "person_id VARCHAR, date DATE, reason VARCHAR",
    "invitations": "invitation_id VARCHAR, person_id VARCHAR, date DATE, format VARCHAR, "
                   "topic VARCHAR, attended BOOLEAN",
}

# Monthly building blocks: SQL run in order, each statement creating one table.
# Month index mi = 12 * year + month - 1, so "m-1" is mi - 1 across year ends.
BLOCKS_SQL = r"""
CREATE MACRO mi(d) AS year(d) * 12 + month(d) - 1;
-- EXTRACTS: reference day of month m is the 15th; a spell covers m when
-- start_date <= 15th of m and (end_date is null or end_date >= 15th of m).
CREATE MACRO day15(m) AS make_date(m // 12, m % 12 + 1, 15);
CREATE MACRO covers(s, e, m) AS s <= day15(m) AND (e IS NULL OR e >= day15(m));

CREATE TABLE bm AS SELECT *, mi(month) AS mi FROM benefit_months;
-- EXTRACTS: data span = first and last month present in benefit_months.
CREATE TABLE span AS SELECT min(mi) AS lo, max(mi) AS hi FROM bm;

-- LZB status: p has an elb row in m and elb rows in at least 21 of the 24 months
-- m-23 … m, across all jobcenters; unavailable for m with m-23 before the span.
-- (Primary key (month, person_id): one row per person and month, so rows = months.)
CREATE TABLE lzb AS
SELECT person_id, mi FROM (
    SELECT person_id, mi, count(*) OVER (
        PARTITION BY person_id ORDER BY mi RANGE BETWEEN 23 PRECEDING AND CURRENT ROW) AS n
    FROM bm WHERE elb)
WHERE n >= 21 AND mi - 23 >= (SELECT lo FROM span);

-- Stock rows of month m with their LZB flag and the spells covering the 15th of m.
-- K3E2: LZB rows of t whose person has a measures spell with category in
--       {active, public_employment} covering t.   S2: ... a services_16a spell covering t.
CREATE TABLE lzb_activated AS
SELECT DISTINCT l.person_id, l.mi FROM lzb l JOIN measures x USING (person_id)
WHERE x.category IN ('active', 'public_employment') AND covers(x.start_date, x.end_date, l.mi);
CREATE TABLE lzb_16a AS
SELECT DISTINCT l.person_id, l.mi FROM lzb l JOIN services_16a x USING (person_id)
WHERE covers(x.start_date, x.end_date, l.mi);
CREATE TABLE stock AS
SELECT b.person_id, b.mi, b.jobcenter_id, b.district_id, b.elb, b.single_parent,
       b.llu_eur, b.luh_eur,
       l.person_id IS NOT NULL AS lzb,
       a.person_id IS NOT NULL AS lzb_activated,
       s.person_id IS NOT NULL AS lzb_16a
FROM bm b
LEFT JOIN lzb l USING (person_id, mi)
LEFT JOIN lzb_activated a USING (person_id, mi)
LEFT JOIN lzb_16a s USING (person_id, mi);

-- Dated events, one row each, with their event month emi.
CREATE TABLE ev AS
-- Integration: employment_starts with kind in {svb, training, self_employed}.
SELECT 'integration' AS ev, person_id, mi(start_date) AS emi, kind = 'svb' AS svb, NULL::BOOLEAN AS attended
FROM employment_starts WHERE kind IN ('svb', 'training', 'self_employed')
UNION ALL  -- K2E1: minijob starts
SELECT 'minijob', person_id, mi(start_date), NULL, NULL FROM employment_starts WHERE kind = 'minijob'
UNION ALL  -- K2E2: measures starts with category = public_employment
SELECT 'public_employment', person_id, mi(start_date), NULL, NULL FROM measures WHERE category = 'public_employment'
UNION ALL  -- S1: services_16a starts
SELECT 'service_16a', person_id, mi(start_date), NULL, NULL FROM services_16a
UNION ALL  -- S3: health_events therapy_start
SELECT 'therapy', person_id, mi(date), NULL, NULL FROM health_events WHERE event = 'therapy_start'
UNION ALL  -- S6: invitations (attended or not)
SELECT 'invitation', person_id, mi(date), NULL, attended FROM invitations
UNION ALL  -- S4 / S5: exits with reason pension / sgb_xii
SELECT reason, person_id, mi(date), NULL, NULL FROM exits WHERE reason IN ('pension', 'sgb_xii');

-- Attribution row of a person for month m: the row of m-1 if it exists, otherwise the
-- row of m; no row in either: no unit. S4/S5: "attribution: row of m-1" only.
-- Every event count requires the attribution row to have elb = true.
CREATE TABLE ev_attr AS
WITH chosen AS (
    SELECT e.*, CASE WHEN p.person_id IS NOT NULL THEN e.emi - 1
                     WHEN e.ev NOT IN ('pension', 'sgb_xii') AND c.person_id IS NOT NULL THEN e.emi
                END AS ami
    FROM ev e
    LEFT JOIN bm p ON p.person_id = e.person_id AND p.mi = e.emi - 1
    LEFT JOIN bm c ON c.person_id = e.person_id AND c.mi = e.emi)
SELECT ch.*, r.district_id, r.single_parent, l.person_id IS NOT NULL AS lzb_in_ami
FROM chosen ch
JOIN bm r ON r.person_id = ch.person_id AND r.mi = ch.ami
LEFT JOIN lzb l ON l.person_id = ch.person_id AND l.mi = ch.ami
WHERE r.elb;

-- K2E3: svb integrations of month m (the person's counted integration comes from an
-- svb start when one of the month's qualifying starts is svb) after which an svb spell
-- covers the 15th of each of m+1 … m+6 (docs/decisions.md: a chain of spells counts).
CREATE TABLE svb_integration AS
SELECT person_id, emi, any_value(district_id) AS district_id
FROM ev_attr WHERE ev = 'integration' GROUP BY person_id, emi HAVING bool_or(svb);
CREATE TABLE svb_stable AS
SELECT i.person_id, i.emi, any_value(i.district_id) AS district_id
FROM svb_integration i CROSS JOIN range(1, 7) r(k)
JOIN employment_starts s ON s.person_id = i.person_id AND s.kind = 'svb'
    AND covers(s.start_date, s.end_date, i.emi + r.k)
GROUP BY i.person_id, i.emi HAVING count(DISTINCT r.k) = 6;

-- P: the cohort of month m is the set of measures participations with end_date in m
-- whose attribution row for m has elb = true; follow-up (end_date, end_date + 6 months].
CREATE TABLE cohort AS
WITH ended AS (
    SELECT participation_id, person_id, end_date, mi(end_date) AS emi,
           (end_date + INTERVAL 6 MONTH)::DATE AS fu_end
    FROM measures WHERE end_date IS NOT NULL),
chosen AS (
    SELECT e.*, CASE WHEN p.person_id IS NOT NULL THEN e.emi - 1 ELSE e.emi END AS ami
    FROM ended e
    LEFT JOIN bm p ON p.person_id = e.person_id AND p.mi = e.emi - 1)
SELECT ch.*, r.district_id,
    -- P1: an integrating employment_starts start (svb, training, self_employed) in the follow-up
    EXISTS (SELECT 1 FROM employment_starts s WHERE s.person_id = ch.person_id
            AND s.kind IN ('svb', 'training', 'self_employed')
            AND s.start_date > ch.end_date AND s.start_date <= ch.fu_end) AS integrated,
    -- P2: another measures participation starting in the follow-up
    EXISTS (SELECT 1 FROM measures x WHERE x.person_id = ch.person_id
            AND x.participation_id <> ch.participation_id
            AND x.start_date > ch.end_date AND x.start_date <= ch.fu_end) AS further_measure,
    -- P3: a therapy_start in the follow-up
    EXISTS (SELECT 1 FROM health_events h WHERE h.person_id = ch.person_id
            AND h.event = 'therapy_start' AND h.date > ch.end_date AND h.date <= ch.fu_end) AS therapy,
    -- P4: an exits row with reason in {pension, sgb_xii} in the follow-up
    EXISTS (SELECT 1 FROM exits x WHERE x.person_id = ch.person_id
            AND x.reason IN ('pension', 'sgb_xii') AND x.date > ch.end_date AND x.date <= ch.fu_end) AS pension_or_sgb_xii
FROM chosen ch JOIN bm r ON r.person_id = ch.person_id AND r.mi = ch.ami
WHERE r.elb;

-- P1V–P4V, the comparison group: the eLb rows of month m whose person has no measures
-- participation covering or ending in m-6 … m (started by the end of m, not ended
-- before m-6); anchored on the 15th of m, follow-up (15th of m, 15th of m + 6 months];
-- in the unit of the row of m.
CREATE TABLE untreated AS
WITH u AS (
    SELECT b.person_id, b.mi, b.district_id, day15(b.mi) AS anchor,
           (day15(b.mi) + INTERVAL 6 MONTH)::DATE AS fu_end
    FROM bm b
    WHERE b.elb AND NOT EXISTS (
        SELECT 1 FROM measures x WHERE x.person_id = b.person_id
            AND mi(x.start_date) <= b.mi AND (x.end_date IS NULL OR mi(x.end_date) >= b.mi - 6)))
SELECT u.*,
    EXISTS (SELECT 1 FROM employment_starts s WHERE s.person_id = u.person_id
            AND s.kind IN ('svb', 'training', 'self_employed')
            AND s.start_date > u.anchor AND s.start_date <= u.fu_end) AS integrated,
    EXISTS (SELECT 1 FROM measures x WHERE x.person_id = u.person_id
            AND x.start_date > u.anchor AND x.start_date <= u.fu_end) AS further_measure,
    EXISTS (SELECT 1 FROM health_events h WHERE h.person_id = u.person_id
            AND h.event = 'therapy_start' AND h.date > u.anchor AND h.date <= u.fu_end) AS therapy,
    EXISTS (SELECT 1 FROM exits x WHERE x.person_id = u.person_id
            AND x.reason IN ('pension', 'sgb_xii') AND x.date > u.anchor AND x.date <= u.fu_end) AS pension_or_sgb_xii
FROM u;

-- Every monthly measure per district: (measure, district_id, mi, value).
CREATE TABLE cells AS
-- Stock: built from the rows of m, in the rows' unit.
SELECT 'llu' AS measure, district_id, mi, sum(llu_eur) AS value FROM stock GROUP BY ALL          -- Σ llu_eur, all rows
UNION ALL SELECT 'luh', district_id, mi, sum(luh_eur) FROM stock GROUP BY ALL                     -- Σ luh_eur, all rows
UNION ALL SELECT 'elb', district_id, mi, count(*) FROM stock WHERE elb GROUP BY ALL               -- ELB(m)
UNION ALL SELECT 'elb_single_parent', district_id, mi, count(*) FROM stock WHERE elb AND single_parent GROUP BY ALL
UNION ALL SELECT 'lzb', district_id, mi, count(*) FROM stock WHERE lzb GROUP BY ALL               -- LZB(m)
UNION ALL SELECT 'lzb_activated', district_id, mi, count(*) FROM stock WHERE lzb_activated GROUP BY ALL
UNION ALL SELECT 'lzb_16a', district_id, mi, count(*) FROM stock WHERE lzb_16a GROUP BY ALL
-- K1E3 inflow of m: an eLb row of m whose person had no eLb row in the same jobcenter in m-1
-- (carried by the row of m).
UNION ALL
SELECT 'inflows', e.district_id, e.mi, count(*) FROM stock e
WHERE e.elb AND NOT EXISTS (SELECT 1 FROM stock p WHERE p.person_id = e.person_id AND p.mi = e.mi - 1
                            AND p.elb AND p.jobcenter_id = e.jobcenter_id)
GROUP BY ALL
-- K1E4 outflow of m: an eLb row of m-1 whose person has no eLb row in the same jobcenter
-- in m (carried by the row of m-1, counted in month m).
UNION ALL
SELECT 'outflows', p.district_id, p.mi + 1, count(*) FROM stock p
WHERE p.elb AND NOT EXISTS (SELECT 1 FROM stock e WHERE e.person_id = p.person_id AND e.mi = p.mi + 1
                            AND e.elb AND e.jobcenter_id = p.jobcenter_id)
GROUP BY ALL
-- K3E3: LZB rows of m in u whose person was not LZB in m-1 (anywhere).
UNION ALL
SELECT 'lzb_inflows', e.district_id, e.mi, count(*) FROM stock e
WHERE e.lzb AND NOT EXISTS (SELECT 1 FROM lzb l WHERE l.person_id = e.person_id AND l.mi = e.mi - 1)
GROUP BY ALL
-- K3E4: LZB rows of m-1 in u whose person is not LZB in m (anywhere); counted in month m.
UNION ALL
SELECT 'lzb_outflows', p.district_id, p.mi + 1, count(*) FROM stock p
WHERE p.lzb AND NOT EXISTS (SELECT 1 FROM lzb l WHERE l.person_id = p.person_id AND l.mi = p.mi + 1)
GROUP BY ALL
-- Events: at most one per person and month, in the unit of the attribution row.
UNION ALL SELECT 'integrations', district_id, emi, count(DISTINCT person_id) FROM ev_attr WHERE ev = 'integration' GROUP BY ALL
-- K2E4: integrations with single_parent attribution rows
UNION ALL SELECT 'integrations_single_parent', district_id, emi, count(DISTINCT person_id) FROM ev_attr
          WHERE ev = 'integration' AND single_parent GROUP BY ALL
-- K3E1: integrations whose person is LZB in the month of the attribution row
UNION ALL SELECT 'integrations_lzb', district_id, emi, count(DISTINCT person_id) FROM ev_attr
          WHERE ev = 'integration' AND lzb_in_ami GROUP BY ALL
UNION ALL SELECT 'svb_integrations', district_id, emi, count(*) FROM svb_integration GROUP BY ALL
UNION ALL SELECT 'svb_stable', district_id, emi, count(*) FROM svb_stable GROUP BY ALL
UNION ALL SELECT 'minijob', district_id, emi, count(DISTINCT person_id) FROM ev_attr WHERE ev = 'minijob' GROUP BY ALL
UNION ALL SELECT 'public_employment', district_id, emi, count(DISTINCT person_id) FROM ev_attr
          WHERE ev = 'public_employment' GROUP BY ALL
-- S1 / S3: person-months with at least one § 16a start / a therapy_start
UNION ALL SELECT 'service_16a', district_id, emi, count(DISTINCT person_id) FROM ev_attr WHERE ev = 'service_16a' GROUP BY ALL
UNION ALL SELECT 'therapy', district_id, emi, count(DISTINCT person_id) FROM ev_attr WHERE ev = 'therapy' GROUP BY ALL
-- S4 / S5: exits (attribution: row of m-1, eLb), at most one per person and month
UNION ALL SELECT 'pension', district_id, emi, count(DISTINCT person_id) FROM ev_attr WHERE ev = 'pension' GROUP BY ALL
UNION ALL SELECT 'sgb_xii', district_id, emi, count(DISTINCT person_id) FROM ev_attr WHERE ev = 'sgb_xii' GROUP BY ALL
-- S6: every invitation counts, no per-month cap
UNION ALL SELECT 'invitations', district_id, emi, count(*) FROM ev_attr WHERE ev = 'invitation' GROUP BY ALL
UNION ALL SELECT 'invitations_attended', district_id, emi, count(*) FROM ev_attr
          WHERE ev = 'invitation' AND attended GROUP BY ALL
-- P: cohort participations of month m and those with each outcome
UNION ALL SELECT 'cohort', district_id, emi, count(*) FROM cohort GROUP BY ALL
UNION ALL SELECT 'cohort_integrated', district_id, emi, count(*) FROM cohort WHERE integrated GROUP BY ALL
UNION ALL SELECT 'cohort_further_measure', district_id, emi, count(*) FROM cohort WHERE further_measure GROUP BY ALL
UNION ALL SELECT 'cohort_therapy', district_id, emi, count(*) FROM cohort WHERE therapy GROUP BY ALL
UNION ALL SELECT 'cohort_pension_or_sgb_xii', district_id, emi, count(*) FROM cohort WHERE pension_or_sgb_xii GROUP BY ALL
-- P1V–P4V: person-months of the comparison group and those with each outcome
UNION ALL SELECT 'untreated', district_id, mi, count(*) FROM untreated GROUP BY ALL
UNION ALL SELECT 'untreated_integrated', district_id, mi, count(*) FROM untreated WHERE integrated GROUP BY ALL
UNION ALL SELECT 'untreated_further_measure', district_id, mi, count(*) FROM untreated WHERE further_measure GROUP BY ALL
UNION ALL SELECT 'untreated_therapy', district_id, mi, count(*) FROM untreated WHERE therapy GROUP BY ALL
UNION ALL SELECT 'untreated_pension_or_sgb_xii', district_id, mi, count(*) FROM untreated WHERE pension_or_sgb_xii GROUP BY ALL;
"""

# Months a measure of month m reads around m: (look-back, look-ahead). The value of m is
# available only when m - look-back and m + look-ahead lie in the data span.
# Event measures look back one month: docs/decisions.md, "Attribution in the first month".
REACH = {
    "llu": (0, 0), "luh": (0, 0), "elb": (0, 0), "elb_single_parent": (0, 0),
    "lzb": (23, 0), "lzb_activated": (23, 0), "lzb_16a": (23, 0),
    "inflows": (1, 0), "outflows": (1, 0),                    # rows of m-1
    "lzb_inflows": (24, 0), "lzb_outflows": (24, 0),          # LZB status of m-1
    "integrations": (1, 0), "integrations_single_parent": (1, 0),
    "integrations_lzb": (24, 0),                              # LZB status of m-1
    "svb_integrations": (1, 0), "svb_stable": (1, 6),         # six following months
    "minijob": (1, 0), "public_employment": (1, 0), "service_16a": (1, 0), "therapy": (1, 0),
    "pension": (1, 0), "sgb_xii": (1, 0), "invitations": (1, 0), "invitations_attended": (1, 0),
    "cohort": (1, 6), "cohort_integrated": (1, 6), "cohort_further_measure": (1, 6),
    "cohort_therapy": (1, 6), "cohort_pension_or_sgb_xii": (1, 6),  # complete cohorts only
    # six months of participations before m, six months of follow-up after it
    "untreated": (6, 6), "untreated_integrated": (6, 6), "untreated_further_measure": (6, 6),
    "untreated_therapy": (6, 6), "untreated_pension_or_sgb_xii": (6, 6),
}
# Optional table each measure needs (absent table: indicator unavailable, not zero).
NEEDS = {
    "lzb_16a": "services_16a", "service_16a": "services_16a", "therapy": "health_events",
    "cohort_therapy": "health_events", "pension": "exits", "sgb_xii": "exits",
    "cohort_pension_or_sgb_xii": "exits", "invitations": "invitations",
    "untreated_therapy": "health_events", "untreated_pension_or_sgb_xii": "exits",
    "invitations_attended": "invitations",
}


def window(measure: str, lag: int = 0, months: int = 1, mean: bool = False) -> tuple:
    """Σ of `measure` over the months t-lag-months+1 … t-lag (divided by 12 if `mean`)."""
    return (measure, lag, months, mean)


# docs/kennzahlen.md, one line each: code -> (numerator, denominator).
SUM_W = dict(lag=0, months=12)            # Σ over W(t) = t-11 … t
PREV_W = dict(lag=1, months=12)           # Σ over m ∈ W(t) of X(m-1)
ELB_MEAN = window("elb", mean=True, **PREV_W)  # ØELB⁻(t)
INDICATORS = {
    "K1": (window("llu"), window("llu", lag=12)),              # Σ llu_eur(t) / same in t-12
    "K1E1": (window("luh"), window("luh", lag=12)),            # Σ luh_eur(t) / same in t-12
    "K1E2": (window("elb"), window("elb", lag=12)),            # ELB(t) / ELB(t-12)
    "K1E3": (window("inflows", **SUM_W), window("elb", **SUM_W)),     # Σ_W inflows / Σ_W ELB(m)
    "K1E4": (window("outflows", **SUM_W), window("elb", **PREV_W)),   # Σ_W outflows / Σ_W ELB(m-1)
    "K2": (window("integrations", **SUM_W), ELB_MEAN),                # ΣINT(t) / ØELB⁻(t)
    "K2E1": (window("minijob", **SUM_W), ELB_MEAN),                   # Σ_W minijob starts / ØELB⁻(t)
    "K2E2": (window("public_employment", **SUM_W), ELB_MEAN),         # Σ_W public_employment starts / ØELB⁻(t)
    "K2E3": (window("svb_stable", lag=6, months=12),                  # svb integrations of t-17 … t-6 with
             window("svb_integrations", lag=6, months=12)),           # svb on the six following months / all
    "K2E4": (window("integrations_single_parent", **SUM_W),           # ΣINT(t), single-parent rows /
             window("elb_single_parent", mean=True, **PREV_W)),       # ØELB⁻(t) of single-parent rows
    "K3": (window("lzb"), window("lzb", lag=12)),              # LZB(t) / LZB(t-12)
    "K3E1": (window("integrations_lzb", **SUM_W),              # Σ_W integrations of LZB /
             window("lzb", mean=True, **PREV_W)),              # (1/12) Σ_W LZB(m-1)
    "K3E2": (window("lzb_activated"), window("lzb")),          # activated LZB rows of t / LZB(t)
    "K3E3": (window("lzb_inflows", **SUM_W), window("lzb", **SUM_W)),   # Σ_W LZB inflows / Σ_W LZB(m)
    "K3E4": (window("lzb_outflows", **SUM_W), window("lzb", **PREV_W)), # Σ_W LZB outflows / Σ_W LZB(m-1)
    "S1": (window("service_16a", **SUM_W), ELB_MEAN),          # Σ_W person-months with a § 16a start / ØELB⁻
    "S2": (window("lzb_16a"), window("lzb")),                  # LZB rows of t with a § 16a spell / LZB(t)
    "S3": (window("therapy", **SUM_W), ELB_MEAN),              # Σ_W person-months with therapy_start / ØELB⁻
    "S4": (window("pension", **SUM_W), window("elb", **PREV_W)),  # Σ_W exits pension / Σ_W ELB(m-1)
    "S5": (window("sgb_xii", **SUM_W), window("elb", **PREV_W)),  # Σ_W exits sgb_xii / Σ_W ELB(m-1)
    "S6": (window("invitations_attended", **SUM_W), window("invitations", **SUM_W)),  # attended / all
    "P1": (window("cohort_integrated", **SUM_W), window("cohort", **SUM_W)),
    "P2": (window("cohort_further_measure", **SUM_W), window("cohort", **SUM_W)),
    "P3": (window("cohort_therapy", **SUM_W), window("cohort", **SUM_W)),
    "P4": (window("cohort_pension_or_sgb_xii", **SUM_W), window("cohort", **SUM_W)),
    "P1V": (window("untreated_integrated", **SUM_W), window("untreated", **SUM_W)),
    "P2V": (window("untreated_further_measure", **SUM_W), window("untreated", **SUM_W)),
    "P3V": (window("untreated_therapy", **SUM_W), window("untreated", **SUM_W)),
    "P4V": (window("untreated_pension_or_sgb_xii", **SUM_W), window("untreated", **SUM_W)),
}


def table_source(data: str, table: str) -> str | None:
    """`read_parquet(...)` of a table stored as <table>.parquet or <table>/*.parquet."""
    if os.path.isfile(os.path.join(data, f"{table}.parquet")):
        return f"read_parquet('{os.path.join(data, table)}.parquet')"
    if os.path.isdir(os.path.join(data, table)):
        return f"read_parquet('{os.path.join(data, table)}/*.parquet')"
    return None


def open_tables(con: duckdb.DuckDBPyConnection, data: str) -> set[str]:
    """Views over the extract's tables; returns the names of absent optional tables."""
    absent = set()
    for table in REQUIRED + list(OPTIONAL):
        src = table_source(data, table)
        if src is not None:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {src}")
        elif table in OPTIONAL:
            con.execute(f"CREATE TABLE {table} ({OPTIONAL[table]})")
            absent.add(table)
        else:
            sys.exit(f"required table '{table}' missing in {data}")
    return absent


def months_read(side: tuple, t: int) -> list[int]:
    """Month indices a window reads for reporting month t."""
    _, lag, months, _ = side
    return [t - lag - k for k in range(months)]


def available(code: str, t: int, lo: int, hi: int, absent: set[str]) -> bool:
    """Whether every month the indicator reads for t lies in the span (with look-back/ahead)."""
    for side in INDICATORS[code]:
        measure = side[0]
        if NEEDS.get(measure) in absent:
            return False
        back, ahead = REACH[measure]
        if any(m - back < lo or m + ahead > hi for m in months_read(side, t)):
            return False
    return True


def request_rows(lo: int, hi: int, n_months: int, absent: set[str]) -> list[tuple]:
    """(code, t, side, measure, month read, divisor) for every available indicator-month."""
    rows = []
    for code, sides in INDICATORS.items():
        for t in range(hi - n_months + 1, hi + 1):
            if not available(code, t, lo, hi, absent):
                continue
            for name, side in zip(("num", "den"), sides):
                divisor = 12 if side[3] else 1
                rows += [(code, t, name, side[0], m, divisor) for m in months_read(side, t)]
    return rows


def compute(con: duckdb.DuckDBPyConnection, requests: list[tuple]) -> list[tuple]:
    """Numerator and denominator per indicator, month, level and unit (zeros included)."""
    con.execute("CREATE TABLE req (code VARCHAR, t INT, side VARCHAR, measure VARCHAR, mi INT, divisor INT)")
    con.executemany("INSERT INTO req VALUES (?, ?, ?, ?, ?, ?)", requests)
    return con.execute("""
        WITH read AS (   -- every district × every month an indicator reads
            SELECT r.*, d.district_id, d.jobcenter_id, coalesce(c.value, 0) AS value
            FROM req r CROSS JOIN districts d
            LEFT JOIN cells c ON c.measure = r.measure AND c.mi = r.mi AND c.district_id = d.district_id)
        -- Aggregates sum numerators and denominators (districts -> jobcenter), then the mean.
        SELECT code, printf('%04d-%02d', t // 12, t % 12 + 1) AS month,
               CASE WHEN grouping(district_id) = 1 THEN 'jobcenter' ELSE 'district' END AS level,
               coalesce(district_id, jobcenter_id) AS unit,
               sum(value) FILTER (side = 'num') / max(divisor) FILTER (side = 'num') AS numerator,
               sum(value) FILTER (side = 'den') / max(divisor) FILTER (side = 'den') AS denominator
        FROM read
        GROUP BY GROUPING SETS ((code, t, jobcenter_id), (code, t, jobcenter_id, district_id))
        ORDER BY code, month, level DESC, unit""").fetchall()


def sql_text(value: str) -> str:
    """`value` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def configure(con: duckdb.DuckDBPyConnection, memory_limit: str | None,
              temp_directory: str | None) -> str:
    """Set memory_limit and temp_directory when given; the line saying what DuckDB uses."""
    if memory_limit:
        con.execute(f"SET memory_limit = {sql_text(memory_limit)}")
    if temp_directory:
        os.makedirs(temp_directory, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_text(temp_directory)}")
    limit, temp, threads = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
        "current_setting('threads')").fetchone()
    asked = f" (asked {memory_limit})" if memory_limit else " (DuckDB's default)"
    return f"DuckDB memory_limit {limit}{asked}, temp_directory {temp}, threads {threads}"


def write_csv(path: str, rows: list[tuple]) -> None:
    """The result as CSV; whole numbers without a decimal point, others at full precision."""
    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else repr(float(x))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["indicator", "month", "level", "unit", "numerator", "denominator"])
        for code, month, level, unit, num, den in rows:
            w.writerow([code, month, level, unit, fmt(num), fmt(den)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="extract directory")
    ap.add_argument("--months", type=int, default=12, help="last N months of the data span")
    ap.add_argument("--out", required=True, help="CSV file to write")
    ap.add_argument("--memory-limit", metavar="SIZE",
                    help="DuckDB's memory_limit, e.g. 12GB (default: DuckDB's, 80%% of RAM)")
    ap.add_argument("--temp-directory", metavar="DIR",
                    help="DuckDB's temp_directory, where it spills (created if missing)")
    args = ap.parse_args()

    started = time.perf_counter()
    con = duckdb.connect()
    print(configure(con, args.memory_limit, args.temp_directory), flush=True)
    absent = open_tables(con, args.data)
    con.execute(BLOCKS_SQL)
    lo, hi = con.execute("SELECT lo, hi FROM span").fetchone()
    rows = compute(con, request_rows(lo, hi, args.months, absent))
    elapsed = time.perf_counter() - started

    write_csv(args.out, rows)
    missing = [c for c in INDICATORS if not any(r[0] == c for r in rows)]
    print(f"{len(rows)} rows -> {args.out}; SQL wall time {elapsed:.2f} s")
    if absent:
        print(f"absent optional tables: {', '.join(sorted(absent))}")
    if missing:
        print(f"no available month: {', '.join(missing)}")


if __name__ == "__main__":
    main()
