-- name = "lzb_status"
-- kind = "table"
-- description = """
-- LZB status of every eLb person-month: the person has eLb rows in at least 21 of the 24
-- months m-23 … m, counted across all jobcenters (a move does not reset it). Only valid
-- for months whose look-back lies inside the data span; measures built on it declare
-- lookback = 23 so the engine marks earlier months unavailable."""
-- requires = ["person_months"]
SELECT
    person_id,
    month_idx,
    COUNT(*) OVER (
        PARTITION BY person_id
        ORDER BY month_idx
        RANGE BETWEEN 23 PRECEDING AND CURRENT ROW
    ) >= 21 AS lzb
FROM person_months
WHERE elb
