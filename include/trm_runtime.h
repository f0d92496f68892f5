/*
 * trm_runtime.h: the C API of the trm runtime (libtrm_runtime.so).
 *
 * Open a compiled model (.trmg), create a session for a batch size and thread count, then either
 * solve whole token arrays (the ACT loop with halting and slot refill) or drive ACT steps yourself.
 * Every function returns a trm_status; on failure trm_last_error() describes the problem (the
 * message is per thread and stays valid until that thread's next failing call). No function aborts
 * the process on bad input.
 *
 * Lifetimes: a session keeps its model alive, so trm_model_free may be called while sessions of the
 * model live (the model is released with its last session); a task (trm_task_create) likewise keeps
 * its model. Every pointer a function returns (trm_version, trm_last_error, trm_status_string,
 * trm_model_config_json) is owned by the library; trm_last_error's stays valid until the calling
 * thread's next failing call, trm_model_config_json's while the model is open, the others forever.
 *
 * Handles are not shared between threads: use one session per thread (a model may be shared). The
 * one exception is trm_session_cancel, which any thread may call while another runs the session.
 *
 * The runtime runs its matrix products on its own threads. Set OPENBLAS_NUM_THREADS=1 in the
 * environment before this library (and so OpenBLAS) is loaded: OpenBLAS otherwise starts a worker
 * per core that each take a 128 MiB buffer at once and retry for ever when the address space is
 * limited (ulimit -v). A session checks that room before it is created (docs/limits.md).
 */
#ifndef TRM_RUNTIME_H
#define TRM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* The version of this header's API: TRM_API_VERSION is MAJOR * 10000 + MINOR * 100 + PATCH. A
 * program built against one major version runs against any library of the same major version whose
 * trm_api_version() is at least the header's (minor versions only add functions). */
#define TRM_API_VERSION_MAJOR 1
#define TRM_API_VERSION_MINOR 1
#define TRM_API_VERSION_PATCH 0
#define TRM_API_VERSION (TRM_API_VERSION_MAJOR * 10000 + TRM_API_VERSION_MINOR * 100 + TRM_API_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* One status per class of problem: the same mistake always gets the same status. */
typedef enum {
    TRM_OK = 0,
    TRM_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a size out of range, an unknown name */
    TRM_ERR_MALFORMED_MODEL = 2,  /* the .trmg failed validation */
    TRM_ERR_IO = 3,               /* the file could not be read */
    TRM_ERR_INVALID_INPUT = 4,    /* tokens or puzzle ids out of range, wrong counts */
    TRM_ERR_OUT_OF_MEMORY = 5,    /* memory, address space or threads could not be had: an allocation
                                   * over the memory available (a model's weights, a session's
                                   * arena for its batch), one the system refused (ulimit -v), no
                                   * room for OpenBLAS's buffers, a worker thread that could not
                                   * start; the process goes on and smaller requests may succeed */
    TRM_ERR_INTERNAL = 6,         /* a bug in trm: please report it with trm_last_error() */
    TRM_ERR_CANCELLED = 7,        /* trm_session_cancel stopped the call between two ACT steps; the
                                   * session is intact and its partial results are dropped */
    TRM_ERR_INVALID_STATE = 8     /* the call does not fit the handle's state: reading a session's
                                   * outputs before any step ran */
} trm_status;

/* A short static description of a status ("invalid argument"); "unknown status" for other values. */
const char *trm_status_string(trm_status status);

/* The library's TRM_API_VERSION (compare with the header's). */
int32_t trm_api_version(void);

typedef enum { TRM_HALTING_FIXED = 0, TRM_HALTING_ADAPTIVE = 1 } trm_halting;

typedef struct trm_model trm_model;
typedef struct trm_session trm_session;

/* Sizes of a loaded model. */
typedef struct {
    int32_t seq_len;         /* L: grid tokens per sample */
    int32_t vocab;           /* token values are 0 ..< vocab */
    int32_t num_puzzle_ids;  /* puzzle ids are 0 ..< num_puzzle_ids */
    int32_t halt_max_steps;  /* ACT steps of fixed halting */
    int32_t hidden;          /* D (0 if the model carries no config) */
    int32_t full_seq_len;    /* S = L + puzzle prefix */
} trm_model_info;

/* Library version string (static). */
const char *trm_version(void);

/* The calling thread's last error message (never NULL; "" when none). */
const char *trm_last_error(void);

