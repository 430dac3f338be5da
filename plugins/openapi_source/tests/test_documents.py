"""Documents in every shape: JSON or YAML, mapping, path, URL or text; 3.0, 3.1, Swagger 2.0; broken ones."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from mcpkit import Client, MCPKit
from mcpkit_openapi import OpenAPIError, convert
from tests.locations import CORPUS

PETSTORE_V3 = CORPUS / "oai-petstore-v3.0.yaml"
PETSTORE_V2 = CORPUS / "oai-petstore-v2.0-swagger.json"
MUSEUM_V31 = CORPUS / "redocly-museum-v3.1.yaml"
CLIENT = httpx.AsyncClient(base_url="http://api.test")


def tool_names(mcp: MCPKit) -> list[str]:
    return sorted(mcp.tools)


def test_same_document_from_path_text_mapping_and_yaml_or_json(tmp_path):
    as_mapping = yaml.safe_load(PETSTORE_V3.read_text())
    json_file = tmp_path / "petstore.json"
    json_file.write_text(json.dumps(as_mapping))
    sources = [
        PETSTORE_V3,
        str(PETSTORE_V3),
        json_file,
        PETSTORE_V3.read_text(),
        json_file.read_bytes(),
        as_mapping,
    ]
    results = [tool_names(MCPKit.from_openapi(openapi_spec=s, client=CLIENT)) for s in sources]
    assert results == [["createPets", "listPets", "showPetById"]] * len(sources)


def test_the_callers_mapping_is_not_modified():
    document = yaml.safe_load(PETSTORE_V3.read_text())
    before = json.dumps(document, sort_keys=True)
    MCPKit.from_openapi(openapi_spec=document, client=CLIENT)
    MCPKit.from_openapi(openapi_spec=json.loads(PETSTORE_V2.read_text()), client=CLIENT)
    assert json.dumps(document, sort_keys=True) == before


@pytest.fixture
def served_corpus():
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(CORPUS), **kwargs)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_document_from_a_url(served_corpus):
    mcp = MCPKit.from_openapi(openapi_spec=f"{served_corpus}/{PETSTORE_V3.name}", client=CLIENT)
    assert tool_names(mcp) == ["createPets", "listPets", "showPetById"]
    with pytest.raises(OpenAPIError, match=r"cannot fetch the document from .*/missing.yaml: .*404"):
        MCPKit.from_openapi(openapi_spec=f"{served_corpus}/missing.yaml", client=CLIENT)


def test_swagger_2_is_upgraded_not_misread():
    conversion = convert(PETSTORE_V2, CLIENT)
    document = conversion.document
    assert document.openapi_version == "2.0"
    assert [s.url for s in document.servers] == ["http://petstore.swagger.io/v1"]
    operations = {op.operation_id: op for op in document.operations}
    limit = operations["listPets"].parameters[0]
    assert (limit.name, limit.location, limit.schema) == (
        "limit",
        "query",
        {"type": "integer", "format": "int32"},
    )
    show = MCPKit.from_openapi(openapi_spec=PETSTORE_V2, client=CLIENT).tools["showPetById"]
    assert show.input_schema["required"] == ["petId"]
    # The response is #/definitions/Pets: an array, so the result is wrapped; Pet moved to $defs.
    assert show.output_schema["properties"]["result"] == {"type": "array", "items": {"$ref": "#/$defs/Pet"}}
    assert list(show.output_schema["$defs"]) == ["Pet"]


def test_swagger_2_bodies_and_form_data():
    document = {
        "swagger": "2.0",
        "info": {"title": "Old", "version": "1"},
        "host": "old.example.com",
        "basePath": "/v2",
        "schemes": ["http", "https"],
        "consumes": ["application/json"],
        "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "paths": {
            "/pets": {
                "post": {
                    "operationId": "addPet",
                    "parameters": [
                        {
                            "name": "pet",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Pet"},
                        }
                    ],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
                }
            },
            "/pets/{id}/photo": {
                "post": {
                    "operationId": "uploadPhoto",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "integer"},
                        {"name": "file", "in": "formData", "type": "file", "required": True},
                        {"name": "note", "in": "formData", "type": "string"},
                        {
                            "name": "tags",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "pipes",
                        },
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    conversion = convert(document)
    assert [s.url for s in conversion.document.servers] == ["https://old.example.com/v2"]
    add, upload = conversion.document.operations
    assert add.request_body is not None
    assert (add.request_body.media_type, add.request_body.required) == ("application/json", True)
    assert upload.request_body is not None
    assert upload.request_body.media_type == "multipart/form-data"
    assert upload.request_body.schema["properties"]["file"] == {"type": "string", "format": "binary"}
    tags = next(p for p in upload.parameters if p.name == "tags")
    assert (tags.style, tags.explode) == ("pipeDelimited", False)
    tool = next(c.component for c in conversion.components if c.component.name == "uploadPhoto")
    assert set(tool.input_schema["properties"]) == {"id", "file", "note", "tags"}


def test_openapi_31_type_arrays_and_30_nullable_become_the_same_schema():
    def doc(version, schema):
        return {
            "openapi": version,
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/x": {
                    "post": {
                        "operationId": "x",
                        "requestBody": {"content": {"application/json": {"schema": schema}}},
                        "responses": {"204": {"description": ""}},
                    }
                }
            },
        }

    schema_30 = {
        "type": "object",
        "properties": {"n": {"type": "string", "nullable": True, "enum": ["a", "b"]}},
    }
    schema_31 = {
        "type": "object",
        "properties": {"n": {"type": ["string", "null"], "enum": ["a", "b", None]}},
    }
    tool_30 = MCPKit.from_openapi(openapi_spec=doc("3.0.3", schema_30), client=CLIENT).tools["x"]
    tool_31 = MCPKit.from_openapi(openapi_spec=doc("3.1.0", schema_31), client=CLIENT).tools["x"]
    assert tool_30.input_schema == tool_31.input_schema
    assert tool_30.input_schema["properties"]["n"] == {"type": ["string", "null"], "enum": ["a", "b", None]}


def test_openapi_31_document_converts():
    mcp = MCPKit.from_openapi(openapi_spec=MUSEUM_V31, client=CLIENT)
    assert "getMuseumHours" in mcp.tools


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("[1, 2]\n", "#: the document text must be a JSON/YAML object, not list"),
        ("openapi: [\n", "#: the document text is not valid YAML or JSON"),
        ({"info": {}}, "#: not an OpenAPI document: there is no 'openapi' (or 'swagger') version field"),
        ({"openapi": "4.0.0"}, "#/openapi: unsupported OpenAPI version '4.0.0'"),
        ({"swagger": "1.2"}, "#/swagger: unsupported Swagger version '1.2'"),
        ({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": []}, "#/paths"),
    ],
)
@pytest.mark.parametrize("parser", ["legacy", "experimental"])
def test_documents_that_cannot_be_understood_name_the_place(spec, message, parser):
    with pytest.raises(OpenAPIError) as info:
        MCPKit.from_openapi(openapi_spec=spec, client=CLIENT, parser=parser)
    assert message in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(OpenAPIError, match=r"cannot read the document .*nope.yaml.*No such file"):
        MCPKit.from_openapi(openapi_spec=tmp_path / "nope.yaml", client=CLIENT)


def test_legacy_parser_reports_every_problem_with_its_pointer():
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t"},
        "paths": {},
    }
    with pytest.raises(OpenAPIError) as info:
        MCPKit.from_openapi(openapi_spec=document, client=CLIENT, parser="legacy")
    assert "#/info/version: Field required" in str(info.value)


BROKEN = {
    "openapi": "3.0.3",
    "info": {"title": "Broken", "version": "1"},
    "paths": {
        "/good": {
            "get": {
                "operationId": "good",
                "responses": {
                    200: {
                        "description": "unquoted code",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "kind": {"type": "string", "enum": []},
                                        "size": {
                                            "type": "integer",
                                            "x-unit": "bytes",
                                            "format": "int64",
                                            "sizeHint": 3,
                                        },
                                        "link": {"$ref": "#/components/schemas/Nowhere"},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/bad": {"get": {"operationId": "bad", "parameters": [{"name": "q", "in": "body"}], "responses": {}}},
        "/worse": {
            "post": {"operationId": "worse", "requestBody": {"$ref": "#/components/requestBodies/Missing"}}
        },
    },
}


@pytest.mark.parametrize("parser", ["legacy", "experimental"])
def test_defects_are_tolerated_with_warnings_and_bad_operations_reported(parser, caplog):
    with caplog.at_level(logging.WARNING, logger="mcpkit_openapi"):
        mcp = MCPKit.from_openapi(openapi_spec=BROKEN, client=CLIENT, parser=parser)
    assert sorted(mcp.tools) == ["good"]
    bad = [r.getMessage() for r in caplog.records if r.getMessage().startswith("GET /bad (")]
    assert len(bad) == 1
    assert "#/paths/~1bad/get/parameters/0" in bad[0]
    assert "POST /worse (#/paths/~1worse/post/requestBody) was not converted" in caplog.text
    conversion = convert(BROKEN, CLIENT, parser=parser)
    warnings = [str(w) for w in conversion.warnings]
    good = "#/paths/~1good/get/responses/200"
    assert f"{good}: response code 200 is a number; read as '200'" in warnings
    properties = f"{good}/content/application/json/schema/properties"
    assert f"{properties}/kind/enum: an empty or invalid 'enum' was ignored" in warnings
    assert f"{properties}/size/sizeHint: unknown schema keyword 'sizeHint' ignored" in warnings
    assert any(
        w.startswith(f"{properties}/link/$ref: $ref '#/components/schemas/Nowhere' does not resolve")
        for w in warnings
    )
    output = mcp.tools["good"].output_schema
    assert output["properties"]["kind"] == {"type": "string"}
    assert output["properties"]["size"] == {"type": "integer", "format": "int64"}
    assert output["properties"]["link"] == {}


async def test_recursive_and_composed_schemas_are_shared_definitions():
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Tree", "version": "1"},
        "paths": {
            "/nodes": {
                "post": {
                    "operationId": "add_node",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Shape"}}
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "required": ["value"],
                    "properties": {
                        "value": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    },
                },
                "Shape": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Circle"},
                        {"$ref": "#/components/schemas/Square"},
                    ],
                    "discriminator": {"propertyName": "kind"},
                },
                "Circle": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Base"},
                        {
                            "type": "object",
                            "properties": {"r": {"type": "number", "minimum": 0, "exclusiveMinimum": True}},
                        },
                    ]
                },
                "Square": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Base"},
                        {"type": "object", "properties": {"side": {"type": "number"}}},
                    ]
                },
                "Base": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
                "Unused": {"type": "object"},
            }
        },
    }
    mcp = MCPKit.from_openapi(openapi_spec=document, client=CLIENT)
    tool = mcp.tools["add_node"]
    assert tool.input_schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(tool.input_schema["properties"]) == {"value", "children"}
    output = tool.output_schema
    assert output["x-mcpkit-wrap-result"] is True
    assert set(output["$defs"]) == {"Circle", "Square", "Base"}  # the result is Shape itself
    assert output["properties"]["result"] == {  # discriminated: overlapping variants do not fail it
        "anyOf": [{"$ref": "#/$defs/Circle"}, {"$ref": "#/$defs/Square"}]
    }
    assert output["$defs"]["Circle"]["allOf"][1]["properties"]["r"] == {
        "type": "number",
        "exclusiveMinimum": 0,
    }
    async with Client(mcp) as client:
        [listed] = await client.list_tools()
    assert listed.input_schema == tool.input_schema


def test_yaml_is_read_with_the_yaml_12_core_schema():
    text = """
