-- One GQ record per student and program code (IC-GQ R1; fault E1).
SELECT count(*) AS records, count(*) - count(DISTINCT (emis_student_id, program_code)) AS duplicates
FROM emis_gq
