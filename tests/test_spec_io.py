"""Spec files: YAML round trip, JSON Schema, defaults."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

import moldstack
from moldstack.spec.io import json_schema
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_yaml_round_trip(name):
    design = moldstack.load(EXAMPLES / name)
    text = moldstack.dump(design)
    again = moldstack.loads(text)
    assert again == design
    assert moldstack.dump(again) == text


def test_schema_describes_the_spec():
    schema = json.loads(json_schema())
    assert "assemblies" in schema["properties"]
    defs = schema["$defs"]
    assert {"PostUnit", "PadProtrusionUnit", "PlatedViaUnit", "Die", "Stack", "Substrate"} <= set(defs)
    assert defs["Body"]["additionalProperties"] is False


def test_schema_validates_every_example():
    schema = json.loads(json_schema())
    for path in EXAMPLES.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_deep_nesting_is_refused_cleanly():
    with pytest.raises(moldstack.SpecError, match="nests mappings or lists too deeply"):
        moldstack.loads("a: " + "[" * 50_000 + "]" * 50_000)


def test_defaults_are_written_out_by_dump():
    design = moldstack.load(EXAMPLES / "claim1_posts.yaml")
    data = yaml.safe_load(moldstack.dump(design))
    unit = data["assemblies"][0]["units"][0]["unit"]
    assert unit["material"] == "copper" and unit["protrude_top_um"] == 0
