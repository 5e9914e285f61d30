"""A made-up district shaped like Infinite Campus's OneRoster 1.2 output.

Deterministic for a seed (and school year): the same arguments always produce the same records,
sourcedIds included. Every name, number and date is invented.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sg_pipelines.sandbox.district import District, format_instant, guid_ref

logger = logging.getLogger(__name__)

GRADES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
BANDS = {
    "Elementary School": GRADES[0:6],
    "Middle School": GRADES[6:9],
    "High School": GRADES[9:13],
}
SUBJECTS = {
    "Elementary School": ("Reading", "Mathematics", "Science", "Social Studies", "Art", "Music"),
    "Middle School": ("English", "Mathematics", "Science", "Social Studies", "Health", "Art"),
    "High School": ("English", "Mathematics", "Science", "Social Studies", "World Language", "PE"),
}
CLASS_SIZE = 25
SECTIONS_PER_TEACHER = 5
STUDENTS_PER_SCHOOL = 500

# Shares of students, as fractions.
MOVE_SHARE = 0.03
WITHDRAW_SHARE = 0.02
UNPADDED_EMIS_SHARE = 0.02
PREFERRED_NAME_SHARE = 0.08
SIBLING_SHARE = 0.06
UNLISTED_GUARDIAN_SHARE = 0.10

GIVEN_NAMES = (
    "Avery", "Blake", "Carmen", "Dalia", "Eli", "Farah", "Gideon", "Hana", "Ivo", "Jada",
    "Kian", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Silas", "Tamsin",
    "Uma", "Viktor", "Wren", "Xavi", "Yara", "Zane", "Amara", "Bodhi", "Cleo", "Dorian",
    "Esme", "Felix", "Greta", "Hugo", "Isla", "Jonah", "Kira", "Luca", "Mira", "Niko",
)  # fmt: skip
FAMILY_NAMES = (
    "Abernethy", "Bellweather", "Castellan", "Dunmore", "Eastbrook", "Fairhurst", "Galloway",
    "Hollis", "Ingleby", "Jarrow", "Kestrel", "Lindqvist", "Marchetti", "Northcote", "Okafor",
    "Pendleton", "Quarles", "Rasmussen", "Stanhope", "Thackeray", "Underhill", "Vantongeren",
    "Whitcombe", "Yardley", "Zabala", "Ashdown", "Brightwater", "Coldridge", "Dewhurst",
    "Emberly",
)  # fmt: skip
# version 4 and RFC 4122 variant bits of a UUID
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)
RACES = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)
RACE_CUM_WEIGHTS = (1, 5, 22, 23, 85, 100)
SEXES = ("female", "male", "unspecified", "other")
SEX_CUM_WEIGHTS = (49, 98, 99, 100)
GUARDIAN_ROLES = ("parent", "guardian", "relative")
GUARDIAN_ROLE_CUM_WEIGHTS = (75, 92, 100)
FAMILY_SIZES = (1, 2, 3)
FAMILY_SIZE_CUM_WEIGHTS = (40, 95, 100)

PLACES = (
    "Maple", "Riverside", "Oakwood", "Hillcrest", "Lakeview", "Cedar", "Westfield", "Brookside",
    "Pinecrest", "Meadow", "Sycamore", "Willow", "Highland", "Fairview", "Northgate", "Elm",
)  # fmt: skip


@dataclass
class _Student:
    record: dict[str, Any]
    ref: dict[str, str]
    grade: str
    school: int
    moved_to: int | None = None
    moved_on: date | None = None
    withdrawn_on: date | None = None
    guardians: list[dict[str, Any]] = field(default_factory=list)


@functools.lru_cache(maxsize=1024)
def _iso(day: date) -> str:
    return day.isoformat()


def current_school_year(today: date | None = None) -> int:
    """The school year (`YYYY` of its end) in progress on `today`; rollover is 1 July."""
    today = today or datetime.now(UTC).date()
    return today.year + 1 if today.month >= 7 else today.year


def generate_district(
    students: int = 2000,
    seed: int = 7,
    *,
    school_year: int | None = None,
    name: str = "Sandbox City Schools",
) -> District:
    """Generate a district with `students` students, their guardians, teachers and schedules.

    Args:
        students: number of students (schools scale at about one per 500 students).
        seed: seed of the random generator; sourcedIds come from it too.
        school_year: `YYYY` of the year's end; defaults to the year in progress today.
        name: the district org's name.
    """
    started = time.perf_counter()
    district = _Generator(students, seed, school_year or current_school_year(), name).build()
    logger.info(
        "generated district: %d users, %d enrollments, %d classes in %.1fs",
        district.count("users"),
        district.count("enrollments"),
        district.count("classes"),
        time.perf_counter() - started,
    )
    return district


class _Generator:
    def __init__(self, students: int, seed: int, school_year: int, name: str) -> None:
        if students < 1:
            raise ValueError("a district needs at least one student")
        self.rng = random.Random(seed)
        self.student_count = students
        self.school_year = school_year
        self.name = name
        self.district = District(name)
        self.person_id = 100_000
        self.year_start = date(school_year - 1, 8, 20)
        self.spring_start = date(school_year, 1, 6)
        self.year_end = date(school_year, 6, 6)
        # Bulk records were last modified over the summer before the year began.
        summer = datetime(school_year - 1, 6, 1, tzinfo=UTC)
        self.stamps = [
            format_instant(summer + timedelta(seconds=self.rng.randrange(75 * 86_400)))
            for _ in range(4096)
        ]
        self.emis_ids: set[int] = set()
        self.state_ids: set[str] = set()

    def new_id(self) -> str:
        """A version-4 UUID string drawn from the seeded generator."""
        value = (self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def stamp(self) -> str:
        return self.stamps[self.rng.getrandbits(12)]

    def next_person_id(self) -> str:
        self.person_id += 1
        return str(self.person_id)

    def base(self, sourced_id: str | None = None) -> dict[str, Any]:
        return {
            "sourcedId": sourced_id or self.new_id(),
            "status": "active",
            "dateLastModified": self.stamp(),
        }

    def build(self) -> District:
        self.build_orgs()
        self.build_sessions()
        self.build_courses()
        students = self.build_students()
        self.plan_moves_and_withdrawals(students)
        self.build_guardians(students)
        self.build_schedules(students)

        district = self.district
        district.load("orgs", [self.district_org, *self.schools])
        district.load("academicSessions", self.sessions)
        district.load("courses", self.courses.values())
        district.load("classes", self.classes)
        district.load("users", [s.record for s in students] + self.teachers + self.guardians)
        district.load("demographics", self.demographics)
        district.load("enrollments", self.enrollments)
        district.unlisted_users.update({g["sourcedId"]: g for g in self.unlisted})
        return district

    # orgs and calendar

    def build_orgs(self) -> None:
        rng = self.rng
        irns = rng.sample(range(100_000, 1_000_000), 1 + self.school_total())
        district_id = self.new_id()
        self.district_ref = guid_ref("org", "orgs", district_id)
        self.district_org = {
            **self.base(district_id),
            "name": self.name,
            "type": "district",
            "identifier": str(irns[0]),
            "children": [],
        }
        self.schools: list[dict[str, Any]] = []
        self.school_refs: list[dict[str, str]] = []
        self.school_band: list[str] = []
        self.schools_by_band: dict[str, list[int]] = {band: [] for band in BANDS}
        places = list(PLACES)
        rng.shuffle(places)
        for index, band in enumerate(self.band_plan()):
            school_id = self.new_id()
            place = places[index % len(places)]
            suffix = f" {index // len(places) + 1}" if index >= len(places) else ""
            school = {
                **self.base(school_id),
                "name": f"{place}{suffix} {band}",
                "type": "school",
                "identifier": str(irns[index + 1]),
                "parent": self.district_ref,
                "metadata": {"ic": {"schoolNumber": f"{index + 1:03d}"}},
            }
            self.schools.append(school)
            self.school_refs.append(guid_ref("org", "orgs", school_id))
            self.school_band.append(band)
            self.schools_by_band[band].append(index)
        self.district_org["children"] = self.school_refs

    def school_total(self) -> int:
        return max(3, round(self.student_count / STUDENTS_PER_SCHOOL))

    def band_plan(self) -> list[str]:
        total = self.school_total()
        high = max(1, round(total * 4 / 13))
        middle = max(1, round(total * 3 / 13))
        elementary = max(1, total - high - middle)
        return (
            ["Elementary School"] * elementary + ["Middle School"] * middle + ["High School"] * high
        )

    def build_sessions(self) -> None:
        year = self.school_year
        year_id, fall_id, spring_id = self.new_id(), self.new_id(), self.new_id()
        self.year_ref = guid_ref("academicSession", "academicSessions", year_id)
        self.fall_ref = guid_ref("academicSession", "academicSessions", fall_id)
        self.spring_ref = guid_ref("academicSession", "academicSessions", spring_id)
        self.semesters = [
            (self.fall_ref, self.year_start, self.spring_start),
            (self.spring_ref, self.spring_start, self.year_end),
        ]
        self.sessions = [
            {
                **self.base(year_id),
                "title": f"{year - 1}-{year} School Year",
                "type": "schoolYear",
                "startDate": self.year_start.isoformat(),
                "endDate": self.year_end.isoformat(),
                "schoolYear": str(year),
                "children": [self.fall_ref, self.spring_ref],
            },
            {
                **self.base(fall_id),
                "title": f"Fall {year - 1}",
                "type": "semester",
                "startDate": self.year_start.isoformat(),
                "endDate": self.spring_start.isoformat(),
                "schoolYear": str(year),
                "parent": self.year_ref,
            },
            {
                **self.base(spring_id),
                "title": f"Spring {year}",
                "type": "semester",
                "startDate": self.spring_start.isoformat(),
                "endDate": self.year_end.isoformat(),
                "schoolYear": str(year),
                "parent": self.year_ref,
            },
        ]

    def build_courses(self) -> None:
        self.courses: dict[tuple[str, str], dict[str, Any]] = {}
        self.course_refs: dict[tuple[str, str], dict[str, str]] = {}
        for band, grades in BANDS.items():
            for grade in grades:
                for subject in SUBJECTS[band]:
                    course_id = self.new_id()
                    code = f"{subject[:4].upper().replace(' ', '')}-{grade}"
                    self.courses[grade, subject] = {
                        **self.base(course_id),
                        "title": f"{subject} {grade}",
                        "courseCode": code,
                        "schoolYear": self.year_ref,
                        "grades": [grade],
                        "subjects": [subject],
                        "org": self.district_ref,
                    }
                    self.course_refs[grade, subject] = guid_ref("course", "courses", course_id)

    # people

    def build_students(self) -> list[_Student]:
        rng = self.rng
        students = []
        self.demographics: list[dict[str, Any]] = []
        for number in range(self.student_count):
            grade = GRADES[rng.randrange(len(GRADES))]
            band = next(b for b, grades in BANDS.items() if grade in grades)
            school = rng.choice(self.schools_by_band[band])
            sourced_id = self.new_id()
            given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
            local_number = str(200_001 + number)
            state_id = self.new_state_id()
            record: dict[str, Any] = {
                **self.base(sourced_id),
                "metadata": {
                    "ic": {
                        "emisStudentId": self.new_emis_id(),
                        "stateId": state_id,
                        "legacysourceId": self.next_person_id(),
                    }
                },
                "username": f"{given}.{family}{local_number[-3:]}".lower(),
                "userIds": [
                    {"type": "stateId", "identifier": state_id},
                    {"type": "local", "identifier": local_number},
                ],
                "enabledUser": "true",
                "givenName": given,
                "familyName": family,
                "roles": [
                    {"roleType": "primary", "role": "student", "org": self.school_refs[school]}
                ],
                "primaryOrg": self.school_refs[school],
                "identifier": local_number,
                "email": f"{given}.{family}{local_number[-3:]}@students.sandbox.example".lower(),
                "agents": [],
                "grades": [grade],
            }
            if rng.random() < 0.5:
                record["middleName"] = rng.choice(GIVEN_NAMES)
            if rng.random() < PREFERRED_NAME_SHARE:
                record["preferredFirstName"] = rng.choice(GIVEN_NAMES)
            ref = guid_ref("user", "users", sourced_id)
            students.append(_Student(record=record, ref=ref, grade=grade, school=school))
            self.demographics.append(self.new_demographics(sourced_id, grade))
        return students

    def new_emis_id(self) -> str:
        while True:
            value = self.rng.randrange(1, 100_000_000)
            if value not in self.emis_ids:
                self.emis_ids.add(value)
                break
        # A few come without leading zeros, as hand-keyed Campus data does.
        if self.rng.random() < UNPADDED_EMIS_SHARE:
            return str(value)
        return f"{value:09d}"

    def new_state_id(self) -> str:
        rng = self.rng
        while True:
            letters = chr(65 + rng.randrange(26)) + chr(65 + rng.randrange(26))
            value = f"{letters}{rng.randrange(10_000_000):07d}"
            if value not in self.state_ids:
                self.state_ids.add(value)
                return value

    def new_demographics(self, sourced_id: str, grade: str) -> dict[str, Any]:
        rng = self.rng
        age = 5 + GRADES.index(grade)
        born = date(self.school_year - 1 - age, 9, 1) - timedelta(days=rng.randrange(365))
        race = rng.choices(RACES, cum_weights=RACE_CUM_WEIGHTS)[0]
        flags = {key: "true" if key == race else "false" for key in RACES}
        return {
            **self.base(sourced_id),
            "birthDate": born.isoformat(),
            "sex": rng.choices(SEXES, cum_weights=SEX_CUM_WEIGHTS)[0],
            **flags,
            "hispanicOrLatinoEthnicity": "true" if rng.random() < 0.08 else "false",
            "countryOfBirthCode": "US",
            "stateOfBirthAbbreviation": "OH",
        }

    def plan_moves_and_withdrawals(self, students: list[_Student]) -> None:
        rng = self.rng
        for student in students:
            draw = rng.random()
            peers = self.schools_by_band[self.school_band[student.school]]
            if draw < MOVE_SHARE and len(peers) > 1:
                student.moved_to = rng.choice([s for s in peers if s != student.school])
                student.moved_on = self.year_start + timedelta(days=rng.randrange(40, 100))
                self.move_roles(student)
            elif draw < MOVE_SHARE + WITHDRAW_SHARE:
                student.withdrawn_on = self.year_start + timedelta(days=rng.randrange(30, 200))
                student.record["enabledUser"] = "false"
                student.record["roles"][0]["endDate"] = student.withdrawn_on.isoformat()

    def move_roles(self, student: _Student) -> None:
        moved_on = student.moved_on.isoformat()
        old, new = self.school_refs[student.school], self.school_refs[student.moved_to]
        student.record["roles"] = [
            {"roleType": "primary", "role": "student", "org": new, "beginDate": moved_on},
            {"roleType": "primary", "role": "student", "org": old, "endDate": moved_on},
        ]
        student.record["primaryOrg"] = new

    def build_guardians(self, students: list[_Student]) -> None:
        rng = self.rng
        self.guardians: list[dict[str, Any]] = []
        self.unlisted: list[dict[str, Any]] = []
        # each guardian keeps one role name (parent, guardian, relative) at every school
        self.guardian_roles: dict[str, str] = {}
        families: list[_Student] = []
        for student in students:
            if families and rng.random() < SIBLING_SHARE:
                sibling = rng.choice(families)
                student.guardians = sibling.guardians
                for guardian in sibling.guardians:
                    self.link_guardian(guardian, student)
            else:
                size = rng.choices(FAMILY_SIZES, cum_weights=FAMILY_SIZE_CUM_WEIGHTS)[0]
                for position in range(size):
                    guardian = self.new_guardian(student, position)
                    student.guardians.append(guardian)
                    self.link_guardian(guardian, student)
                families.append(student)
            student.record["agents"] = [
                guid_ref("user", "users", g["sourcedId"]) for g in student.guardians
            ]

    def new_guardian(self, student: _Student, position: int) -> dict[str, Any]:
        rng = self.rng
        role = rng.choices(GUARDIAN_ROLES, cum_weights=GUARDIAN_ROLE_CUM_WEIGHTS)[0]
        if position == 2:
            role = "relative"
        given = rng.choice(GIVEN_NAMES)
        family = student.record["familyName"] if rng.random() < 0.8 else rng.choice(FAMILY_NAMES)
        person_id = self.next_person_id()
        guardian: dict[str, Any] = {
            **self.base(),
            "metadata": {"ic": {"legacysourceId": person_id}},
            "userIds": [{"type": "local", "identifier": f"P{person_id}"}],
            "enabledUser": "true",
            "givenName": given,
            "familyName": family,
            "roles": [],
            "primaryOrg": self.school_refs[self.current_school(student)],
            "email": f"{given}.{family}.{person_id}@family.sandbox.example".lower(),
            "phone": f"(555) {rng.randrange(200, 999)}-{rng.randrange(10_000):04d}",
            "agents": [],
        }
        # No active portal account: Campus leaves this person out of /users.
        if rng.random() < UNLISTED_GUARDIAN_SHARE:
            self.unlisted.append(guardian)
        else:
            self.guardians.append(guardian)
        self.guardian_roles[guardian["sourcedId"]] = role
        return guardian

    def link_guardian(self, guardian: dict[str, Any], student: _Student) -> None:
        role = self.guardian_roles[guardian["sourcedId"]]
        guardian["agents"].append(student.ref)
        org = self.school_refs[self.current_school(student)]
        if all(r["org"]["sourcedId"] != org["sourcedId"] for r in guardian["roles"]):
            guardian["roles"].append({"roleType": "primary", "role": role, "org": org})

    def current_school(self, student: _Student) -> int:
        return student.school if student.moved_to is None else student.moved_to

    # classes, teachers, enrollments

    def build_schedules(self, students: list[_Student]) -> None:
        self.classes: list[dict[str, Any]] = []
        self.teachers: list[dict[str, Any]] = []
        self.enrollments: list[dict[str, Any]] = []

        # who attends which school and grade at some point in the year
        rosters: dict[tuple[int, str], list[_Student]] = {}
        for student in students:
            rosters.setdefault((student.school, student.grade), []).append(student)
            if student.moved_to is not None:
                rosters.setdefault((student.moved_to, student.grade), []).append(student)

        for school in range(len(self.schools)):
            sections = self.build_school_classes(school, rosters)
            for (grade, subject), refs in sections.items():
                for student in rosters.get((school, grade), ()):
                    self.enroll(student, school, subject, refs)

    def build_school_classes(
        self, school: int, rosters: dict[tuple[int, str], list[_Student]]
    ) -> dict[tuple[str, str], list[list[dict[str, str]]]]:
        """Create the school's sections; returns, per grade and subject, refs per semester."""
        band = self.school_band[school]
        school_ref = self.school_refs[school]
        plan = []
        for grade in BANDS[band]:
            count = len(rosters.get((school, grade), ()))
            if count:
                for subject in SUBJECTS[band]:
                    plan.extend((grade, subject, n) for n in range(math.ceil(count / CLASS_SIZE)))
        teachers = [
            self.new_teacher(school) for _ in range(math.ceil(len(plan) / SECTIONS_PER_TEACHER))
        ]

        sections: dict[tuple[str, str], list[list[dict[str, str]]]] = {}
        for index, (grade, subject, number) in enumerate(plan):
            teacher = teachers[index // SECTIONS_PER_TEACHER]
            per_semester = []
            for term_ref, begin, end in self.semesters:
                class_id = self.new_id()
                class_ref = guid_ref("class", "classes", class_id)
                self.classes.append(
                    {
                        **self.base(class_id),
                        "title": f"{subject} {grade} ({number + 1})",
                        "classCode": f"{self.courses[grade, subject]['courseCode']}-{number + 1}",
                        "classType": "scheduled",
                        "location": f"Room {100 + index % 60}",
                        "course": self.course_refs[grade, subject],
                        "school": school_ref,
                        "terms": [term_ref],
                        "grades": [grade],
                        "subjects": [subject],
                        "periods": [str(1 + index % 7)],
                    }
                )
                self.enrollments.append(
                    self.new_enrollment(teacher, class_ref, school_ref, "teacher", begin, end)
                )
                per_semester.append(class_ref)
            sections.setdefault((grade, subject), []).append(per_semester)
        return sections

    def new_teacher(self, school: int) -> dict[str, str]:
        rng = self.rng
        sourced_id = self.new_id()
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        person_id = self.next_person_id()
        self.teachers.append(
            {
                **self.base(sourced_id),
                "metadata": {"ic": {"legacysourceId": person_id}},
                "username": f"{given}.{family}.{person_id}".lower(),
                "userIds": [{"type": "local", "identifier": f"T{person_id}"}],
                "enabledUser": "true",
                "givenName": given,
                "familyName": family,
                "roles": [
                    {"roleType": "primary", "role": "teacher", "org": self.school_refs[school]}
                ],
                "primaryOrg": self.school_refs[school],
                "identifier": f"T{person_id}",
                "email": f"{given}.{family}.{person_id}@staff.sandbox.example".lower(),
            }
        )
        return guid_ref("user", "users", sourced_id)

    def enroll(
        self,
        student: _Student,
        school: int,
        subject: str,
        sections: list[list[dict[str, str]]],
    ) -> None:
        """Enrol a student in one section of a subject for each semester they attend `school`."""
        # the window the student attends this school
        begin, end = self.year_start, self.year_end
        if student.moved_to is not None:
            if school == student.school:
                end = student.moved_on
            else:
                begin = student.moved_on
        if student.withdrawn_on is not None:
            end = student.withdrawn_on

        section = sections[self.rng.randrange(len(sections))]
        for (_, term_begin, term_end), class_ref in zip(self.semesters, section, strict=True):
            first, last = max(begin, term_begin), min(end, term_end)
            if first < last:
                self.enrollments.append(
                    self.new_enrollment(
                        student.ref, class_ref, self.school_refs[school], "student", first, last
                    )
                )

    def new_enrollment(
        self,
        user_ref: dict[str, str],
        class_ref: dict[str, str],
        school_ref: dict[str, str],
        role: str,
        begin: date,
        end: date,
    ) -> dict[str, Any]:
        return {
            "sourcedId": self.new_id(),
            "status": "active",
            "dateLastModified": self.stamps[self.rng.getrandbits(12)],
            "user": user_ref,
            "class": class_ref,
            "school": school_ref,
            "role": role,
            "primary": "true" if role == "teacher" else "false",
            "beginDate": _iso(begin),
            "endDate": _iso(end),
        }
