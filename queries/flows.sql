-- name = "flows"
-- kind = "block"
-- description = """
-- Flows of month m. eLb flows are per jobcenter, as the official statistics count them:
-- an inflow is an eLb row of m whose person had no eLb row in the same jobcenter in m-1;
-- an outflow is an eLb row of m-1 whose person has no eLb row in the same jobcenter in m
-- (a move between districts of one jobcenter is no flow, a move between jobcenters is an
-- outflow of one and an inflow of the other). LZB flows are status-based and ignore
-- moves: an LZB inflow is an LZB row of m whose person was not LZB in m-1 anywhere; an
-- LZB outflow an LZB row of m-1 whose person is not LZB in m anywhere. Each flow is
-- carried by its row (inflows: the row of m; outflows: the row of m-1), whose district
-- and attributes it takes, so districts add up to their jobcenter."""
-- requires = ["person_months", "lzb_status"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent"]
-- [measures]
-- inflows = { description = "eLb inflows of m (into the jobcenter)", lookback = 1 }
-- outflows = { description = "eLb outflows of m (out of the jobcenter), carried by the row of m-1", lookback = 1 }
-- lzb_inflows = { description = "LZB rows of m whose person was not LZB in m-1", lookback = 24 }
-- lzb_outflows = { description = "LZB rows of m-1 whose person is not LZB in m", lookback = 24 }
WITH elb_rows AS (
    SELECT pm.*, COALESCE(l.lzb, false) AS lzb
    FROM person_months pm
    LEFT JOIN lzb_status l ON l.person_id = pm.person_id AND l.month_idx = pm.month_idx
    WHERE pm.elb
),
carried AS (
    -- carried by the row of m: inflows
    SELECT
        cur.month_idx,
        cur.jobcenter_id, cur.district_id, cur.comparison_type, cur.sex, cur.age_group,
        cur.citizenship, cur.single_parent,
        CASE WHEN same_jc.person_id IS NULL THEN 1 ELSE 0 END AS inflow,
        0 AS outflow,
        CASE WHEN cur.lzb AND COALESCE(before.lzb, false) = false THEN 1 ELSE 0 END AS lzb_inflow,
        0 AS lzb_outflow
    FROM elb_rows cur
    LEFT JOIN elb_rows same_jc
      ON same_jc.person_id = cur.person_id
     AND same_jc.month_idx = cur.month_idx - 1
     AND same_jc.jobcenter_id = cur.jobcenter_id
    LEFT JOIN lzb_status before
      ON before.person_id = cur.person_id AND before.month_idx = cur.month_idx - 1
    UNION ALL
    -- carried by the row of m-1: outflows, counted in month m
    SELECT
        prev.month_idx + 1,
        prev.jobcenter_id, prev.district_id, prev.comparison_type, prev.sex, prev.age_group,
        prev.citizenship, prev.single_parent,
        0,
        CASE WHEN same_jc.person_id IS NULL THEN 1 ELSE 0 END,
        0,
        CASE WHEN prev.lzb AND COALESCE(after.lzb, false) = false THEN 1 ELSE 0 END
    FROM elb_rows prev
    LEFT JOIN elb_rows same_jc
      ON same_jc.person_id = prev.person_id
     AND same_jc.month_idx = prev.month_idx + 1
     AND same_jc.jobcenter_id = prev.jobcenter_id
    LEFT JOIN lzb_status after
      ON after.person_id = prev.person_id AND after.month_idx = prev.month_idx + 1
)
SELECT
    month_date(month_idx) AS month,
    jobcenter_id, district_id, comparison_type, sex, age_group, citizenship, single_parent,
    CAST(SUM(inflow) AS DOUBLE) AS inflows,
    CAST(SUM(outflow) AS DOUBLE) AS outflows,
    CAST(SUM(lzb_inflow) AS DOUBLE) AS lzb_inflows,
    CAST(SUM(lzb_outflow) AS DOUBLE) AS lzb_outflows
FROM carried
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
