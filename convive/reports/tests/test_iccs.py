"""The ICCS code list shipped with Convive is the UNODC one, label for label."""

import csv
import os
from pathlib import Path

import pytest
from django.conf import settings

from convive.reports.iccs import ICCS

SOURCE = Path(settings.BASE_DIR).parent / "shared" / "standards" / "unodc-iccs"


@pytest.fixture
def unodc_rows() -> list[dict]:
    path = SOURCE / "iccs_v1.0_structure.csv"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is missing")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_unodc_code_is_shipped_with_both_labels(unodc_rows):
    assert len(ICCS) == len(unodc_rows) == 320
    for row in unodc_rows:
        level, parent, label_en, label_es = ICCS[row["code"]]
        assert (level, parent, label_en, label_es) == (
            int(row["level"]),
            row["parent_code"],
            row["label_en"],
            row["label_es"],
        )


def test_codes_nest_under_their_parents():
    for code, (level, parent, _en, _es) in ICCS.items():
        if level == 1:
            assert parent == ""
        else:
            assert parent in ICCS
            assert code.startswith(parent)
            assert ICCS[parent][0] == level - 1
