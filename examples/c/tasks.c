/* Solves Sudoku/Maze puzzles and ARC puzzles through the C API's task layer: the library encodes,
 * augments, runs, un-augments and votes; this program only reads text and prints grids.
 *
 *   cc -I include examples/c/tasks.c -L .build/release -ltrm_runtime -Wl,-rpath,.build/release -o tasks
 *   ./tasks sudoku model.trmg puzzles.csv [num_aug]     # a CSV as trm-data writes: source,question,answer,rating
 *   ./tasks arc model.trmg puzzle.json NAME [num_aug]   # one ARC puzzle's JSON text
 *
 * Sudoku/Maze print one line per puzzle and pass@1; ARC prints, per test pair, the two attempts and
 * the ranked candidates with their votes. Progress goes to stderr through the progress callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trm_runtime.h"

#define CHECK(call)                                                                                          \
    do {                                                                                                     \
        trm_status s_ = (call);                                                                              \
        if (s_ != TRM_OK) {                                                                                  \
            fprintf(stderr, "%s failed: %s (%d): %s\n", #call, trm_status_string(s_), (int)s_, trm_last_error()); \
            return 1;                                                                                        \
        }                                                                                                    \
    } while (0)

static void progress(size_t done, size_t total, void *user) {
    (void)user;
    fprintf(stderr, "\rprogress %zu/%zu", done, total);
    if (done == total) fprintf(stderr, "\n");
}

static void print_grid(const char *label, const int32_t *cells, int32_t rows, int32_t cols) {
    printf("%s %dx%d", label, rows, cols);
    for (int32_t i = 0; i < rows * cols; i++) printf("%s%d", i % cols == 0 ? " |" : " ", cells[i]);
    printf("\n");
}

/* The whole file as a NUL-terminated string (NULL on failure). */
static char *read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *length = n;
    return buf;
}

static int run_grids(trm_task *task, trm_session *session, const char *csv) {
    size_t length;
    char *text = read_file(csv, &length);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", csv);
        return 1;
    }
    /* Skip the header; each line is source,question,answer,rating. */
    for (char *line = strtok(strchr(text, '\n') ? strchr(text, '\n') + 1 : text, "\n"); line; line = strtok(NULL, "\n")) {
        char *question = strchr(line, ','), *answer = question ? strchr(question + 1, ',') : NULL;
        char *rating = answer ? strchr(answer + 1, ',') : NULL;
        if (!rating) continue;
        *question++ = 0, *answer++ = 0, *rating = 0;
        CHECK(trm_task_add_grid(task, question, answer, NULL));
    }
    free(text);
    CHECK(trm_task_run(task, session, TRM_HALTING_FIXED, 0));
    size_t puzzles;
    CHECK(trm_task_puzzle_count(task, &puzzles));
    int32_t cells[900], rows, cols;
    for (size_t p = 0; p < puzzles; p++) {
        char label[64];
        snprintf(label, sizeof label, "puzzle %zu attempt", p);
        CHECK(trm_task_attempt(task, p, 0, 1, cells, 900, &rows, &cols));
        print_grid(label, cells, rows, cols);
    }
    double pass1;
    size_t scored;
    CHECK(trm_task_pass_at_k(task, 1, &pass1, &scored));
    printf("pass@1 %.6f of %zu\n", pass1, scored);
    return 0;
}

static int run_arc(trm_task *task, trm_session *session, const char *path, const char *name) {
    size_t length;
    char *json = read_file(path, &length);
    if (!json) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    size_t p, tests, count;
    CHECK(trm_task_add_arc_json(task, name, json, length, &p));
    free(json);
    CHECK(trm_task_run(task, session, TRM_HALTING_FIXED, 0));
    CHECK(trm_task_test_count(task, p, &tests));
    int32_t cells[900], rows, cols, votes;
    for (size_t t = 0; t < tests; t++) {
        for (int a = 1; a <= 2; a++) {
            char label[96];
            snprintf(label, sizeof label, "test %zu attempt_%d", t, a);
            CHECK(trm_task_attempt(task, p, t, a, cells, 900, &rows, &cols));
            print_grid(label, cells, rows, cols);
        }
        CHECK(trm_task_candidate_count(task, p, t, &count));
        for (size_t r = 0; r < count; r++) {
            char label[96];
            CHECK(trm_task_candidate(task, p, t, r, cells, 900, &rows, &cols, &votes));
            snprintf(label, sizeof label, "test %zu candidate %zu votes %d", t, r, votes);
            print_grid(label, cells, rows, cols);
        }
    }
    double pass2;
    size_t scored;
    CHECK(trm_task_pass_at_k(task, 2, &pass2, &scored));
    printf("pass@2 %.6f of %zu\n", pass2, scored);
    return 0;
}

int main(int argc, char **argv) {
    int arc = argc >= 5 && strcmp(argv[1], "arc") == 0;
    int grids = argc >= 4 && (strcmp(argv[1], "sudoku") == 0 || strcmp(argv[1], "maze") == 0);
    if (!arc && !grids) {
        fprintf(stderr, "usage: %s sudoku|maze model.trmg puzzles.csv [num_aug]\n       %s arc model.trmg puzzle.json NAME [num_aug]\n",
                argv[0], argv[0]);
        return 2;
    }
    if (trm_api_version() < TRM_API_VERSION) {
        fprintf(stderr, "the library implements API %d, this program needs %d\n", trm_api_version(), TRM_API_VERSION);
        return 1;
    }
    const char *aug = argv[arc ? 5 : 4];
    int num_aug = aug ? atoi(aug) : (arc ? 7 : 0);
    trm_model *model = NULL;
    CHECK(trm_model_open(argv[2], &model));
    trm_session *session = NULL;
    CHECK(trm_session_create(model, 8, 0, &session));
    CHECK(trm_session_set_progress(session, progress, NULL));
    trm_task *task = NULL;
    trm_task_kind kind = arc ? TRM_TASK_ARC : strcmp(argv[1], "maze") == 0 ? TRM_TASK_MAZE : TRM_TASK_SUDOKU;
    CHECK(trm_task_create(model, kind, num_aug, 0, &task));
    trm_model_free(model); /* the session and the task keep the model alive */
    int rc = arc ? run_arc(task, session, argv[3], argv[4]) : run_grids(task, session, argv[3]);
    trm_task_free(task);
    trm_session_free(session);
    return rc;
}
