-- name = "attribution"
-- kind = "table"
-- description = """
-- The attribution row of every person and month in which the person has an event of any
-- kind: the person's benefit_months row of the month before if it exists, otherwise the
-- row of the month itself (EXTRACTS.md, "Attribution row"). Events of a person with
-- neither row belong to no unit and find no row here. Computed once and shared by every
-- event block."""
-- requires = ["person_months", "employment_starts", "measures"]
-- reads_if_present = ["services_16a", "health_events", "exits", "invitations"]
WITH event_months AS (
    SELECT person_id, month_idx(start_date) AS event_idx FROM employment_starts
    UNION SELECT person_id, month_idx(start_date) FROM measures
    UNION SELECT person_id, month_idx(end_date) FROM measures WHERE end_date IS NOT NULL
    UNION SELECT person_id, month_idx(start_date) FROM services_16a
    UNION SELECT person_id, month_idx(date) FROM health_events
    UNION SELECT person_id, month_idx(date) FROM exits
    UNION SELECT person_id, month_idx(date) FROM invitations
),
candidates AS (
    SELECT person_id, event_idx, event_idx - 1 AS row_idx FROM event_months
    UNION ALL
    SELECT person_id, event_idx, event_idx AS row_idx FROM event_months
),
ranked AS (
    SELECT
        c.event_idx,
        pm.*,
        ROW_NUMBER() OVER (PARTITION BY c.person_id, c.event_idx ORDER BY c.row_idx) AS preference
    FROM candidates c
    JOIN person_months pm ON pm.person_id = c.person_id AND pm.month_idx = c.row_idx
)
SELECT
    person_id,
    event_idx,
    month_idx AS row_idx,
    jobcenter_id,
    district_id,
    comparison_type,
    sex,
    age_group,
    citizenship,
    single_parent,
    elb,
    lzb
FROM ranked
WHERE preference = 1
