-- name = "stock"
-- kind = "block"
-- description = """
-- The Bestand by month: eLb rows, LZB rows (and those in an active measure or a § 16a
-- service on the reference day), all rows and benefit sums, by the unit and attributes
-- of each row."""
-- requires = ["person_months", "measures"]
-- reads_if_present = ["services_16a"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent"]
-- [measures]
-- elb = { description = "ELB(m): benefit_months rows with elb = true" }
-- lzb = { description = "LZB(m): eLb rows whose person is LZB in m (21 of 24 months)", lookback = 23 }
-- lzb_activated = { description = "LZB rows whose person has a measures spell of category active or public_employment covering the reference day", lookback = 23 }
-- lzb_16a = { description = "LZB rows whose person has a services_16a spell covering the reference day", lookback = 23, requires = ["services_16a"] }
-- rows = { description = "all benefit_months rows, eLb and NEF" }
-- llu_eur = { description = "sum of llu_eur over all rows (eLb and NEF)", count = "rows" }
-- luh_eur = { description = "sum of luh_eur over all rows (eLb and NEF)", count = "rows" }
WITH activated AS (
    -- eLb person-months with an active or public-employment measure on the 15th
    SELECT DISTINCT pm.person_id, pm.month_idx
    FROM person_months pm
    JOIN measures m ON m.person_id = pm.person_id
    WHERE pm.elb
      AND m.category IN ('active', 'public_employment')
      AND m.start_date <= pm.month + INTERVAL '14 days'
      AND (m.end_date IS NULL OR m.end_date >= pm.month + INTERVAL '14 days')
),
using_16a AS (
    -- eLb person-months with a § 16a service on the 15th
    SELECT DISTINCT pm.person_id, pm.month_idx
    FROM person_months pm
    JOIN services_16a s ON s.person_id = pm.person_id
    WHERE pm.elb
      AND s.start_date <= pm.month + INTERVAL '14 days'
      AND (s.end_date IS NULL OR s.end_date >= pm.month + INTERVAL '14 days')
)
SELECT
    pm.month,
    pm.jobcenter_id,
    pm.district_id,
    pm.comparison_type,
    pm.sex,
    pm.age_group,
    pm.citizenship,
    pm.single_parent,
    CAST(SUM(CASE WHEN pm.elb THEN 1 ELSE 0 END) AS DOUBLE) AS elb,
    CAST(SUM(CASE WHEN pm.lzb THEN 1 ELSE 0 END) AS DOUBLE) AS lzb,
    CAST(SUM(CASE WHEN pm.lzb AND act.person_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS lzb_activated,
    CAST(SUM(CASE WHEN pm.lzb AND s16a.person_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS lzb_16a,
    CAST(COUNT(*) AS DOUBLE) AS rows,
    SUM(pm.llu_eur) AS llu_eur,
    SUM(pm.luh_eur) AS luh_eur
FROM person_months pm
LEFT JOIN activated act ON act.person_id = pm.person_id AND act.month_idx = pm.month_idx
LEFT JOIN using_16a s16a ON s16a.person_id = pm.person_id AND s16a.month_idx = pm.month_idx
GROUP BY
    pm.month, pm.jobcenter_id, pm.district_id, pm.comparison_type,
    pm.sex, pm.age_group, pm.citizenship, pm.single_parent
