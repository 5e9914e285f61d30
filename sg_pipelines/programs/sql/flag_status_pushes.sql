-- Per program: the newest push attempted (with its counts) and the newest complete one.
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY program ORDER BY started_at DESC) AS newest
    FROM flag_push_log
)
SELECT
    a.program,
    a.started_at AS last_attempted_at,
    a.status AS last_attempt_status,
    a.as_of_date AS last_attempt_day,
    (SELECT max(s.started_at) FROM flag_push_log AS s
     WHERE s.program = a.program AND s.status = 'complete') AS last_success_at,
    a.set_count,
    a.ended_count,
    a.updated_count,
    a.failed_count
FROM ranked AS a
WHERE a.newest = 1
