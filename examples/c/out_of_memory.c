/* Allocation failure through the C API: TRM_ERR_OUT_OF_MEMORY with a message, and the process
 * (and the model) goes on working.
 *
 *   cc -Wall -Werror -I include examples/c/out_of_memory.c -L .build/release -ltrm_runtime \
 *      -Wl,-rpath,.build/release -o out_of_memory
 *   OPENBLAS_NUM_THREADS=1 ./out_of_memory model.trmg [seq_len,vocab,ids,halt_steps,hidden,full_seq_len]
 *
 * After a reference solve, it lowers the address-space limit (RLIMIT_AS) to what the process uses
 * plus 256 MiB: a session of the largest batch (65536) cannot get its activation arena, then a
 * session of batch 2 still works there and solves as before. With only 64 MiB to spare, even a
 * batch-1 session is refused (no room for OpenBLAS's 128 MiB GEMM buffer). With the limit back,
 * a two-thread session solves as before. The optional list is the expected trm_model_get_info,
 * checked field by field, with guard words after the struct that must stay untouched.
 * OPENBLAS_NUM_THREADS=1 is required (see trm_runtime.h): OpenBLAS must not start threads of its
 * own when the library is loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "trm_runtime.h"

enum { COUNT = 3, BIG_BATCH = 65536 };

static trm_model *model;
static trm_model_info info;
static int32_t *tokens;
static int32_t *expected_preds;
static float expected_q[COUNT];

/* Address space in use now (VmSize), in bytes; 0 when unknown. */
static unsigned long long used_address_space(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1) break;
    }
    fclose(f);
    return kb * 1024;
}

/* Sets the soft address-space limit to what is used now plus `room` bytes (0: back to `hard`). */
static int limit_address_space(unsigned long long room) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) != 0) return -1;
    if (room == 0) {
        r.rlim_cur = r.rlim_max;
    } else {
        unsigned long long used = used_address_space();
        if (used == 0) return -1;
        r.rlim_cur = used + room;
    }
    return setrlimit(RLIMIT_AS, &r);
}

/* Solves the samples with a new session of `batch` slots and `threads` threads; 0 when the
 * predictions and q_halt equal the reference's. */
static int solve_matches(int32_t batch, int32_t threads, const char *what) {
    size_t n = (size_t)COUNT * info.seq_len;
    int32_t preds[COUNT * 1024];
    float q[COUNT];
    trm_session *session = NULL;
    if (n > sizeof preds / sizeof preds[0]) return 1;
    if (trm_session_create(model, batch, threads, &session) != TRM_OK) {
        fprintf(stderr, "%s: trm_session_create(batch %d) failed: %s\n", what, batch, trm_last_error());
        return 1;
    }
    trm_status s = trm_session_solve(session, tokens, NULL, COUNT, TRM_HALTING_FIXED, 2, NULL, preds, q, NULL);
    trm_session_free(session);
    if (s != TRM_OK) {
        fprintf(stderr, "%s: trm_session_solve failed: %s\n", what, trm_last_error());
        return 1;
    }
    if (memcmp(preds, expected_preds, n * sizeof(int32_t)) != 0 || memcmp(q, expected_q, sizeof q) != 0) {
        fprintf(stderr, "%s: results differ from the reference solve\n", what);
        return 1;
    }
    printf("%s: batch %d, %d thread(s) -> same results\n", what, batch, threads);
    return 0;
}

/* Expects trm_session_create(batch, threads) to fail with TRM_ERR_OUT_OF_MEMORY and a message. */
static int expect_out_of_memory(int32_t batch, int32_t threads, const char *what) {
    trm_session *session = NULL;
    trm_status s = trm_session_create(model, batch, threads, &session);
    const char *message = trm_last_error();
    if (s != TRM_ERR_OUT_OF_MEMORY || session != NULL || message[0] == '\0') {
        fprintf(stderr, "%s: trm_session_create(batch %d) gave status %d (want %d), session %p, message '%s'\n",
                what, batch, (int)s, (int)TRM_ERR_OUT_OF_MEMORY, (void *)session, message);
        if (s == TRM_OK) trm_session_free(session);
        return 1;
    }
    printf("%s: batch %d -> out of memory: %s\n", what, batch, message);
    return 0;
}

