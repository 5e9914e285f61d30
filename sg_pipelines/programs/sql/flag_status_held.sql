-- Badges not flagged because another owner's flag covers them, on each program's newest day.
SELECT d.program, count(DISTINCT d.sourced_id) FILTER (WHERE d.action = 'hold')::INTEGER
FROM flag_deltas AS d
JOIN (SELECT program, max(as_of_date) AS as_of_date FROM flag_delta_summary
      WHERE state = 'current' GROUP BY program)
    USING (program, as_of_date)
GROUP BY d.program
