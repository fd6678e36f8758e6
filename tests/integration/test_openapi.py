"""GET /openapi.json (docs/api.md, API description): every route of both routers, read here from
the C route tables themselves, is in the document with its method, a summary, one path parameter
per {name}, bearer security and x-roles where it needs a token; the document is valid OpenAPI
3.0 (openapi-spec-validator when an interpreter has it, and structural checks always)."""
import json
import os
import re
import shutil
import subprocess
import sys
from glob import glob
from pathlib import Path

import pytest

from conftest import REPO

ROUTE_RE = re.compile(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*([^{}]+?)\s*\}')
DEFINE_RE = re.compile(r'^#define\s+(\w+)\s+(.+?)\s*$', re.M)
ALL = frozenset({"admin", "developer", "marketer", "maintainer"})


def role_names(expr, macros):
    """The roles of a C expression of CDP_ROLE_*, CDP_ROLES_ALL and api.c's macros; other
    CDP_* names are flags of the route (CDP_ROUTE_BULK ...), not roles."""
    roles = set()
    for part in re.split(r"[\s|()]+", expr):
        if not part or part == "0":
            continue
        if part == "CDP_ROLES_ALL":
            roles |= ALL
        elif part.startswith("CDP_ROLE_"):
            roles.add(part[len("CDP_ROLE_"):].lower())
        elif part in macros:
            roles |= role_names(macros[part], macros)
        elif not part.startswith("CDP_"):
            raise AssertionError("unknown role expression %r" % part)
    return frozenset(roles)


def c_routes(path, table):
    """[(method, pattern, roles)] of a C route table."""
    text = (Path(REPO) / path).read_text()
    macros = dict(DEFINE_RE.findall(text))
    body = text[text.index(table + "[] = {"):]
    body = body[:body.index("\n};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return [(m, p, role_names(r, macros)) for m, p, _fn, r in ROUTE_RE.findall(body)]


API_ROUTES = c_routes("src/api/api.c", "cdp_api_routes")
COLLECT_ROUTES = c_routes("src/collect/routes.c", "cdp_collect_routes")


@pytest.fixture(scope="module")
def doc(server):
    r = server.get("/openapi.json", admin=True)
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("application/json")
    assert isinstance(r.body, dict)
    return r.body


def test_tables_were_read():
    assert len(API_ROUTES) > 80, API_ROUTES
    assert ("GET", "/openapi.json", frozenset()) in API_ROUTES
    assert ("POST", "/track", frozenset()) in COLLECT_ROUTES


def test_public_without_a_token_and_only_on_management(server):
    assert server.get("/openapi.json", admin=True).status == 200
    assert server.get("/openapi.json").status == 404


@pytest.mark.parametrize("method,pattern,roles", API_ROUTES + COLLECT_ROUTES,
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_route_is_described(doc, method, pattern, roles):
    item = doc["paths"].get(pattern)
    assert item is not None, "%s missing from paths" % pattern
    op = item.get(method.lower())
    assert op is not None, "%s %s missing" % (method, pattern)
    assert op.get("summary", "").strip(), \
        "%s %s has no summary: add a row to op_docs in src/api/openapi.c" % (method, pattern)
    assert op.get("operationId")
    assert "200" in op["responses"]
    # one required path parameter per {name} of the pattern, and no other
    names = re.findall(r"\{(\w+)\}", pattern)
    in_path = [p for p in op.get("parameters", []) if p.get("in") == "path"]
    assert [p["name"] for p in in_path] == names, (pattern, in_path)
    assert all(p["required"] is True for p in in_path)
    # security and roles, as the table says
    assert set(op["x-roles"]) == set(roles), (pattern, op["x-roles"], roles)
    if roles:
        assert op["security"] == [{"bearer": []}], op["security"]
        assert "401" in op["responses"] and "403" in op["responses"]
        for role in roles:
            assert role in op["description"]
    else:
        assert op["security"] == []
        assert "Public" in op["description"]


def test_collector_paths_name_the_collector_server(doc, server):
    only_collector = {p for _m, p, _r in COLLECT_ROUTES} - {p for _m, p, _r in API_ROUTES}
    assert only_collector
    for pattern in only_collector:
        servers = doc["paths"][pattern]["servers"]
        assert servers[0]["variables"]["port"]["default"] == str(server.port), servers
    for _m, pattern, _r in API_ROUTES:
        assert "servers" not in doc["paths"][pattern], pattern
    assert doc["servers"][0]["url"] == "/"


def test_nothing_more_than_the_routers(doc):
    known = {(m.lower(), p) for m, p, _r in API_ROUTES + COLLECT_ROUTES}
    for pattern, item in doc["paths"].items():
        for method in item:
            if method in ("servers", "parameters", "summary", "description"):
                continue
            assert (method, pattern) in known, (method, pattern)


def walk(j, fn):
    if isinstance(j, dict):
        for k, v in j.items():
            fn(k, v)
            walk(v, fn)
    elif isinstance(j, list):
        for v in j:
            walk(v, fn)


def test_structure(doc):
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    # every schema literal of src/api/openapi.c parsed
    assert "malformed schema literal" not in json.dumps(doc)
    # every $ref resolves
    refs = []
    walk(doc, lambda k, v: refs.append(v) if k == "$ref" else None)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, "dangling %s" % ref
            node = node[part]
    # operation ids are unique; every response has a description or is a reference
    ids = []
    for pattern, item in doc["paths"].items():
        assert pattern.startswith("/")
        for method, op in item.items():
            if method == "servers":
                continue
            assert method in ("get", "post", "put", "delete", "patch", "head", "options")
            ids.append(op["operationId"])
            for code, resp in op["responses"].items():
                assert code == "default" or re.fullmatch(r"[1-5]\d\d", code), code
                assert "$ref" in resp or resp.get("description"), (pattern, code)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


VALIDATE = ("import json, sys\n"
            "from openapi_spec_validator import validate\n"
            "validate(json.load(sys.stdin))\n"
            "print('valid')\n")


def validator_python():
    """An interpreter with openapi-spec-validator: this one, or another python3 on the
    machine (the image's pyenv one has it); None when there is none."""
    try:
        import openapi_spec_validator  # noqa: F401
        return sys.executable
    except ImportError:
        pass
    candidates = [shutil.which("python3")] + sorted(glob(os.path.expanduser(
        "~/.pyenv/versions/*/bin/python3"))) + sorted(glob("/root/.pyenv/versions/*/bin/python3"))
    for py in candidates:
        if not py or py == sys.executable:
            continue
        r = subprocess.run([py, "-c", "import openapi_spec_validator"], capture_output=True)
        if r.returncode == 0:
            return py
    return None


def test_valid_openapi(doc):
    py = validator_python()
    if py is None:
        pytest.skip("openapi-spec-validator is not installed (test_structure still checks)")
    r = subprocess.run([py, "-c", VALIDATE], input=json.dumps(doc), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr[-3000:]
