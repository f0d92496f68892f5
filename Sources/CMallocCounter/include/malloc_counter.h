#ifndef TRM_MALLOC_COUNTER_H
#define TRM_MALLOC_COUNTER_H
/// Heap allocations made by the process so far (malloc, calloc, realloc, aligned variants); -1 in a
/// sanitized build, whose allocator is the sanitizer's.
long trm_allocation_count(void);
#endif
