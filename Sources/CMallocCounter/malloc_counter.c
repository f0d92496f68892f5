// Counts heap allocations of the whole process (Swift runtime, Foundation, OpenBLAS included) by
// interposing the allocation functions and forwarding to glibc. Linked only into trm-bench.
#include <stdatomic.h>
#include <stddef.h>
#include <errno.h>

#include "malloc_counter.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TRM_SANITIZED_ALLOCATOR 1
#endif
#endif

#ifdef TRM_SANITIZED_ALLOCATOR
// A sanitizer owns malloc and free: interposing them too would hand its pointers to glibc. The
// count is then unknown (-1), and trm-bench says so.
long trm_allocation_count(void) { return -1; }
#else

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic long allocations;

static inline void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t n) { count(); return __libc_memalign(alignment, n); }
void *aligned_alloc(size_t alignment, size_t n) { count(); return __libc_memalign(alignment, n); }
int posix_memalign(void **out, size_t alignment, size_t n) {
    count();
    void *p = __libc_memalign(alignment, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

long trm_allocation_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
#endif
