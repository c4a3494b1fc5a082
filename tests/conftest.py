"""Test session setup: quiet TF logs, two logical CPUs for distribution tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# MirroredStrategy tests need two devices; split the CPU before TF initialises it.
_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError:  # already initialised by an earlier import
    pass


# Fault injection (kill -9, full disk), sustained serving, whole-program runs and
# the journeys are `slow`: CI runs everything, `pytest -m "not slow"` is the fast set.
SLOW_PATHS = ("reliability/test_data_creation_faults.py", "reliability/test_pretraining_faults.py",
              "reliability/test_classifier_faults.py", "reliability/test_export_faults.py",
              "reliability/test_sustained_serving.py", "journeys/", "test_run_pretraining.py",
              "test_run_classifier.py", "test_classifier_run_outputs.py",
              "tftasks/pretraining/test_run.py", "test_run_squad.py", "test_run_ner.py",
              "test_extract_features.py", "test_run_translation.py", "test_classifier_early_stopping.py",
              "tfseq2seq/test_tokenization_fresh_process.py")


def pytest_collection_modifyitems(config, items):
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        path = os.path.relpath(str(item.fspath), tests_dir).replace(os.sep, "/")
        if any(path.startswith(slow) for slow in SLOW_PATHS):
            item.add_marker(pytest.mark.slow)



# The scripts' absl flags share names: each test module that imported a script gets
# that script's flags, and only those (tests/script_flags.py).
from tests import script_flags  # noqa: E402

script_flags.import_scripts(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True, scope="module")
def _script_flags(request):
    """Puts the flags of the script this test module imported (if any) on absl's FLAGS."""
    name = next((n for n in script_flags.SCRIPTS if hasattr(request.module, n)), None)
    if name:
        script_flags.use_script_flags(name)
