import Dispatch
import Runtime

/// The number of threads the trainer's parallel loops (`TrainerThreads.parts`) use. OpenBLAS stays
/// single-threaded (`BlasBuffers.startWithoutOpenBLASThreads`): its own pool spun in `sched_yield`
/// between the trainer's many small products and fought the trainer's work for the two cores
/// (17 % of a step in the scheduler), so the trainer splits each product's output rows (and
/// attention's heads) over its threads itself, each part calling single-threaded GEMMs.
public enum BlasThreads {
    /// Sets `count` threads (at least one); an error when their GEMM buffers would not fit.
    public static func set(_ count: Int) throws {
        let n = max(1, count)
        try BlasBuffers.checkRoom(threads: n)
        Gemm.setThreads(1)
        TrainerThreads.runCount = n
    }
}

/// The trainer's split of independent work over `BlasThreads.set`'s threads. Every split keeps each
/// output's summation order in trm's own kernels, so those give the same bits whatever the thread
/// count; products left on OpenBLAS (Linear's dx) may differ by fp32 rounding with the row split.
enum TrainerThreads {
    /// Set once by `BlasThreads.set` before a run starts, read by every parallel loop after.
    nonisolated(unsafe) static var runCount = 1

    /// A thread count for the current task only (tests run splits side by side with it).
    @TaskLocal static var override: Int?

    /// The threads the next split uses.
    static var count: Int { override ?? runCount }

    /// Calls `body(range)` for disjoint ranges covering 0..<work, at once on up to `count` threads
    /// (one range on the calling thread when the work is smaller than two parts of `minPerPart`).
    /// The ranges must touch disjoint outputs.
    static func parts(_ work: Int, minPerPart: Int = 1, _ body: (Range<Int>) -> Void) {
        let n = min(count, work / max(1, minPerPart))
        guard n > 1 else {
            if work > 0 { body(0..<work) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: n) { i in
            body((work * i / n)..<(work * (i + 1) / n))
        }
    }
}
