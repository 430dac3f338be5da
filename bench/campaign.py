"""The reliability and security campaign: runs the tests that attack mcpkit and prints what they tried.

    python bench/campaign.py [--scale 1] [--quick]

Bad documents (generated and hand-made, both parsers), bad arguments (every tool of five corpus
documents against a recording upstream), faults of the API (over real HTTP), load (64 clients x 50
calls over Streamable HTTP, one process and two stateless workers), and security (Host/Origin,
bearer tokens, header forwarding, secrets in logs), and the attacks of independent testing (routes
reached through path values, filters and bodies that stall the event loop, alias bombs, secrets echoed
by the API, slow APIs and half-open connections: section ``attacks``, each entry saying what was tried
and what held). ``--scale`` multiplies the number of Hypothesis
examples (CI runs scale 1); ``--quick`` leaves out the load tests. Each test records what it tried in
a log (``MCPKIT_CAMPAIGN_LOG``); the summary adds those counts up, with the tests that failed.
Exit status: 0 when every test passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = {
    "documents": ["tests/test_reliability_documents.py"],
    "arguments": ["tests/test_reliability_arguments.py"],
    "faults": [
        "plugins/openapi_source/tests/test_faults.py",
        "plugins/openapi_source/tests/test_responses.py",
    ],
    "load": ["tests/test_load.py"],
    "security": [
        "plugins/http_mount/tests/test_security_reliability.py",
        "plugins/http_mount/tests/test_security.py",
        "plugins/http_mount/tests/test_headers.py",
        "plugins/openapi_source/tests/test_auth.py",
        "plugins/http_mount/tests/test_authorization.py",
    ],
    "hardening": [
        "tests/test_hardening_documents.py",
        "tests/test_hardening_kernel.py",
        "plugins/openapi_source/tests/test_hardening_requests.py",
        "plugins/openapi_source/tests/test_hardening_responses.py",
        "plugins/http_mount/tests/test_hardening_serving.py",
        "tests/test_proxy.py",
        "tests/test_notifications.py",
        "tests/test_middleware_builtins.py",
        "plugins/redis_store/tests/test_stores.py",
        "plugins/redis_store/tests/test_workers.py",
    ],
}
SECTIONS = ["documents", "arguments", "faults", "calls under load", "security checks", "attacks"]


def run(files: list[str], log: Path, junit: Path, scale: float) -> float:
    """Run pytest on ``files``; returns the seconds it took."""
    env = {**os.environ, "MCPKIT_CAMPAIGN_LOG": str(log), "MCPKIT_CAMPAIGN_SCALE": str(scale)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *files]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=False)
    return time.perf_counter() - started


def tried(log: Path) -> dict[str, Counter[str]]:
    """What the tests recorded, by section."""
    counts: dict[str, Counter[str]] = {section: Counter() for section in SECTIONS}
    if log.exists():
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            counts.setdefault(entry["kind"], Counter())[entry["what"]] += entry["count"]
    return counts


def outcomes(junit: Path) -> tuple[Counter[str], list[str]]:
    """Tests passed/failed/errored/skipped, and the names of those that did not pass."""
    totals: Counter[str] = Counter()
    broken = []
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kind = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        totals[kind] += 1
        if kind in ("failure", "error"):
            broken.append(f"{case.get('classname')}::{case.get('name')}")
    return totals, broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the Hypothesis examples")
    parser.add_argument("--quick", action="store_true", help="leave out the load tests")
    options = parser.parse_args()
    files = [f for name, suite in SUITES.items() if not (options.quick and name == "load") for f in suite]
    with tempfile.TemporaryDirectory() as folder:
        log, junit = Path(folder) / "campaign.jsonl", Path(folder) / "junit.xml"
        seconds = run(files, log, junit, options.scale)
        counts = tried(log)
        totals, broken = outcomes(junit)
    print(f"\nmcpkit reliability campaign: scale {options.scale:g}, {seconds:.0f} s\n")
    for section, counter in counts.items():
        print(section)
        for what, count in sorted(counter.items(), key=lambda item: -item[1]):
            print(f"  {what:<78} {count:>8,}")
        if not counter:
            print("  (none)")
    print(
        f"\ntests: {totals['passed']} passed, {totals['failure']} failed, {totals['error']} errors, "
        f"{totals['skipped']} skipped"
    )
    for name in broken:
        print(f"  FAILED {name}")
    return 1 if broken or not totals["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
