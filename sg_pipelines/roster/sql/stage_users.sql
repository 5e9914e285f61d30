-- /users pages (the JSON files $files) to staging rows, by the rules of models.User.
-- After the macros, the two sources of `fields` and the rows made of them, as in
-- stage_enrollments.sql. Here the sources also read the lists: roles and userIds, whose items
-- must be objects with string role/roleType and type/identifier (`*_ok`), and agents.

-- the reference comes last: of it only the kind is extracted from every record
CREATE OR REPLACE TEMP MACRO user_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.enabledUser', '$.givenName',
    '$.familyName', '$.middleName', '$.preferredFirstName', '$.preferredGivenName',
    '$.preferredMiddleName', '$.preferredLastName', '$.preferredFamilyName', '$.username',
    '$.identifier', '$.email', '$.sms', '$.phone', '$.userMasterIdentifier', '$.roles',
    '$.primaryOrg.sourcedId', '$.agents', '$.grades', '$.userIds', '$.metadata',
    '$.metadata.ic.emisStudentId', '$.metadata.ic.stateId', '$.primaryOrg'
];

-- exact: the records at $positions of one page $files
WITH paths AS (
    SELECT * FROM listed_records($files, $positions, 'users', user_paths(), 26)
),
record_fields AS (
    SELECT
        * EXCLUDE (v, k),
        field(v, k, 1) AS sourced_id,
        field(v, k, 2) AS status,
        field(v, k, 3) AS date_last_modified,
        field(v, k, 4) AS enabled_user,
        field(v, k, 5) AS given_name,
        field(v, k, 6) AS family_name,
        field(v, k, 7) AS middle_name,
        -- the first spelling present wins, as with pydantic's AliasChoices
        field(v, k, CASE WHEN k[8] IS NULL THEN 9 ELSE 8 END) AS preferred_first_name,
        field(v, k, 10) AS preferred_middle_name,
        field(v, k, CASE WHEN k[11] IS NULL THEN 12 ELSE 11 END) AS preferred_last_name,
        field(v, k, 13) AS username,
        field(v, k, 14) AS identifier,
        field(v, k, 15) AS email,
        field(v, k, 16) AS sms,
        field(v, k, 17) AS phone,
        field(v, k, 18) AS user_master_identifier,
        field(v, k, 19) AS roles,
        field(v, k, 20) AS primary_org_sourced_id,
        field(v, k, 21) AS agents,
        field(v, k, 22) AS grades,
        field(v, k, 23) AS user_ids,
        field(v, k, 24) AS metadata,
        field(v, k, 25) AS emis_student_id,
        field(v, k, 26) AS state_id,
        ref_field(record, '$.primaryOrg', k[27]) AS primary_org
    FROM paths
),
lists AS (
    -- roles and userIds in their usual shape: objects with string role/roleType, type/identifier
    SELECT
        *,
        item_kinds(roles) AS role_kinds,
        CASE WHEN roles.k = 'ARRAY' THEN json_extract_string(roles.v, '$[*].role') END
            AS role_names,
        CASE WHEN roles.k = 'ARRAY' THEN json_type(roles.v, '$[*].role') END AS role_name_kinds,
        CASE WHEN roles.k = 'ARRAY' THEN json_extract_string(roles.v, '$[*].roleType') END
            AS role_types,
        CASE WHEN roles.k = 'ARRAY' THEN json_type(roles.v, '$[*].roleType') END AS role_type_kinds,
        item_kinds(user_ids) AS user_id_kinds,
        CASE WHEN user_ids.k = 'ARRAY' THEN json_extract_string(user_ids.v, '$[*].type') END
            AS user_id_types,
        CASE WHEN user_ids.k = 'ARRAY' THEN json_type(user_ids.v, '$[*].type') END
            AS user_id_type_kinds,
        CASE WHEN user_ids.k = 'ARRAY' THEN json_extract_string(user_ids.v, '$[*].identifier') END
            AS user_id_values,
        CASE WHEN user_ids.k = 'ARRAY' THEN json_type(user_ids.v, '$[*].identifier') END
            AS user_id_value_kinds
    FROM record_fields
)
SELECT
    * EXCLUDE (role_kinds, role_name_kinds, role_type_kinds, user_id_kinds, user_id_type_kinds,
               user_id_value_kinds),
    is_object_list(roles, role_kinds)
    AND all_kinds(role_name_kinds, ['VARCHAR'])
    AND coalesce(len(role_name_kinds), 0) = len(role_kinds)
    AND all_kinds(role_type_kinds, ['VARCHAR'])
    AND coalesce(len(role_type_kinds), 0) = len(role_kinds) AS roles_ok,
    is_object_list(user_ids, user_id_kinds)
    AND all_kinds(user_id_type_kinds, ['VARCHAR'])
    AND coalesce(len(user_id_type_kinds), 0) = len(user_id_kinds)
    AND all_kinds(user_id_value_kinds, ['VARCHAR'])
    AND coalesce(len(user_id_value_kinds), 0) = len(user_id_kinds) AS user_ids_ok,
    is_ref_list(agents) AS agents_ok,
    ref_list_of(agents) AS agent_ids,
    json_of(roles) AS roles_json,
    json_of(user_ids) AS user_ids_json,
    json_of(metadata) AS metadata_json,
    true AS certain
