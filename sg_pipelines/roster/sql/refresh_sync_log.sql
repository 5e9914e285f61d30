-- Recompute a sync's counts, status and message from its roster_sync_collections rows.
-- While running ($final = false) the status only turns partial or failed once a collection
-- failed; at the end it is complete, partial (something failed or was not pulled) or failed.

UPDATE roster_sync_log
SET
    counts = summary.counts,
    status = CASE
        WHEN summary.complete = 0 AND (summary.failed > 0 OR $final) THEN 'failed'
        WHEN summary.failed > 0 THEN 'partial'
        WHEN NOT $final THEN 'running'
        WHEN len(summary.missing) > 0 THEN 'partial'
        ELSE 'complete'
    END,
    message = nullif(concat_ws('; ',
        summary.errors,
        summary.withheld,
        CASE WHEN $final AND len(summary.missing) > 0
             THEN 'not pulled: ' || array_to_string(summary.missing, ', ') END
    ), '')
FROM (
    SELECT
        count(*) FILTER (WHERE status = 'complete') AS complete,
        count(*) FILTER (WHERE status <> 'complete') AS failed,
        json_group_object(collection, json_object(
            'status', status, 'mode', mode, 'fetched', fetched, 'upserted', upserted,
            'rejected', rejected, 'warnings', warnings, 'deactivated', deactivated,
            'deactivations_withheld', deactivations_withheld, 'total_reported', total_reported,
            'consistent', consistent, 'seconds', round(seconds, 2)
        )) AS counts,
        string_agg(CASE WHEN status <> 'complete' THEN collection || ' ' || status || ': ' || error END, '; ')
            AS errors,
        string_agg(CASE WHEN deactivations_withheld > 0
            THEN collection || ': ' || deactivations_withheld || ' deactivations withheld' END, '; ')
            AS withheld,
        list_filter($expected::VARCHAR[], lambda name: NOT list_contains(list(collection), name))
            AS missing
    FROM roster_sync_collections
    WHERE sync_id = $sync_id
) AS summary
WHERE roster_sync_log.sync_id = $sync_id
