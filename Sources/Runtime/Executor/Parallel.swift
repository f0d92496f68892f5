import Dispatch

/// Splits `count` work items into at most `threads` contiguous chunks run concurrently. Kernels run
/// inside must not call OpenBLAS (its own threads would oversubscribe the cores).
enum Parallel {
    static func chunks(_ count: Int, threads: Int, minPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        indexedChunks(count, threads: threads, minPerChunk: minPerChunk) { _, r in body(r) }
    }

    /// As `chunks`, also passing the chunk's index (< threads), e.g. to pick a per-thread workspace.
    static func indexedChunks(_ count: Int, threads: Int, minPerChunk: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        let n = max(1, min(threads, count / max(1, minPerChunk)))
        if n <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let lo = count * i / n, hi = count * (i + 1) / n
            if hi > lo { body(i, lo..<hi) }
        }
    }
}
