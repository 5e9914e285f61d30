-- The rows already in the table, when only a few of them are staged (a delta): rewritten whole
-- instead of updated in place. DuckDB updates a column vector by vector, so an UPDATE of 1% of
-- the rows, spread over the table, costs about as much as one of every row, and the checkpoint
-- after it rewrites those columns of every row group; deleting those rows and appending them
-- again touches only them. That holds even when only dateLastModified moved (the provider
-- touched a record): a narrow UPDATE of the stamp was cheaper as a statement, and cost more
-- than the whole rewrite at the next checkpoint. Filled in and run instead of the UPDATE of
-- merge.sql, by the same rules; columns the sync does not own (`stale`) are carried over.
-- The rows there are found by one join; their row ids then stand for them, and the staged rows
-- that matched none are the new ones, so no other statement scans the table.

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
    current.rowid AS row_id
FROM {table} AS current
JOIN (SELECT {staged_columns} FROM {staging_table} {dedupe}) AS staged
    ON current.sourced_id = staged.sourced_id;

DELETE FROM {table} WHERE rowid IN (SELECT row_id FROM roster_rewritten);

INSERT INTO {table} SELECT * EXCLUDE (row_id) FROM roster_rewritten;

-- (merge.sql's INSERT of the new rows runs here, before the DROP)

DROP TABLE roster_rewritten
