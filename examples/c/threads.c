/* Several threads share one model, each with its own session, as an embedding server would.
 *
 *   cc -I include examples/c/threads.c -L .build/release -ltrm_runtime -Wl,-rpath,.build/release -lpthread -o threads
 *   ./threads model.trmg [threads] [rounds]
 *
 * Each thread creates a session (with its own two-thread pool), solves the same samples `rounds`
 * times and checks that its predictions and q_halt equal those of a session run on the main thread
 * first; it also provokes an error and checks that trm_last_error() reports its own. Meanwhile
 * one more thread opens and frees a second copy of the model. `make test-tsan` runs this program
 * under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trm_runtime.h"

enum { COUNT = 3, BATCH = 2, STEPS = 2, MAX_THREADS = 16 };

static const char *model_path;
static const trm_model *shared_model;
static trm_model_info info;
static int32_t *tokens;
static int32_t *expected_preds;
static float expected_q[COUNT];
static int rounds;

typedef struct {
    int index;
    int failed;
    char message[256];
} worker;

static void fail(worker *w, const char *what) {
    w->failed = 1;
    snprintf(w->message, sizeof w->message, "thread %d: %s (%s)", w->index, what, trm_last_error());
}

static void *solve_worker(void *arg) {
    worker *w = arg;
    size_t n = (size_t)COUNT * info.seq_len;
    int32_t *preds = malloc(n * sizeof(int32_t));
    float q[COUNT];
    trm_session *session = NULL;
    if (trm_session_create(shared_model, BATCH, 2, &session) != TRM_OK) {
        fail(w, "trm_session_create failed");
        free(preds);
        return NULL;
    }
    for (int r = 0; r < rounds && !w->failed; r++) {
        if (trm_session_solve(session, tokens, NULL, COUNT, TRM_HALTING_FIXED, STEPS, NULL, preds, q, NULL) != TRM_OK) {
            fail(w, "trm_session_solve failed");
        } else if (memcmp(preds, expected_preds, n * sizeof(int32_t)) != 0 || memcmp(q, expected_q, sizeof q) != 0) {
            fail(w, "results differ from the main thread's");
        }
        /* A per-thread error: the message must name this thread's bad batch size. */
        char wanted[64];
        trm_session *bad = NULL;
        snprintf(wanted, sizeof wanted, "got %d", -1 - w->index);
        const char *message = trm_session_create(shared_model, -1 - w->index, 1, &bad) == TRM_OK ? "" : trm_last_error();
        size_t len = strlen(message), want = strlen(wanted);
        if (len < want || strcmp(message + len - want, wanted) != 0) {
            fail(w, "trm_last_error() does not describe this thread's failure");
        }
    }
    trm_session_free(session);
    free(preds);
    return NULL;
}

static void *open_worker(void *arg) {
    worker *w = arg;
    for (int r = 0; r < rounds && !w->failed; r++) {
        trm_model *m = NULL;
        if (trm_model_open(model_path, &m) != TRM_OK) fail(w, "trm_model_open failed");
        trm_model_free(m);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s model.trmg [threads] [rounds]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    int nthreads = argc > 2 ? atoi(argv[2]) : 4;
    rounds = argc > 3 ? atoi(argv[3]) : 3;
    if (nthreads < 1 || nthreads > MAX_THREADS || rounds < 1) {
        fprintf(stderr, "threads must be 1..%d and rounds at least 1\n", MAX_THREADS);
        return 2;
    }
    trm_model *model = NULL;
    if (trm_model_open(model_path, &model) != TRM_OK || trm_model_get_info(model, &info) != TRM_OK) {
        fprintf(stderr, "cannot open %s: %s\n", model_path, trm_last_error());
        return 1;
    }
    shared_model = model;
    size_t n = (size_t)COUNT * info.seq_len;
    tokens = malloc(n * sizeof(int32_t));
    expected_preds = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) tokens[i] = (int32_t)((i * 5 + i / 7) % info.vocab);

    trm_session *session = NULL;
    if (trm_session_create(model, BATCH, 2, &session) != TRM_OK ||
        trm_session_solve(session, tokens, NULL, COUNT, TRM_HALTING_FIXED, STEPS, NULL, expected_preds, expected_q, NULL) != TRM_OK) {
        fprintf(stderr, "reference solve failed: %s\n", trm_last_error());
        return 1;
    }
    trm_session_free(session);

    pthread_t ids[MAX_THREADS + 1];
    worker workers[MAX_THREADS + 1];
    memset(workers, 0, sizeof workers);
    for (int t = 0; t <= nthreads; t++) {
        workers[t].index = t;
        if (pthread_create(&ids[t], NULL, t < nthreads ? solve_worker : open_worker, &workers[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    int failed = 0;
    for (int t = 0; t <= nthreads; t++) {
        pthread_join(ids[t], NULL);
        if (workers[t].failed) {
            fprintf(stderr, "%s\n", workers[t].message);
            failed = 1;
        }
    }
    trm_model_free(model);
    free(tokens);
    free(expected_preds);
    if (failed) return 1;
    printf("%d threads x %d rounds, one shared model: ok\n", nthreads, rounds);
    return 0;
}
