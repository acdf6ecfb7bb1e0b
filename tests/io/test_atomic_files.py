"""Writing files: atomically, with the mode any new file gets, and a failed write told as one OutputError that
names the file asked for (never the temporary one) and leaves nothing behind."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from cross_sell_upsell.errors import OutputError
from cross_sell_upsell.io.files import write_atomic
from cross_sell_upsell.io.staging import StagedOutputs


def full_device(folder: Path) -> Path:
    """A device like /dev/full (every write: no space left), made in `folder`, so nothing outside it is at risk."""
    device = folder / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except OSError:
        pytest.skip("cannot make a device node here")
    return device


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "report.md", "old report\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half \udc80 written")
    assert target.read_text() == "old report\n"
    assert [path.name for path in tmp_path.iterdir()] == ["report.md"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_get_the_mode_of_any_new_file(tmp_path: Path, umask: int, mode: int) -> None:
    # Not the temporary file's private 0600: a report is for the people and tools the umask lets read it.
    previous = os.umask(umask)
    try:
        target = write_atomic(tmp_path / "report.md", "report\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == mode


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("folder", "Is a directory"),  # the target is a folder
        ("file/report.md", "Not a directory"),  # its folder's name is taken by a file
        ("file/deeper/report.md", "Not a directory"),
    ],
)
def test_a_write_that_cannot_be_done_names_the_target(tmp_path: Path, relative: str, reason: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("not a folder\n")
    with pytest.raises(OutputError) as raised:
        write_atomic(tmp_path / relative, "report\n")
    assert str(raised.value) == f"cannot write {tmp_path / relative}: {reason}"
    assert isinstance(raised.value, OSError)  # a best-effort writer (the LLM cache) still catches it
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file", "folder"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_a_full_disk_names_the_target(tmp_path: Path) -> None:
    device = full_device(tmp_path)
    with pytest.raises(OutputError) as raised:
        write_atomic(device, "report\n")
    assert str(raised.value) == f"cannot write {device}: No space left on device"
    assert stat.S_ISCHR(device.stat().st_mode)  # written to, not replaced by a file
    assert sorted(path.name for path in tmp_path.iterdir()) == ["full"]


def test_a_pipe_is_written_to_not_replaced(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    assert write_atomic(pipe, "report\n") == pipe
    reader.join(timeout=10)
    assert received == [b"report\n"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_staged_files_that_cannot_be_published_name_the_target_and_are_deleted(tmp_path: Path) -> None:
    (tmp_path / "b.md").mkdir()
    with pytest.raises(OutputError) as raised, StagedOutputs() as staged:
        staged.add(tmp_path / "a.md", "a\n")
        staged.add(tmp_path / "b.md", "b\n")
        staged.commit()
    assert str(raised.value) == f"cannot write {tmp_path / 'b.md'}: Is a directory"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.md", "b.md"]  # a.md went first, nothing left


def test_appending_to_a_staged_file_on_a_full_disk_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "offers.csv"
    with StagedOutputs() as staged:
        staged.add(target, "header\n")
        with pytest.raises(OutputError) as raised, staged.appending(target):
            # What polars raises when the disk fills while it writes a frame.
            raise OSError("No space left on device (os error 28)")
    assert str(raised.value) == f"cannot write {target}: No space left on device (os error 28)"
    with pytest.raises(OutputError) as raised, StagedOutputs() as staged:
        staged.add(target, "header\n")
        with staged.appending(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staged.temporary(target)))
    assert str(raised.value) == f"cannot write {target}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_late_append_after_discarding_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "offers.csv"
    staged = StagedOutputs()
    staged.add(target, "header\n")
    staged.temporary(target).unlink()  # as an interrupt's discard does while the export's writer thread runs
    with pytest.raises(OutputError, match="No such file or directory"), staged.appending(target) as stream:
        stream.write(b"row\n")
    assert list(tmp_path.iterdir()) == []
