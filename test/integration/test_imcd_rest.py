#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drives a real `imcd` over its REST API with Python's urllib (and curl for a few requests),
checking status codes, headers and bodies of every route and every error path, against IM
1.19.2's REST API.  Clouds are the Dummy connector; traffic goes to 127.0.0.1 only.

Usage: test_imcd_rest.py IMCD SOURCE_ROOT

Each test_* function is one behaviour; every one runs (a failure does not stop the others)
and the script exits 1 if any failed.  Two servers run for the whole script: the main one
(CORS off, a 64 KiB body limit) and one with CORS and METRICS on.  Each request has a timeout."""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import xmlrpc.client

IMCD, ROOT = sys.argv[1], sys.argv[2]
TIMEOUT = 60
MAX_BODY = 65536
TOSCA_MSG = "TOSCA input is not supported by this build"

def auth_header(user, password):
    """IM's Authorization header: auth lines joined by the two characters backslash and n."""
    return ("id = im; type = InfrastructureManager; username = %s; password = %s"
            "\\nid = d; type = Dummy" % (user, password))


ALICE = auth_header("alice", "pa55")
BOB = auth_header("bob", "bobpw")
CAROL = auth_header("carol", "c4r0l")

RADL = """network net (outbound = 'no')
system node (
  cpu.count >= 1 and memory.size >= 512M and
  net_interface.0.connection = 'net' and disk.0.image.url = 'dummy://img'
)
deploy node 2
"""

# Line 3, column 16: a comparator with no value after it.
BROKEN = """network net ( outbound = 'no' )
system node (
  cpu.count >= )
"""

RADL_JSON = json.dumps([
    {"class": "network", "id": "net", "outbound": "no"},
    {"class": "system", "id": "node", "cpu.count_min": 1, "net_interface.0.connection": "net",
     "disk.0.image.url": "dummy://img"},
    {"class": "deploy", "system": "node", "vm_number": 1},
])

# One more VM of the stored system, on the stored network (both by reference).
ADD = "network net\nsystem node\ndeploy node 1\n"

TOSCA = """tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates: {}
"""

SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def expect(cond, what, resp=None):
    if not cond:
        raise AssertionError(what + ("\n" + repr(resp) if resp is not None else ""))


