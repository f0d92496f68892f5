"""The bindings' tests run against the release build: $TRM_BIN (make test sets it), else .build/release."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(os.environ.get("TRM_BIN", ROOT / ".build" / "release"))
os.environ.setdefault("TRM_LIBRARY", str(BIN / "libtrm_runtime.so"))

# `import trm` must find the installed package (python-deps runs `pip install -e bindings/python`), not a
# copy on sys.path: the tests then also show that the package installs.
