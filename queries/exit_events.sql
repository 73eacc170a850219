-- name = "exit_events"
-- kind = "block"
-- description = """
-- Exits to pension (S4) and to SGB XII (S5) by the month of the last day of receipt,
-- at most one per person, month and reason, attributed to the person's row of the month
-- before, which must have elb = true (docs/kennzahlen.md, S4: "attribution: row of m-1")."""
-- requires = ["exits", "person_months"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent"]
-- [measures]
-- pension = { description = "exits with reason pension", lookback = 1 }
-- sgb_xii = { description = "exits with reason sgb_xii", lookback = 1 }
WITH occurrences AS (
    SELECT person_id, month_idx(date) AS event_idx, reason
    FROM exits
    WHERE reason IN ('pension', 'sgb_xii')
    GROUP BY person_id, month_idx(date), reason
)
SELECT
    month_date(o.event_idx) AS month,
    pm.jobcenter_id, pm.district_id, pm.comparison_type, pm.sex, pm.age_group,
    pm.citizenship, pm.single_parent,
    CAST(SUM(CASE WHEN o.reason = 'pension' THEN 1 ELSE 0 END) AS DOUBLE) AS pension,
    CAST(SUM(CASE WHEN o.reason = 'sgb_xii' THEN 1 ELSE 0 END) AS DOUBLE) AS sgb_xii
FROM occurrences o
JOIN person_months pm ON pm.person_id = o.person_id AND pm.month_idx = o.event_idx - 1
WHERE pm.elb
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
