-- References from active rows to records this warehouse does not hold, for one sync.

INSERT INTO roster_unresolved_references
WITH refs AS (
    SELECT 'enrollments' AS collection, sourced_id, 'user' AS reference_kind,
           user_sourced_id AS referenced_sourced_id
    FROM oneroster_enrollments WHERE is_active
    UNION ALL
    SELECT 'enrollments', sourced_id, 'class', class_sourced_id
    FROM oneroster_enrollments WHERE is_active AND class_sourced_id IS NOT NULL
    UNION ALL
    SELECT 'enrollments', sourced_id, 'school', school_sourced_id
    FROM oneroster_enrollments WHERE is_active AND school_sourced_id IS NOT NULL
    UNION ALL
    SELECT 'users', sourced_id, 'agent', unnest(agent_sourced_ids)
    FROM oneroster_users WHERE is_active
    UNION ALL
    SELECT 'classes', sourced_id, 'school', school_sourced_id
    FROM oneroster_classes WHERE is_active AND school_sourced_id IS NOT NULL
),
known AS (
    SELECT sourced_id, 'user' AS kind FROM oneroster_users
    UNION ALL SELECT sourced_id, 'agent' FROM oneroster_users
    UNION ALL SELECT sourced_id, 'class' FROM oneroster_classes
    UNION ALL SELECT sourced_id, 'school' FROM oneroster_orgs
)
SELECT $sync_id, refs.collection, refs.sourced_id, refs.reference_kind, refs.referenced_sourced_id
FROM refs
ANTI JOIN known
    ON known.sourced_id = refs.referenced_sourced_id AND known.kind = refs.reference_kind
