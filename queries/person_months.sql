-- name = "person_months"
-- kind = "table"
-- description = """
-- Every benefit_months row (eLb and NEF) with its month index and the attributes that
-- breakdowns use: jobcenter, district, comparison type, sex (f or m: d by birth month),
-- citizenship, single parent, and the age group by age on the reference day (the 15th) of the row's month, and the
-- row's LZB status: an eLb row whose person has eLb rows in at least 21 of the 24 months
-- m-23 … m, counted across all jobcenters (a move does not reset it). LZB is only valid
-- for months whose look-back lies inside the data span; measures built on it declare
-- lookback = 24 so the engine marks earlier months unavailable.
--
-- Computing LZB here replaced a separate lzb_status table and the joins that read it in
-- stock, flows and events (400,000 persons: peak memory of the load 6.4 -> 3.3 GB).
-- Tried and measured slower: also computing the neighbouring months' flags for flows
-- in this pass (two more RANGE frames and LAG/LEAD over all rows: 14 s -> 40 s), and
-- partitioning by an integer person key instead of the text id (no difference).
--
-- Kept as a table: five blocks read it, and computing it once is faster and uses less
-- memory than inlining it."""
-- requires = ["benefit_months", "persons", "jobcenters"]
-- [domains]
-- sex = ["f", "m"]
-- age_group = ["u25", "25_54", "55plus"]
-- citizenship = ["de", "foreign"]
-- single_parent = ["false", "true"]
SELECT
    r.month,
    r.month_idx,
    r.person_id,
    r.jobcenter_id,
    r.district_id,
    r.comparison_type,
    r.sex,
    CASE
        -- a birth date after the row's month (or unreadable) has no age group: such rows
        -- enter totals only
        WHEN r.age IS NULL OR r.age < 0 THEN NULL
        WHEN r.age < 25 THEN 'u25'
        WHEN r.age < 55 THEN '25_54'
        ELSE '55plus'
    END AS age_group,
    r.citizenship,
    r.single_parent,
    r.elb,
    -- months_within counts the person's months among m-23 … m that hold an eLb row
    -- (one pass over the rows in person and month order: src/engine/months_within.rs)
    COALESCE(r.elb AND months_within(r.person_id, r.elb, r.month_idx, 24) OVER (ORDER BY r.person_id, r.month_idx) >= 21, false) AS lzb,
    r.llu_eur,
    r.luh_eur
FROM (
    SELECT
        b.month,
        month_idx(b.month) AS month_idx,
        b.person_id,
        b.jobcenter_id,
        b.district_id,
        b.single_parent,
        b.elb,
        b.llu_eur,
        b.luh_eur,
        j.comparison_type,
        -- Breakdowns by sex publish f and m only, adding up to the total: a person recorded
        -- as d is counted under m if born in an odd month, under f if born in an even one
        -- (the rule of German official statistics; docs/indicators.md, "Sex").
        CASE
            WHEN p.sex = 'd' AND CAST(date_part('month', p.birth_date) AS INT) % 2 = 1 THEN 'm'
            WHEN p.sex = 'd' THEN 'f'
            ELSE p.sex
        END AS sex,
        p.citizenship,
        -- completed years on the 15th of the row's month
        CAST(date_part('year', b.month) AS INT) - CAST(date_part('year', p.birth_date) AS INT)
            - CASE
                WHEN CAST(date_part('month', b.month) AS INT) < CAST(date_part('month', p.birth_date) AS INT)
                  OR (CAST(date_part('month', b.month) AS INT) = CAST(date_part('month', p.birth_date) AS INT)
                      AND CAST(date_part('day', p.birth_date) AS INT) > 15)
                THEN 1 ELSE 0
              END AS age
    FROM benefit_months b
    JOIN persons p ON p.person_id = b.person_id
    JOIN jobcenters j ON j.jobcenter_id = b.jobcenter_id
) r
