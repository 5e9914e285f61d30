"""OneRoster CSV bundles, 1.1 and 1.2, loaded and served."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import sg_pipelines.sandbox as sandbox_package
from sg_pipelines.sandbox import BULK_DATE_LAST_MODIFIED, SandboxServer, load_bundle
from sg_pipelines.sandbox.csv_bundle import BundleError
from sg_pipelines_tests.sandbox.conftest import api_client, fetch_token

GRAND_BEND = Path(sandbox_package.__file__).parent / "data" / "grand-bend-1.1"

BUNDLE_1P2 = {
    "manifest.csv": (
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
        "file.orgs,bulk\nfile.users,delta\nfile.roles,bulk\nfile.userProfiles,bulk\n"
        "file.demographics,bulk\nfile.enrollments,absent\nfile.classes,absent\n"
        "file.courses,absent\nfile.academicSessions,absent\n"
    ),
    "orgs.csv": (
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,,,Lake District,district,043000,\n"
        "s1,,,Lake High,school,043001,d1"
    ),
    "users.csv": (
        "\ufeffsourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
        "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
        "userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,"
        "primaryOrgSourcedId,pronouns\n"
        'u1,active,2025-03-04T05:00:00-05:00,TRUE,jdoe,"{Local:863},{stateId:AB1234567}",'
        'Jane,Doe,,863,,,,p1,"09,10",,m-1,JJ,,Dee,s1,she/her\n'
        "p1,tobedeleted,2025-03-04T10:00:00Z,False,,,Pat,Doe,,,,,,u1,,,,,,,s1,\n"
    ),
    "roles.csv": (
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
        "orgSourcedId,userProfileSourcedId\n"
        "r1,,,u1,primary,student,2024-08-20,,s1,\n"
        "r2,,,p1,primary,parent,,,s1,\n"
    ),
    "userProfiles.csv": (
        "sourcedId,status,dateLastModified,userSourcedId,profileType,vendorId,applicationId,"
        "description,credentialType,username,password\n"
        "up1,,,u1,portal,campus,,Campus portal,password,jdoe,\n"
    ),
    "demographics.csv": (
        "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
        "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus\n"
        "u1,,,2010-02-03,Female,FALSE,TRUE,false,false,false,false,true,US,OH,,\n"
    ),
}


@pytest.fixture
def bundle_1p2(tmp_path: Path) -> Path:
    for name, text in BUNDLE_1P2.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_grand_bend_counts():
    district = load_bundle(GRAND_BEND)

    assert len(district.students()) == 8
    assert len(district.teachers()) == 2
    assert district.count("orgs") == 2
    assert district.count("demographics") == 8
    assert district.count("classes") == 2


def test_grand_bend_is_served_over_http_as_is():
    with (
        SandboxServer(load_bundle(GRAND_BEND)) as sandbox,
        api_client(sandbox, fetch_token(sandbox)) as client,
    ):
        students = client.get("/students").json()["users"]
        teachers = client.get("/teachers").json()["users"]
        orgs = client.get("/orgs").json()["orgs"]
        mary = client.get("/users/604863").json()["user"]

    assert len(students) == 8 and len(teachers) == 2 and len(orgs) == 2
    assert {o["type"] for o in orgs} == {"district", "school"}
    assert mary["userIds"] == [{"type": "Local", "identifier": "863"}]
    assert mary["roles"] == [
        {
            "roleType": "primary",
            "role": "student",
            "org": {
                "href": "/ims/oneroster/rostering/v1p2/orgs/255901001",
                "sourcedId": "255901001",
                "type": "org",
            },
        }
    ]
    # bulk rows: blank status and date become active and the fixed bulk stamp
    assert mary["status"] == "active"
    assert mary["dateLastModified"] == BULK_DATE_LAST_MODIFIED


def test_grand_bend_classes_split_quoted_lists():
    district = load_bundle(GRAND_BEND)
    english = district.get("classes", "25590100101Trad120ENG112011")

    assert [t["sourcedId"] for t in english["terms"]] == [
        "255901001_2021_2020-2021_Fall",
        "255901001_2021_2020-2021_Spring",
    ]


def test_a_1p2_bundle_folds_roles_profiles_and_preferred_names_into_users(bundle_1p2):
    district = load_bundle(bundle_1p2)
    student, parent = district.get("users", "u1"), district.get("users", "p1")

    assert student["enabledUser"] == "true"
    assert student["preferredFirstName"] == "JJ"
    assert student["preferredLastName"] == "Dee"
    assert student["grades"] == ["09", "10"]
    assert student["userIds"] == [
        {"type": "Local", "identifier": "863"},
        {"type": "stateId", "identifier": "AB1234567"},
    ]
    assert student["roles"][0]["role"] == "student"
    assert student["roles"][0]["beginDate"] == "2024-08-20"
    assert student["userProfiles"][0]["credentials"] == [{"type": "password", "username": "jdoe"}]
    assert student["agents"][0]["sourcedId"] == "p1"
    assert student["dateLastModified"] == "2025-03-04T10:00:00.000Z"  # offset made UTC
    assert parent["status"] == "tobedeleted"
    assert parent["enabledUser"] == "false"
    assert parent["roles"][0]["role"] == "parent"


def test_a_1p2_bundle_normalises_demographics(bundle_1p2):
    demographics = load_bundle(bundle_1p2).get("demographics", "u1")

    assert demographics["sex"] == "female"
    assert demographics["asian"] == "true"
    assert demographics["americanIndianOrAlaskaNative"] == "false"
    assert "cityOfBirth" not in demographics


def test_a_zipped_bundle_loads_the_same(bundle_1p2, tmp_path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in BUNDLE_1P2:
            zipped.write(bundle_1p2 / name, name)

    assert load_bundle(archive).collection("users") == load_bundle(bundle_1p2).collection("users")


def test_a_file_promised_by_the_manifest_must_exist(bundle_1p2):
    (bundle_1p2 / "roles.csv").unlink()

    with pytest.raises(BundleError, match=r"roles\.csv"):
        load_bundle(bundle_1p2)


def test_a_bundle_needs_a_manifest(tmp_path):
    with pytest.raises(BundleError, match="manifest"):
        load_bundle(tmp_path)


def test_a_1p2_bundle_is_served(bundle_1p2):
    with (
        SandboxServer(load_bundle(bundle_1p2)) as sandbox,
        api_client(sandbox, fetch_token(sandbox)) as client,
    ):
        students = client.get("/students")
        schools = client.get("/schools")

    assert [u["sourcedId"] for u in students.json()["users"]] == ["u1"]
    assert [o["identifier"] for o in schools.json()["orgs"]] == ["043001"]
