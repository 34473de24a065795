"""`imner build --check`: every committed generated file equals a fresh build (imner_dev.resources lists them)."""

from __future__ import annotations

import pytest

from imner.cli import main


@pytest.mark.data
def test_generated_files_equal_a_fresh_build(capsys):
    rc = main(["build", "--check"])
    err = capsys.readouterr().err
    assert rc == 0, err
    for name in ("lexicon", "pathogen-names", "imd-cases", "hierarchy"):
        assert f"{name}: ok" in err
    assert "all 200 .ann files match" in err and "reproducible" in err  # ann/ == fresh build, split.tsv its recipe


def test_check_names_what_differs(monkeypatch, capsys):
    from imner_dev import resources

    monkeypatch.setattr(resources, "BY_NAME", {**resources.BY_NAME, "lexicon": resources.Resource(
        "lexicon", "x", build=lambda: 0, check=lambda: 1, needs_data=False)})
    assert main(["build", "--check", "lexicon"]) == 1
    assert "lexicon: differs from a fresh build" in capsys.readouterr().err


def test_lexicon_options_go_with_the_lexicon_alone():
    with pytest.raises(SystemExit):
        main(["build", "imd-cases", "--out", "x"])
