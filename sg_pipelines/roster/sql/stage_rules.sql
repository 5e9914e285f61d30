-- Field rules of the staging SQL (stage_*.sql), the rules of the pydantic models in models.py.
-- A field is a struct {v: its value as json_extract_string gives it (JSON text for objects and
-- lists), k: its json_type, NULL when the key is missing}. The is_* macros accept only shapes
-- whose result is certain; a record with any other shape is staged with needs_model and left
-- to the pydantic model, which imports it by its own rules or quarantines it with a reason.

CREATE OR REPLACE TEMP MACRO field(v, k, i) AS {'v': v[i], 'k': k[i]};

-- a GUID reference as a field: its value is only read when it is a bare string, so that the
-- usual object is never written out as JSON text just to be dropped
CREATE OR REPLACE TEMP MACRO ref_field(record, path, k) AS
    {'v': CASE WHEN k = 'VARCHAR' THEN json_extract_string(record, path) END, 'k': k};

-- strings, and integers as their digits (the models coerce numbers to strings)
CREATE OR REPLACE TEMP MACRO is_text(f) AS
    f.k IS NULL OR f.k IN ('NULL', 'VARCHAR', 'UBIGINT', 'BIGINT');

-- printable ASCII, where SQL and Python agree on trim, lower and digits
CREATE OR REPLACE TEMP MACRO is_plain(f) AS f.v IS NULL OR regexp_full_match(f.v, '[ -~]*');

-- sourcedId: a non-empty string
CREATE OR REPLACE TEMP MACRO is_sourced_id(f) AS f.k = 'VARCHAR' AND f.v <> '';

-- OneRoster booleans: JSON booleans or "true"/"false" in any case; "" is null
CREATE OR REPLACE TEMP MACRO is_flag(f) AS
    f.k IS NULL OR f.k IN ('NULL', 'BOOLEAN')
    OR (f.k = 'VARCHAR' AND lower(f.v) IN ('true', 'false', ''));

CREATE OR REPLACE TEMP MACRO flag_of(f) AS
    CASE lower(f.v) WHEN 'true' THEN true WHEN 'false' THEN false END;