/* trm_model_get_info writes exactly the header's struct: the six expected fields, nothing after. */
static int check_info(const char *expected) {
    struct {
        trm_model_info info;
        int32_t guard[4];
    } probe;
    memset(&probe, 0x5a, sizeof probe);
    if (trm_model_get_info(model, &probe.info) != TRM_OK) {
        fprintf(stderr, "trm_model_get_info failed: %s\n", trm_last_error());
        return 1;
    }
    for (int i = 0; i < 4; i++) {
        if (probe.guard[i] != 0x5a5a5a5a) {
            fprintf(stderr, "trm_model_get_info wrote past trm_model_info\n");
            return 1;
        }
    }
    const trm_model_info *m = &probe.info;
    char got[128];
    snprintf(got, sizeof got, "%d,%d,%d,%d,%d,%d", m->seq_len, m->vocab, m->num_puzzle_ids, m->halt_max_steps,
             m->hidden, m->full_seq_len);
    if (expected && strcmp(got, expected) != 0) {
        fprintf(stderr, "trm_model_get_info: got %s, expected %s\n", got, expected);
        return 1;
    }
    printf("info: seq_len,vocab,ids,halt_steps,hidden,full_seq_len = %s\n", got);
    info = *m;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s model.trmg [seq_len,vocab,ids,halt_steps,hidden,full_seq_len]\n", argv[0]);
        return 2;
    }
    const char *blas = getenv("OPENBLAS_NUM_THREADS");
    if (!blas || strcmp(blas, "1") != 0) {
        fprintf(stderr, "run with OPENBLAS_NUM_THREADS=1 (see trm_runtime.h)\n");
        return 2;
    }
    if (trm_model_open(argv[1], &model) != TRM_OK) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], trm_last_error());
        return 1;
    }
    if (check_info(argc > 2 ? argv[2] : NULL) != 0) return 1;
    if (info.seq_len < 1 || info.seq_len > 1024 || info.vocab < 1) {
        fprintf(stderr, "unexpected model sizes\n");
        return 1;
    }
    size_t n = (size_t)COUNT * info.seq_len;
    tokens = malloc(n * sizeof(int32_t));
    expected_preds = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) tokens[i] = (int32_t)((i * 5 + i / 7) % info.vocab);

    /* The reference, before any limit (this also gives the main thread its OpenBLAS buffer). */
    trm_session *session = NULL;
    if (trm_session_create(model, 2, 1, &session) != TRM_OK ||
        trm_session_solve(session, tokens, NULL, COUNT, TRM_HALTING_FIXED, 2, NULL, expected_preds, expected_q, NULL) != TRM_OK) {
        fprintf(stderr, "reference solve failed: %s\n", trm_last_error());
        return 1;
    }
    trm_session_free(session);

    int failed = 0;
    if (limit_address_space(256ull << 20) != 0) {
        perror("setrlimit");
        return 1;
    }
    failed |= expect_out_of_memory(BIG_BATCH, 1, "256 MiB to spare");
    failed |= solve_matches(2, 1, "256 MiB to spare");
    if (limit_address_space(64ull << 20) != 0) {
        perror("setrlimit");
        return 1;
    }
    failed |= expect_out_of_memory(1, 1, "64 MiB to spare");
    if (limit_address_space(0) != 0) {
        perror("setrlimit");
        return 1;
    }
    failed |= solve_matches(2, 2, "no limit");

    trm_model_free(model);
    free(tokens);
    free(expected_preds);
    if (failed) return 1;
    printf("out of memory -> TRM_ERR_OUT_OF_MEMORY, the process goes on: ok\n");
    return 0;
}
