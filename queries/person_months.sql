-- name = "person_months"
-- kind = "table"
-- description = """
-- Every benefit_months row (eLb and NEF) with its month index and the attributes that
-- breakdowns use: jobcenter, district, comparison type, sex, citizenship, single parent,
-- and the age group by age on the reference day (the 15th) of the row's month. Kept as
-- a table: five blocks read it, and computing it once is faster and uses less memory than
-- inlining it (sample: 11.3 s and 1.9 GB peak against 13.2 s and 2.5 GB)."""
-- requires = ["benefit_months", "persons", "jobcenters"]
SELECT
    r.month,
    r.month_idx,
    r.person_id,
    r.bg_id,
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
    r.llu_eur,
    r.luh_eur
FROM (
    SELECT
        b.*,
        month_idx(b.month) AS month_idx,
        j.comparison_type,
        p.sex,
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