-- status: active, or tobedeleted (1.1's inactive); missing means active, null is refused
CREATE OR REPLACE TEMP MACRO is_status(f) AS
    f.k IS NULL OR (f.k = 'VARCHAR' AND lower(f.v) IN ('active', 'tobedeleted', 'inactive'));

CREATE OR REPLACE TEMP MACRO status_of(f) AS
    CASE WHEN f.k IS NULL OR lower(f.v) = 'active' THEN 'active' ELSE 'tobedeleted' END;

-- dateLastModified: ISO 8601 date-times, offsets converted to UTC, no offset meaning UTC;
-- other spellings that Python's fromisoformat may still read are left to the model
CREATE OR REPLACE TEMP MACRO instant_of(f) AS
    CASE WHEN f.k = 'VARCHAR' AND regexp_full_match(
        f.v,
        '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?'
        || '(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?'
    ) AND NOT starts_with(f.v, '0000')
    THEN try_cast(
        -- past the match above, an offset is a Z at the end or a sign six from it
        CASE WHEN f.v[-1] = 'Z' OR f.v[-6] IN ('+', '-') THEN f.v ELSE f.v || 'Z' END
        AS TIMESTAMPTZ
    ) END;

CREATE OR REPLACE TEMP MACRO is_instant(f, instant) AS
    f.k IS NULL OR f.k = 'NULL' OR f.v = '' OR instant IS NOT NULL;

-- strict dates: ISO YYYY-MM-DD only; anything else is null plus a row warning
CREATE OR REPLACE TEMP MACRO date_of(f) AS
    CASE WHEN regexp_full_match(f.v, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND NOT starts_with(f.v, '0000')
    THEN try_cast(f.v AS DATE) END;

CREATE OR REPLACE TEMP MACRO date_warns(f, day) AS coalesce(f.v, '') <> '' AND day IS NULL;

-- CASE rather than OR: a query's OR evaluates both sides for every row, and is_plain is a regex
CREATE OR REPLACE TEMP MACRO is_date(f, day) AS
    is_text(f) AND CASE WHEN day IS NOT NULL THEN true ELSE is_plain(f) END;

-- GUID references: {"sourcedId": ...} or a bare string; "" and a missing sourcedId are null.
-- `sourced_id` is the field at the reference's `.sourcedId`.
CREATE OR REPLACE TEMP MACRO is_ref(f, sourced_id) AS
    f.k IS NULL OR f.k IN ('NULL', 'VARCHAR')
    OR (f.k = 'OBJECT' AND coalesce(sourced_id.k, 'NULL') IN ('NULL', 'VARCHAR'));

CREATE OR REPLACE TEMP MACRO ref_of(f, sourced_id) AS
    nullif(CASE f.k WHEN 'VARCHAR' THEN f.v WHEN 'OBJECT' THEN sourced_id.v END, '');

-- a row warning: [(field, reason)] where `warns`, else NULL (no list to build for the rows
-- without one); a row's warnings are joined by list_concat, which skips NULL
CREATE OR REPLACE TEMP MACRO warning(warns, field, reason) AS
    CASE WHEN warns THEN [{'field': field, 'reason': reason}] END;

-- lists: `kinds` are the json_type of every item
CREATE OR REPLACE TEMP MACRO item_kinds(f) AS
    CASE WHEN f.k = 'ARRAY' THEN json_type(f.v, '$[*]') ELSE []::VARCHAR[] END;

CREATE OR REPLACE TEMP MACRO all_kinds(kinds, allowed) AS
    coalesce(list_has_all(allowed, kinds), true);

-- a list of GUID reference objects; null means an empty list; other shapes go to the model.
-- JSON functions sit behind CASE: AND evaluates both sides, and a string value is not JSON.
CREATE OR REPLACE TEMP MACRO is_ref_list(f) AS
    f.k IS NULL OR f.k = 'NULL'
    OR (f.k = 'ARRAY' AND all_kinds(item_kinds(f), ['OBJECT'])
        AND all_kinds(
            CASE WHEN f.k = 'ARRAY' THEN json_type(f.v, '$[*].sourcedId') END, ['VARCHAR', 'NULL']
        ));

CREATE OR REPLACE TEMP MACRO ref_list_of(f) AS
    CASE WHEN f.k = 'ARRAY'
    THEN list_filter(json_extract_string(f.v, '$[*].sourcedId'), lambda ref: ref <> '')
    ELSE []::VARCHAR[] END;

-- a list of strings: a JSON list, or one comma-separated string; null and "" are empty
CREATE OR REPLACE TEMP MACRO is_strings(f) AS
    f.k IS NULL OR f.k = 'NULL' OR (f.k = 'VARCHAR' AND is_plain(f))
    OR (f.k = 'ARRAY' AND all_kinds(item_kinds(f), ['VARCHAR', 'NULL']));

CREATE OR REPLACE TEMP MACRO strings_of(f) AS
    CASE f.k
        WHEN 'VARCHAR' THEN [trim(part) FOR part IN string_split(f.v, ',') IF trim(part) <> '']
        WHEN 'ARRAY' THEN list_filter(json_extract_string(f.v, '$[*]'), lambda item: item <> '')
        ELSE []::VARCHAR[]
    END;

-- JSON kept as sent: an object, or a list of objects
CREATE OR REPLACE TEMP MACRO is_object(f) AS f.k IS NULL OR f.k IN ('NULL', 'OBJECT');

-- `kinds` are the field's item_kinds, which the query has already extracted
CREATE OR REPLACE TEMP MACRO is_object_list(f, kinds) AS
    f.k IS NULL OR f.k = 'NULL' OR (f.k = 'ARRAY' AND all_kinds(kinds, ['OBJECT']));

CREATE OR REPLACE TEMP MACRO json_of(f) AS
    CASE WHEN f.k IN ('OBJECT', 'ARRAY') THEN f.v::JSON END;

-- EMIS Student ID: up to 9 digits, padded with leading zeros; anything else is null + warning
CREATE OR REPLACE TEMP MACRO emis_student_id_of(f) AS
    CASE
        WHEN f.k = 'VARCHAR' AND regexp_full_match(f.v, ' *[0-9]{1,9} *')
            THEN lpad(trim(f.v), 9, '0')
        WHEN f.k = 'UBIGINT' AND length(f.v) <= 9 THEN lpad(f.v, 9, '0')
    END;

CREATE OR REPLACE TEMP MACRO emis_student_id_warns(f, emis) AS
    coalesce(f.k, 'NULL') <> 'NULL' AND f.v <> '' AND emis IS NULL;

CREATE OR REPLACE TEMP MACRO is_emis_student_id(f) AS
    CASE WHEN f.k IS DISTINCT FROM 'VARCHAR' THEN true ELSE is_plain(f) END;

-- The fast source reads a page once into typed fields, each value as its JSON text (NULL when
-- the key is missing or null); typed() makes that the field the exact source would have made,
-- with the same value and JSON type, but for a null, which it sees as a missing key.
CREATE OR REPLACE TEMP MACRO typed(j) AS {'v': j->>'$', 'k': json_type(j)};

-- a GUID reference the fast source read as an object with a non-null sourcedId; anything else
-- (a bare string, null, no sourcedId) is unknown to it
CREATE OR REPLACE TEMP MACRO typed_ref(sourced_id) AS
    {'v': NULL::VARCHAR, 'k': CASE WHEN sourced_id IS NOT NULL THEN 'OBJECT' END};

-- a field the fast source read with certainty where a missing key and a null differ to the
-- rules (it sees both as NULL): one it read with a value
CREATE OR REPLACE TEMP MACRO is_read(f) AS f.k IS NOT NULL
;

-- The sources' records, for the statements of stage_*.sql. The exact source: every record at
-- `positions` of the pages `files`, as JSON, with its position in its page, and the value and
-- the JSON type at each of `paths` (values for the first `valued` of them only).
CREATE OR REPLACE TEMP MACRO listed_records(files, positions, envelope, paths, valued) AS TABLE
SELECT
    true AS exact,
    NULL::VARCHAR AS page,
    position,
    record,
    -- records are DuckDB's own minified JSON: an object is one that starts with {
    starts_with(record, '{') AS is_record,
    json_extract_string(record, paths[1:valued]) AS v,
    json_type(record, paths) AS k
FROM (
    SELECT unnest(records) AS record, generate_subscripts(records, 1) AS position
    FROM (
        SELECT struct_extract(from_json(content, '{"' || envelope || '": "JSON[]"}'), envelope)
            AS records
        FROM read_text(files)
    )
)
WHERE list_contains(positions, position);

-- The fast source: every record of the pages `files` read into the typed fields of `shape`
-- (the envelope's list of one record shape), with its page and its position in it.
CREATE OR REPLACE TEMP MACRO typed_records(files, shape, envelope) AS TABLE
SELECT
    false AS exact,
    page,
    position,
    NULL::VARCHAR AS record,
    true AS is_record,
    r
FROM (
    SELECT page, unnest(records) AS r, generate_subscripts(records, 1) AS position
    FROM (
        SELECT filename AS page, struct_extract(from_json(content, shape), envelope) AS records
        FROM read_text(files)
    )
)
