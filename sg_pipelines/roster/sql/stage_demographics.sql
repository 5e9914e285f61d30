-- /demographics pages (the JSON files $files) to staging rows, by the rules of
-- models.Demographics. After the macros, the two sources of `fields` and the rows made of them,
-- as in stage_enrollments.sql.

CREATE OR REPLACE TEMP MACRO demographics_paths() AS [
    '$.sourcedId', '$.status', '$.dateLastModified', '$.birthDate', '$.sex',
    '$.americanIndianOrAlaskaNative', '$.asian', '$.blackOrAfricanAmerican',
    '$.nativeHawaiianOrOtherPacificIslander', '$.white', '$.demographicRaceTwoOrMoreRaces',
    '$.hispanicOrLatinoEthnicity', '$.countryOfBirthCode', '$.stateOfBirthAbbreviation',
    '$.cityOfBirth', '$.publicSchoolResidenceStatus'
];

-- exact: the records at $positions of one page $files
WITH paths AS (
    SELECT * FROM listed_records($files, $positions, 'demographics', demographics_paths(), 16)
)
SELECT
    * EXCLUDE (v, k),
    field(v, k, 1) AS sourced_id,
    field(v, k, 2) AS status,
    field(v, k, 3) AS date_last_modified,
    field(v, k, 4) AS birth_date,
    field(v, k, 5) AS sex,
    field(v, k, 6) AS american_indian_or_alaska_native,
    field(v, k, 7) AS asian,
    field(v, k, 8) AS black_or_african_american,
    field(v, k, 9) AS native_hawaiian_or_other_pacific_islander,
    field(v, k, 10) AS white,
    field(v, k, 11) AS demographic_race_two_or_more_races,
    field(v, k, 12) AS hispanic_or_latino_ethnicity,
    field(v, k, 13) AS country_of_birth_code,
    field(v, k, 14) AS state_of_birth_abbreviation,
    field(v, k, 15) AS city_of_birth,
    field(v, k, 16) AS public_school_residence_status,
    true AS certain
FROM paths;

-- fast: every record of the pages $files
WITH records AS (
    SELECT * FROM typed_records(
        $files,
        '{"demographics": [{"sourcedId": "JSON", "status": "JSON",
            "dateLastModified": "JSON", "birthDate": "JSON", "sex": "JSON",
            "americanIndianOrAlaskaNative": "JSON", "asian": "JSON",
            "blackOrAfricanAmerican": "JSON", "nativeHawaiianOrOtherPacificIslander": "JSON",
            "white": "JSON", "demographicRaceTwoOrMoreRaces": "JSON",
            "hispanicOrLatinoEthnicity": "JSON", "countryOfBirthCode": "JSON",
            "stateOfBirthAbbreviation": "JSON", "cityOfBirth": "JSON",
            "publicSchoolResidenceStatus": "JSON"}]}',
        'demographics'
    )
),
record_fields AS (
    SELECT
        * EXCLUDE (r),
        typed(r.sourcedId) AS sourced_id,
        typed(r.status) AS status,
        typed(r.dateLastModified) AS date_last_modified,
        typed(r.birthDate) AS birth_date,
        typed(r.sex) AS sex,
        typed(r.americanIndianOrAlaskaNative) AS american_indian_or_alaska_native,
        typed(r.asian) AS asian,
        typed(r.blackOrAfricanAmerican) AS black_or_african_american,
        typed(r.nativeHawaiianOrOtherPacificIslander) AS native_hawaiian_or_other_pacific_islander,
        typed(r.white) AS white,
        typed(r.demographicRaceTwoOrMoreRaces) AS demographic_race_two_or_more_races,
        typed(r.hispanicOrLatinoEthnicity) AS hispanic_or_latino_ethnicity,
        typed(r.countryOfBirthCode) AS country_of_birth_code,
        typed(r.stateOfBirthAbbreviation) AS state_of_birth_abbreviation,
        typed(r.cityOfBirth) AS city_of_birth,
        typed(r.publicSchoolResidenceStatus) AS public_school_residence_status
    FROM records
)
SELECT
    *,
    -- a missing status is active, a null one refused
    is_read(sourced_id) AND is_read(status) AS certain
FROM record_fields;

-- the rows, from either source as `fields` (each rule computed once: a name that refers to an
-- expression of the same SELECT would repeat the expression)
values AS (
    SELECT *, instant_of(date_last_modified) AS instant, date_of(birth_date) AS birth_day
    FROM fields
),
rows AS (
    SELECT
        sourced_id.v AS sourced_id,
        status_of(status) AS status,
        instant AS date_last_modified,
        birth_day AS birth_date,
        -- Ed-Fi capitalises sex; only ASCII is lowered here, where SQL and Python agree
        CASE WHEN sex.k = 'VARCHAR' THEN lower(sex.v) ELSE sex.v END AS sex,
        flag_of(american_indian_or_alaska_native) AS american_indian_or_alaska_native,
        flag_of(asian) AS asian,
        flag_of(black_or_african_american) AS black_or_african_american,
        flag_of(native_hawaiian_or_other_pacific_islander)
            AS native_hawaiian_or_other_pacific_islander,
        flag_of(white) AS white,
        flag_of(demographic_race_two_or_more_races) AS demographic_race_two_or_more_races,
        flag_of(hispanic_or_latino_ethnicity) AS hispanic_or_latino_ethnicity,
        country_of_birth_code.v AS country_of_birth_code,
        state_of_birth_abbreviation.v AS state_of_birth_abbreviation,
        city_of_birth.v AS city_of_birth,
        public_school_residence_status.v AS public_school_residence_status,
        warning(date_warns(birth_date, birth_day), 'birthDate',
                'not an ISO YYYY-MM-DD date; stored as null') AS warnings,
        NOT coalesce(
            certain
            AND is_record
            AND is_sourced_id(sourced_id)
            AND is_status(status)
            AND is_instant(date_last_modified, instant)
            AND is_date(birth_date, birth_day)
            AND is_text(sex) AND is_plain(sex)
            AND is_flag(american_indian_or_alaska_native)
            AND is_flag(asian)
            AND is_flag(black_or_african_american)
            AND is_flag(native_hawaiian_or_other_pacific_islander)
            AND is_flag(white)
            AND is_flag(demographic_race_two_or_more_races)
            AND is_flag(hispanic_or_latino_ethnicity)
            AND is_text(country_of_birth_code)
            AND is_text(state_of_birth_abbreviation)
            AND is_text(city_of_birth)
            AND is_text(public_school_residence_status),
            false
        ) AS needs_model,
        exact,
        record AS source_record,
        page,
        position
    FROM values
)
