-- name = "integrations"
-- kind = "block"
-- description = """
-- Integrations: employment_starts of kind svb, training or self_employed (subsidised or
-- not) by start month, at most one per person and month, counted in the unit and with the
-- attributes of the attribution row, which must have elb = true. When a person has several
-- qualifying starts in a month, the counted one is svb if there is one, else training,
-- else self_employed: its kind is the dimension `kind`."""
-- requires = ["employment_starts", "attribution", "lzb_status"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent", "kind"]
-- [measures]
-- integrations = { description = "INT(m): person-months with a qualifying start", lookback = 1 }
-- lzb_integrations = { description = "integrations whose person is LZB in the month of the attribution row", lookback = 24 }
WITH person_month_starts AS (
    SELECT
        person_id,
        month_idx(start_date) AS event_idx,
        -- svb preferred, then training, then self_employed
        MIN(CASE kind WHEN 'svb' THEN 1 WHEN 'training' THEN 2 ELSE 3 END) AS best
    FROM employment_starts
    WHERE kind IN ('svb', 'training', 'self_employed')
    GROUP BY person_id, month_idx(start_date)
)
SELECT
    month_date(s.event_idx) AS month,
    a.jobcenter_id,
    a.district_id,
    a.comparison_type,
    a.sex,
    a.age_group,
    a.citizenship,
    a.single_parent,
    CASE s.best WHEN 1 THEN 'svb' WHEN 2 THEN 'training' ELSE 'self_employed' END AS kind,
    CAST(COUNT(*) AS DOUBLE) AS integrations,
    CAST(SUM(CASE WHEN l.lzb THEN 1 ELSE 0 END) AS DOUBLE) AS lzb_integrations
FROM person_month_starts s
JOIN attribution a ON a.person_id = s.person_id AND a.event_idx = s.event_idx
LEFT JOIN lzb_status l ON l.person_id = s.person_id AND l.month_idx = a.row_idx
WHERE a.elb
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
