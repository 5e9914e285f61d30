-- /users pages (JSON files $files) to staging rows, by the rules of models.User.
-- Records the rules do not fully understand are staged with needs_model and their JSON.

INSERT INTO roster_staging_users BY NAME
WITH records AS (
    SELECT unnest(from_json(content, '{"users": "JSON[]"}').users) AS record
    FROM read_text($files)
),
paths AS (
    SELECT
        record,
        json_type(record) = 'OBJECT' AS is_record,
        json_extract_string(record, [
            '$.sourcedId', '$.status', '$.dateLastModified', '$.enabledUser', '$.givenName',
            '$.familyName', '$.middleName', '$.preferredFirstName', '$.preferredGivenName',
            '$.preferredMiddleName', '$.preferredLastName', '$.preferredFamilyName',
            '$.username', '$.identifier', '$.email', '$.sms', '$.phone',
            '$.userMasterIdentifier', '$.roles', '$.primaryOrg', '$.agents', '$.grades',
            '$.userIds', '$.metadata', '$.metadata.ic.emisStudentId', '$.metadata.ic.stateId'
        ]) AS v,
        json_type(record, [
            '$.sourcedId', '$.status', '$.dateLastModified', '$.enabledUser', '$.givenName',
            '$.familyName', '$.middleName', '$.preferredFirstName', '$.preferredGivenName',
            '$.preferredMiddleName', '$.preferredLastName', '$.preferredFamilyName',
            '$.username', '$.identifier', '$.email', '$.sms', '$.phone',
            '$.userMasterIdentifier', '$.roles', '$.primaryOrg', '$.agents', '$.grades',
            '$.userIds', '$.metadata', '$.metadata.ic.emisStudentId', '$.metadata.ic.stateId'
        ]) AS k
    FROM records
),
fields AS (
    SELECT
        record,
        is_record,
        {'v': v[1], 'k': k[1]} AS sourced_id,
        {'v': v[2], 'k': k[2]} AS status,
        {'v': v[3], 'k': k[3]} AS date_last_modified,
        {'v': v[4], 'k': k[4]} AS enabled_user,
        {'v': v[5], 'k': k[5]} AS given_name,
        {'v': v[6], 'k': k[6]} AS family_name,
        {'v': v[7], 'k': k[7]} AS middle_name,
        -- the first spelling sent wins, as with pydantic's AliasChoices
        CASE WHEN k[8] IS NOT NULL THEN {'v': v[8], 'k': k[8]} ELSE {'v': v[9], 'k': k[9]} END
            AS preferred_first_name,
        {'v': v[10], 'k': k[10]} AS preferred_middle_name,
        CASE WHEN k[11] IS NOT NULL THEN {'v': v[11], 'k': k[11]} ELSE {'v': v[12], 'k': k[12]} END
            AS preferred_last_name,
        {'v': v[13], 'k': k[13]} AS username,
        {'v': v[14], 'k': k[14]} AS identifier,
        {'v': v[15], 'k': k[15]} AS email,
        {'v': v[16], 'k': k[16]} AS sms,
        {'v': v[17], 'k': k[17]} AS phone,
        {'v': v[18], 'k': k[18]} AS user_master_identifier,
        {'v': v[19], 'k': k[19]} AS roles,
        {'v': v[20], 'k': k[20]} AS primary_org,
        {'v': v[21], 'k': k[21]} AS agents,
        {'v': v[22], 'k': k[22]} AS grades,
        {'v': v[23], 'k': k[23]} AS user_ids,
        {'v': v[24], 'k': k[24]} AS metadata,
        {'v': v[25], 'k': k[25]} AS emis_student_id,
        {'v': v[26], 'k': k[26]} AS state_id
    FROM paths
),
roles AS (
    SELECT
        *,
        [
            role.j ->> 'role' FOR role IN elements(roles)
            IF role.k = 'OBJECT' AND json_type(role.j, '$.role') = 'VARCHAR'
        ] AS role_names,
        [
            role.j ->> 'role' FOR role IN elements(roles)
            IF role.k = 'OBJECT' AND json_type(role.j, '$.role') = 'VARCHAR'
                AND json_type(role.j, '$.roleType') = 'VARCHAR' AND role.j ->> 'roleType' = 'primary'
        ][1] AS marked_primary_role
    FROM fields
)
SELECT
    sourced_id.v AS sourced_id,
    status_of(status) AS status,
    instant_of(date_last_modified) AS date_last_modified,
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
    coalesce(marked_primary_role, role_names[1]) AS primary_role,
    coalesce(json_of(roles), '[]') AS roles,
    coalesce(role_names, []) AS role_names,
    ref_of(primary_org) AS primary_org_sourced_id,
    ref_list_of(agents) AS agent_sourced_ids,
    strings_of(grades) AS grades,
    json_of(user_ids) AS user_ids,
    json_of(metadata) AS metadata,
    emis_student_id_of(emis_student_id) AS emis_student_id,
    state_id_of(state_id, user_ids) AS state_id,
    list_filter([
        warning(emis_student_id_warns(emis_student_id), 'emisStudentId',
                'not up to 9 digits; stored as null')
    ], lambda item: item IS NOT NULL) AS warnings,
    NOT coalesce(
        is_record
        AND sourced_id.k = 'VARCHAR' AND sourced_id.v <> ''
        AND is_status(status)
        AND is_instant(date_last_modified)
        AND is_flag(enabled_user)
        AND is_text(given_name) AND is_text(family_name) AND is_text(middle_name)
        AND is_text(preferred_first_name) AND is_text(preferred_middle_name)
        AND is_text(preferred_last_name) AND is_text(username) AND is_text(identifier)
        AND is_text(email) AND is_text(sms) AND is_text(phone)
        AND is_text(user_master_identifier)
        AND is_object_list(roles)
        AND is_ref(primary_org)
        AND is_ref_list(agents)
        AND is_strings(grades)
        AND is_object_list(user_ids)
        AND is_object(metadata)
        AND is_emis_student_id(emis_student_id)
        AND is_state_id_source(state_id, user_ids),
        false
    ) AS needs_model,
    record AS record
FROM roles
