-- Students with a badge who cannot be flagged, by reason, on each program's newest day.
SELECT u.program, u.reason, count(DISTINCT u.plan_student_id)::INTEGER
FROM unflaggable_badges AS u
JOIN (SELECT program, max(as_of_date) AS as_of_date FROM unflaggable_badges GROUP BY program)
    USING (program, as_of_date)
GROUP BY u.program, u.reason
ORDER BY u.program, u.reason
