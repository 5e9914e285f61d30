-- Rows active in the collection table but absent from this complete, consistent full pull.
-- Records quarantined in this pull are present (just unreadable), so they are not absent.
-- in_scope_<n> marks the populations the threshold is measured on apiece (sync._guard_scopes).

CREATE OR REPLACE TEMP TABLE roster_absent AS
SELECT current.sourced_id, {flags}
FROM {table} AS current
WHERE current.is_active
  AND NOT EXISTS (
      SELECT 1 FROM {staging_table} AS staged WHERE staged.sourced_id = current.sourced_id
  )
  AND NOT EXISTS (
      SELECT 1
      FROM roster_quarantine AS q
      WHERE q.sync_id = $sync_id
        AND q.collection = $collection
        AND q.sourced_id = current.sourced_id
  )
