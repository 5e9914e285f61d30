-- Upsert one collection's staged rows into its current-state table.
-- Table and column names are filled in from the collection definition (collections.py);
-- values are parameters: $sync_id, $now.
-- Staged rows are de-duplicated on sourced_id, keeping the latest dateLastModified.
-- 'tobedeleted' deactivates; a later 'active' record revives the same row.

INSERT INTO {table} ({columns}, is_active, first_seen_at, last_seen_at, deactivated_at,
                     deactivation_reason, last_sync_id)
SELECT
    {staged_columns},
    status = 'active',
    $now,
    $now,
    CASE WHEN status = 'active' THEN NULL ELSE $now END,
    CASE WHEN status = 'active' THEN NULL ELSE 'tobedeleted' END,
    $sync_id
FROM {staging_table}
QUALIFY row_number() OVER (
    PARTITION BY sourced_id ORDER BY date_last_modified DESC NULLS LAST
) = 1
ON CONFLICT (sourced_id) DO UPDATE SET
    {updates},
    is_active = excluded.is_active,
    last_seen_at = excluded.last_seen_at,
    deactivated_at = CASE
        WHEN excluded.is_active THEN NULL
        WHEN {table}.is_active IS NOT false THEN excluded.deactivated_at
        ELSE {table}.deactivated_at
    END,
    deactivation_reason = CASE
        WHEN excluded.is_active THEN NULL
        WHEN {table}.is_active IS NOT false THEN excluded.deactivation_reason
        ELSE {table}.deactivation_reason
    END,
    last_sync_id = excluded.last_sync_id
