"""The committed JSON Schema is generated from the loader's own definitions."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from checker.lang.schema import SCHEMA, schema_json
from tests.conftest import ROOT


def test_committed_schema_is_not_stale() -> None:
    committed = (ROOT / "spec" / "model.schema.json").read_text()
    assert committed == schema_json(), "run `make schema` and commit spec/model.schema.json"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.yaml")), ids=lambda p: p.name)
def test_reference_models_validate_against_the_committed_schema(path: Path) -> None:
    data = YAML(typ="safe").load(path.read_text())
    schema = json.loads((ROOT / "spec" / "model.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
