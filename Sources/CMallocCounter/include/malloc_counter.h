#ifndef TRM_MALLOC_COUNTER_H
#define TRM_MALLOC_COUNTER_H
/// Heap allocations made by the process so far (malloc, calloc, realloc, aligned variants).
long trm_allocation_count(void);
#endif