# --- the servers ------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One imcd on loopback ports with its own store, config and log."""

    def __init__(self, tmp, name, extra=""):
        self.dir = os.path.join(tmp, name)
        os.mkdir(self.dir)
        self.port = free_port()
        self.xport = free_port()
        conf = os.path.join(self.dir, "imcd.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[im]\nREST_PORT = %d\nXMLRCP_PORT = %d\nDATA_DB = %s\nLOG_FILE = %s\n"
                    "MAX_REQUEST_BODY = %d\n%s" % (
                        self.port, self.xport, os.path.join(self.dir, "imc.db"),
                        os.path.join(self.dir, "imcd.log"), MAX_BODY, extra))
        self.stderr = open(os.path.join(self.dir, "stderr"), "w+", encoding="utf-8")
        env = dict(os.environ)
        env = {k: v for k, v in env.items() if not k.startswith("IMC_")}
        self.proc = subprocess.Popen([IMCD, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, env=env)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/version", timeout=5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("imcd did not start:\n" + self.errors())
                time.sleep(0.1)

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        """SIGTERM, then the exit status and the sanitizer reports: 0 and none."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "imcd did not stop on SIGTERM"
        err = self.errors()
        if SANITIZER_REPORT.search(err):
            return "sanitizer report from imcd:\n" + err
        if self.proc.returncode != 0:
            return "imcd exited %d:\n%s" % (self.proc.returncode, err)
        return None

    def log(self):
        with open(os.path.join(self.dir, "imcd.log"), encoding="utf-8") as f:
            return f.read()


MAIN = None
CORS = None


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "HTTP %d %s\n%s" % (self.status, dict(self.headers), self.body[:2000])


def call(method, path, auth=ALICE, body=None, ctype=None, accept=None, server=None,
         headers=None):
    """One request; any status comes back as a Resp (urllib raises on >= 400)."""
    server = server or MAIN
    h = dict(headers or {})
    if auth is not None:
        h["Authorization"] = auth
    if ctype is not None:
        h["Content-Type"] = ctype
    if accept is not None:
        h["Accept"] = accept
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(server.base + path, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def ok(resp, ctype=None):
    expect(resp.status == 200, "expected 200", resp)
    if ctype is not None:
        expect(resp.header("Content-Type") == ctype, "Content-Type " + ctype, resp)
    return resp


def fails(resp, status, *parts):
    expect(resp.status == status, "expected %d" % status, resp)
    for p in parts:
        expect(p in resp.text, "message holds %r" % p, resp)
    return resp


def create(radl=RADL, auth=ALICE, query=""):
    r = ok(call("POST", "/infrastructures" + query, auth=auth, body=radl, ctype="text/plain"))
    return r.text.rsplit("/", 1)[1]


def inf(path=""):
    """A fresh infrastructure of alice's with two VMs, and its path."""
    return "/infrastructures/" + create() + path


# --- routes, documents, the index ---------------------------------------------------------------

ROUTE = re.compile(r'X\(\w+,\s*"(\w+)",\s*"([^"]+)",\s*\w+,\s*(0|REST_\w+(?:\s*\|\s*REST_\w+)*)\)')


def code_routes():
    with open(os.path.join(ROOT, "server", "rest_int.h"), encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")  # join the macro's continued lines
    found = ROUTE.findall(text)
    expect(len(found) >= 30, "REST_ROUTES read from rest_int.h (%d found)" % len(found))
    return found


def test_every_route_is_in_openapi(tmp):
    doc = ok(call("GET", "/openapi.json", auth=None), "application/json").json()
    expect(doc["openapi"].startswith("3."), "an OpenAPI 3 document")
    for method, pattern, flags in code_routes():
        if "REST_UNDOC" in flags:
            continue
        expect(pattern in doc["paths"], "%s is in openapi.json" % pattern)
        expect(method.lower() in doc["paths"][pattern],
               "%s %s is in openapi.json" % (method, pattern))


def test_every_openapi_operation_is_a_route(tmp):
    doc = ok(call("GET", "/openapi.json", auth=None)).json()
    routes = {(m.lower(), p) for m, p, flags in code_routes() if "REST_UNDOC" not in flags}
    for path, ops in doc["paths"].items():
        for method in ops:
            expect((method, path) in routes, "%s %s of openapi.json is served" % (method, path))


def test_openapi_file_is_what_is_served(tmp):
    with open(os.path.join(ROOT, "server", "openapi.json"), encoding="utf-8") as f:
        expect(json.load(f) == ok(call("GET", "/openapi.json", auth=None)).json(),
               "served document equals server/openapi.json")


def test_index_points_at_openapi(tmp):
    r = ok(call("GET", "/", auth=None), "application/json")
    expect(r.json()["openapi"] == "/openapi.json", "index names /openapi.json", r)


def test_version_needs_no_auth(tmp):
    r = ok(call("GET", "/version", auth=None), "text/plain")
    expect(r.text.startswith("1.19.2-imc-"), "IM's API level first", r)


def test_version_json(tmp):
    r = ok(call("GET", "/version", auth=None, accept="application/json"), "application/json")
    expect(r.json()["version"].startswith("1.19.2"), "{version: ...}", r)


def test_version_unsupported_accept_is_415(tmp):
    fails(call("GET", "/version", auth=None, accept="image/png"), 415,
          "Unsupported Accept Media Types: image/png")


def test_unknown_path_is_404(tmp):
    fails(call("GET", "/nothing/here"), 404, "The requested URL was not found on the server")
    fails(call("GET", "/infrastructures/"), 404)


def test_wrong_method_is_405_with_allow(tmp):
    r = fails(call("DELETE", "/infrastructures"), 405, "method is not allowed")
    expect(r.header("Allow") == "GET, HEAD, OPTIONS, POST, PUT", "Allow lists the methods", r)


def test_head_answers_like_get_without_body(tmp):
    r = ok(call("HEAD", "/version", auth=None))
    expect(r.body == b"", "no body", r)


# --- authorization ------------------------------------------------------------------------------

def test_missing_auth_is_401(tmp):
    for method, path in (("GET", "/infrastructures"), ("POST", "/infrastructures"),
                         ("GET", "/infrastructures/x/state"), ("GET", "/stats"),
                         ("GET", "/clouds/d/images"), ("DELETE", "/infrastructures/x")):
        fails(call(method, path, auth=None), 401, "No authentication data provided")


def test_unreadable_auth_is_401(tmp):
    fails(call("GET", "/infrastructures", auth="id = im; type = 'unterminated"), 401,
          "Invalid authentication data: Authorization:1:")


def test_auth_without_im_user_is_401(tmp):
    fails(call("GET", "/infrastructures", auth="id = d; type = Dummy"), 401,
          "No credentials provided for the InfrastructureManager")


def test_auth_error_never_echoes_password(tmp):
    r = call("GET", "/infrastructures", auth="type = InfrastructureManager; username = x; "
             "password = 's3cr3t-value")
    expect(r.status == 401 and "s3cr3t" not in r.text, "401 without the value", r)


def test_basic_auth_is_the_im_user(tmp):
    i = create()
    basic = "Basic " + base64.b64encode(b"alice:pa55").decode()
    r = ok(call("GET", "/infrastructures", auth=basic))
    expect(any(line.endswith("/" + i) for line in r.text.split("\n")), "alice's list", r)


def test_bad_basic_auth_is_401(tmp):
    fails(call("GET", "/infrastructures", auth="Basic %%%"), 401, "Invalid Basic authorization")
    fails(call("GET", "/infrastructures", auth="Basic " + base64.b64encode(b"nocolon").decode()),
          401, "user:password")


def test_bearer_token_is_refused_explicitly(tmp):
    fails(call("GET", "/infrastructures", auth="Bearer eyJhbGciOi.x.y"), 400, "not supported")


def test_json_auth_header(tmp):
    i = create()
    auth = json.dumps([{"id": "im", "type": "InfrastructureManager", "username": "alice",
                        "password": "pa55"}, {"id": "d", "type": "Dummy"}])
    r = ok(call("GET", "/infrastructures/%s/state" % i, auth=auth))
    expect(r.json()["state"]["state"] == "configured", "same user as the lines", r)


def test_other_user_is_403(tmp):
    p = inf()
    for method, sub in (("GET", ""), ("GET", "/state"), ("GET", "/radl"), ("DELETE", ""),
                        ("GET", "/vms/0"), ("PUT", "/stop")):
        fails(call(method, p + sub, auth=BOB), 403, "Access to this infrastructure not granted")


def test_unknown_infrastructure_is_404(tmp):
    for method, sub in (("GET", ""), ("GET", "/state"), ("GET", "/contmsg"), ("DELETE", ""),
                        ("GET", "/vms/0"), ("PUT", "/start"), ("GET", "/data")):
        fails(call(method, "/infrastructures/no-such-id" + sub), 404,
              "Invalid infrastructure ID or access not granted")


# --- bodies and media types ---------------------------------------------------------------------

def test_create_answers_uri_and_infid(tmp):
    r = ok(call("POST", "/infrastructures", body=RADL, ctype="text/plain"), "text/uri-list")
    i = r.header("InfID")
    expect(i and r.text == MAIN.base + "/infrastructures/" + i, "URI of the new one", r)


def test_create_without_content_type_reads_radl(tmp):
    # curl drops a header given with no value; urllib would send a form type.
    code, uri = curl("-H", "Authorization: " + ALICE, "-H", "Content-Type:", "--data-binary",
                     RADL, MAIN.base + "/infrastructures")
    expect(code == 200 and uri.startswith(MAIN.base + "/infrastructures/"), "created: " + uri)


def test_create_json_accept_wraps_uri(tmp):
    r = ok(call("POST", "/infrastructures", body=RADL, ctype="text/plain",
                accept="application/json"), "application/json")
    expect(r.json() == {"uri": MAIN.base + "/infrastructures/" + r.header("InfID")}, "{uri}", r)


def test_create_from_radl_json(tmp):
    r = ok(call("POST", "/infrastructures", body=RADL_JSON, ctype="application/json"))
    i = r.header("InfID")
    r = ok(call("GET", "/infrastructures/" + i))
    expect(len(r.text.split("\n")) == 1, "one VM", r)


def test_create_async(tmp):
    r = ok(call("POST", "/infrastructures?async=yes", body=RADL, ctype="text/plain"))
    i = r.header("InfID")
    expect(i in ok(call("GET", "/infrastructures")).text, "listed at once", r)


def test_create_async_without_value_is_400(tmp):
    # Flask reads "?async" as an empty value, which IM refuses.
    fails(call("POST", "/infrastructures?async", body=RADL, ctype="text/plain"), 400,
          "Incorrect value in async parameter")


def test_uris_follow_the_host_header(tmp):
    r = ok(call("POST", "/infrastructures", body=RADL, ctype="text/plain",
                headers={"Host": "im.example.org:9000"}))
    expect(r.text == "http://im.example.org:9000/infrastructures/" + r.header("InfID"),
           "URI from Host", r)


def test_uris_follow_forwarded_headers(tmp):
    h = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.org",
         "X-Forwarded-Prefix": "/im"}
    r = ok(call("POST", "/infrastructures", body=RADL, ctype="text/plain", headers=h))
    i = r.header("InfID")
    expect(r.text == "https://api.example.org/im/infrastructures/" + i, "URI via proxy", r)
    r = ok(call("GET", "/infrastructures/" + i, headers=h))
    expect(r.text.split("\n")[0] == "https://api.example.org/im/infrastructures/%s/vms/0" % i,
           "VM URIs via proxy", r)


def test_create_bad_boolean_is_400(tmp):
    fails(call("POST", "/infrastructures?async=maybe", body=RADL, ctype="text/plain"), 400,
          "Incorrect value in async parameter")


def test_dry_run_answers_the_estimate(tmp):
    before = ok(call("GET", "/infrastructures")).text
    r = ok(call("POST", "/infrastructures?dry_run=true", body=RADL, ctype="text/plain"),
           "application/json")
    d = r.json()["d"]
    expect(d["cloudType"] == "Dummy" and len(d["compute"]) == 2, "two VMs on cloud d", r)
    expect(ok(call("GET", "/infrastructures")).text == before, "nothing created")


def test_malformed_radl_is_400_with_position(tmp):
    fails(call("POST", "/infrastructures", body=BROKEN, ctype="text/plain"), 400,
          "Error Creating Inf.: body:3:16: ")


def test_malformed_radl_json_is_400(tmp):
    fails(call("POST", "/infrastructures", body="[{\"class\": ", ctype="application/json"), 400,
          "Error Creating Inf.: body:1:")


def test_unsupported_content_type_is_415(tmp):
    fails(call("POST", "/infrastructures", body=RADL, ctype="application/xml"), 415,
          "Unsupported Media Type ['application/xml']")


def test_tosca_content_type_is_415(tmp):
    for ctype in ("text/yaml", "application/yaml", "text/x-yaml; charset=utf-8"):
        fails(call("POST", "/infrastructures", body=TOSCA, ctype=ctype), 415, TOSCA_MSG)


def test_tosca_text_as_plain_is_415(tmp):
    fails(call("POST", "/infrastructures", body=TOSCA, ctype="text/plain"), 415, TOSCA_MSG)


def test_oversized_body_is_413(tmp):
    body = "# padding\n" * (MAX_BODY // 10 + 10) + RADL
    fails(call("POST", "/infrastructures", body=body, ctype="text/plain"), 413)


def test_list_default_is_uri_list(tmp):
    i = create()
    r = ok(call("GET", "/infrastructures"), "text/uri-list")
    expect(MAIN.base + "/infrastructures/" + i in r.text.split("\n"), "newline-joined URIs", r)


def test_list_json_shape(tmp):
    i = create()
    r = ok(call("GET", "/infrastructures", accept="application/json"), "application/json")
    expect({"uri": MAIN.base + "/infrastructures/" + i} in r.json()["uri-list"],
           "{uri-list: [{uri}]}", r)


def test_list_accept_wildcards_give_default(tmp):
    for accept in ("*/*", "text/*", "text/html;q=0.9, text/uri-list"):
        ok(call("GET", "/infrastructures", accept=accept), "text/uri-list")


def test_list_text_plain_accept_is_415(tmp):
    # IM's default type for lists is text/uri-list, and only that, */* or text/* give it.
    fails(call("GET", "/infrastructures", accept="text/plain"), 415,
          "Unsupported Accept Media Types: text/plain")


def test_list_filter(tmp):
    marked = create("description d (name = 'marker-7q')\n" + RADL)
    plain = create()
    r = ok(call("GET", "/infrastructures?filter=marker-7q"))
    ids = [u.rsplit("/", 1)[1] for u in r.text.split("\n") if u]
    expect(marked in ids and plain not in ids, "only the matching one", r)


def test_list_only_own(tmp):
    i = create(auth=BOB)
    expect(i not in ok(call("GET", "/infrastructures")).text, "bob's is not alice's")


def test_error_json_shape(tmp):
    r = fails(call("GET", "/infrastructures/nope/state", accept="application/json"), 404)
    expect(r.header("Content-Type") == "application/json", "JSON error", r)
    expect(r.json() == {"message": "Error Getting Inf. prop: Invalid infrastructure ID or access "
                                   "not granted.", "code": 404}, "{message, code}", r)


def test_error_html_shape(tmp):
    r = fails(call("GET", "/infrastructures/nope", accept="text/html"), 404)
    expect(r.header("Content-Type") == "text/html", "HTML error", r)
    expect("<h1>Code: 404.</h1>" in r.text and "Error Getting Inf. info" in r.text, "IM's page", r)


def test_html_error_escapes_the_message(tmp):
    r = fails(call("PUT", inf("/%3Cb%3Ex"), accept="text/html"), 404, "&lt;b&gt;x")
    expect("<b>x" not in r.text, "escaped", r)


# --- one infrastructure ------------------------------------------------------------------------

def test_info_lists_vm_uris(tmp):
    p = inf()
    r = ok(call("GET", p), "text/uri-list")
    expect(r.text == "\n".join(MAIN.base + p + "/vms/%d" % n for n in (0, 1)), "two VM URIs", r)


def test_info_json(tmp):
    p = inf()
    r = ok(call("GET", p, accept="application/json"))
    expect(r.json() == {"uri-list": [{"uri": MAIN.base + p + "/vms/0"},
                                     {"uri": MAIN.base + p + "/vms/1"}]}, "JSON uri-list", r)


def test_state_is_json(tmp):
    r = ok(call("GET", inf("/state")), "application/json")
    expect(r.json() == {"state": {"state": "configured",
                                  "vm_states": {"0": "configured", "1": "configured"}}},
           "IM's state object", r)


def test_json_only_properties_refuse_text(tmp):
    p = inf()
    for prop in ("state", "outputs", "data", "tosca"):
        fails(call("GET", p + "/" + prop, accept="text/plain"), 415,
              "Unsupported Accept Media Types: ['text/plain']")


def test_outputs_of_radl_infra_is_403(tmp):
    fails(call("GET", inf("/outputs")), 403,
          "'outputs' infrastructure property is not valid in this infrastructure")


def test_tosca_of_radl_infra_is_403(tmp):
    fails(call("GET", inf("/tosca")), 403,
          "'tosca' infrastructure property is not valid in this infrastructure")


def test_contmsg(tmp):
    p = inf()
    ok(call("GET", p + "/contmsg"), "text/plain")
    ok(call("GET", p + "/contmsg?headeronly=yes"), "text/plain")
    r = ok(call("GET", p + "/contmsg", accept="application/json"), "application/json")
    expect(isinstance(r.json()["contmsg"], str), "{contmsg: text}", r)
    fails(call("GET", p + "/contmsg?headeronly=maybe"), 400,
          "Incorrect value in headeronly parameter")


def test_radl_text_and_json(tmp):
    p = inf()
    r = ok(call("GET", p + "/radl"), "text/plain")
    expect("deploy node 2" in r.text and "system node" in r.text, "RADL text", r)
    j = ok(call("GET", p + "/radl", accept="application/json")).json()
    expect(j == {"radl": r.text}, "IM's {radl: text}", j)


def test_owners(tmp):
    p = inf()
    ok(call("GET", p + "/authorization"), "text/plain")
    r = ok(call("GET", p + "/authorization", accept="application/json"))
    expect(r.json() == {"authorization": ["alice"]}, "the owner names", r)


def test_unknown_property_is_404(tmp):
    fails(call("GET", inf("/nonsense")), 404, "Incorrect infrastructure property")


def test_unknown_property_needs_auth_first(tmp):
    fails(call("GET", "/infrastructures/x/nonsense", auth=None), 401)


def test_export_then_import(tmp):
    p = inf()
    r = ok(call("GET", p + "/data"), "application/json")
    data = r.json()["data"]
    expect(isinstance(data, str) and "pa55" not in data, "a JSON text, no credential", r)
    r = ok(call("PUT", "/infrastructures", body=data, ctype="application/json"), "text/uri-list")
    new = r.text.rsplit("/", 1)[1]
    expect(new != p.rsplit("/", 1)[1], "a new id", r)
    expect(len(ok(call("GET", "/infrastructures/" + new)).text.split("\n")) == 2, "two VMs")


def test_import_wrong_type_is_415(tmp):
    fails(call("PUT", "/infrastructures", body="{}", ctype="text/plain"), 415,
          "Unsupported Media Type ['text/plain']")


def test_import_garbage_is_400(tmp):
    fails(call("PUT", "/infrastructures", body="{not json", ctype="application/json"), 400,
          "Error Importing Inf.")


def test_export_delete_marks_deleted(tmp):
    p = inf()
    ok(call("GET", p + "/data?delete=yes"))
    fails(call("GET", p), 404, "Deleted infrastructure")


def test_export_bad_delete_is_400(tmp):
    fails(call("GET", inf("/data?delete=perhaps")), 400, "Incorrect value in delete parameter")


def test_destroy_then_get_is_404(tmp):
    p = inf()
    r = ok(call("DELETE", p), "text/plain")
    expect(r.body == b"", "empty body", r)
    fails(call("GET", p), 404, "Error Getting Inf. info: Deleted infrastructure")
    expect(p.rsplit("/", 1)[1] not in ok(call("GET", "/infrastructures")).text, "not listed")


def test_destroy_force_async(tmp):
    p = inf()
    ok(call("DELETE", p + "?force=1&async=0"))
    fails(call("DELETE", inf("?force=perhaps")), 400, "Incorrect value in force parameter")


def test_add_resources(tmp):
    p = inf()
    r = ok(call("POST", p, body=ADD, ctype="text/plain"),
           "text/uri-list")
    expect(r.text == MAIN.base + p + "/vms/2", "the new VM", r)
    expect(r.header("InfID") == p.rsplit("/", 1)[1], "InfID when contextualizing", r)


def test_add_without_context_has_no_infid(tmp):
    p = inf()
    r = ok(call("POST", p + "?context=no", body=ADD,
                ctype="text/plain", accept="application/json"))
    expect(r.json() == {"uri-list": [{"uri": MAIN.base + p + "/vms/2"}]}, "JSON list", r)
    expect(r.header("InfID") is None, "no InfID", r)


def test_add_malformed_is_400(tmp):
    fails(call("POST", inf(), body=BROKEN, ctype="text/plain"), 400,
          "Error Adding resources: body:3:16")


def test_add_tosca_is_415(tmp):
    fails(call("POST", inf(), body=TOSCA, ctype="text/yaml"), 415, TOSCA_MSG)


def test_reconfigure(tmp):
    p = inf()
    r = ok(call("PUT", p + "/reconfigure"), "text/plain")
    expect(r.header("InfID") == p.rsplit("/", 1)[1] and r.body == b"", "empty, InfID", r)
    ok(call("PUT", p + "/reconfigure?vm_list=0,1", body="contextualize ()\n", ctype="text/plain"))


def test_reconfigure_bad_vm_list_is_400(tmp):
    fails(call("PUT", inf("/reconfigure?vm_list=0,x")), 400, "Incorrect vm_list format.")


def test_infrastructure_power_operations(tmp):
    p = inf()
    for op in ("stop", "start", "reboot"):
        r = ok(call("PUT", p + "/" + op), "text/plain")
        expect(r.body == b"", op + ": empty body", r)
    ok(call("GET", p + "/state"))


def test_unknown_infrastructure_operation_is_404(tmp):
    fails(call("PUT", inf("/explode")), 404, "Error in explode operation")


def test_change_owners_adds_a_user(tmp):
    p = inf()
    ok(call("POST", p + "/authorization", body=json.dumps({"username": "bob", "password": "bobpw"}),
            ctype="application/json"))
    ok(call("GET", p, auth=BOB))
    r = ok(call("GET", p + "/authorization", accept="application/json"))
    expect(sorted(r.json()["authorization"]) == ["alice", "bob"], "two owners", r)


def test_change_owners_overwrite(tmp):
    p = inf()
    body = json.dumps([{"type": "InfrastructureManager", "username": "carol", "password": "c4r0l"}])
    ok(call("POST", p + "/authorization?overwrite=yes", body=body, ctype="application/json"))
    ok(call("GET", p, auth=CAROL))
    fails(call("GET", p), 403)


def test_change_owners_bad_body(tmp):
    p = inf()
    fails(call("POST", p + "/authorization", body="username=bob", ctype="application/json"), 400,
          "Error modifying infrastructure owner")
    fails(call("POST", p + "/authorization", body="{}", ctype="text/plain"), 415,
          "Unsupported Media Type ['text/plain']")


# --- VMs ----------------------------------------------------------------------------------------

def test_vm_info_text(tmp):
    r = ok(call("GET", inf("/vms/0")), "text/plain")
    expect("system node" in r.text and "state = 'configured'" in r.text, "the VM's RADL", r)


def test_vm_info_json(tmp):
    r = ok(call("GET", inf("/vms/1"), accept="application/json"), "application/json")
    classes = [e["class"] for e in r.json()["radl"]]
    expect(classes == ["network", "system"], "RADL JSON list", r)


def test_vm_unknown_is_404(tmp):
    p = inf()
    fails(call("GET", p + "/vms/7"), 404, "Invalid VM ID")
    fails(call("GET", p + "/vms/x"), 404, "Invalid VM ID")
    fails(call("GET", p + "/vms/7/cpu.count"), 404, "Invalid VM ID")


def test_vm_property(tmp):
    p = inf()
    expect(ok(call("GET", p + "/vms/0/cpu.count"), "text/plain").text == "1", "cpu.count")
    expect(ok(call("GET", p + "/vms/0/memory.size")).text == "512000000", "bytes, as IM")
    expect(ok(call("GET", p + "/vms/0/state")).text == "configured", "state")
    r = ok(call("GET", p + "/vms/0/cpu.count", accept="application/json"), "application/json")
    expect(r.json() == {"cpu.count": 1}, "{name: value}", r)


def test_vm_property_absent_is_404(tmp):
    fails(call("GET", inf("/vms/0/gpu.count")), 404, "gpu.count")


def test_vm_contmsg(tmp):
    p = inf()
    ok(call("GET", p + "/vms/0/contmsg"), "text/plain")
    r = ok(call("GET", p + "/vms/0/contmsg", accept="application/json"))
    expect("contmsg" in r.json(), "{contmsg}", r)


def test_vm_command_is_not_supported(tmp):
    fails(call("GET", inf("/vms/0/command")), 404, "not supported by this build")
    fails(call("GET", "/infrastructures/nope/vms/0/command"), 404, "Invalid infrastructure ID")
    fails(call("GET", inf("/vms/0/command?step=two")), 400)


def test_vm_alter(tmp):
    p = inf()
    r = ok(call("PUT", p + "/vms/0", body="system node (cpu.count >= 2 and memory.size >= 2G)",
                ctype="text/plain"), "text/plain")
    expect("cpu.count = 2" in r.text, "resized", r)
    expect(ok(call("GET", p + "/vms/0/cpu.count")).text == "2", "kept")


def test_vm_alter_malformed_is_400(tmp):
    fails(call("PUT", inf("/vms/0"), body="system node (cpu.count >= )", ctype="text/plain"), 400,
          "Error modifying resources: body:1:")


def test_vm_remove(tmp):
    p = inf()
    ok(call("DELETE", p + "/vms/1"))
    fails(call("GET", p + "/vms/1"), 404, "Deleted VM")
    expect(ok(call("GET", p)).text == MAIN.base + p + "/vms/0", "one left")


def test_vm_remove_comma_list(tmp):
    p = inf()
    ok(call("DELETE", p + "/vms/0,1?context=no"))
    expect(ok(call("GET", p)).text == "", "none left")


def test_vm_remove_unknown_is_404(tmp):
    fails(call("DELETE", inf("/vms/9")), 404, "Error Removing resources: Invalid VM ID")


def test_vm_power_operations(tmp):
    p = inf()
    for op in ("stop", "start", "reboot"):
        ok(call("PUT", p + "/vms/0/" + op), "text/plain")
    fails(call("PUT", p + "/vms/0/explode"), 404, "Error in explode op in VM")
    fails(call("PUT", p + "/vms/9/stop"), 404, "Error in stop op in VM: Invalid VM ID")


def test_vm_snapshot(tmp):
    p = inf()
    r = ok(call("PUT", p + "/vms/0/disks/0/snapshot?image_name=snap1&auto_delete=yes"),
           "text/plain")
    expect(r.text.endswith("snap1"), "the image URL", r)


def test_vm_snapshot_errors(tmp):
    p = inf()
    fails(call("PUT", p + "/vms/0/disks/0/snapshot"), 400, "Parameter image_name required.")
    fails(call("PUT", p + "/vms/0/disks/x/snapshot?image_name=s"), 400, "invalid disk number")
    fails(call("PUT", p + "/vms/0/disks/0/snapshot?image_name=s&auto_delete=2"), 400,
          "Incorrect value in auto_delete parameter")


# --- clouds, stats -----------------------------------------------------------------------------

def test_cloud_images(tmp):
    r = ok(call("GET", "/clouds/d/images"), "application/json")
    images = r.json()["images"]
    expect(images and all(set(i) == {"uri", "name"} for i in images), "[{uri, name}]", r)
    ok(call("GET", "/clouds/d/images?filters=region=r1,arch=x86_64"))


def test_cloud_images_bad_filters_is_400(tmp):
    fails(call("GET", "/clouds/d/images?filters=region"), 400,
          "Invalid format in filters parameter.")


def test_cloud_quotas(tmp):
    r = ok(call("GET", "/clouds/d/quotas"), "application/json")
    q = r.json()["quotas"]
    expect(set(q["cores"]) == {"used", "limit"}, "{used, limit} per resource", r)


def test_cloud_unknown(tmp):
    fails(call("GET", "/clouds/nope/quotas"), 404, "Cloud ID nope not found")
    fails(call("GET", "/clouds/d/flavours"), 404, "Incorrect cloud property")


def test_stats_json(tmp):
    i = create()
    r = ok(call("GET", "/stats?init_date=2000/01/01"), "application/json")
    mine = [s for s in r.json()["stats"] if s["inf_id"] == i]
    expect(len(mine) == 1 and mine[0]["vm_count"] == 2 and mine[0]["im_user"] == "alice",
           "one record", r)


def test_stats_csv(tmp):
    i = create()
    r = ok(call("GET", "/stats", accept="text/csv"), "text/csv")
    lines = r.text.split("\r\n")
    expect(lines[0].startswith("creation_date,tosca_name,vm_count"), "IM's header", r)
    expect(any(i in line for line in lines[1:]), "a row per infrastructure", r)


def test_stats_bad_dates_are_400(tmp):
    fails(call("GET", "/stats?init_date=2020-13-01"), 400,
          "Incorrect format in init_date parameter: YYYY/MM/dd")
    fails(call("GET", "/stats?end_date=yesterday"), 400, "end_date")


def test_stats_future_window_is_empty(tmp):
    create()
    r = ok(call("GET", "/stats?init_date=2999-01-01"))
    expect(r.json() == {"stats": []}, "nothing yet", r)


# --- CORS, curl, logs ---------------------------------------------------------------------------

def test_no_cors_headers_by_default(tmp):
    r = ok(call("GET", "/version", auth=None))
    expect(r.header("Access-Control-Allow-Origin") is None, "no CORS", r)


def test_cors_preflight(tmp):
    r = ok(call("OPTIONS", "/infrastructures", auth=None, server=CORS,
                headers={"Origin": "https://dash.example",
                         "Access-Control-Request-Method": "POST"}))
    expect(r.header("Access-Control-Allow-Origin") == "https://dash.example", "origin", r)
    expect("POST" in r.header("Access-Control-Allow-Methods"), "methods", r)
    expect("Authorization" in r.header("Access-Control-Allow-Headers"), "headers", r)
    expect(r.header("Allow") == "GET, HEAD, OPTIONS, POST, PUT", "Allow", r)


def test_options_on_unknown_path(tmp):
    r = ok(call("OPTIONS", "/no/such/path", auth=None, server=CORS), "application/json")
    expect(r.text.strip() == "{}", "IM's catch-all answer", r)
    expect(r.header("Access-Control-Allow-Origin") == "https://dash.example", "CORS too", r)


def test_cors_on_every_answer(tmp):
    for r in (call("GET", "/version", auth=None, server=CORS),
              call("GET", "/infrastructures", auth=None, server=CORS)):
        expect(r.header("Access-Control-Allow-Origin") == "https://dash.example", "origin", r)


def curl(*args):
    proc = subprocess.run(["curl", "-s", "-S", "--max-time", str(TIMEOUT), "-w", "\n%{http_code}"]
                          + list(args), capture_output=True, text=True, timeout=TIMEOUT + 5)
    expect(proc.returncode == 0, "curl ran: " + proc.stderr)
    body, _, code = proc.stdout.rpartition("\n")
    return int(code), body


def test_curl_create_and_delete(tmp):
    path = os.path.join(tmp, "infra.radl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(RADL)
    code, uri = curl("-H", "Authorization: " + ALICE, "-H", "Content-Type: text/plain",
                     "--data-binary", "@" + path, MAIN.base + "/infrastructures")
    expect(code == 200 and uri.startswith(MAIN.base + "/infrastructures/"), "created: " + uri)
    code, body = curl("-X", "DELETE", "-H", "Authorization: " + ALICE, uri)
    expect(code == 200 and body == "", "deleted")
    code, body = curl("-H", "Authorization: " + ALICE, uri)
    expect(code == 404 and "Deleted infrastructure" in body, "gone: " + body)


def test_curl_basic_user(tmp):
    code, body = curl("-u", "alice:pa55", "-H", "Accept: application/json",
                      MAIN.base + "/infrastructures")
    expect(code == 200 and "uri-list" in json.loads(body), "Basic auth from curl -u: " + body)


def test_curl_form_content_type_is_415(tmp):
    code, body = curl("-H", "Authorization: " + ALICE, "-d", "x=1", MAIN.base + "/infrastructures")
    expect(code == 415 and "application/x-www-form-urlencoded" in body, body)


def metrics():
    r = ok(call("GET", "/metrics", auth=None, server=CORS))
    expect(r.header("Content-Type").startswith("text/plain; version=0.0.4"), "Prometheus type", r)
    return r.text


def metric(text, name, **labels):
    """The value of the series name{labels...} (labels in any order, all given), or None."""
    for line in text.splitlines():
        m = re.match(r"(\w+)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if have == {k: str(v) for k, v in labels.items()}:
            return float(m.group(3))
    return None


def test_metrics_off_by_default_is_404(tmp):
    fails(call("GET", "/metrics", auth=None), 404, "The requested URL was not found")


def test_metrics_count_rest_requests_by_route_and_status(tmp):
    key = dict(api="rest", method="GET", route="/infrastructures/{InfId}")
    before = metric(metrics(), "imcd_requests_total", status=404, outcome="failed", **key) or 0
    for _ in range(3):
        fails(call("GET", "/infrastructures/nope", server=CORS), 404)
    text = metrics()
    expect(metric(text, "imcd_requests_total", status=404, outcome="failed", **key) == before + 3,
           "three 404s counted:\n" + text)
    expect((metric(text, "imcd_request_duration_seconds_count", **key) or 0) >= before + 3,
           "latencies counted")
    expect(metric(text, "imcd_request_duration_seconds_bucket", le="+Inf", **key) ==
           metric(text, "imcd_request_duration_seconds_count", **key), "+Inf bucket is the count")


def test_metrics_count_xmlrpc_calls_and_their_failures(tmp):
    proxy = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % CORS.xport)
    key = dict(api="xmlrpc", method="POST", route="GetInfrastructureInfo", status=200)
    before = metric(metrics(), "imcd_requests_total", outcome="failed", **key) or 0
    ok_, msg = proxy.GetInfrastructureInfo("no-such-id", [{"type": "InfrastructureManager",
                                                           "username": "u", "password": "p"}])
    expect(not ok_, "unknown infrastructure fails: " + str(msg))
    text = metrics()
    expect(metric(text, "imcd_requests_total", outcome="failed", **key) == before + 1,
           "XML-RPC false answer counted as failed:\n" + text)


def test_metrics_show_infrastructures_and_vms_by_state(tmp):
    before = metric(metrics(), "imcd_vms", state="configured")
    ok(call("POST", "/infrastructures", body=RADL, ctype="text/plain", server=CORS))
    text = metrics()
    expect(metric(text, "imcd_vms", state="configured") == before + 2, "two more VMs:\n" + text)
    expect(metric(text, "imcd_infrastructures", state="configured") >= 1, "infrastructure")
    expect(metric(text, "imcd_jobs_queued") is not None, "queue depth")
    expect(metric(text, "imcd_blocking_requests_queued") is not None, "blocking lane depth")
    expect(metric(text, "imcd_requests_in_flight") >= 1, "the scrape itself is in flight")
    expect(metric(text, "process_resident_memory_bytes") > 0, "memory")


def test_metrics_hold_no_ids_names_or_secrets(tmp):
    r = ok(call("POST", "/infrastructures", body=RADL, ctype="text/plain", server=CORS))
    call("GET", "/no/such/path/" + "x" * 40, server=CORS)
    text = metrics()
    for what in (r.header("InfID"), "alice", "pa55", "x" * 40):
        expect(what not in text, "no %r in the metrics" % what)


def test_log_holds_no_secret(tmp):
    create()
    call("GET", "/infrastructures", auth="type = InfrastructureManager; username = x; "
         "password = 'leak-me-not")
    log = MAIN.log()
    for secret in ("pa55", "bobpw", "c4r0l", "leak-me-not", "Authorization"):
        expect(secret not in log, "no %r in the log" % secret)


def main():
    global MAIN, CORS
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    if not shutil.which("curl"):
        print("curl is needed")
        return 1
    with tempfile.TemporaryDirectory(prefix="imcd-rest-") as tmp:
        MAIN = Server(tmp, "main")
        try:
            CORS = Server(tmp, "cors", "ENABLE_CORS = true\nCORS_ORIGIN = https://dash.example\n"
                          "METRICS = true\n")
        except Exception:
            print(MAIN.stop() or "")
            raise
        for name, fn in tests:
            with tempfile.TemporaryDirectory(prefix="t-", dir=tmp) as t:
                try:
                    fn(t)
                    print("ok   %s" % name)
                except Exception:  # a failed expectation or a crashed helper alike
                    failed += 1
                    print("FAIL %s" % name)
                    traceback.print_exc(file=sys.stdout)
        for server in (MAIN, CORS):
            problem = server.stop()
            if problem:
                failed += 1
                print("FAIL server shutdown\n" + problem)
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
