-- name = "attribution"
-- kind = "table"
-- description = """
-- The attribution row of every person and month in which the person has an event of any
-- kind: the person's benefit_months row of the month before if it exists, otherwise the
-- row of the month itself (docs/extracts.md, "Attribution row"). Events of a person with
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
)
-- A person has at most one row per month: the row of m-1 if there is one, else the row
-- of m. Two equality joins instead of ranking both candidates with ROW_NUMBER, which
-- sorted them (100,000 persons: 1.55 s -> 0.46 s).
SELECT
    e.person_id,
    e.event_idx,
    CASE WHEN b.person_id IS NOT NULL THEN b.month_idx ELSE c.month_idx END AS row_idx,
    CASE WHEN b.person_id IS NOT NULL THEN b.jobcenter_id ELSE c.jobcenter_id END AS jobcenter_id,
    CASE WHEN b.person_id IS NOT NULL THEN b.district_id ELSE c.district_id END AS district_id,
    CASE WHEN b.person_id IS NOT NULL THEN b.comparison_type ELSE c.comparison_type END AS comparison_type,
    CASE WHEN b.person_id IS NOT NULL THEN b.sex ELSE c.sex END AS sex,
    CASE WHEN b.person_id IS NOT NULL THEN b.age_group ELSE c.age_group END AS age_group,
    CASE WHEN b.person_id IS NOT NULL THEN b.citizenship ELSE c.citizenship END AS citizenship,
    CASE WHEN b.person_id IS NOT NULL THEN b.single_parent ELSE c.single_parent END AS single_parent,
    CASE WHEN b.person_id IS NOT NULL THEN b.elb ELSE c.elb END AS elb,
    CASE WHEN b.person_id IS NOT NULL THEN b.lzb ELSE c.lzb END AS lzb
FROM event_months e
LEFT JOIN person_months b ON b.person_id = e.person_id AND b.month_idx = e.event_idx - 1
LEFT JOIN person_months c ON c.person_id = e.person_id AND c.month_idx = e.event_idx
WHERE b.person_id IS NOT NULL OR c.person_id IS NOT NULL
