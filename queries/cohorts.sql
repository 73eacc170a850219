-- name = "cohorts"
-- kind = "block"
-- description = """
-- Programme cohorts: measures participations by the month of their end_date, whose
-- attribution row for that month has elb = true (a participation without end date is in
-- no cohort), and what happened in the follow-up (end_date, end_date + 6 calendar
-- months]: an integrating employment start (svb, training, self_employed), another
-- measures participation starting, a therapy start, an exit to pension or SGB XII. Every
-- outcome measure looks six months ahead, so a cohort month whose follow-up leaves the
-- data span is unavailable (incomplete), never a lower share."""
-- requires = ["measures", "employment_starts", "attribution"]
-- reads_if_present = ["health_events", "exits"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent", "programme"]
-- [measures]
-- participations = { description = "cohort participations", lookback = 1, lookahead = 6 }
-- integrated = { description = "with an integrating employment start in the follow-up", lookback = 1, lookahead = 6 }
-- further_measure = { description = "with another measures participation starting in the follow-up", lookback = 1, lookahead = 6 }
-- therapy = { description = "with a therapy_start in the follow-up", lookback = 1, lookahead = 6, requires = ["health_events"] }
-- pension_or_sgb_xii = { description = "with an exit to pension or SGB XII in the follow-up", lookback = 1, lookahead = 6, requires = ["exits"] }
WITH cohort AS (
    SELECT
        participation_id,
        person_id,
        programme,
        end_date,
        end_date + INTERVAL '6 months' AS follow_up_end,
        month_idx(end_date) AS event_idx
    FROM measures
    WHERE end_date IS NOT NULL
),
integrated AS (
    SELECT DISTINCT c.participation_id
    FROM cohort c
    JOIN employment_starts e ON e.person_id = c.person_id
    WHERE e.kind IN ('svb', 'training', 'self_employed')
      AND e.start_date > c.end_date AND e.start_date <= c.follow_up_end
),
further AS (
    SELECT DISTINCT c.participation_id
    FROM cohort c
    JOIN measures m ON m.person_id = c.person_id
    WHERE m.participation_id <> c.participation_id
      AND m.start_date > c.end_date AND m.start_date <= c.follow_up_end
),
therapy AS (
    SELECT DISTINCT c.participation_id
    FROM cohort c
    JOIN health_events h ON h.person_id = c.person_id
    WHERE h.event = 'therapy_start'
      AND h.date > c.end_date AND h.date <= c.follow_up_end
),
transition AS (
    SELECT DISTINCT c.participation_id
    FROM cohort c
    JOIN exits x ON x.person_id = c.person_id
    WHERE x.reason IN ('pension', 'sgb_xii')
      AND x.date > c.end_date AND x.date <= c.follow_up_end
)
SELECT
    month_date(c.event_idx) AS month,
    a.jobcenter_id, a.district_id, a.comparison_type, a.sex, a.age_group, a.citizenship,
    a.single_parent,
    c.programme,
    CAST(COUNT(*) AS DOUBLE) AS participations,
    CAST(SUM(CASE WHEN i.participation_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS integrated,
    CAST(SUM(CASE WHEN f.participation_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS further_measure,
    CAST(SUM(CASE WHEN t.participation_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS therapy,
    CAST(SUM(CASE WHEN x.participation_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE) AS pension_or_sgb_xii
FROM cohort c
JOIN attribution a ON a.person_id = c.person_id AND a.event_idx = c.event_idx
LEFT JOIN integrated i ON i.participation_id = c.participation_id
LEFT JOIN further f ON f.participation_id = c.participation_id
LEFT JOIN therapy t ON t.participation_id = c.participation_id
LEFT JOIN transition x ON x.participation_id = c.participation_id
WHERE a.elb
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
