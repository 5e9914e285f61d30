-- GE: special-education events from completed documents (CTEs, after scope.sql).
-- One event per document (its date type from code_lists.DOCUMENT_DATE_TYPES) plus the referral
-- and consent an evaluation team report records. Several completed versions of one
-- (EMIS Student ID, date type, date) give one event: the latest completed.

date_types AS (
    SELECT unnest($document_types) AS document_type, unnest($date_types) AS date_type
),

raw_events AS (
    SELECT d.*, t.date_type,
        CASE WHEN t.date_type = 'AIEP' THEN d.effective_day ELSE d.meeting_date END AS event_date
    FROM documents AS d
    JOIN date_types AS t USING (document_type)
    WHERE d.program = 'special_education'
    UNION ALL
    SELECT d.*, 'RFRL' AS date_type, try_cast(d.fields ->> 'referral_date' AS DATE) AS event_date
    FROM documents AS d
    WHERE d.document_type = 'etr_initial'
    UNION ALL
    SELECT d.*, 'CNST' AS date_type, try_cast(d.fields ->> 'consent_date' AS DATE) AS event_date
    FROM documents AS d
    WHERE d.document_type IN ('etr_initial', 'etr_reevaluation')
),

events AS (
    SELECT e.*, s.emis_student_id
    FROM raw_events AS e
    JOIN students AS s USING (plan_student_id)
    WHERE e.event_date IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY s.emis_student_id, e.date_type, e.event_date
        ORDER BY e.completed_at DESC, e.document_id DESC
    ) = 1
),

-- federal timelines: an initial ETR within 60 days of consent, a re-evaluation within three
-- years of the previous evaluation
timed_events AS (
    SELECT
        *,
        CASE
            WHEN date_type = 'IETR'
                THEN event_date > try_cast(fields ->> 'consent_date' AS DATE) + $initial_days
            WHEN date_type = 'RETR'
                THEN event_date > previous_evaluation + to_years($reevaluation_years)
            ELSE false
        END AS timeline_missed
    FROM (
        SELECT
            *,
            max(CASE WHEN date_type IN ('IETR', 'RETR', 'TETR') THEN event_date END) OVER (
                PARTITION BY emis_student_id
                ORDER BY event_date, completed_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS previous_evaluation
        FROM events
    )
),

in_window AS (
    SELECT t.*, false AS pulled_prior
    FROM timed_events AS t
    JOIN window_enrollments USING (plan_student_id)
    WHERE t.event_date BETWEEN $start_date AND $end_date
),

-- IC's pull-prior rule: a student admitted after the start date also reports the most recent
-- evaluation and the most recent plan dated before it
prior AS (
    SELECT t.*, true AS pulled_prior
    FROM timed_events AS t
    JOIN window_enrollments AS w USING (plan_student_id)
    WHERE $pull_prior
        AND w.admitted_on > $start_date
        AND t.event_date < $start_date
        AND (list_contains($prior_evaluations, t.date_type) OR list_contains($prior_plans, t.date_type))
    QUALIFY row_number() OVER (
        PARTITION BY t.plan_student_id, list_contains($prior_plans, t.date_type)
        ORDER BY t.event_date DESC, t.completed_at DESC
    ) = 1
),

ge_selected AS (
    SELECT * FROM in_window
    UNION ALL
    SELECT * FROM prior
),

-- the building: the enrollment holding the event's date, else the window's latest
ge_buildings AS (
    SELECT
        g.*,
        coalesce(
            (
                SELECT arg_max(e.building_irn, e.begin_date)
                FROM enrollments AS e
                WHERE e.plan_student_id = g.plan_student_id
                    AND g.event_date >= e.begin_date
                    AND (e.last_day IS NULL OR g.event_date <= e.last_day)
            ),
            w.building_irn
        ) AS building_irn
    FROM ge_selected AS g
    JOIN window_enrollments AS w USING (plan_student_id)
),

ge_records AS (
    SELECT
        $fiscal_year::INTEGER AS fiscal_year,
        building_irn,
        emis_student_id,
        date_type,
        event_date,
        CASE
            WHEN date_type IN ('IETR', 'RETR', 'TETR')
                AND list_contains($evaluation_outcomes, fields ->> 'outcome')
                THEN fields ->> 'outcome'
            WHEN date_type = 'CNST' AND list_contains($consent_outcomes, fields ->> 'consent_outcome')
                THEN fields ->> 'consent_outcome'
            WHEN date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP')
                AND list_contains($placement_outcomes, fields ->> 'placement')
                THEN fields ->> 'placement'
            WHEN date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP')
                AND list_contains($iep_outcomes, fields ->> 'outcome')
                THEN fields ->> 'outcome'
            ELSE '****'
        END AS outcome_id,
        CASE
            WHEN timeline_missed AND list_contains($non_compliance_ids, fields ->> 'non_compliance')
                THEN fields ->> 'non_compliance'
            ELSE '**'
        END AS non_compliance_id,
        CASE
            WHEN date_type = 'TETR' THEN event_date
            WHEN date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP') THEN effective_start
        END AS outcome_begin_date,
        CASE
            WHEN date_type = 'TETR' THEN CAST(
                coalesce(try_cast(fields ->> 'original_etr_date' AS DATE), event_date)
                + INTERVAL 3 YEAR - INTERVAL 1 DAY AS DATE
            )
            WHEN date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP') THEN effective_end
        END AS outcome_end_date,
        CASE
            WHEN date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP')
                THEN coalesce(
                    list_extract($test_type_codes, list_position($test_type_keys, fields ->> 'test_type')),
                    '***'
                )
            ELSE '***'
        END AS iep_test_type,
        CASE
            WHEN date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP')
                AND regexp_full_match(coalesce(fields ->> 'secondary_planning', ''), $secondary_pattern)
                THEN fields ->> 'secondary_planning'
            ELSE '****'
        END AS secondary_planning,
        CASE
            WHEN date_type NOT IN ('IIEP', 'RIEP', 'TIEP', 'AIEP') THEN '*'
            WHEN fields ->> 'extended_school_year' = 'true' THEN 'Y'
            WHEN fields ->> 'extended_school_year' = 'false' THEN 'N'
            ELSE '*'
        END AS extended_school_year,
        timeline_missed,
        pulled_prior,
        document_id,
        plan_student_id
    FROM ge_buildings
)
