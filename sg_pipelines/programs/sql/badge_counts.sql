-- Counts per (program, as_of_date) slice, for asset metadata: badge rows, students active on
-- the day, opened (active on the day but not on the day before, as known then), closed (the
-- reverse) and unflaggable. Reads computed_badges (which also holds each slice's day before),
-- computed_unflaggable and badge_slices (program, as_of_date: the slices the run writes).

WITH active AS (
    SELECT DISTINCT program, as_of_date, plan_student_id
    FROM computed_badges
    WHERE active_on_day
),

changes AS (
    SELECT
        coalesce(a.program, y.program) AS program,
        coalesce(a.as_of_date, y.as_of_date + 1) AS as_of_date,
        y.plan_student_id IS NULL AS opened,
        a.plan_student_id IS NULL AS closed
    FROM active AS a
    FULL JOIN active AS y
        ON y.program = a.program
        AND y.plan_student_id = a.plan_student_id
        AND y.as_of_date = a.as_of_date - 1
),

badges AS (
    SELECT
        program,
        as_of_date,
        count(*) AS badges,
        count(DISTINCT plan_student_id) FILTER (WHERE active_on_day) AS badges_active
    FROM computed_badges
    GROUP BY program, as_of_date
),

moves AS (
    SELECT
        program,
        as_of_date,
        count(*) FILTER (WHERE opened) AS badges_opened,
        count(*) FILTER (WHERE closed) AS badges_closed
    FROM changes
    GROUP BY program, as_of_date
),

unflaggable AS (
    SELECT program, as_of_date, count(*) AS unflaggable
    FROM computed_unflaggable
    GROUP BY program, as_of_date
)

SELECT
    s.program,
    s.as_of_date,
    coalesce(b.badges, 0) AS badges,
    coalesce(b.badges_active, 0) AS badges_active,
    coalesce(m.badges_opened, 0) AS badges_opened,
    coalesce(m.badges_closed, 0) AS badges_closed,
    coalesce(u.unflaggable, 0) AS unflaggable
FROM badge_slices AS s
LEFT JOIN badges AS b ON b.program = s.program AND b.as_of_date = s.as_of_date
LEFT JOIN moves AS m ON m.program = s.program AND m.as_of_date = s.as_of_date
LEFT JOIN unflaggable AS u ON u.program = s.program AND u.as_of_date = s.as_of_date
ORDER BY s.program, s.as_of_date
