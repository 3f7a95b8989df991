"""The filter tests share the hand-made task sessions of the compliance tests."""
from unit.plugins.module_utils.compliance.conftest import session  # noqa: F401  (a pytest fixture)
