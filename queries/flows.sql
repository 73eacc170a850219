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
-- and attributes it takes, so districts add up to their jobcenter.
--
-- A person has at most one row per month, so each eLb row needs the person's eLb rows of
-- m-1 and m+1: `neighbour(person, month_idx, x, ±1)` is x on the person's row of m±1
-- (NULL if none), over the rows in person and month order (src/engine/neighbour.rs).
-- Every row is read twice, once as the row of m (inflows, k = 0) and once as the row of
-- m-1 (outflows counted in m, k = 1). This replaced four self-joins over all eLb rows
-- (400,000 persons: 12.9 s -> 8.5 s), then LAG/LEAD over a window partition per person
-- (BENCHMARKS.md, "One pass over a person's months")."""
-- requires = ["person_months"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent"]
-- [measures]
-- inflows = { description = "eLb inflows of m (into the jobcenter)", lookback = 1 }
-- outflows = { description = "eLb outflows of m (out of the jobcenter), carried by the row of m-1", lookback = 1 }
-- lzb_inflows = { description = "LZB rows of m whose person was not LZB in m-1", lookback = 24 }
-- lzb_outflows = { description = "LZB rows of m-1 whose person is not LZB in m", lookback = 24 }
WITH neighbours AS (
    SELECT
        month_idx, jobcenter_id, district_id, comparison_type, sex, age_group, citizenship,
        single_parent, lzb,
        -- the person's eLb row of m-1 in the same jobcenter / LZB in m-1
        COALESCE(neighbour(person_id, month_idx, jobcenter_id, -1) OVER w = jobcenter_id, false) AS same_jc_before,
        COALESCE(neighbour(person_id, month_idx, lzb, -1) OVER w, false) AS lzb_before,
        -- the person's eLb row of m+1 in the same jobcenter / LZB in m+1
        COALESCE(neighbour(person_id, month_idx, jobcenter_id, 1) OVER w = jobcenter_id, false) AS same_jc_after,
        COALESCE(neighbour(person_id, month_idx, lzb, 1) OVER w, false) AS lzb_after
    FROM person_months
    WHERE elb
    WINDOW w AS (ORDER BY person_id, month_idx)
),
carried AS (
    SELECT
        n.month_idx + side.k AS month_idx,
        n.jobcenter_id, n.district_id, n.comparison_type, n.sex, n.age_group,
        n.citizenship, n.single_parent,
        CASE WHEN side.k = 0 AND NOT n.same_jc_before THEN 1 ELSE 0 END AS inflow,
        CASE WHEN side.k = 1 AND NOT n.same_jc_after THEN 1 ELSE 0 END AS outflow,
        CASE WHEN side.k = 0 AND n.lzb AND NOT n.lzb_before THEN 1 ELSE 0 END AS lzb_inflow,
        CASE WHEN side.k = 1 AND n.lzb AND NOT n.lzb_after THEN 1 ELSE 0 END AS lzb_outflow
    FROM neighbours n
    CROSS JOIN (VALUES (0), (1)) AS side(k)
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
