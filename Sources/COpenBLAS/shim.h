// C interop shim for OpenBLAS (Debian libopenblas-dev).
// Debian's cblas.h declares cblas_sbgemm, but the library does not export it: never call it.
#include <cblas.h>
// openblas_set_num_threads and openblas_get_num_threads are declared by OpenBLAS's cblas.h.