FROM lists;

-- fast: every record of the pages $files, each list read once more from its JSON, in the shape
-- the rules accept; a list in any other shape is not ok here, and so read again exactly
WITH records AS (
    SELECT * FROM typed_records(
        $files,
        '{"users": [{"sourcedId": "JSON", "status": "JSON",
            "dateLastModified": "JSON", "enabledUser": "JSON", "givenName": "JSON",
            "familyName": "JSON", "middleName": "JSON", "preferredFirstName": "JSON",
            "preferredGivenName": "JSON", "preferredMiddleName": "JSON",
            "preferredLastName": "JSON", "preferredFamilyName": "JSON", "username": "JSON",
            "identifier": "JSON", "email": "JSON", "sms": "JSON", "phone": "JSON",
            "userMasterIdentifier": "JSON", "roles": "JSON", "primaryOrg":
            {"sourcedId": "JSON"}, "agents": "JSON", "grades": "JSON", "userIds": "JSON",
            "metadata": "JSON"}]}',
        'users'
    )
),
record_fields AS (
    SELECT
        * EXCLUDE (r),
        typed(r.sourcedId) AS sourced_id,
        typed(r.status) AS status,
        typed(r.dateLastModified) AS date_last_modified,
        typed(r.enabledUser) AS enabled_user,
        typed(r.givenName) AS given_name,
        typed(r.familyName) AS family_name,
        typed(r.middleName) AS middle_name,
        typed(r.preferredFirstName) AS preferred_first_name,
        typed(r.preferredGivenName) AS preferred_given_name,
        typed(r.preferredMiddleName) AS preferred_middle_name,
        typed(r.preferredLastName) AS preferred_last_name,
        typed(r.preferredFamilyName) AS preferred_family_name,
        typed(r.username) AS username,
        typed(r.identifier) AS identifier,
        typed(r.email) AS email,
        typed(r.sms) AS sms,
        typed(r.phone) AS phone,
        typed(r.userMasterIdentifier) AS user_master_identifier,
        typed(r.roles) AS roles,
        typed(r.primaryOrg.sourcedId) AS primary_org_sourced_id,
        typed_ref(r.primaryOrg.sourcedId) AS primary_org,
        typed(r.agents) AS agents,
        typed(r.grades) AS grades,
        typed(r.userIds) AS user_ids,
        typed(r.metadata) AS metadata,
        r.roles AS raw_roles,
        r.userIds AS raw_user_ids,
        r.metadata AS raw_metadata
    FROM records
),
items AS (
    SELECT
        *,
        CASE WHEN roles.k = 'ARRAY'
            THEN from_json(roles.v, '[{"role": "JSON", "roleType": "JSON"}]') END AS role_items,
        CASE WHEN user_ids.k = 'ARRAY'
            THEN from_json(user_ids.v, '[{"type": "JSON", "identifier": "JSON"}]') END
            AS user_id_items,
        CASE WHEN agents.k = 'ARRAY'
            THEN from_json(agents.v, '[{"sourcedId": "JSON"}]') END AS agent_items,
        CASE WHEN metadata.k = 'OBJECT'
            THEN from_json(metadata.v, '{"ic": {"emisStudentId": "JSON", "stateId": "JSON"}}').ic
        END AS ic
    FROM record_fields
),
ids AS (
    SELECT *, typed(ic.emisStudentId) AS emis_student_id, typed(ic.stateId) AS state_id
    FROM items
)
SELECT
    * EXCLUDE (preferred_first_name, preferred_given_name,
               preferred_last_name, preferred_family_name, role_items, user_id_items,
               agent_items, ic, raw_roles, raw_user_ids, raw_metadata),
    -- the first spelling present wins; a missing one and a null are one here (see certain)
    CASE WHEN preferred_first_name.k IS NULL THEN preferred_given_name
        ELSE preferred_first_name END AS preferred_first_name,
    CASE WHEN preferred_last_name.k IS NULL THEN preferred_family_name
        ELSE preferred_last_name END AS preferred_last_name,
    [item.role->>'$' FOR item IN role_items] AS role_names,
    [item.roleType->>'$' FOR item IN role_items] AS role_types,
    [item.type->>'$' FOR item IN user_id_items] AS user_id_types,
    [item.identifier->>'$' FOR item IN user_id_items] AS user_id_values,
    roles.k IS NULL OR coalesce(list_bool_and([
        coalesce(starts_with(item.role::VARCHAR, '"') AND starts_with(item.roleType::VARCHAR, '"'),
                 false)
        FOR item IN role_items
    ]), roles.k = 'ARRAY') AS roles_ok,
    user_ids.k IS NULL OR coalesce(list_bool_and([
        coalesce(starts_with(item.type::VARCHAR, '"')
                 AND starts_with(item.identifier::VARCHAR, '"'), false)
        FOR item IN user_id_items
    ]), user_ids.k = 'ARRAY') AS user_ids_ok,
    agents.k IS NULL OR coalesce(list_bool_and([
        coalesce(starts_with(item.sourcedId::VARCHAR, '"'), false) FOR item IN agent_items
    ]), agents.k = 'ARRAY') AS agents_ok,
    CASE WHEN agents.k = 'ARRAY'
        THEN list_filter([item.sourcedId->>'$' FOR item IN agent_items], lambda ref: ref <> '')
        ELSE []::VARCHAR[] END AS agent_ids,
    -- the lists and objects kept as sent, already JSON
    CASE WHEN roles.k IN ('OBJECT', 'ARRAY') THEN raw_roles END AS roles_json,
    CASE WHEN user_ids.k IN ('OBJECT', 'ARRAY') THEN raw_user_ids END AS user_ids_json,
    CASE WHEN metadata.k IN ('OBJECT', 'ARRAY') THEN raw_metadata END AS metadata_json,
    -- a missing status is active, a null one refused; a missing first spelling of a preferred
    -- name gives way to the second, a null one does not; a primaryOrg not read as an object
    is_read(sourced_id) AND is_read(status)
    AND (is_read(preferred_first_name) OR preferred_given_name.k IS NULL)
    AND (is_read(preferred_last_name) OR preferred_family_name.k IS NULL)
    AND is_read(primary_org) AS certain
