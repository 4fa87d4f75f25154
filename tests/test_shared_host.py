"""One shared host: the database on local disk only (never NFS, SMB or sshfs), and an
opt-in shared mode for a team's group directory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from opsweek.cli.main import main
from opsweek.store import Store, db

LOCAL_ROOT = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"


def fake_mounts(tmp_path, monkeypatch, *lines: str) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(LOCAL_ROOT + "".join(lines))
    monkeypatch.setattr(db, "MOUNTINFO", str(table))


def mount(point: str, fstype: str, source: str = "server:/export") -> str:
    escaped = point.replace(" ", "\\040")
    return f"40 22 0:50 / {escaped} rw,relatime shared:30 - {fstype} {source} rw,vers=4.2\n"


@pytest.mark.parametrize("fstype", ["nfs4", "nfs", "cifs", "smb3", "fuse.sshfs", "9p"])
def test_a_database_on_a_network_file_system_is_refused(tmp_path, monkeypatch, capsys, fstype):
    team = tmp_path / "team share"
    team.mkdir()
    fake_mounts(tmp_path, monkeypatch, mount(str(team), fstype))
    path = team / "opsweek.db"

    assert main(["--db", str(path), "init"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"opsweek: {path} is on a network file system ({fstype} mounted at {team});")
    assert "OPSWEEK_ALLOW_NETWORK_FS=1" in err and err.count("\n") == 1
    assert not path.exists()  # nothing was created there


def test_an_existing_database_on_nfs_is_refused_for_reading_too(demo_db, tmp_path, monkeypatch, capsys):
    fake_mounts(tmp_path, monkeypatch, mount(str(demo_db.parent), "nfs4"))
    before = demo_db.read_bytes()
    assert main(["--db", str(demo_db), "--me", "ben", "mine"]) == 3
    assert "network file system (nfs4" in capsys.readouterr().err
    assert demo_db.read_bytes() == before


def test_the_longest_mount_point_decides(demo_db, tmp_path, monkeypatch, capsys):
    # the home directories come over NFS, but the team's directory is a local disk inside it
    fake_mounts(tmp_path, monkeypatch, mount(str(tmp_path.parent), "nfs4"),
                mount(str(demo_db.parent), "ext4", "/dev/sdb1"))
    assert main(["--db", str(demo_db), "--me", "ben", "mine"]) == 0
    # and a look-alike prefix is not a parent: /srv/ops is not inside /srv/op
    assert db.network_filesystem(str(demo_db.parent) + "-other") == ("nfs4", str(tmp_path.parent))
    fake_mounts(tmp_path, monkeypatch, mount(str(demo_db.parent)[:-1], "nfs4"))
    assert db.network_filesystem(demo_db.parent) is None


def test_allow_network_fs_lets_a_team_take_the_risk(tmp_path, monkeypatch, capsys):
    team = tmp_path / "nfs"
    team.mkdir()
    fake_mounts(tmp_path, monkeypatch, mount(str(team), "nfs4"))
    monkeypatch.setenv("OPSWEEK_ALLOW_NETWORK_FS", "1")
    assert main(["--db", str(team / "opsweek.db"), "init"]) == 0
    assert (team / "opsweek.db").exists()


def test_a_local_disk_and_a_missing_mount_table_are_fine(tmp_path, monkeypatch):
    fake_mounts(tmp_path, monkeypatch)
    assert db.network_filesystem(tmp_path) is None
    monkeypatch.setattr(db, "MOUNTINFO", str(tmp_path / "no-such-table"))
    assert db.network_filesystem(tmp_path) is None


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_by_default_the_database_is_private_to_its_owner(tmp_path, capsys):
    path = tmp_path / "mine" / "opsweek.db"
    assert main(["--db", str(path), "init"]) == 0
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_init_shared_makes_a_group_database_whose_wal_files_the_group_can_write(tmp_path, capsys):
    path = tmp_path / "team" / "opsweek.db"
    old = os.umask(0o077)  # a strict login umask must not take the group's bits away
    try:
        assert main(["--db", str(path), "init", "--shared"]) == 0
        # a teammate's first write makes the -wal and -shm files: they get the database's mode
        assert main(["--db", str(path), "set", "handoff_sla", "24h"]) == 0
        with Store.open(path) as store:
            store.scalar("SELECT count(*) FROM items")
            wal = [p for p in path.parent.iterdir() if p.name.endswith(("-wal", "-shm"))]
            assert wal and all(mode(p) == 0o660 for p in wal), {p.name: oct(mode(p)) for p in wal}
    finally:
        os.umask(old)
    assert mode(path) == 0o660
    assert mode(path.parent) == 0o2770  # setgid: every file made in it belongs to the team's group


def test_opsweek_shared_in_the_environment_does_the_same(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPSWEEK_SHARED", "1")
    path = tmp_path / "team" / "opsweek.db"
    assert main(["--db", str(path), "init"]) == 0
    assert mode(path) == 0o660 and mode(path.parent) == 0o2770


def test_the_readme_says_how_to_run_it_for_a_team():
    readme = (os.path.dirname(__file__) + "/../README.md")
    text = open(readme, encoding="utf-8").read()
    section = text[text.index("## Running it for a team"):]
    for needed in ("OPSWEEK_ME", "install -d -m 2770", "opsweek init --shared",
                   'command="OPSWEEK_ME=ana opsweek mine",restrict', "ssh -L 8765:localhost:8765",
                   "no authentication", "OPSWEEK_ALLOW_NETWORK_FS", "opsweek meeting --follow"):
        assert needed in section, needed


def test_the_quick_path_still_imports_nothing_it_does_not_use(demo_db):
    # the mount check is standard library only: `opsweek mine` stays free of Textual and friends
    code = ("import sys; from opsweek.cli.main import main; main(['--db', sys.argv[1], '--me', 'ben', 'mine']);"
            "print('loaded:', [m for m in ('textual', 'sqlite_utils', 'pydantic') if m in sys.modules], file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, str(demo_db)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "loaded: []"
