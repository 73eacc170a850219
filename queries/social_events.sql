-- name = "social_events"
-- kind = "block"
-- description = """
-- Person-months with the start of a § 16a service (S1) or of a therapy (S3), in the unit
-- and with the attributes of the attribution row, which must have elb = true; at most one
-- per person, month and kind of event. A person-month with starts of two different
-- services counts once, under the service that started first (ties: by service code), so
-- a breakdown by service splits the total instead of counting it twice."""
-- requires = ["attribution"]
-- reads_if_present = ["services_16a", "health_events"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent", "service"]
-- [measures]
-- service_starts = { description = "person-months with at least one services_16a start", lookback = 1, requires = ["services_16a"] }
-- therapy_starts = { description = "person-months with a health_events therapy_start", lookback = 1, requires = ["health_events"] }
-- [domains]
-- service = ["childcare", "home_care", "debt_counselling", "psychosocial", "addiction_counselling"]
WITH first_service AS (
    SELECT
        person_id,
        month_idx(start_date) AS event_idx,
        service,
        ROW_NUMBER() OVER (
            PARTITION BY person_id, month_idx(start_date)
            ORDER BY start_date, service
        ) AS pick
    FROM services_16a
),
occurrences AS (
    SELECT person_id, event_idx, service, 1 AS service_start, 0 AS therapy_start
    FROM first_service
    WHERE pick = 1
    UNION ALL
    SELECT person_id, month_idx(date), CAST(NULL AS VARCHAR), 0, 1
    FROM health_events
    WHERE event = 'therapy_start'
    GROUP BY person_id, month_idx(date)
)
SELECT
    month_date(o.event_idx) AS month,
    a.jobcenter_id, a.district_id, a.comparison_type, a.sex, a.age_group, a.citizenship,
    a.single_parent,
    o.service,
    CAST(SUM(o.service_start) AS DOUBLE) AS service_starts,
    CAST(SUM(o.therapy_start) AS DOUBLE) AS therapy_starts
FROM occurrences o
JOIN attribution a ON a.person_id = o.person_id AND a.event_idx = o.event_idx
WHERE a.elb
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
