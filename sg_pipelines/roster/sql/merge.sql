-- Upsert one collection's staged rows into its current-state table: update the rows already
-- there, then insert the new ones. Two plain statements in the caller's transaction hold far
-- less memory than one INSERT ... ON CONFLICT DO UPDATE over the whole collection.
-- When only a few rows are staged (a delta), sync.py runs merge_rewrite.sql instead of the UPDATE.
-- {absent} picks the staged rows the table lacks: by a look in the table, or after the rewrite
-- by the rows it found there.
-- Table and column names are filled in from the collection definition (collections.py),
-- values are parameters: $sync_id, $now.
-- Staged rows are de-duplicated on sourced_id, keeping the latest dateLastModified ({dedupe} is
-- empty when the staging table holds no duplicates).
-- 'tobedeleted' deactivates; a later 'active' record revives the same row.

UPDATE {table} AS current
SET
    {updates},
    is_active = staged.status = 'active',
    last_seen_at = $now,
    deactivated_at = CASE
        WHEN staged.status = 'active' THEN NULL
        WHEN current.is_active IS NOT false THEN $now
        ELSE current.deactivated_at
    END,
    deactivation_reason = CASE
        WHEN staged.status = 'active' THEN NULL
        WHEN current.is_active IS NOT false THEN 'tobedeleted'
        ELSE current.deactivation_reason
    END,
    last_sync_id = $sync_id
FROM (SELECT {staged_columns} FROM {staging_table} {dedupe}) AS staged
WHERE current.sourced_id = staged.sourced_id;

INSERT INTO {table} ({columns}, is_active, first_seen_at, last_seen_at, deactivated_at,
                     deactivation_reason, last_sync_id)
SELECT
    {columns},
    status = 'active',
    $now,
    $now,
    CASE WHEN status = 'active' THEN NULL ELSE $now END,
    CASE WHEN status = 'active' THEN NULL ELSE 'tobedeleted' END,
    $sync_id
FROM (SELECT {staged_columns} FROM {staging_table} {dedupe}) AS staged
WHERE {absent}
