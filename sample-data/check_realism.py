#!/usr/bin/env python3
"""Realism check of a generated (synthetic) extract.

Dev check only, not a project dependency: needs Python 3.11 and `pip install duckdb`.

    python3 sample-data/check_realism.py DIR

Prints stocks, LZB share, integration rates, the Rhein-Berg health-check cohort, S6
attendance, job stability, activation of LZB, flows and file sizes, computed with SQL
over the Parquet files in DIR (rules as in the README's "Indicators", simplified).
"""

import os
import sys

import duckdb

TABLES = [
    "jobcenters", "districts", "persons", "benefit_months", "employment_starts",
    "measures", "services_16a", "health_events", "exits", "invitations",
]


def main() -> None:
    d = sys.argv[1] if len(sys.argv) > 1 else "sample-data"
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{os.path.join(d, t)}.parquet')")
    # Month index and eLb rows; attribution of events (row of m-1, else row of m).
    con.execute("""
        CREATE TABLE bm AS SELECT *, year(month) * 12 + month(month) - 1 AS mi FROM benefit_months;
        CREATE TABLE elb AS SELECT * FROM bm WHERE elb;
        CREATE MACRO mi(d) AS year(d) * 12 + month(d) - 1;
        CREATE TABLE lzb AS
          SELECT e.person_id, e.mi, e.jobcenter_id FROM elb e
          JOIN elb h ON h.person_id = e.person_id AND h.mi BETWEEN e.mi - 23 AND e.mi
          WHERE e.mi >= (SELECT min(mi) FROM bm) + 23
          GROUP BY ALL HAVING count(*) >= 21;
    """)

    def attr(tbl: str, datecol: str) -> str:
        """Rows of `tbl` with their attribution row's jobcenter (`jc`) and eLb flag."""
        return f"""(
          SELECT x.*, coalesce(a.jobcenter_id, b.jobcenter_id) AS jc,
                 coalesce(a.elb, b.elb) AS a_elb, mi(x.{datecol}) AS emi
          FROM {tbl} x
          LEFT JOIN bm a ON a.person_id = x.person_id AND a.mi = mi(x.{datecol}) - 1
          LEFT JOIN bm b ON b.person_id = x.person_id AND b.mi = mi(x.{datecol})
          WHERE a.person_id IS NOT NULL OR b.person_id IS NOT NULL) x"""

    def show(title: str, sql: str) -> None:
        print(f"\n== {title}")
        print(con.sql(sql))

    show("persons: sex, citizenship (share %)", """
        SELECT sex, round(100 * count(*) / sum(count(*)) OVER (), 1) AS pct,
               round(100 * avg((citizenship = 'foreign')::int), 1) AS foreign_pct
        FROM persons GROUP BY sex ORDER BY sex""")
    show("eLb stock (and all persons, BGs, NEF share %, single parents % of eLb) per December", """
        SELECT jobcenter_id, year(month) AS year, count(*) FILTER (elb) AS elb,
               count(*) AS persons, count(DISTINCT bg_id) AS bgs,
               round(100 * avg((NOT elb)::int), 1) AS nef_pct,
               round(100 * avg(single_parent::int) FILTER (elb), 1) AS single_parent_pct
        FROM bm WHERE month(month) = 12 GROUP BY ALL ORDER BY 1, 2""")
    show("eLb stock per district, 2017-12 (first rows of each jobcenter)", """
        SELECT b.district_id, d.name, count(*) AS elb FROM elb b JOIN districts d USING (district_id)
        WHERE b.month = DATE '2017-12-01' GROUP BY ALL ORDER BY 1""")
    show("LZB share of eLb (21 of 24 months), December", """
        SELECT e.jobcenter_id, e.mi // 12 AS year, count(*) AS elb, count(l.person_id) AS lzb,
               round(100 * count(l.person_id) / count(*), 1) AS lzb_pct
        FROM elb e LEFT JOIN lzb l USING (person_id, mi)
        WHERE e.mi % 12 = 11 AND e.mi // 12 >= 2016 GROUP BY ALL ORDER BY 1, 2""")
    con.execute(f"""
        CREATE TABLE integ AS
          SELECT person_id, emi, jc, min(CASE kind WHEN 'svb' THEN 0 ELSE 1 END) = 0 AS svb
          FROM {attr('employment_starts', 'start_date')}
          WHERE kind IN ('svb', 'training', 'self_employed') AND a_elb GROUP BY ALL;
        CREATE TABLE stock_prev AS  -- ØELB⁻ of 2017: average eLb stock 2016-12 .. 2017-11
          SELECT e.jobcenter_id AS jc, p.sex, count(*) / 12 AS avg_elb FROM elb e JOIN persons p USING (person_id)
          WHERE e.mi BETWEEN 2016 * 12 + 11 AND 2017 * 12 + 10 GROUP BY ALL;
    """)
    show("integration rate 2017 (integrations / ØELB⁻), per jobcenter and sex", """
        WITH i AS (SELECT jc, sex, count(*) AS n FROM integ JOIN persons USING (person_id)
                   WHERE emi // 12 = 2017 GROUP BY ALL)
        SELECT s.jc, s.sex, coalesce(i.n, 0) AS integrations, round(s.avg_elb) AS avg_elb,
               round(100 * coalesce(i.n, 0) / s.avg_elb, 1) AS rate_pct
        FROM stock_prev s LEFT JOIN i USING (jc, sex) WHERE s.sex <> 'd'
        UNION ALL
        SELECT s.jc, 'all', sum(coalesce(i.n, 0)), round(sum(s.avg_elb)),
               round(100 * sum(coalesce(i.n, 0)) / sum(s.avg_elb), 1)
        FROM stock_prev s LEFT JOIN i USING (jc, sex) GROUP BY s.jc ORDER BY 1, 2""")
    show("minijob / public-employment entries 2017 per ØELB⁻ (%)", f"""
        SELECT s.jc,
          round(100 * (SELECT count(DISTINCT (person_id, emi)) FROM {attr('employment_starts', 'start_date')}
                       WHERE kind = 'minijob' AND a_elb AND emi // 12 = 2017 AND jc = s.jc) / sum(s.avg_elb), 1) AS minijob,
          round(100 * (SELECT count(DISTINCT (person_id, emi)) FROM {attr('measures', 'start_date')}
                       WHERE category = 'public_employment' AND a_elb AND emi // 12 = 2017 AND jc = s.jc)
                / sum(s.avg_elb), 1) AS public_employment
        FROM stock_prev s GROUP BY s.jc ORDER BY 1""")
    show("share of svb integrations 2016-2017 with svb covering the six following months (K2E3)", """
        SELECT count(*) AS svb_integrations,
               round(100 * avg((EXISTS (SELECT 1 FROM employment_starts e WHERE e.person_id = i.person_id
                   AND e.kind = 'svb' AND mi(e.start_date) <= i.emi
                   AND (e.end_date IS NULL OR mi(e.end_date) > i.emi + 6
                        OR (mi(e.end_date) = i.emi + 6 AND day(e.end_date) >= 15))))::int), 1) AS stable_pct
        FROM integ i WHERE svb AND i.emi // 12 IN (2016, 2017)""")
    show("integrations 2017 followed by the person's exit 'employment' within 3 months (%)", """
        SELECT count(*) AS integrations, round(100 * avg((EXISTS (SELECT 1 FROM exits x WHERE x.person_id = i.person_id
                 AND x.reason = 'employment' AND mi(x.date) BETWEEN i.emi AND i.emi + 3))::int), 1) AS ending_receipt_pct
        FROM integ i WHERE emi // 12 = 2017""")
    show("activation of LZB: LZB rows covered by an active/public measure on the 15th, December", """
        SELECT l.mi // 12 AS year, count(*) AS lzb,
               round(100 * avg((EXISTS (SELECT 1 FROM measures m WHERE m.person_id = l.person_id
                 AND m.category IN ('active', 'public_employment')
                 AND m.start_date <= make_date(l.mi // 12, l.mi % 12 + 1, 15)
                 AND (m.end_date IS NULL OR m.end_date >= make_date(l.mi // 12, l.mi % 12 + 1, 15))))::int), 1)
                 AS activated_pct
        FROM lzb l WHERE l.mi % 12 = 11 GROUP BY ALL ORDER BY 1""")
    con.execute(f"""
        CREATE TABLE cohort AS
          SELECT participation_id, person_id, end_date, (end_date + INTERVAL 6 MONTH)::DATE AS fu_end
          FROM {attr('measures', 'end_date')}
          WHERE programme = 'health_check' AND year(end_date) = 2017 AND jc = '05378' AND a_elb
            AND EXISTS (SELECT 1 FROM elb e WHERE e.person_id = x.person_id AND e.mi = mi(x.end_date) AND e.jobcenter_id = '05378')
            AND EXISTS (SELECT 1 FROM elb e WHERE e.person_id = x.person_id AND e.mi = mi(x.end_date) - 1 AND e.jobcenter_id = '05378');
    """)
    show("health-check cohort Rhein-Berg 2017 (expected 148 / 30 / 49 / ~7 / ~6)", """
        SELECT count(*) AS participations,
          count(*) FILTER (EXISTS (SELECT 1 FROM employment_starts e WHERE e.person_id = c.person_id
              AND e.kind IN ('svb', 'training', 'self_employed') AND e.start_date > c.end_date AND e.start_date <= c.fu_end)) AS integration,
          count(*) FILTER (EXISTS (SELECT 1 FROM measures m WHERE m.person_id = c.person_id
              AND m.participation_id <> c.participation_id AND m.start_date > c.end_date AND m.start_date <= c.fu_end)) AS further_measure,
          count(*) FILTER (EXISTS (SELECT 1 FROM health_events h WHERE h.person_id = c.person_id
              AND h.event = 'therapy_start' AND h.date > c.end_date AND h.date <= c.fu_end)) AS therapy,
          count(*) FILTER (EXISTS (SELECT 1 FROM exits x WHERE x.person_id = c.person_id
              AND x.reason IN ('pension', 'sgb_xii') AND x.date > c.end_date AND x.date <= c.fu_end)) AS pension_or_sgb_xii,
          count(DISTINCT month(end_date)) AS end_months
        FROM cohort c""")
    show("all health_check participations by end year and attributed jobcenter", f"""
        SELECT year(end_date) AS year, jc, count(*) AS n FROM {attr('measures', 'end_date')}
        WHERE programme = 'health_check' GROUP BY ALL ORDER BY 1, 2""")
    show("S6 attendance by format, Rhein-Berg 2017", f"""
        SELECT format, count(*) AS invitations, count(*) FILTER (attended) AS attended,
               round(100 * avg(attended::int), 1) AS attended_pct
        FROM {attr('invitations', 'date')} WHERE jc = '05378' AND year(date) = 2017 GROUP BY ALL ORDER BY 1""")
    show("invitation topics (all)", """
        SELECT format, coalesce(topic, '(null)') AS topic, count(*) AS n FROM invitations GROUP BY ALL ORDER BY 1, 3 DESC""")
    show("flows: eLb inflow / outflow rate per month (%), per year (K1E3/K1E4 style)", """
        WITH f AS (
          SELECT e.mi // 12 AS year, avg((p.person_id IS NULL)::int) AS inflow FROM elb e
          LEFT JOIN elb p ON p.person_id = e.person_id AND p.mi = e.mi - 1 AND p.jobcenter_id = e.jobcenter_id
          WHERE e.mi > (SELECT min(mi) FROM bm) GROUP BY 1),
        o AS (
          SELECT (p.mi + 1) // 12 AS year, avg((e.person_id IS NULL)::int) AS outflow FROM elb p
          LEFT JOIN elb e ON e.person_id = p.person_id AND e.mi = p.mi + 1 AND e.jobcenter_id = p.jobcenter_id
          WHERE p.mi < (SELECT max(mi) FROM bm) GROUP BY 1)
        SELECT year, round(100 * inflow, 2) AS inflow_rate, round(100 * outflow, 2) AS outflow_rate
        FROM f JOIN o USING (year) ORDER BY 1""")
    show("exits by reason and year", """
        SELECT year(date) AS year, reason, count(*) AS n FROM exits GROUP BY ALL ORDER BY 1, 3 DESC""")
    show("measures by programme (starts 2017)", """
        SELECT programme, category, count(*) AS starts, count(*) FILTER (end_date IS NULL) AS running_at_end,
               round(avg(end_date - start_date)) AS avg_days
        FROM measures WHERE year(start_date) = 2017 GROUP BY ALL ORDER BY 3 DESC""")
    show("employment starts 2017 by kind and subsidy", """
        SELECT kind, coalesce(subsidy, '-') AS subsidy, count(*) AS n FROM employment_starts
        WHERE year(start_date) = 2017 GROUP BY ALL ORDER BY 1, 3 DESC""")
    show("persons with two starts in one month", """
        SELECT count(*) AS n FROM (SELECT person_id, mi(start_date) FROM employment_starts GROUP BY ALL HAVING count(*) > 1)""")
    show("§ 16a services and health events per year, % of eLb ever in the year", """
        WITH e AS (SELECT mi // 12 AS year, count(DISTINCT person_id) AS n FROM elb GROUP BY 1)
        SELECT e.year,
          round(100 * (SELECT count(DISTINCT person_id) FROM services_16a WHERE year(start_date) = e.year) / n, 2) AS s16a,
          round(100 * (SELECT count(DISTINCT person_id) FROM health_events WHERE event = 'therapy_start' AND year(date) = e.year) / n, 2) AS therapy,
          round(100 * (SELECT count(DISTINCT person_id) FROM health_events WHERE event = 'rehab_start' AND year(date) = e.year) / n, 2) AS rehab
        FROM e ORDER BY 1""")
    show("§ 16a services by kind (childcare: share single parents)", """
        SELECT s.service, count(*) AS n,
          round(100 * avg((EXISTS (SELECT 1 FROM bm b WHERE b.person_id = s.person_id AND b.single_parent))::int), 1) AS single_parent_pct
        FROM services_16a s GROUP BY ALL ORDER BY 2 DESC""")
    show("amounts per row, 2017-12 (euro)", """
        SELECT elb, single_parent, count(*) AS n, round(avg(llu_eur), 2) AS avg_llu, round(avg(luh_eur), 2) AS avg_luh,
               min(llu_eur) AS min_llu, max(llu_eur) AS max_llu
        FROM bm WHERE month = DATE '2017-12-01' GROUP BY ALL ORDER BY 1, 2""")
    show("moves: persons changing district / jobcenter between consecutive months, per year", """
        SELECT e.mi // 12 AS year, count(*) FILTER (e.district_id <> p.district_id AND e.jobcenter_id = p.jobcenter_id) AS district_moves,
               count(*) FILTER (e.jobcenter_id <> p.jobcenter_id) AS jobcenter_moves
        FROM bm e JOIN bm p ON p.person_id = e.person_id AND p.mi = e.mi - 1 GROUP BY 1 ORDER BY 1""")
    print("\n== file sizes")
    total = 0
    for t in TABLES:
        size = os.path.getsize(os.path.join(d, f"{t}.parquet"))
        total += size
        rows = con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        print(f"{t:20} {rows:>9} rows {size / 1e6:8.2f} MB")
    print(f"{'total':20} {'':>14} {total / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
