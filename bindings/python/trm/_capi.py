"""The C API of include/trm_runtime.h through ctypes: finding libtrm_runtime.so, the prototypes, statuses."""
import ctypes
import os
import pathlib

# trm_status values, in the header's order (trm_status_string gives the text).
STATUS_NAMES = ["ok", "invalid argument", "malformed model", "I/O error", "invalid input", "out of memory",
                "internal error", "cancelled", "invalid state"]
# The TRM_API_VERSION these bindings were written against (major * 10000 + minor * 100 + patch).
API_VERSION = 10100

_HERE = pathlib.Path(__file__).resolve().parent


def library_candidates():
    """Where the library is looked for, in order: $TRM_LIBRARY (a file), next to this module, and the
    release build of the checkout these bindings sit in (bindings/python/trm -> .build/release)."""
    env = os.environ.get("TRM_LIBRARY")
    if env:
        return [pathlib.Path(env)]
    root = _HERE.parents[2]
    return [_HERE / "libtrm_runtime.so", root / ".build" / "release" / "libtrm_runtime.so"]


class ModelInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in
                ("seq_len", "vocab", "num_puzzle_ids", "halt_max_steps", "hidden", "full_seq_len")]


PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p)


def load():
    """Loads the library and declares every function; raises ImportError naming the places tried."""
    # The runtime uses its own threads; OpenBLAS must not start its own (include/trm_runtime.h).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    tried = library_candidates()
    path = next((p for p in tried if p.is_file()), None)
    if path is None:
        raise ImportError("libtrm_runtime.so not found; tried " + ", ".join(map(str, tried)) +
                          " (build it with `make build`, or set TRM_LIBRARY to its path)")
    lib = ctypes.CDLL(str(path))
    vp, i32, u64, sz = ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint64, ctypes.c_size_t
    pvp, pi32, pf32, psz = ctypes.POINTER(vp), ctypes.POINTER(i32), ctypes.POINTER(ctypes.c_float), ctypes.POINTER(sz)
    protos = {
        "trm_version": (ctypes.c_char_p, []),
        "trm_api_version": (i32, []),
        "trm_last_error": (ctypes.c_char_p, []),
        "trm_status_string": (ctypes.c_char_p, [ctypes.c_int]),
        "trm_model_open": (ctypes.c_int, [ctypes.c_char_p, pvp]),
        "trm_model_open_bytes": (ctypes.c_int, [vp, sz, pvp]),
        "trm_model_get_info": (ctypes.c_int, [vp, ctypes.POINTER(ModelInfo)]),
        "trm_model_config_json": (ctypes.c_char_p, [vp]),
        "trm_model_free": (None, [vp]),
        "trm_session_create_precision": (ctypes.c_int, [vp, i32, i32, i32, pvp]),
        "trm_session_free": (None, [vp]),
        "trm_session_solve": (ctypes.c_int, [vp, pi32, pi32, sz, ctypes.c_int, i32, pf32, pi32, pf32, pi32]),
        "trm_session_load": (ctypes.c_int, [vp, pi32, pi32]),
        "trm_session_step": (ctypes.c_int, [vp]),
        "trm_session_read": (ctypes.c_int, [vp, ctypes.c_char_p, pf32, sz]),
        "trm_session_predictions": (ctypes.c_int, [vp, pi32, sz]),
        "trm_session_set_progress": (ctypes.c_int, [vp, PROGRESS, vp]),
        "trm_session_cancel": (ctypes.c_int, [vp]),
        "trm_task_create": (ctypes.c_int, [vp, ctypes.c_int, i32, u64, pvp]),
        "trm_task_free": (None, [vp]),
        "trm_task_add_arc_json": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, sz, psz]),
        "trm_task_add_grid": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, psz]),
        "trm_task_puzzle_count": (ctypes.c_int, [vp, psz]),
        "trm_task_test_count": (ctypes.c_int, [vp, sz, psz]),
        "trm_task_query_count": (ctypes.c_int, [vp, psz]),
        "trm_task_query": (ctypes.c_int, [vp, sz, pi32, sz, pi32]),
        "trm_task_set_prediction": (ctypes.c_int, [vp, sz, pi32, sz, ctypes.c_float]),
        "trm_task_run": (ctypes.c_int, [vp, vp, ctypes.c_int, i32]),
        "trm_task_pass_at_k": (ctypes.c_int, [vp, i32, ctypes.POINTER(ctypes.c_double), psz]),
        "trm_task_candidate_count": (ctypes.c_int, [vp, sz, sz, psz]),
        "trm_task_candidate": (ctypes.c_int, [vp, sz, sz, sz, pi32, sz, pi32, pi32, pi32]),
        "trm_task_attempt": (ctypes.c_int, [vp, sz, sz, i32, pi32, sz, pi32, pi32]),
    }
    for name, (restype, argtypes) in protos.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, argtypes
    if lib.trm_api_version() // 10000 != API_VERSION // 10000 or lib.trm_api_version() < API_VERSION:
        raise ImportError(f"{path} implements C API {lib.trm_api_version()}, these bindings need {API_VERSION}")
    return lib, path