openapi: 3.1.0
info: {title: Dates, version: 1}
paths:
  /events:
    get:
      operationId: list_events
      parameters:
        - name: since
          in: query
          schema: {type: string, default: 2023-01-01, enum: [2023-01-01, 18:00, yes, on]}
      responses:
        200: {description: ok}
"""
    tool = MCPKit.from_openapi(openapi_spec=text, client=CLIENT).tools["list_events"]
    # PyYAML's default (YAML 1.1) rules would give a date, the integer 1080 and two booleans here.
    assert tool.input_schema["properties"]["since"] == {
        "type": "string",
        "default": "2023-01-01",
        "enum": ["2023-01-01", "18:00", "yes", "on"],
    }


def test_a_server_that_only_lists_its_tools_leaves_the_optional_libraries_unimported():
    """YAML, JSON Schema validation, JMESPath and stemming are loaded by the first document, call,
    filter or search that needs them: a JSON document served and listed costs none of their memory."""
    script = f"""
import sys, anyio, httpx
from mcpkit import Client, MCPKit

mcp = MCPKit.from_openapi(openapi_spec={str(PETSTORE_V2)!r}, client=httpx.AsyncClient(base_url="http://api.test"))

async def main():
    async with Client(mcp) as client:
        assert len(await client.list_tools()) == 3

anyio.run(main)
print(sorted({{name.split(".")[0] for name in sys.modules}} & {OPTIONAL_LIBRARIES!r}))
"""
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]", output.stdout + output.stderr


OPTIONAL_LIBRARIES = {"yaml", "jsonschema", "jsonschema_rs", "jmespath", "snowballstemmer"}
