-- Program participation badge intervals as they were known on each day in `badge_days`.
-- The rules are in sg_pipelines/programs/rules.py; this query applies them, set-based.
--
-- Reads: plan_documents (the warehouse snapshot); badge_rules (program, document_type, role,
-- lapse_grace_days); badge_days (program, as_of_date, cutover_date).
-- Returns one row per (program, as_of_date, plan student, badge interval) for the intervals
-- that reach the program's cutover.

WITH events AS (
    -- completed start and exit documents, each with the day it became known
    SELECT
        d.program,
        d.student_id AS plan_student_id,
        d.sourced_id,
        d.id AS document_id,
        r.role,
        d.completed_at,
        (d.completed_at AT TIME ZONE 'America/New_York')::DATE AS known_on,
        coalesce(d.effective_start, d.meeting_date, known_on) AS effective_on,
        CASE
            WHEN r.role = 'start' AND r.lapse_grace_days IS NOT NULL
                THEN d.effective_end + r.lapse_grace_days + 1
        END AS lapses_on
    FROM plan_documents AS d
    JOIN badge_rules AS r ON r.program = d.program AND r.document_type = d.document_type
    WHERE d.status = 'completed'
        AND d.completed_at IS NOT NULL
        AND r.role IN ('start', 'exit')
        AND d.program IN (SELECT program FROM badge_days)
        AND (d.completed_at AT TIME ZONE 'America/New_York')::DATE
            <= (SELECT max(as_of_date) FROM badge_days)
),

versions AS (
    -- a student's badges can change only on a day one of their documents became known
    SELECT
        program,
        plan_student_id,
        known_on AS version_on,
        lead(known_on) OVER (PARTITION BY program, plan_student_id ORDER BY known_on)
            AS next_version_on
    FROM (SELECT DISTINCT program, plan_student_id, known_on FROM events)
),

ordered AS (
    -- each version sees the documents known by then, in effective, then completion order
    SELECT
        v.version_on,
        v.next_version_on,
        e.*,
        row_number() OVER w AS position,
        lag(e.role) OVER w AS previous_role,
        lag(e.lapses_on) OVER w AS previous_lapses_on
    FROM versions AS v
    JOIN events AS e
        ON e.program = v.program
        AND e.plan_student_id = v.plan_student_id
        AND e.known_on <= v.version_on
    WINDOW w AS (
        PARTITION BY v.program, v.plan_student_id, v.version_on
        ORDER BY e.effective_on, e.completed_at, e.document_id
    )
),

islands AS (
    -- a start opens a new interval after an exit, after a lapse, or as the first event
    SELECT
        *,
        sum(
            CASE
                WHEN role = 'start'
                    AND (previous_role IS DISTINCT FROM 'start'
                        OR effective_on >= previous_lapses_on)
                    THEN 1
                ELSE 0
            END
        ) OVER (
            PARTITION BY program, plan_student_id, version_on
            ORDER BY position ROWS UNBOUNDED PRECEDING
        ) AS island
    FROM ordered
),

spans AS (
    -- one row per interval; exits before the first start (island 0) change nothing
    SELECT
        program,
        plan_student_id,
        version_on,
        next_version_on,
        island,
        any_value(sourced_id) AS sourced_id,
        arg_min(effective_on, position) AS badge_start,
        arg_min(document_id, position) AS start_document_id,
        arg_min(effective_on, position) FILTER (WHERE role = 'exit') AS exit_on,
        arg_min(document_id, position) FILTER (WHERE role = 'exit') AS exit_document_id,
        arg_max_null(lapses_on, position) FILTER (WHERE role = 'start') AS lapses_on
    FROM islands
    WHERE island > 0
    GROUP BY program, plan_student_id, version_on, next_version_on, island
),

intervals AS (
    -- an exit ends the interval unless the plan lapsed first
    SELECT
        *,
        exit_on IS NOT NULL AND (lapses_on IS NULL OR exit_on <= lapses_on) AS ended_by_exit,
        lead(badge_start) OVER (
            PARTITION BY program, plan_student_id, version_on ORDER BY island
        ) AS next_start
    FROM spans
),

dated AS (
    SELECT
        d.program,
        d.as_of_date,
        d.cutover_date,
        i.plan_student_id,
        i.sourced_id,
        i.badge_start,
        CASE
            WHEN i.ended_by_exit THEN i.exit_on - 1
            -- a lapse is a fact only once its day has come, or a later plan started after it
            WHEN i.lapses_on IS NOT NULL
                AND (i.next_start IS NOT NULL OR d.as_of_date >= i.lapses_on)
                THEN i.lapses_on - 1
        END AS badge_end,
        i.start_document_id,
        CASE WHEN i.ended_by_exit THEN i.exit_document_id END AS end_document_id
    FROM badge_days AS d
    JOIN intervals AS i
        ON i.program = d.program
        AND d.as_of_date >= i.version_on
        AND (i.next_version_on IS NULL OR d.as_of_date < i.next_version_on)
)

SELECT
    program,
    as_of_date,
    plan_student_id,
    sourced_id,
    badge_start,
    badge_end,
    start_document_id,
    end_document_id,
    badge_start <= as_of_date AND (badge_end IS NULL OR as_of_date <= badge_end) AS active_on_day
FROM dated
WHERE (badge_end IS NULL OR badge_end >= badge_start)
    AND (badge_end IS NULL OR badge_end >= cutover_date)
