"""A demo clears only what it made in its home, at every level, and names everything it left."""

from sg_pipelines.demo_home import DEMO_MARKER, clear_demo_home

MADE_BY_A_DEMO = [
    "demo-district.json",
    "warehouse.duckdb",
    "warehouse.duckdb.wal",
    "warehouse.duckdb.tmp/duckdb_temp_storage-0.tmp",
    "app.sqlite",
    "app.sqlite-journal",
    "snapshots/emis-20250301T020000000000Z.duckdb",
    "snapshots/emis-20250301T020000000000Z.duckdb.wal",
    "snapshots/.emis-20250302T020000000000Z.duckdb.tmp",
    "snapshots/.emis-20250302T020000000000Z.duckdb.tmp.wal",
    "snapshots/current.json",
    "snapshots/.current.json.tmp",
    "dagster/dagster.yaml",
    # Dagster's storage folders go whole, whatever Dagster wrote inside them
    "dagster/history/runs.db",
    "dagster/history/runs/index.db",
    "dagster/schedules/schedules.db",
    "dagster/storage/roster_students",
    "dagster/.nux/nux.yaml",
    "dagster/.telemetry/id.yaml",
]
PUT_THERE_BY_THE_USER = [
    "mynotes.txt",
    "exports/roster.csv",
    "snapshots/mine.txt",
    "snapshots/kept/emis-20240101T000000000000Z.duckdb",
    "dagster/mine.txt",
    "dagster/notes/runs.db",
]


def test_a_demo_clears_what_it_made_at_every_level_and_names_what_the_user_put_there(tmp_path):
    (tmp_path / DEMO_MARKER).write_text("")
    for path in MADE_BY_A_DEMO + PUT_THERE_BY_THE_USER:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)

    left = clear_demo_home(tmp_path)

    assert left == [
        "dagster/mine.txt",
        "dagster/notes",
        "exports",
        "mynotes.txt",
        "snapshots/kept",
        "snapshots/mine.txt",
    ]
    remaining = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()}
    assert remaining == {DEMO_MARKER, *PUT_THERE_BY_THE_USER}
    for path in PUT_THERE_BY_THE_USER:
        assert (tmp_path / path).read_text() == path


def test_a_folder_the_demo_made_goes_once_nothing_of_the_users_is_left_in_it(tmp_path):
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "current.json").write_text("{}")

    assert clear_demo_home(tmp_path) == []
    assert not (tmp_path / "snapshots").exists()


def test_a_link_in_the_place_of_a_demo_folder_is_removed_never_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "current.json").write_text("the user's own file")
    home = tmp_path / "home"
    home.mkdir()
    (home / "snapshots").symlink_to(elsewhere)

    assert clear_demo_home(home) == []
    assert not (home / "snapshots").exists()
    assert (elsewhere / "current.json").read_text() == "the user's own file"