FROM ids;

-- the rows, from either source as `fields` (each rule computed once: a name that refers to an
-- expression of the same SELECT would repeat the expression)
values AS (
    SELECT
        *,
        instant_of(date_last_modified) AS instant,
        emis_student_id_of(emis_student_id) AS emis
    FROM fields
),
rows AS (
    SELECT
        sourced_id.v AS sourced_id,
        status_of(status) AS status,
        instant AS date_last_modified,
        flag_of(enabled_user) AS enabled_user,
        given_name.v AS given_name,
        family_name.v AS family_name,
        middle_name.v AS middle_name,
        preferred_first_name.v AS preferred_first_name,
        preferred_middle_name.v AS preferred_middle_name,
        preferred_last_name.v AS preferred_last_name,
        username.v AS username,
        identifier.v AS identifier,
        email.v AS email,
        sms.v AS sms,
        phone.v AS phone,
        user_master_identifier.v AS user_master_identifier,
        coalesce(role_names[list_position(role_types, 'primary')], role_names[1]) AS primary_role,
        coalesce(roles_json, '[]') AS roles,
        to_json(coalesce(role_names, [])) AS role_names,
        ref_of(primary_org, primary_org_sourced_id) AS primary_org_sourced_id,
        to_json(agent_ids) AS agent_sourced_ids,
        to_json(strings_of(grades)) AS grades,
        user_ids_json AS user_ids,
        metadata_json AS metadata,
        emis AS emis_student_id,
        CASE WHEN coalesce(state_id.v, '') <> '' THEN state_id.v ELSE [
            user_id_values[i] FOR i IN range(1, len(user_id_values) + 1)
            IF lower(user_id_types[i]) = 'stateid' AND user_id_values[i] <> ''
        ][1] END AS state_id,
        warning(emis_student_id_warns(emis_student_id, emis), 'emisStudentId',
                'not up to 9 digits; stored as null') AS warnings,
        NOT coalesce(
            certain
            AND is_record
            AND is_sourced_id(sourced_id)
            AND is_status(status)
            AND is_instant(date_last_modified, instant)
            AND is_flag(enabled_user)
            AND is_text(given_name) AND is_text(family_name) AND is_text(middle_name)
            AND is_text(preferred_first_name) AND is_text(preferred_middle_name)
            AND is_text(preferred_last_name) AND is_text(username) AND is_text(identifier)
            AND is_text(email) AND is_text(sms) AND is_text(phone)
            AND is_text(user_master_identifier)
            AND roles_ok
            AND is_ref(primary_org, primary_org_sourced_id)
            AND agents_ok
            AND is_strings(grades)
            AND user_ids_ok
            AND is_object(metadata)
            AND is_emis_student_id(emis_student_id)
            AND (state_id.k IS NULL OR state_id.k IN ('NULL', 'VARCHAR', 'UBIGINT', 'BIGINT')),
            false
        ) AS needs_model,
        exact,
        record AS source_record,
        page,
        position
    FROM values
)
