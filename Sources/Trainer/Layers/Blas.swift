import Runtime

/// The number of threads the trainer's matrix products (`Gemm`) use: OpenBLAS's pool. The tools
/// start OpenBLAS without workers (`BlasBuffers.startWithoutOpenBLASThreads`), so the trainer sets
/// it explicitly, after checking that the address space holds a GEMM buffer for every thread.
public enum BlasThreads {
    /// Sets `count` threads (at least one); an error when their GEMM buffers would not fit.
    public static func set(_ count: Int) throws {
        let n = max(1, count)
        try BlasBuffers.checkRoom(threads: n)
        Gemm.setThreads(n)
    }
}
