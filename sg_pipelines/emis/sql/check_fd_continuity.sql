-- FD spans inside each enrollment: no overlaps, no gaps (each span starts the day after the
-- previous one ends), only the last span may be open, and no span ends before it starts.
WITH ordered AS (
    SELECT
        emis_student_id,
        enrollment_begin_date,
        effective_start_date,
        effective_end_date,
        lag(effective_end_date) OVER spans AS previous_end,
        lag(effective_start_date) OVER spans AS previous_start,
        row_number() OVER spans AS position
    FROM emis_fd
    WINDOW spans AS (
        PARTITION BY emis_student_id, enrollment_begin_date ORDER BY effective_start_date
    )
)
SELECT
    count(*) AS spans,
    count(*) FILTER (WHERE position > 1 AND previous_end IS NULL) AS open_before_last,
    count(*) FILTER (WHERE previous_end >= effective_start_date) AS overlaps,
    count(*) FILTER (WHERE previous_end + 1 < effective_start_date) AS gaps,
    count(*) FILTER (WHERE effective_end_date < effective_start_date) AS inverted,
    count(*) FILTER (WHERE previous_start = effective_start_date) AS duplicate_starts
FROM ordered
