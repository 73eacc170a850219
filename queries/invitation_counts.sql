-- name = "invitation_counts"
-- kind = "block"
-- description = """
-- Invitations by the month of the appointment, every invitation counted (no cap per
-- person and month), in the unit and with the attributes of the attribution row, which
-- must have elb = true; broken down by invitation format (the extract's `format`) and topic (a null topic enters totals only)."""
-- requires = ["invitations", "attribution"]
-- dimensions = ["jobcenter_id", "district_id", "comparison_type", "sex", "age_group", "citizenship", "single_parent", "invitation_format", "topic"]
-- [measures]
-- invitations = { description = "invitations", lookback = 1 }
-- attended = { description = "invitations with attended = true", lookback = 1 }
-- [domains]
-- invitation_format = ["standard", "contact_cafe", "group_info"]
SELECT
    month_date(month_idx(i.date)) AS month,
    a.jobcenter_id, a.district_id, a.comparison_type, a.sex, a.age_group, a.citizenship,
    a.single_parent,
    i.format AS invitation_format,
    i.topic,
    CAST(COUNT(*) AS DOUBLE) AS invitations,
    CAST(SUM(CASE WHEN i.attended THEN 1 ELSE 0 END) AS DOUBLE) AS attended
FROM invitations i
JOIN attribution a ON a.person_id = i.person_id AND a.event_idx = month_idx(i.date)
WHERE a.elb
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