/*
 * Opens a .trmg. A model whose large initializers live in an external-data sidecar
 * (model.trmg.data, docs/formats.md §2.5) maps it read-only and uses the weights in place; the
 * mapping lives until the model and every session created from it are freed. Such a model can
 * only be opened from its path: trm_model_open_bytes returns TRM_ERR_IO for it.
 */
trm_status trm_model_open(const char *path, trm_model **out);
trm_status trm_model_open_bytes(const void *data, size_t length, trm_model **out);
trm_status trm_model_get_info(const trm_model *model, trm_model_info *out);
/* The model config as JSON, valid while the model is open. */
const char *trm_model_config_json(const trm_model *model);
void trm_model_free(trm_model *model);

/* A session holds all memory for `batch` slots (1 to 65536); threads = 0 means all cores (else 1 to
 * 1024). Out-of-range values are TRM_ERR_INVALID_ARGUMENT; a batch whose memory cannot be had is
 * TRM_ERR_OUT_OF_MEMORY. Its matrix products run in fp32. */
trm_status trm_session_create(const trm_model *model, int32_t batch, int32_t threads, trm_session **out);

/*
 * The arithmetic of a session's matrix products (docs/precision.md). BF16 packs the MatMul weights
 * into bf16 when the session is created and runs those products with bf16 operands and fp32 sums;
 * attention, the Mamba-2 scan, norms and the carry stay fp32. Without AVX512_BF16 it runs the same
 * rounding on a slower portable path.
 */
enum { TRM_PRECISION_FP32 = 0, TRM_PRECISION_BF16 = 1 };
trm_status trm_session_create_precision(const trm_model *model, int32_t batch, int32_t threads, int32_t precision,
                                        trm_session **out);
void trm_session_free(trm_session *session);

/*
 * Solves `count` samples: tokens [count * L], puzzle_ids [count] (NULL: all 0). max_steps 0 uses the
 * model's halt_max_steps; otherwise it is 1 to 1024 (TRM_ERR_INVALID_ARGUMENT beyond). Each output
 * pointer may be NULL; otherwise it receives, per sample, the last ACT step's logits
 * [count * L * vocab], argmax predictions [count * L], q_halt [count] and the number of steps run
 * [count].
 */
trm_status trm_session_solve(trm_session *session, const int32_t *tokens, const int32_t *puzzle_ids, size_t count,
                             trm_halting halting, int32_t max_steps, float *logits, int32_t *preds, float *q_halt,
                             int32_t *steps);

/*
 * Progress and cancellation of trm_session_solve and trm_task_run. The callback (NULL: none) is
 * called on the calling thread after every ACT step of the batch, with the samples (or queries)
 * done so far and their total; `user` is passed through. trm_session_cancel asks the running call
 * to stop before its next ACT step; it returns TRM_ERR_CANCELLED. It may be called from any thread
 * and from the callback; called while the session is idle, it stops the next call before its first
 * step. A stopped call clears the request.
 */
typedef void (*trm_progress_fn)(size_t done, size_t total, void *user);
trm_status trm_session_set_progress(trm_session *session, trm_progress_fn callback, void *user);
trm_status trm_session_cancel(trm_session *session);

/* Step-level use: load `batch` samples into the slots (fresh carries), then run ACT steps. */
trm_status trm_session_load(trm_session *session, const int32_t *tokens, const int32_t *puzzle_ids);
/* One ACT step on every slot; the carries advance to the step's outputs. */
trm_status trm_session_step(trm_session *session);
/* Copies the last step's output `name` ("logits" [batch*L*vocab], "q_halt" [batch], "z_H_next", ...)
 * into out; `count` must equal the output's element count. Before the first trm_session_step after
 * a trm_session_load (or before any step at all) this and trm_session_predictions return
 * TRM_ERR_INVALID_STATE. */
trm_status trm_session_read(trm_session *session, const char *name, float *out, size_t count);
/* Argmax of the last step's logits: [batch * L]. */
trm_status trm_session_predictions(trm_session *session, int32_t *out, size_t count);

