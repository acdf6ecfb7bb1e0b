"""Files that are not UTF-8: refused with an error naming the file, the byte and the option, or read in the
configured fallback encoding; never decoded lossily."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from ingest_helpers import AS_OF
from support import MINI_CATALOG, MINI_CUSTOMERS, write_data

from cross_sell_upsell import OrchestratorConfig
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data import encodings
from cross_sell_upsell.data.dataset import load_dataset
from cross_sell_upsell.data.ingest import load_catalog, load_customer_attributes, load_transactions_dataset
from cross_sell_upsell.errors import ConfigurationError, DataValidationError

CATALOG = "product_id,name,category,price\nCRÈME1,Crème Légère,moisturizer,20.00\nP1,Foam,cleanser,12.00\n"
LOG = "customer_id,product_id,date,amount\nMüller,CRÈME1,2024-01-10,20.00\nJosé,P1,2024-01-11,12.00\n"
LATIN_1 = IngestSettings(encoding="latin-1")


@pytest.fixture
def latin_1_files(tmp_path, monkeypatch):
    """A catalog and a log written in Latin-1 (È is byte 0xC8, é 0xE9, ü 0xFC); temporary copies go to `tmp`."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    catalog, log = tmp_path / "catalog.csv", tmp_path / "log.csv"
    catalog.write_text(CATALOG, encoding="latin-1")
    log.write_text(LOG, encoding="latin-1")
    return catalog, log


def test_a_latin_1_file_is_refused_naming_the_file_the_byte_and_the_option(latin_1_files):
    catalog, log = latin_1_files
    with pytest.raises(DataValidationError) as raised:
        load_transactions_dataset(log, catalog, as_of=AS_OF)
    assert str(raised.value) == (
        f"{catalog}: record -: field '-': is not UTF-8 text (byte 0xC8 on line 2); give its encoding with "
        "--encoding (ingest.encoding), e.g. latin-1 or cp1252"
    )


def test_latin_1_files_are_read_in_the_configured_encoding(latin_1_files, tmp_path):
    catalog, log = latin_1_files
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=LATIN_1)
    assert dataset.products.select("product_id", "name").row(0) == ("CRÈME1", "Crème Légère")
    assert sorted(dataset.ownership.select("customer_id", "product_id").rows()) == [
        ("José", "P1"),
        ("Müller", "CRÈME1"),
    ]
    assert list((tmp_path / "tmp").iterdir()) == []  # the UTF-8 copies are gone


def test_utf8_files_are_read_as_utf8_even_with_a_fallback_encoding(tmp_path):
    # Read as Latin-1, "Crème" in UTF-8 would become "CrÃ¨me".
    catalog, log = tmp_path / "catalog.csv", tmp_path / "log.csv"
    catalog.write_text(CATALOG, encoding="utf-8-sig")  # with a byte-order mark, as Excel writes it
    log.write_text(LOG, encoding="utf-8")
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=LATIN_1)
    assert dataset.products.select("product_id", "name").row(0) == ("CRÈME1", "Crème Légère")
    assert sorted(dataset.ownership.get_column("customer_id").to_list()) == ["José", "Müller"]


def test_a_byte_the_fallback_encoding_cannot_decode_is_an_error(tmp_path):
    # 0x81 has no character in cp1252; nothing is replaced silently.
    path = tmp_path / "catalog.csv"
    path.write_bytes(b"product_id,name,category,price\nP1,Cr\xe8me,cleanser,12\nP2,Foam\x81,cleanser,12\n")
    with pytest.raises(DataValidationError) as raised:
        load_catalog(path, IngestSettings(encoding="cp1252"))
    assert (
        str(raised.value) == f"{path}: record -: field '-': is neither UTF-8 (line 2) nor cp1252 (byte 0x81 on line 3)"
    )


def test_an_unknown_encoding_is_a_configuration_error(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_catalog(path, IngestSettings(encoding="klingon"))
    assert str(raised.value) == "unknown encoding 'klingon' (--encoding, ingest.encoding)"


def test_customers_files_in_csv_and_json_are_read_in_the_fallback_encoding(tmp_path):
    csv_file, json_file = tmp_path / "customers.csv", tmp_path / "customers.json"
    csv_file.write_text("customer_id,name\nMüller,Jürgen Müller\n", encoding="latin-1")
    json_file.write_text('[{"customer_id": "Müller", "name": "Jürgen Müller"}]', encoding="latin-1")
    for path in (csv_file, json_file):
        with pytest.raises(DataValidationError, match=r"is not UTF-8 text \(byte 0xFC on line"):
            load_customer_attributes(path, IngestSettings())
        assert load_customer_attributes(path, LATIN_1).rows() == [("Müller", "Jürgen Müller")]


def test_json_profiles_are_read_in_the_fallback_encoding(tmp_path):
    customers = [dict(MINI_CUSTOMERS[0], name="Zoë Brontë")]
    folder = write_data(tmp_path / "data", MINI_CATALOG, customers)
    (folder / "customers.json").write_text(json.dumps(customers, ensure_ascii=False), encoding="latin-1")
    with pytest.raises(DataValidationError, match=r"customers.json: record -: field '-': is not UTF-8 text"):
        load_dataset(folder)
    assert load_dataset(folder, encoding="latin-1").customers.item(0, "name") == "Zoë Brontë"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("ééé,ü\nüü\n".encode() + b"ok,\xfc\n", "byte 0xFC on line 3"),
        (b"ok\n\xc3", "byte 0xC3 on line 2"),  # a character cut off by the end of the file
        (b"ok\n\xc3x\n", "byte 0xC3 on line 2"),  # a bad sequence begun in one chunk, found in the next
        (b"ab\xe2\x82\xac\xff\n", "byte 0xFF on line 1"),  # after a euro sign split between chunks
    ],
)
def test_the_first_bad_byte_is_found_across_chunk_boundaries(tmp_path, monkeypatch, content, problem):
    # In 4-byte chunks two-byte characters straddle chunk boundaries (the ü of line 1, for one).
    monkeypatch.setattr(encodings, "_CHUNK_BYTES", 4)
    path = tmp_path / "text.json"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as raised:
        encodings.read_text(path, None)
    assert f"is not UTF-8 text ({problem})" in str(raised.value)
    path.write_bytes("ééé,ü\nüü\n".encode())
    assert encodings.read_text(path, None) == "ééé,ü\nüü\n"


def test_the_batch_reads_latin_1_with_the_encoding_option_and_refuses_it_without(latin_1_files, tmp_path, capsys):
    catalog, log = latin_1_files
    out = tmp_path / "out"
    argv = ["--quiet", "--as-of", "2024-03-01", "--transactions", str(log), "--catalog", str(catalog)]
    argv += ["--output", str(out / "weekly.md")]
    assert batch_main(argv, OrchestratorConfig(), Path("data/tier1"), out) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {catalog}: record -: field '-': is not UTF-8 text") and error.count("\n") == 1
    assert not out.exists()
    assert batch_main([*argv, "--encoding", "latin-1"], OrchestratorConfig(), Path("data/tier1"), out) == 0
    offers = (out / "weekly.recommendations.csv").read_text(encoding="utf-8")
    assert "Müller" in offers and "José" in offers
