/*
 * trm_runtime.h: the C API of the trm runtime (libtrm_runtime.so).
 *
 * Open a compiled model (.trmg), create a session for a batch size and thread count, then either
 * solve whole token arrays (the ACT loop with halting and slot refill) or drive ACT steps yourself.
 * Every function returns a trm_status; on failure trm_last_error() describes the problem (the
 * message is per thread and stays valid until that thread's next failing call). No function aborts
 * the process on bad input.
 *
 * Handles are not shared between threads: use one session per thread (a model may be shared).
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

#ifdef __cplusplus
extern "C" {
#endif

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
    TRM_ERR_INTERNAL = 6
} trm_status;

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

/* A session holds all memory for `batch` slots; threads = 0 means all cores. Its matrix products run in fp32. */
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

/* Step-level use: load `batch` samples into the slots (fresh carries), then run ACT steps. */
trm_status trm_session_load(trm_session *session, const int32_t *tokens, const int32_t *puzzle_ids);
/* One ACT step on every slot; the carries advance to the step's outputs. */
trm_status trm_session_step(trm_session *session);
/* Copies the last step's output `name` ("logits" [batch*L*vocab], "q_halt" [batch], "z_H_next", ...)
 * into out; `count` must equal the output's element count. */
trm_status trm_session_read(trm_session *session, const char *name, float *out, size_t count);
/* Argmax of the last step's logits: [batch * L]. */
trm_status trm_session_predictions(trm_session *session, int32_t *out, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* TRM_RUNTIME_H */
