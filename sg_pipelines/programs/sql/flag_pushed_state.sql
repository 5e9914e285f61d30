-- What the CSV-over-SFTP route last delivered for a program: the newest successful push result
-- of every participation, from pushes made through that gateway. Parameters: $program, $gateway.
SELECT r.campus_participation_id, r.sourced_id, r.start_date, r.end_date
FROM flag_push_results AS r
JOIN flag_push_log AS l USING (push_id, program)
WHERE r.program = $program AND r.status = 'ok' AND l.gateway = $gateway
QUALIFY row_number() OVER (
    PARTITION BY r.campus_participation_id ORDER BY r.pushed_at DESC, r.push_id DESC
) = 1
ORDER BY r.sourced_id, r.start_date
