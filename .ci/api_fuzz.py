#!/usr/bin/env python3
"""Schemathesis against the served OpenAPI document, as CI runs it.

Starts `danvan demo` on a fresh SQLite database at 127.0.0.1 (a free port), makes an API token
for each demo user below with `danvan user token`, reads real codes, periods and ids from the
API, and runs `schemathesis run --checks all` once per user with those values. Exits non-zero
when schemathesis reports any failure or the demo does not start.

Usage: python3 .ci/api_fuzz.py [--bin target/debug/danvan] [--examples N]
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Who fuzzes: today's commune (2026-2030 scheme, after the reform) and a district of the old
# hierarchy (2017-2020 scheme) acting on one of its communes.
USERS = [
    {"username": "xa.haunghia", "scheme": "TN-KDV-2026-2030", "period": "2026", "unit": None},
    {"username": "huyen.duchoa", "scheme": "LA-KDV-2017-2020", "period": "2019", "unit": "27988"},
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base, path, token):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


# A write's body is checked against the scheme, the bloc and the calendar as well as its shape:
# target codes of the scheme, members serving on the meeting's day, dates inside the plan's year,
# organisations of the bloc, decisions of the unit, a reason to return or reopen, text that is
# still there once control and zero-width characters are dropped. No static JSON Schema can say
# these, so a schema-valid body of these operations may be refused with 422 (and an upload with
# 400 without its target, 415 when its bytes are not the type allowed); every other check, and
# ST202 for every other status, stays on.
BEYOND_SCHEMA = {"PUT": ["422"], "POST": ["422"]}
UPLOADS = ["400", "415"]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# What Schemathesis expects of a schema-violating request by default, and 413: a body over the
# route's limit (1 MB for JSON; the generator writes strings far past a field's maxLength) is
# refused before it is read, as documented on every operation with a body.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


def config(base, token, values, operations, per_operation, examples):
    """The schemathesis.toml of one user: its token, the real values, each operation's ids and
    the statuses a schema-valid request may get beyond the usual ones."""
    lines = [
        f'base-url = "{base}"',
        "workers = 2",
        "request-timeout = 30.0",
        "[generation]",
        f"max-examples = {examples}",
        "[auth.openapi.token]",
        f'bearer = "{token}"',
        "[checks.negative_data_rejection]",
        f"expected-statuses = {json.dumps(REJECTED)}",
        "[parameters]",
    ]
    lines += [f'"{k}" = {toml_value(v)}' for k, v in values.items()]
    for method, path, multipart in operations:
        params = {}
        for path_regex, extra in per_operation:
            if re.search(path_regex, path):
                params.update(extra)
        allowed = list(BEYOND_SCHEMA.get(method, [])) + (UPLOADS if multipart else [])
        if not params and not allowed:
            continue
        lines += ["[[operations]]", f"include-name = {json.dumps(method + ' ' + path)}"]
        if allowed:
            lines += ["[operations.checks.positive_data_acceptance]",
                      f"expected-statuses = {json.dumps(ACCEPTED + allowed)}"]
        if params and method == "DELETE":
            # A DELETE has nothing but its path, and its ids are pinned to real records: a
            # path made invalid by the fuzzer is sent with the real id again, and rightly done
            # (`--checks all` keeps the check on; what it accepts is widened instead).
            lines += ["[operations.checks.negative_data_rejection]",
                      f"expected-statuses = {json.dumps(REJECTED + ['2xx'])}"]
        if params:
            lines += ["[operations.parameters]"]
            lines += [f'"{k}" = {toml_value(v)}' for k, v in {**values, **params}.items()]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/debug/danvan"))
    ap.add_argument("--examples", type=int, default=int(os.environ.get("DANVAN_FUZZ_EXAMPLES", "20")))
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="danvan-fuzz-"))
    db = f"sqlite://{work}/fuzz.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DANVAN_DATABASE_URL=db, DANVAN_DATA_DIR=str(work))
    log = open(work / "demo.log", "w")
    demo = subprocess.Popen([args.bin, "demo", "--bind", f"127.0.0.1:{port}"], env=env, stdout=log, stderr=log)
    failed = False
    try:
        for _ in range(600):
            if demo.poll() is not None:
                sys.exit(f"danvan demo stopped:\n{(work / 'demo.log').read_text()}")
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            sys.exit("danvan demo did not answer /healthz within 5 minutes")

        for u in USERS:
            out = subprocess.run(
                [args.bin, "user", "token", u["username"], "--name", "schemathesis"],
                env=env, capture_output=True, text=True, check=True,
            )
            token = out.stdout.strip()
            me = get(base, "/api/v1/me", token)
            code = u["unit"] or me["scope_unit"]
            scheme, period = u["scheme"], u["period"]
            year = int(period[:4])
            unit_path = f"/api/v1/schemes/{scheme}/units/{code}"

            def first_id(path, key="id"):
                try:
                    items = get(base, path, token)
                except urllib.error.HTTPError:
                    return None
                return items[0][key] if items else None

            activity = first_id(f"{unit_path}/plan/{year}")
            meeting = first_id(f"/api/v1/units/{code}/meetings?year={year}")
            hamlet = first_id(f"/api/v1/units/{code}/hamlets")
            feedback = first_id(f"/api/v1/units/{code}/feedback")
            evidence = first_id(f"{unit_path}/reviews/{period}/evidence")
            files = first_id(f"{unit_path}/activities/{activity}/files") if activity else None
            values = {"path.scheme": scheme, "path.code": code, "path.period": period,
                      "path.year": year, "query.period": period}
            per_op = []
            for regex, name, value in [
                (r"/activities/\{id\}", "path.id", activity),
                (r"/reviews/\{period\}/evidence/\{id\}$", "path.id", evidence),
                (r"/activities/\{id\}/files/\{file\}$", "path.file", files),
                (r"/meetings/\{id\}", "path.id", meeting),
                (r"/hamlets/\{id\}", "path.id", hamlet),
                (r"/feedback/\{id\}", "path.id", feedback),
            ]:
                if value is not None:
                    per_op.append((regex, {name: value}))
            doc = json.load(urllib.request.urlopen(base + "/api/openapi.json", timeout=30))
            operations = [
                (m.upper(), path, "multipart/form-data" in (op.get("requestBody") or {}).get("content", {}))
                for path, item in doc["paths"].items() for m, op in item.items()
            ]
            cfg = work / f"{u['username']}.toml"
            cfg.write_text(config(base, token, values, operations, per_op, args.examples))
            print(f"== schemathesis as {u['username']} ({scheme}, unit {code}, period {period})", flush=True)
            run = subprocess.run(
                # The interpreter that installed it, whatever is on PATH.
                [sys.executable, "-m", "schemathesis.cli", "--config-file", str(cfg), "run", f"{base}/api/openapi.json",
                 "--checks", "all", "--no-color"],
                cwd=work,
            )
            failed |= run.returncode != 0
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    if failed:
        sys.exit("schemathesis found failures (above)")
    print("schemathesis: 0 failures")


if __name__ == "__main__":
    main()
