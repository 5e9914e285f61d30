-- The rows already in the table, when only a few of them are staged (a delta): rewritten whole
-- instead of updated in place. DuckDB updates a column vector by vector, so an UPDATE of 1% of
-- the rows, spread over the table, costs about as much as one of every row; deleting those rows
-- and appending them again touches only them. Filled in and run instead of the UPDATE of
-- merge.sql, by the same rules; columns the sync does not own (`stale`) are carried over.
-- A row that stays active with every other value as it was (only dateLastModified moved,
-- as when the provider touches a record) is not rewritten: it gets its new dateLastModified,
-- last_seen_at and last_sync_id by an UPDATE of just those columns, which costs a fraction of
-- the rewrite and leaves the primary-key index alone.

CREATE OR REPLACE TEMP TABLE roster_rewritten AS
SELECT current.* REPLACE (
    {replacements},
    staged.status = 'active' AS is_active,
    $now AS last_seen_at,
    CASE
        WHEN staged.status = 'active' THEN NULL
        WHEN current.is_active IS NOT false THEN $now
        ELSE current.deactivated_at
    END AS deactivated_at,
    CASE
        WHEN staged.status = 'active' THEN NULL
        WHEN current.is_active IS NOT false THEN 'tobedeleted'
        ELSE current.deactivation_reason
    END AS deactivation_reason,
    $sync_id AS last_sync_id
),
    coalesce(
        staged.status = 'active' AND current.is_active
        AND current.deactivated_at IS NULL AND current.deactivation_reason IS NULL
        AND {unchanged},
        false
    ) AS only_stamped
FROM {table} AS current
JOIN (SELECT {staged_columns} FROM {staging_table} {dedupe}) AS staged
    ON current.sourced_id = staged.sourced_id;

UPDATE {table} AS current
SET
    date_last_modified = stamped.date_last_modified,
    last_seen_at = $now,
    last_sync_id = $sync_id
FROM (SELECT sourced_id, date_last_modified FROM roster_rewritten WHERE only_stamped) AS stamped
WHERE current.sourced_id = stamped.sourced_id;

DELETE FROM {table}
WHERE sourced_id IN (SELECT sourced_id FROM roster_rewritten WHERE NOT only_stamped);

INSERT INTO {table} SELECT * EXCLUDE (only_stamped) FROM roster_rewritten WHERE NOT only_stamped;

DROP TABLE roster_rewritten
