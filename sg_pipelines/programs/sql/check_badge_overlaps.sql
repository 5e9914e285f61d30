-- Badge intervals of one student in one program, on one day, that overlap the one before.

WITH ordered AS (
    SELECT
        program,
        as_of_date,
        badge_start,
        lag(coalesce(badge_end, DATE '9999-12-31')) OVER (
            PARTITION BY program, as_of_date, plan_student_id ORDER BY badge_start
        ) AS previous_end
    FROM program_participation_badges
)

SELECT
    count(*) AS overlaps,
    count(DISTINCT (program, as_of_date)) AS slices
FROM ordered
WHERE previous_end >= badge_start
