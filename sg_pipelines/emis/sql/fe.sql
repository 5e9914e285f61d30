-- FE: one record per graduation-test exemption decision per assessment area made in an IEP
-- (after scope.sql and ge_events.sql). An area the IEP exempts is granted (reported every year
-- the IEP is); an area the student's previous IEP exempted and this one does not is removed.
-- Every FE matches its GE on date type and date, because it is built from the GE records.

iep_exemptions AS (
    SELECT
        document_id,
        emis_student_id,
        coalesce(
            list_sort(CAST(json_extract_string(fields, '$.graduation_test_exemptions[*]') AS VARCHAR[])),
            []
        ) AS areas
    FROM events
    WHERE date_type IN ('IIEP', 'RIEP', 'TIEP', 'AIEP')
),

iep_decisions AS (
    SELECT
        document_id,
        areas,
        coalesce(
            lag(areas) OVER (PARTITION BY emis_student_id ORDER BY e.event_date, e.completed_at),
            []
        ) AS previous_areas
    FROM iep_exemptions
    JOIN events AS e USING (document_id, emis_student_id)
),

fe_decisions AS (
    SELECT document_id, unnest(areas) AS area, $granted AS exemption
    FROM iep_decisions
    UNION ALL
    SELECT document_id, unnest(list_filter(previous_areas, lambda a: NOT list_contains(areas, a))), $removed
    FROM iep_decisions
)

SELECT
    g.fiscal_year,
    g.building_irn,
    g.emis_student_id,
    g.date_type,
    g.event_date,
    coalesce(
        list_extract($area_codes, list_position($area_keys, f.area)),
        upper(f.area)
    ) AS assessment_area,
    f.exemption,
    g.document_id,
    g.plan_student_id
FROM ge_records AS g
JOIN fe_decisions AS f USING (document_id)
