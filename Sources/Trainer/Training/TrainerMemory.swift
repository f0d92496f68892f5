import CKernels

/// Keeps the memory a training step frees for the next step, for processes that train.
///
/// A step allocates and frees the same few hundred arrays, many of them megabytes; by default
/// glibc hands blocks over its mmap threshold and the free top of the heap back to the kernel,
/// and the next step faults them in again page by page, zeroed (`clear_page`, `exc_page_fault`
/// and the memsets behind them: ~5 % of a small-size step). With the largest mmap threshold glibc
/// accepts (32 MiB) and a 1 GiB trim threshold they stay in the process: a small-size tr-mamba2attn
/// step ran ~8 % faster on Zen 4 (1 thread), and the resident size stays at the step's high-water mark.
/// Process-wide, so the executables call it (trm-train, trm-bench --trainer), not the library.
public enum TrainerMemory {
    /// Sets the allocator's thresholds (a no-op without glibc); returns whether both were accepted.
    @discardableResult
    public static func retainFreedMemory() -> Bool { trm_retain_freed_memory(32 << 20, 1 << 30) == 1 }
}
