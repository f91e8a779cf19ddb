#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""imcd over TLS (REST_SSL, XMLRCP_SSL): a real imcd with a self-signed certificate made by the
openssl command for 127.0.0.1, driven by Python's urllib and xmlrpc.client with that
certificate as their only trust anchor, and by curl.  Also: plain HTTP to a TLS port gets no
answer, URIs in answers say https, and a key file that cannot be read stops imcd at start with
a clear message.  Traffic goes to 127.0.0.1 only.

Usage: test_imcd_tls.py IMCD [SOURCE_ROOT]"""

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import xmlrpc.client

IMCD = sys.argv[1]
AUTH = ("id = im; type = InfrastructureManager; username = u; password = p"
        "\\nid = d; type = Dummy")
XR_AUTH = [{"id": "im", "type": "InfrastructureManager", "username": "u", "password": "p"},
           {"id": "d", "type": "Dummy"}]
RADL = ("network net (outbound = 'no')\nsystem node (net_interface.0.connection = 'net' and "
        "disk.0.image.url = 'dummy://img')\ndeploy node 1\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(tmp):
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return key, cert


def write_conf(tmp, key, cert, rest, xml):
    conf = os.path.join(tmp, "imcd.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("[im]\nREST_PORT = %d\nXMLRCP_PORT = %d\nDATA_DB = %s\nLOG_FILE = %s\n"
                "REST_SSL = true\nREST_SSL_KEYFILE = %s\nREST_SSL_CERTFILE = %s\n"
                "XMLRCP_SSL = true\nXMLRCP_SSL_KEYFILE = %s\nXMLRCP_SSL_CERTFILE = %s\n" % (
                    rest, xml, os.path.join(tmp, "imc.db"), os.path.join(tmp, "imcd.log"),
                    key, cert, key, cert))
    return conf


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    failures = 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMC_")}
    with tempfile.TemporaryDirectory(prefix="imcd-tls-") as tmp:
        key, cert = make_cert(tmp)
        rest, xml = free_port(), free_port()
        conf = write_conf(tmp, key, cert, rest, xml)
        ctx = ssl.create_default_context(cafile=cert)
        base = "https://127.0.0.1:%d" % rest
        proc = subprocess.Popen([IMCD, "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/version", context=ctx, timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    print("FAIL imcd did not start over TLS:\n" + proc.communicate()[1])
                    return 1
                time.sleep(0.1)

        def rest_create():
            rq = urllib.request.Request(base + "/infrastructures", data=RADL.encode(),
                                        headers={"Authorization": AUTH,
                                                 "Content-Type": "text/plain"})
            with urllib.request.urlopen(rq, context=ctx, timeout=30) as r:
                uri = r.read().decode()
            check(uri.startswith(base + "/infrastructures/"), "an https URI: " + uri)

        def xmlrpc_calls():
            proxy = xmlrpc.client.ServerProxy("https://127.0.0.1:%d/" % xml, context=ctx)
            ok, version = proxy.GetVersion()
            check(ok and "imc" in version, "GetVersion over TLS: %r" % version)
            ok, ids = proxy.GetInfrastructureList(XR_AUTH)
            check(ok and len(ids) >= 1, "the infrastructure made over REST: %r" % ids)

        def curl_verifies():
            r = subprocess.run(["curl", "-sS", "--cacert", cert, base + "/version"],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 0 and "imc" in r.stdout, "curl with the CA: " + r.stderr)
            r = subprocess.run(["curl", "-sS", base + "/version"], capture_output=True,
                               text=True, timeout=30)
            check(r.returncode == 60, "curl without the CA refuses the certificate: %d"
                  % r.returncode)

        def plain_http_gets_nothing():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/version" % rest, timeout=10):
                    raise AssertionError("plain HTTP answered on a TLS port")
            except (OSError, ValueError) as e:
                check("plain HTTP answered" not in str(e), str(e))

        def unreadable_key_stops_start():
            bad_dir = os.path.join(tmp, "bad")
            os.mkdir(bad_dir)
            bad = write_conf(bad_dir, os.path.join(tmp, "missing.pem"), cert, free_port(),
                             free_port())
            r = subprocess.run([IMCD, "-c", bad], capture_output=True, text=True, timeout=60,
                               env=env)
            check(r.returncode == 1 and "missing.pem" in r.stderr,
                  "exit 1 naming the key file: %d %s" % (r.returncode, r.stderr))
            check("PRIVATE KEY" not in r.stderr, "no key material in the message")

        for name, fn in (("REST create over TLS answers an https URI", rest_create),
                         ("XML-RPC over TLS", xmlrpc_calls),
                         ("curl verifies the certificate", curl_verifies),
                         ("plain HTTP to the TLS port gets no answer", plain_http_gets_nothing),
                         ("an unreadable key stops the start", unreadable_key_stops_start)):
            try:
                fn()
                print("ok   " + name)
            except Exception:
                failures += 1
                print("FAIL " + name)
                traceback.print_exc(file=sys.stdout)
        proc.terminate()
        try:
            err = proc.communicate(timeout=60)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            err = proc.communicate()[1]
        if proc.returncode != 0 or "ERROR: AddressSanitizer" in err or "runtime error:" in err:
            failures += 1
            print("FAIL imcd stopped with %d:\n%s" % (proc.returncode, err))
        with open(os.path.join(tmp, "imcd.log"), encoding="utf-8") as f:
            log = f.read()
        if "password" in log or "PRIVATE" in log:
            failures += 1
            print("FAIL a secret in the log")
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
