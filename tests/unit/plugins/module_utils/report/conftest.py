"""The report tests share the hand-made task sessions of the compliance tests."""
import pytest

from unit.plugins.module_utils.compliance.conftest import build_session


@pytest.fixture
def session():
    """Factory fixture: session(vm=..., created=..., result=...)."""
    return build_session
