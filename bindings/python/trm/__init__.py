"""trm: run Tiny Recursive Models compiled by trm-compile (.trmg) from Python.

A thin layer over the C API of libtrm_runtime.so (include/trm_runtime.h) through ctypes: numpy arrays
in and out, errors as `TRMError` carrying the C status and message. The library is found through
$TRM_LIBRARY, next to this module, or in the checkout's release build (`make build`).

    import trm
    model = trm.Model("sudoku.trmg")
    with trm.Session(model, batch=8) as session:
        task = trm.Task(model, "sudoku", num_aug=0)
        p = task.add_grid("1.3...")                 # a row of cells as the published CSVs write them
        task.run(session)
        print(task.attempt(p, 0, 1))               # the best answer, a numpy grid

docs/embedding.md describes the encodings, the ACT loop and the C API these calls map to.
"""
import ctypes

import numpy as np

from . import _capi
from ._version import __version__

_lib, library_path = _capi.load()

__all__ = ["Model", "Session", "Task", "TRMError", "Cancelled", "__version__", "library_path", "library_version"]

#: The library's version string ("trm_runtime 0.2.0").
library_version = _lib.trm_version().decode()


class TRMError(RuntimeError):
    """A C API call failed: `status` is the trm_status value, `status_name` its text, `message` the
    library's description (trm_last_error)."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = _lib.trm_status_string(status).decode()
        self.message = message
        super().__init__(f"{self.status_name} ({status}): {message}")


class Cancelled(TRMError):
    """Session.cancel stopped a solve or a task run between two ACT steps (TRM_ERR_CANCELLED)."""


def _check(status):
    if status != 0:
        message = _lib.trm_last_error().decode()
        raise (Cancelled if status == 7 else TRMError)(status, message)


_I32, _F32 = ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_float)
_HALTING = {"fixed": 0, "adaptive": 1}
_PRECISION = {"fp32": 0, "bf16": 1}
_TASKS = {"arc": 0, "sudoku": 1, "maze": 2}


def _choice(table, value, what):
    if value not in table:
        raise ValueError(f"{what} must be one of {', '.join(table)}, got {value!r}")
    return table[value]


class _Handle:
    """A library handle released by `_free` on close(), at exit of a `with` block, or when collected."""
    _free = None
    _handle = ctypes.c_void_p()

    def close(self):
        if self._handle:
            type(self)._free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Model(_Handle):
    """A compiled model (.trmg), opened from a path (external data is mapped from beside it) or bytes.
    close() releases it; sessions and tasks made from it keep it alive until they close too."""
    _free = _lib.trm_model_free

    def __init__(self, path=None, *, data=None):
        if (path is None) == (data is None):
            raise ValueError("give a path or data=bytes, not both")
        self._handle = ctypes.c_void_p()
        #: The .trmg path (None for a model opened from bytes).
        self.path = path
        if path is not None:
            _check(_lib.trm_model_open(str(path).encode(), ctypes.byref(self._handle)))
        else:
            buf = ctypes.create_string_buffer(bytes(data), len(data))
            _check(_lib.trm_model_open_bytes(buf, len(data), ctypes.byref(self._handle)))
        info = _capi.ModelInfo()
        _check(_lib.trm_model_get_info(self._handle, ctypes.byref(info)))
        #: seq_len, vocab, num_puzzle_ids, halt_max_steps, hidden, full_seq_len
        self.info = {name: getattr(info, name) for name, _ in _capi.ModelInfo._fields_}
        self.config_json = _lib.trm_model_config_json(self._handle).decode()

    @property
    def seq_len(self):
        return self.info["seq_len"]



class Session(_Handle):
    """Memory and threads for `batch` slots of a model; `precision` "fp32" or "bf16"."""
    _free = _lib.trm_session_free

    def __init__(self, model, batch=8, threads=0, precision="fp32"):
        self.model = model
        self.batch = batch
        self._handle = ctypes.c_void_p()
        _check(_lib.trm_session_create_precision(model._handle, batch, threads, _choice(_PRECISION, precision, "precision"),
                                                 ctypes.byref(self._handle)))
        self._progress = None  # keeps the ctypes callback alive while the library holds it

    def solve(self, tokens, puzzle_ids=None, halting="fixed", max_steps=0):
        """Runs the ACT loop on int tokens [N, seq_len]; returns a dict of numpy arrays: logits
        [N, seq_len, vocab], preds [N, seq_len], q_halt [N], steps [N]."""
        tokens = np.ascontiguousarray(tokens, dtype=np.int32)
        if tokens.ndim != 2 or tokens.shape[1] != self.model.seq_len:
            raise ValueError(f"tokens must be [N, {self.model.seq_len}], got {list(tokens.shape)}")
        n, length = tokens.shape
        ids = None if puzzle_ids is None else np.ascontiguousarray(puzzle_ids, dtype=np.int32)
        if ids is not None and ids.shape != (n,):
            raise ValueError(f"puzzle_ids must be [{n}], got {list(ids.shape)}")
        out = {"logits": np.empty((n, length, self.model.info["vocab"]), np.float32), "preds": np.empty((n, length), np.int32),
               "q_halt": np.empty(n, np.float32), "steps": np.empty(n, np.int32)}
        _check(_lib.trm_session_solve(
            self._handle, tokens.ctypes.data_as(_I32), None if ids is None else ids.ctypes.data_as(_I32), n,
            _choice(_HALTING, halting, "halting"), max_steps, out["logits"].ctypes.data_as(_F32),
            out["preds"].ctypes.data_as(_I32), out["q_halt"].ctypes.data_as(_F32), out["steps"].ctypes.data_as(_I32)))
        return out

    def load(self, tokens, puzzle_ids=None):
        """Step-level use: fills every slot ([batch, seq_len] tokens) with fresh carries."""
        tokens = np.ascontiguousarray(tokens, dtype=np.int32)
        if tokens.shape != (self.batch, self.model.seq_len):
            raise ValueError(f"tokens must be [{self.batch}, {self.model.seq_len}], got {list(tokens.shape)}")
        ids = None if puzzle_ids is None else np.ascontiguousarray(puzzle_ids, dtype=np.int32)
        _check(_lib.trm_session_load(self._handle, tokens.ctypes.data_as(_I32), None if ids is None else ids.ctypes.data_as(_I32)))

    def step(self):
        """One ACT step on every slot."""
        _check(_lib.trm_session_step(self._handle))

    def read(self, name, shape):
        """The last step's float output `name` ("q_halt", "logits", ...) as an array of `shape`."""
        out = np.empty(shape, np.float32)
        _check(_lib.trm_session_read(self._handle, name.encode(), out.ctypes.data_as(_F32), out.size))
        return out

    def predictions(self):
        """Argmax of the last step's logits, [batch, seq_len]."""
        out = np.empty((self.batch, self.model.seq_len), np.int32)
        _check(_lib.trm_session_predictions(self._handle, out.ctypes.data_as(_I32), out.size))
        return out

    def set_progress(self, callback):
        """callback(done, total) after every ACT step of solve and Task.run (None: no callback). An
        exception in the callback cannot cross the C library: it is printed and the run goes on;
        call cancel() to stop."""
        if callback is None:
            self._progress = None
            _check(_lib.trm_session_set_progress(self._handle, _capi.PROGRESS(), None))
            return

        def trampoline(done, total, _user):
            try:
                callback(done, total)
            except Exception as e:  # noqa: BLE001 - must not unwind through C
                print(f"trm: progress callback raised {e!r}")
        self._progress = _capi.PROGRESS(trampoline)
        _check(_lib.trm_session_set_progress(self._handle, self._progress, None))

    def cancel(self):
        """Stops the running (or the next) solve or Task.run before its next ACT step: it raises Cancelled.
        May be called from another thread or from the progress callback."""
        _check(_lib.trm_session_cancel(self._handle))



