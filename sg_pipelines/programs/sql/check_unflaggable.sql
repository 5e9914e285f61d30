-- Unflaggable badges on each enabled program's newest computed day, by reason.
-- Parameter: the enabled programs (VARCHAR[]).

WITH newest AS (
    SELECT program, max(as_of_date) AS as_of_date
    FROM program_participation_badges
    WHERE list_contains(?::VARCHAR[], program)
    GROUP BY program
)

SELECT u.program, u.reason, count(*) AS badges
FROM unflaggable_badges AS u
JOIN newest AS n ON n.program = u.program AND n.as_of_date = u.as_of_date
GROUP BY u.program, u.reason
ORDER BY u.program, u.reason
