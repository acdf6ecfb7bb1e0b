"""File names built from customer ids: ordinary ids unchanged, any other id one safe name in its folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cross_sell_upsell.errors import OutputError
from cross_sell_upsell.io.names import file_in, name_part


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@pytest.mark.parametrize("customer_id", ["C001", "K1", "household-1234", "a.b_c", "7", "x" * 64])
def test_ids_of_safe_characters_are_kept(customer_id: str) -> None:
    assert name_part(customer_id) == customer_id


@pytest.mark.parametrize(
    ("customer_id", "readable"),
    [
        ("../../../../x", "____________x"),
        ("/etc/passwd", "_etc_passwd"),
        ("C001\x00.md", "C001__md"),
        ("C001\nsecond line", "C001_second_line"),
        (".hidden", "_hidden"),
        ("..", "__"),
        ("", ""),
        ("Müller", "M_ller"),
        ("x" * 65, "x" * 40),
    ],
)
def test_any_other_id_is_replaced_and_hashed(customer_id: str, readable: str) -> None:
    assert name_part(customer_id) == f"{readable}~{digest(customer_id)}"


def test_a_10000_character_id_makes_a_short_name() -> None:
    name = name_part("Q" * 10_000)
    assert name == f"{'Q' * 40}~{digest('Q' * 10_000)}"
    assert len(f".report_{name}_2024-03-01.md.0123abcd.tmp") < 255  # the temporary name fits too


def test_ids_that_read_alike_get_different_names() -> None:
    names = {name_part(value) for value in ["a/b", "a\\b", "a b", "a_b", "a?b", "a" * 41, "a" * 40 + "b"]}
    assert len(names) == 7
    assert "a_b" in names  # kept as it is; none of the replaced ones (they have '~') can be it


def test_file_in_gives_the_file_in_its_folder(tmp_path: Path) -> None:
    assert file_in(tmp_path, "report_C001_2024-03-01.md") == tmp_path / "report_C001_2024-03-01.md"


@pytest.mark.parametrize("name", ["../x.md", "sub/x.md", "/tmp/x.md", "..", ".", "", "x\x00.md"])
def test_a_name_that_leaves_its_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(OutputError, match="the name would leave the folder"):
        file_in(tmp_path, name)


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.md").symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(OutputError) as raised:
        file_in(tmp_path / "out", "report.md")
    assert str(raised.value) == (
        f"cannot write {tmp_path / 'out' / 'report.md'}: the name would leave the folder {tmp_path / 'out'}"
    )
