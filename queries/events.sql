-- name = "events"
-- kind = "block"
-- description = """
-- Person-months with an event, counted in the unit and with the attributes of the
-- attribution row, which must have elb = true; at most one per person, month and event
-- (docs/kennzahlen.md, "Integration" and "Event counts"). Events:
--   integration        employment_starts of kind svb, training or self_employed; `kind`
--                      is the counted start's kind: svb if the person has one that month,
--                      else training, else self_employed
--   minijob            employment_starts of kind minijob
--   public_employment  measures starting with category public_employment"""
-- requires = ["employment_starts", "measures", "attribution"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent", "event", "kind"]
-- [measures]
-- persons = { description = "person-months with the event (INT(m) for integrations)", lookback = 1 }
-- lzb_persons = { description = "of these, persons who are LZB in the month of the attribution row", lookback = 24 }
-- svb_stable = { description = "svb integrations after which svb spells cover the reference days of all six following months", lookback = 1, lookahead = 6 }
WITH occurrences AS (
    SELECT
        person_id,
        month_idx(start_date) AS event_idx,
        'integration' AS event,
        MIN(CASE kind WHEN 'svb' THEN 1 WHEN 'training' THEN 2 ELSE 3 END) AS best
    FROM employment_starts
    WHERE kind IN ('svb', 'training', 'self_employed')
    GROUP BY person_id, month_idx(start_date)
    UNION ALL
    SELECT person_id, month_idx(start_date), 'minijob', 0
    FROM employment_starts
    WHERE kind = 'minijob'
    GROUP BY person_id, month_idx(start_date)
    UNION ALL
    SELECT person_id, month_idx(start_date), 'public_employment', 0
    FROM measures
    WHERE category = 'public_employment'
    GROUP BY person_id, month_idx(start_date)
),
-- svb integrations whose six following reference days (15th of m+1 … m+6) all lie in
-- an svb spell (one spell or several); a null end_date runs to the end of the data.
stable AS (
    SELECT o.person_id, o.event_idx
    FROM occurrences o
    CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6)) AS k(n)
    JOIN employment_starts e
      ON e.person_id = o.person_id
     AND e.kind = 'svb'
     AND e.start_date <= month_date(o.event_idx + k.n) + INTERVAL '14 days'
     AND (e.end_date IS NULL OR e.end_date >= month_date(o.event_idx + k.n) + INTERVAL '14 days')
    WHERE o.event = 'integration' AND o.best = 1
    GROUP BY o.person_id, o.event_idx
    HAVING COUNT(DISTINCT k.n) = 6
)
SELECT
    month_date(o.event_idx) AS month,
    a.jobcenter_id,
    a.district_id,
    a.comparison_type,
    a.sex,
    a.age_group,
    a.citizenship,
    a.single_parent,
    o.event,
    CASE
        WHEN o.event <> 'integration' THEN o.event
        WHEN o.best = 1 THEN 'svb'
        WHEN o.best = 2 THEN 'training'
        ELSE 'self_employed'
    END AS kind,
    CAST(COUNT(*) AS DOUBLE) AS persons,
    CAST(SUM(CASE WHEN a.lzb THEN 1 ELSE 0 END) AS DOUBLE) AS lzb_persons,
    CAST(SUM(CASE WHEN s.person_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS svb_stable
FROM occurrences o
JOIN attribution a ON a.person_id = o.person_id AND a.event_idx = o.event_idx
LEFT JOIN stable s ON s.person_id = o.person_id AND s.event_idx = o.event_idx AND o.event = 'integration'
WHERE a.elb
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
