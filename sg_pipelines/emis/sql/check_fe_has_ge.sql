-- Every FE record has a GE record of the same student, date type and date (FE-DOC).
SELECT
    count(*) AS fe_records,
    count(*) FILTER (WHERE g.emis_student_id IS NULL) AS without_ge
FROM emis_fe AS f
LEFT JOIN (SELECT DISTINCT emis_student_id, date_type, event_date FROM emis_ge) AS g
    USING (emis_student_id, date_type, event_date)