class Task(_Handle):
    """Puzzles of one task ("arc", "sudoku", "maze") and their answers: encoding, `num_aug` augmented
    versions (seeded), inverse transforms and voting, as `trm-run --task`."""
    _free = _lib.trm_task_free

    def __init__(self, model, kind, num_aug=0, seed=0):
        self.model = model
        self.kind = kind
        self._handle = ctypes.c_void_p()
        _check(_lib.trm_task_create(model._handle, _choice(_TASKS, kind, "kind"), num_aug, seed, ctypes.byref(self._handle)))

    def add_arc_json(self, name, text):
        """Adds an ARC puzzle from its JSON text ({"train": [...], "test": [...]}); returns its index."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        index = ctypes.c_size_t()
        _check(_lib.trm_task_add_arc_json(self._handle, name.encode(), data, len(data), ctypes.byref(index)))
        return index.value

    def add_grid(self, question, answer=None):
        """Adds a Sudoku or Maze puzzle as CSV cells (Sudoku digits with '.' blanks, Maze "# SGo");
        with `answer` it is scored. Returns its index."""
        index = ctypes.c_size_t()
        _check(_lib.trm_task_add_grid(self._handle, question.encode(), None if answer is None else answer.encode(),
                                      ctypes.byref(index)))
        return index.value

    def _count(self, fn, *args):
        out = ctypes.c_size_t()
        _check(fn(self._handle, *args, ctypes.byref(out)))
        return out.value

    @property
    def puzzle_count(self):
        return self._count(_lib.trm_task_puzzle_count)

    @property
    def query_count(self):
        return self._count(_lib.trm_task_query_count)

    def test_count(self, puzzle):
        return self._count(_lib.trm_task_test_count, puzzle)

    def query(self, i):
        """Query i's tokens [seq_len] and puzzle-embedding row (what Session.solve takes)."""
        tokens, row = np.empty(self.model.seq_len, np.int32), ctypes.c_int32()
        _check(_lib.trm_task_query(self._handle, i, tokens.ctypes.data_as(_I32), tokens.size, ctypes.byref(row)))
        return tokens, row.value

    def set_prediction(self, i, preds, q_halt):
        """Records query i's argmax predictions [seq_len] and q_halt."""
        preds = np.ascontiguousarray(preds, dtype=np.int32)
        _check(_lib.trm_task_set_prediction(self._handle, i, preds.ctypes.data_as(_I32), preds.size, q_halt))

    def run(self, session, halting="fixed", max_steps=0):
        """Runs every query without a prediction through `session` and votes."""
        _check(_lib.trm_task_run(self._handle, session._handle, _choice(_HALTING, halting, "halting"), max_steps))

    def pass_at_k(self, k):
        """(pass@K over the scored puzzles, number of scored puzzles)."""
        rate, scored = ctypes.c_double(), ctypes.c_size_t()
        _check(_lib.trm_task_pass_at_k(self._handle, k, ctypes.byref(rate), ctypes.byref(scored)))
        return rate.value, scored.value

    def _grid(self, fn, *args):
        rows, cols = ctypes.c_int32(), ctypes.c_int32()
        cells = np.empty(30 * 30, np.int32)
        _check(fn(self._handle, *args, cells.ctypes.data_as(_I32), cells.size, ctypes.byref(rows), ctypes.byref(cols)))
        return cells[: rows.value * cols.value].reshape(rows.value, cols.value).copy()

    def candidates(self, puzzle, test=0):
        """The ranked candidates of a test pair: [(grid, votes)], best first."""
        out = []
        for rank in range(self._count(_lib.trm_task_candidate_count, puzzle, test)):
            rows, cols, votes = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
            cells = np.empty(30 * 30, np.int32)
            _check(_lib.trm_task_candidate(self._handle, puzzle, test, rank, cells.ctypes.data_as(_I32), cells.size,
                                           ctypes.byref(rows), ctypes.byref(cols), ctypes.byref(votes)))
            out.append((cells[: rows.value * cols.value].reshape(rows.value, cols.value).copy(), votes.value))
        return out

    def attempt(self, puzzle, test=0, attempt=1):
        """Attempt 1 or 2 of a test pair as the ARC submission has it (a numpy grid)."""
        return self._grid(_lib.trm_task_attempt, puzzle, test, attempt)
