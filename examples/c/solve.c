/* Solves a few samples with a compiled model through the C API, then drives ACT steps by hand.
 *
 *   cc -I include examples/c/solve.c -L .build/release -ltrm_runtime -Wl,-rpath,.build/release -o solve
 *   ./solve model.trmg [act_steps]
 *
 * Tokens are a deterministic in-range pattern; the example prints predictions and q_halt, checks
 * that the step-level API reproduces the solve, and that a bad path gives an error, not a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trm_runtime.h"

#define CHECK(call)                                                                     \
    do {                                                                                \
        trm_status s_ = (call);                                                         \
        if (s_ != TRM_OK) {                                                             \
            fprintf(stderr, "%s failed (%d): %s\n", #call, (int)s_, trm_last_error()); \
            return 1;                                                                   \
        }                                                                               \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s model.trmg [act_steps]\n", argv[0]);
        return 2;
    }
    int steps = argc > 2 ? atoi(argv[2]) : 2;
    printf("%s\n", trm_version());

    trm_model *bad = NULL;
    if (trm_model_open("/nonexistent/model.trmg", &bad) == TRM_OK) {
        fprintf(stderr, "opening a missing file succeeded\n");
        return 1;
    }
    printf("missing file -> error: %s\n", trm_last_error());

    trm_model *model = NULL;
    CHECK(trm_model_open(argv[1], &model));
    trm_model_info info;
    CHECK(trm_model_get_info(model, &info));
    printf("model: L=%d vocab=%d ids=%d halt_max_steps=%d hidden=%d\n", info.seq_len, info.vocab, info.num_puzzle_ids,
           info.halt_max_steps, info.hidden);

    const int count = 3, batch = 2;
    size_t n = (size_t)count * info.seq_len;
    int32_t *tokens = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) tokens[i] = (int32_t)((i * 7 + i / 5) % info.vocab);
    int32_t *preds = malloc(n * sizeof(int32_t));
    float q_halt[3];
    int32_t ran[3];

    trm_session *session = NULL;
    CHECK(trm_session_create(model, batch, 0, &session));
    CHECK(trm_session_solve(session, tokens, NULL, count, TRM_HALTING_FIXED, steps, NULL, preds, q_halt, ran));
    for (int s = 0; s < count; s++) {
        printf("sample %d: steps %d q_halt %.4f preds", s, ran[s], q_halt[s]);
        for (int i = 0; i < 8 && i < info.seq_len; i++) printf(" %d", preds[s * info.seq_len + i]);
        printf(" ...\n");
    }

    /* Step by hand on the first `batch` samples: must match the solve. */
    CHECK(trm_session_load(session, tokens, NULL));
    for (int k = 0; k < steps; k++) CHECK(trm_session_step(session));
    int32_t *step_preds = malloc((size_t)batch * info.seq_len * sizeof(int32_t));
    CHECK(trm_session_predictions(session, step_preds, (size_t)batch * info.seq_len));
    float step_q[2];
    CHECK(trm_session_read(session, "q_halt", step_q, batch));
    if (memcmp(step_preds, preds, (size_t)batch * info.seq_len * sizeof(int32_t)) != 0 || step_q[0] != q_halt[0]) {
        fprintf(stderr, "step-level results differ from the solve\n");
        return 1;
    }
    if (trm_session_read(session, "no_such_output", step_q, 1) == TRM_OK) {
        fprintf(stderr, "reading an unknown output succeeded\n");
        return 1;
    }
    tokens[0] = info.vocab; /* out of range */
    if (trm_session_solve(session, tokens, NULL, count, TRM_HALTING_FIXED, steps, NULL, NULL, NULL, NULL) != TRM_ERR_INVALID_INPUT) {
        fprintf(stderr, "an out-of-range token was accepted\n");
        return 1;
    }
    printf("bad token -> error: %s\n", trm_last_error());

    trm_session_free(session);
    trm_model_free(model);
    free(tokens);
    free(preds);
    free(step_preds);
    printf("ok\n");
    return 0;
}
