"""imner.configkit: located errors, key checks that list what is allowed, typed parameters from a constructor."""

from __future__ import annotations

import dataclasses
import json

import pytest

from imner.configkit import (check_int, check_keys, check_number, checked_params, init_config, params_of,
                             read_json, read_saved_config, read_toml)
from imner.errors import ConfigError, ModelNotFoundError


class Thing:
    def __init__(self, size: int, name: str = "a", ratio: float = 0.5, tags: tuple[str, ...] = (),
                 limit: int | None = None, on: bool = False) -> None:
        self.size, self.name, self.ratio, self.tags, self.limit, self.on = size, name, ratio, tags, limit, on


def test_files_errors_name_file_and_line(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("a = 1\nb = = 2\n")
    with pytest.raises(ConfigError, match=r"c\.toml: invalid TOML: .*line 2, column 5"):
        read_toml(p)
    with pytest.raises(ConfigError, match=r"missing\.toml: training config file not found"):
        read_toml(tmp_path / "missing.toml", "training config")
    j = tmp_path / "c.json"
    j.write_text('{"a": 1,\n "b": }')
    with pytest.raises(ConfigError, match=r"c\.json: line 2: not valid JSON"):
        read_json(j)
    p.write_text("x = 2\n")
    assert read_toml(p) == {"x": 2}


def test_keys_and_numbers():
    with pytest.raises(ConfigError, match=r"f: unknown key 'data.splt'; allowed in \[data\]: corpus, split"):
        check_keys({"corpus": "x", "splt": 1}, ("corpus", "split"), "f", section="data")
    with pytest.raises(ConfigError, match=r"f: \[data\] needs 'corpus'"):
        check_keys({}, ("corpus",), "f", section="data", required=("corpus",))
    assert check_int(3, "n") == 3
    for bad in (0, True, 1.5, "2"):
        with pytest.raises(ConfigError, match="n must be a positive integer"):
            check_int(bad, "n")
    with pytest.raises(ConfigError, match="p must be a number from 0 to 1"):
        check_number(1.5, "p", 0, 1)


def test_typed_parameters_from_the_constructor(tmp_path):
    fields = {f.name: f for f in dataclasses.fields(params_of(Thing))}
    assert list(fields) == ["size", "name", "ratio", "tags", "limit", "on"]
    assert fields["size"].type is int and fields["name"].default == "a"
    t = Thing(3, tags=("x",))
    assert init_config(t, exclude=("on",)) == {"size": 3, "name": "a", "ratio": 0.5, "tags": ("x",), "limit": None}
    assert checked_params(Thing, {"size": 2, "ratio": 1, "tags": ["y"], "limit": None}, "f") == \
        {"size": 2, "ratio": 1, "tags": ["y"], "limit": None}
    with pytest.raises(ConfigError, match=r"f: unknown key 'sise' for Thing; allowed: size, name, ratio"):
        checked_params(Thing, {"sise": 2}, "f", owner=" for Thing")
    for key, value in (("size", "2"), ("on", 1), ("tags", "x"), ("limit", 1.5), ("ratio", True)):
        with pytest.raises(ConfigError, match=f"f: {key} must be"):
            checked_params(Thing, {key: value}, "f")


def test_read_saved_config(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        read_saved_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"tagger": "x.v1", "size": 1}))
    path, cfg = read_saved_config(tmp_path)
    assert path == tmp_path / "config.json" and cfg == {"size": 1}
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ConfigError, match="a model config is a JSON object"):
        read_saved_config(tmp_path)