/*
 * The task layer: puzzles in, their answers out, with the encoding, augmentation, inverse
 * transforms and voting of `trm-run --task` (docs/embedding.md has the token encodings).
 *
 *   trm_task_create(model, TRM_TASK_ARC, 7, 0, &task);   // 7 augmented versions + the original
 *   trm_task_add_arc_json(task, "3c9b0459", json, strlen(json), &p);
 *   trm_task_run(task, session, TRM_HALTING_FIXED, 0);    // every query through the ACT loop, voted
 *   trm_task_attempt(task, p, 0, 1, cells, 900, &rows, &cols); // the first attempt at test pair 0
 *
 * A puzzle becomes queries when it is added: ARC puzzles one per (test pair, version), with the
 * versions and puzzle-embedding rows the model was trained with when its identifiers name the
 * puzzle, else `num_aug` random dihedral + colour versions (seeded by `seed`) on row 0; Sudoku
 * num_aug random relabelings/permutations, Maze up to 7 dihedral versions. Instead of trm_task_run
 * an embedder may run the queries itself: trm_task_query gives each query's tokens and row (what
 * trm_session_solve takes), trm_task_set_prediction records the argmax predictions back.
 * Grids are row-major cells: ARC colours 0-9; Sudoku digits 1-n (0 blank); Maze cells as the text
 * encoding's index in "# SGo" (0 wall, 1 open, 2 start, 3 goal, 4 path).
 */
typedef enum { TRM_TASK_ARC = 0, TRM_TASK_SUDOKU = 1, TRM_TASK_MAZE = 2 } trm_task_kind;
typedef struct trm_task trm_task;

/* A task for `model` (which must have been compiled for that task, and stays alive while the task
 * does). num_aug: versions beyond the original (0 to 1000; ARC's usual 7, the reference's 1000). */
trm_status trm_task_create(const trm_model *model, trm_task_kind kind, int32_t num_aug, uint64_t seed, trm_task **out);
void trm_task_free(trm_task *task);

/* Adds one ARC puzzle from its JSON text ({"train": [{"input": grid, "output": grid}...], "test":
 * [{"input": grid, "output": grid?}...]}, the per-puzzle file layout of ARC-AGI); `name` identifies it
 * (the model's identifiers use it). A puzzle whose test outputs are all given is scored. *index
 * (may be NULL) receives the puzzle's index. Bad JSON or grids: TRM_ERR_INVALID_INPUT, naming the
 * line and column or the field. */
trm_status trm_task_add_arc_json(trm_task *task, const char *name, const char *json, size_t length, size_t *index);
/* Adds one Sudoku or Maze puzzle as the published CSVs write a row's cells: Sudoku digits with '.'
 * or '0' for blanks, Maze "# SGo" characters; `answer` (NULL: unscored) the same way. */
trm_status trm_task_add_grid(trm_task *task, const char *question, const char *answer, size_t *index);

trm_status trm_task_puzzle_count(const trm_task *task, size_t *out);
/* Test pairs of a puzzle (Sudoku and Maze: 1). */
trm_status trm_task_test_count(const trm_task *task, size_t puzzle, size_t *out);
trm_status trm_task_query_count(const trm_task *task, size_t *out);
/* Query `query`'s tokens (count must be the model's seq_len) and puzzle-embedding row. */
trm_status trm_task_query(const trm_task *task, size_t query, int32_t *tokens, size_t count, int32_t *puzzle_id);
/* Records the argmax predictions [seq_len] and q_halt of query `query` (replacing an earlier one). */
trm_status trm_task_set_prediction(trm_task *task, size_t query, const int32_t *preds, size_t count, float q_halt);
/* Runs every query that has no prediction yet through `session` (a session of the task's model) and
 * records the predictions; progress and cancellation as trm_session_solve. */
trm_status trm_task_run(trm_task *task, trm_session *session, trm_halting halting, int32_t max_steps);

/* pass@K over the scored puzzles (0 to 1; a puzzle with several test pairs counts fractionally);
 * *scored (may be NULL) receives how many puzzles are scored. */
trm_status trm_task_pass_at_k(const trm_task *task, int32_t k, double *out, size_t *scored);
/* Distinct decoded answers of a test pair, ranked by votes, then by mean sigmoid(q_halt). */
trm_status trm_task_candidate_count(const trm_task *task, size_t puzzle, size_t test, size_t *out);
/* Candidate `rank` (0 = best): its grid into cells (capacity: room in cells; TRM_ERR_INVALID_ARGUMENT
 * when too small, with *rows and *cols set to the size needed), and its vote count (votes may be NULL). */
trm_status trm_task_candidate(const trm_task *task, size_t puzzle, size_t test, size_t rank, int32_t *cells,
                              size_t capacity, int32_t *rows, int32_t *cols, int32_t *votes);
/* Attempt 1 or 2 of a test pair, as the ARC submission has them: the top two candidates, the first
 * repeated when there is one, a 1x1 grid of 0 when there is none. */
trm_status trm_task_attempt(const trm_task *task, size_t puzzle, size_t test, int32_t attempt, int32_t *cells,
                            size_t capacity, int32_t *rows, int32_t *cols);

#ifdef __cplusplus
}
#endif

#endif /* TRM_RUNTIME_H */
