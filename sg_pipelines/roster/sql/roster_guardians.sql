-- Student-contact links through `agents`, in either direction (a student naming a parent, or
-- a parent naming a student). The contact's roles decide the relationship: guardian roles
-- (settings) give 'guardian', other contact roles give 'other'. Links are upserted and never
-- deleted; a link is made inactive only when both people are known and neither names the other
-- any more, so an agent that is merely unresolved this time leaves its existing link untouched.
-- A person is never their own contact, even a student who is also a parent naming themselves.

CREATE OR REPLACE TEMP TABLE roster_agent_links AS
SELECT DISTINCT student_sourced_id, contact_sourced_id
FROM (
    SELECT s.sourced_id AS student_sourced_id, unnest(s.agent_sourced_ids) AS contact_sourced_id
    FROM oneroster_users AS s
    WHERE list_contains(s.role_names, 'student')
    UNION ALL
    SELECT unnest(c.agent_sourced_ids) AS student_sourced_id, c.sourced_id AS contact_sourced_id
    FROM oneroster_users AS c
    WHERE NOT list_contains(c.role_names, 'student')
)
WHERE student_sourced_id <> contact_sourced_id;

INSERT INTO roster_guardians
SELECT
    link.student_sourced_id,
    link.contact_sourced_id,
    CASE WHEN list_has_any(c.role_names, $guardian_roles) THEN 'guardian' ELSE 'other' END,
    coalesce(
        list_filter(c.role_names, lambda r: list_contains($guardian_roles, r))[1],
        list_filter(c.role_names, lambda r: list_contains($other_roles, r))[1]
    ),
    c.given_name,
    c.family_name,
    c.email,
    c.phone,
    s.is_active AND c.is_active
FROM roster_agent_links AS link
JOIN oneroster_users AS s ON s.sourced_id = link.student_sourced_id
    AND list_contains(s.role_names, 'student')
JOIN oneroster_users AS c ON c.sourced_id = link.contact_sourced_id
WHERE list_has_any(c.role_names, list_concat($guardian_roles, $other_roles))
ON CONFLICT (student_sourced_id, contact_sourced_id) DO UPDATE SET
    relationship = excluded.relationship,
    role = excluded.role,
    given_name = excluded.given_name,
    family_name = excluded.family_name,
    email = excluded.email,
    phone = excluded.phone,
    is_active = excluded.is_active;

UPDATE roster_guardians AS g
SET is_active = false
WHERE g.is_active
  AND EXISTS (SELECT 1 FROM oneroster_users AS u WHERE u.sourced_id = g.student_sourced_id)
  AND EXISTS (SELECT 1 FROM oneroster_users AS u WHERE u.sourced_id = g.contact_sourced_id)
  AND NOT EXISTS (
      SELECT 1
      FROM roster_agent_links AS link
      WHERE link.student_sourced_id = g.student_sourced_id
        AND link.contact_sourced_id = g.contact_sourced_id
  );
