"""requirements-demo.txt (make demo's own small virtualenv) asks for the same versions as
requirements-dev.txt (make test's), so the demo never runs on something the tests did not."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def requirements(name):
    result = {}
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if line:
                match = re.match(r"([A-Za-z0-9_.-]+)(.*)", line)
                result[match.group(1).lower()] = match.group(2).replace(" ", "")
    return result


def test_demo_requirements_are_pinned_as_in_dev():
    demo, dev = requirements("requirements-demo.txt"), requirements("requirements-dev.txt")
    assert set(demo) == {"ansible-core", "requests", "urllib3", "xmltodict", "trustme", "cryptography"}
    assert {name: dev.get(name) for name in demo} == demo


def test_demo_requirements_cover_the_run_time_requirements():
    assert set(requirements("requirements.txt")) <= set(requirements("requirements-demo.txt"))
