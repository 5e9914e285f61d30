-- /users pages (the JSON files $files) to staging rows, by the rules of models.User.
-- A record the rules do not fully understand is staged with needs_model and its JSON.
-- The last statement is the query alone: staging.py inserts its rows or writes them to a file.

-- the reference comes last: of it only the kind is extracted from every record
CREATE OR REPLACE TEMP MACRO user_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.enabledUser', '$.givenName',
    '$.familyName', '$.middleName', '$.preferredFirstName', '$.preferredGivenName',
    '$.preferredMiddleName', '$.preferredLastName', '$.preferredFamilyName', '$.username',
    '$.identifier', '$.email', '$.sms', '$.phone', '$.userMasterIdentifier', '$.roles',
    '$.primaryOrg.sourcedId', '$.agents', '$.grades', '$.userIds', '$.metadata',
    '$.metadata.ic.emisStudentId', '$.metadata.ic.stateId', '$.primaryOrg'
];

WITH records AS (
    SELECT unnest(from_json(content, '{"users": "JSON[]"}').users) AS record
    FROM read_text($files)
),
paths AS (
    SELECT
        record,
        -- records are DuckDB's own minified JSON: an object is one that starts with {
        starts_with(record, '{') AS is_record,
        json_extract_string(record, user_paths()[1:26]) AS v,
        json_type(record, user_paths()) AS k
    FROM records
),
fields AS (
    SELECT
        record,
        is_record,
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
        instant_of(date_last_modified) AS instant,
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
            AS user_id_value_kinds,
        emis_student_id_of(emis_student_id) AS emis
    FROM fields
)
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
    coalesce(json_of(roles), '[]') AS roles,
    to_json(coalesce(role_names, [])) AS role_names,
    ref_of(primary_org, primary_org_sourced_id) AS primary_org_sourced_id,
    to_json(ref_list_of(agents)) AS agent_sourced_ids,
    to_json(strings_of(grades)) AS grades,
    json_of(user_ids) AS user_ids,
    json_of(metadata) AS metadata,
    emis AS emis_student_id,
    CASE WHEN coalesce(state_id.v, '') <> '' THEN state_id.v ELSE [
        user_id_values[i] FOR i IN range(1, len(user_id_values) + 1)
        IF lower(user_id_types[i]) = 'stateid' AND user_id_values[i] <> ''
    ][1] END AS state_id,
    warning(emis_student_id_warns(emis_student_id, emis), 'emisStudentId',
            'not up to 9 digits; stored as null') AS warnings,
    NOT coalesce(
        is_record
        AND is_sourced_id(sourced_id)
        AND is_status(status)
        AND is_instant(date_last_modified, instant)
        AND is_flag(enabled_user)
        AND is_text(given_name) AND is_text(family_name) AND is_text(middle_name)
        AND is_text(preferred_first_name) AND is_text(preferred_middle_name)
        AND is_text(preferred_last_name) AND is_text(username) AND is_text(identifier)
        AND is_text(email) AND is_text(sms) AND is_text(phone)
        AND is_text(user_master_identifier)
        AND is_object_list(roles, role_kinds)
        AND all_kinds(role_name_kinds, ['VARCHAR'])
        AND coalesce(len(role_name_kinds), 0) = len(role_kinds)
        AND all_kinds(role_type_kinds, ['VARCHAR'])
        AND coalesce(len(role_type_kinds), 0) = len(role_kinds)
        AND is_ref(primary_org, primary_org_sourced_id)
        AND is_ref_list(agents)
        AND is_strings(grades)
        AND is_object_list(user_ids, user_id_kinds)
        AND all_kinds(user_id_type_kinds, ['VARCHAR'])
        AND coalesce(len(user_id_type_kinds), 0) = len(user_id_kinds)
        AND all_kinds(user_id_value_kinds, ['VARCHAR'])
        AND coalesce(len(user_id_value_kinds), 0) = len(user_id_kinds)
        AND is_object(metadata)
        AND is_emis_student_id(emis_student_id)
        AND (state_id.k IS NULL OR state_id.k IN ('NULL', 'VARCHAR', 'UBIGINT', 'BIGINT')),
        false
    ) AS needs_model,
    -- a JSON null in the list arrives as SQL NULL
    CASE WHEN needs_model THEN coalesce(record, 'null') END AS record
FROM lists
