-- EMIS Student IDs in {table} are 9-character strings of digits (leading zeros kept).
SELECT
    count(*) AS records,
    count(*) FILTER (
        WHERE emis_student_id IS NULL OR NOT regexp_full_match(emis_student_id, '[0-9]{{9}}')
    ) AS malformed
FROM {table}
