-- GQ: one record per program code per student (after scope.sql). A code comes from a
-- completed start document's `fields.program_codes`; it runs from the document's effective day
-- to its effective end, or to the day before the program's next exit, or stays open. A student
-- reports a code when enrolled at least one day of the window and the code is active at least
-- one day of it; duplicate codes and overlapping spans fold into one record (IC-GQ R1, R3.BR2;
-- fault E1). End dates after the window's end are left open.

program_rules AS (
    SELECT unnest($rule_programs) AS program, unnest($rule_types) AS document_type,
        unnest($rule_roles) AS role
),

exits AS (
    SELECT d.plan_student_id, d.program, d.effective_day, d.completed_at, d.document_id
    FROM documents AS d
    JOIN program_rules AS r USING (program, document_type)
    WHERE r.role = 'exit'
),

coded AS (
    SELECT
        d.plan_student_id,
        d.document_id,
        d.completed_at,
        d.program,
        d.effective_day AS start_day,
        d.effective_end,
        trim(unnest(CAST(json_extract_string(d.fields, '$.program_codes[*]') AS VARCHAR[])))
            AS program_code
    FROM documents AS d
    JOIN program_rules AS r USING (program, document_type)
    WHERE r.role = 'start' AND d.effective_day IS NOT NULL
),

code_spans AS (
    SELECT
        c.*,
        least(
            c.effective_end,
            (
                SELECT min(x.effective_day) - 1
                FROM exits AS x
                WHERE x.plan_student_id = c.plan_student_id
                    AND x.program = c.program
                    -- an exit of the start's own day ends it when completed after it: the
                    -- team's latest word on a day wins (programs/rules.py), leaving no span
                    AND (x.effective_day, x.completed_at, x.document_id)
                        > (c.start_day, c.completed_at, c.document_id)
            )
        ) AS end_day
    FROM coded AS c
    WHERE c.program_code <> ''
),

active AS (
    SELECT *
    FROM code_spans
    WHERE start_day <= $end_date AND (end_day IS NULL OR end_day >= $start_date)
        AND (end_day IS NULL OR end_day >= start_day)
)

SELECT
    $fiscal_year::INTEGER AS fiscal_year,
    w.building_irn,
    s.emis_student_id,
    a.program_code,
    min(a.start_day) AS program_start_date,
    CASE
        WHEN bool_or(a.end_day IS NULL) OR max(a.end_day) > $end_date THEN NULL
        ELSE max(a.end_day)
    END AS program_end_date,
    NULL::VARCHAR AS staff_id,
    arg_max(a.document_id, a.completed_at) AS document_id,
    a.plan_student_id
FROM active AS a
JOIN students AS s USING (plan_student_id)
JOIN window_enrollments AS w USING (plan_student_id)
GROUP BY ALL
