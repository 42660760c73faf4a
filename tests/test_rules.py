"""Window rules are data, validated with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from longwatch.core.events import rules
from longwatch.errors import LongwatchError


def test_packaged_rules_load_with_labels_in_both_languages():
    rule_set = rules.load()
    fall = rule_set.for_type("fall")
    assert (fall.before, fall.after, fall.label_ko) == (60, 120, "쓰러짐")
    assert rule_set.for_type("Vehicle stop").label_en == "Vehicle stop"
    unknown = rule_set.for_type("gunshot")  # an unlisted type takes the defaults
    assert unknown.before == rule_set.default.before and unknown.label_en == "gunshot"
    assert all(r.label_ko for r in rule_set.types())


def test_archive_rules_replace_packaged(tmp_path):
    (tmp_path / rules.FILE_NAME).write_text('[defaults]\nbefore = 1\nafter = 2\nmin_confidence = 0.1\n'
                                            'retention = "a"\nfalse_positive_retention = "b"\n', encoding="utf-8")
    assert rules.load(tmp_path).for_type("fall").before == 1


@pytest.mark.parametrize("text, words", [
    ("[types.fall]\nbefore = -1\n", "before must be seconds"),
    ("[types.fall]\nmin_confidence = 1.5\n", "min_confidence"),
    ("[types.fall]\nbeefore = 3\n", "unknown setting(s) beefore"),
    ("[types.fall]\nretention = \"\"\n", "retention must name"),
    ("[type.fall]\n", "unknown section(s) type"),
    ("[types.fall\n", "invalid"),
    ("[types.fall]\nbefore = true\n", "before must be seconds"),
])
def test_bad_rules_name_the_problem(text, words):
    base = ('[defaults]\nbefore = 1\nafter = 2\nmin_confidence = 0.5\nretention = "a"\n'
            'false_positive_retention = "b"\n')
    with pytest.raises(LongwatchError) as info:
        rules.parse(base + text, Path("window-rules.toml"))
    assert info.value.code == "D013"
    assert words in info.value.render()
