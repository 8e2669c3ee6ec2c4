"""API fuzzing: schemathesis generates valid and invalid requests for every operation, with an admin key.

Checks: no 5xx, and every documented response matches its schema. The number of generated requests
is written to var/reliability/fuzz.json (and printed with `-s`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from scripts.liveserver import ROOT, LiveServer, prepare, server_env

pytestmark = pytest.mark.server

# Examples per operation and generation mode: bounded so the whole run stays within a few minutes.
EXAMPLES = 12
REPORT = ROOT / "var" / "reliability" / "fuzz.json"


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    *,
    url: str,
    key: str,
    requests: Counter[str],
    statuses: Counter[int],
    failures: dict[str, str],
) -> None:
    """Up to EXAMPLES generated cases of one operation; the first failure of each is kept."""
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        requests[label] += 1
        try:
            response = case.call_and_validate(
                base_url=url,
                headers={"Authorization": f"Bearer {key}"},
                checks=[not_a_server_error, response_schema_conformance],
                timeout=30,
            )
        except (AssertionError, FailureGroup) as exc:  # how schemathesis reports failed checks
            failures.setdefault(label, f"{exc}"[:1500])
        else:
            statuses[response.status_code] += 1

    try:
        run()
    except (AssertionError, FailureGroup) as exc:  # hypothesis re-raises a failure it shrank
        failures.setdefault(label, f"{exc}"[:1500])
    except Unsatisfiable:
        pass  # nothing to make invalid: an operation without parameters or body, in negative mode


def test_fuzz_every_operation(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    key = prepare(tmp_path, dataset=ROOT / "tests" / "fixtures" / "mini", env=env)
    server = LiveServer(tmp_path, env)
    server.start()
    requests: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: dict[str, str] = {}
    try:
        server.wait_ready(timeout=120)
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, url=server.url, key=key, requests=requests, statuses=statuses, failures=failures)
    finally:
        server.stop()
    report = {
        "requests": sum(requests.values()),
        "operations": len(operations),
        "examples_per_operation_and_mode": EXAMPLES,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "failures": failures,
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nfuzzing: {report['requests']} requests over {len(operations)} operations; statuses {report['statuses']}")
    assert failures == {}
    assert len(operations) >= 20
    assert report["requests"] >= len(operations) * 2
