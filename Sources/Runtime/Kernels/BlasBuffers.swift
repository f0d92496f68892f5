import Foundation
import CKernels
import COpenBLAS
import GraphIR
import TRMCore

/// OpenBLAS's GEMM buffers, taken before the first step instead of in the middle of one.
///
/// OpenBLAS allocates a 128 MiB buffer (Debian x86-64 build: BUFFER_SIZE plus a page) for each
/// thread that runs a GEMM, the first time it does, and when that allocation fails it retries for
/// ever (the loop in `blas_memory_alloc`): under `ulimit -v` a run would spin at 100 % CPU on every
/// thread instead of failing. So a session first checks that the address space has room for one
/// buffer per thread (a PROT_NONE reservation, which counts against RLIMIT_AS but touches no
/// memory), then makes all its threads run one GEMM at once so OpenBLAS takes the buffers there
/// and then; OpenBLAS keeps and reuses them, so the steps never allocate again.
public enum BlasBuffers {
    /// Address space OpenBLAS takes per GEMM-running thread.
    public static let bytesPerThread = (128 << 20) + 4096
    /// Room kept beyond the buffers for what the run allocates later (results, task data).
    public static let headroomBytes = 64 << 20

    /// Makes OpenBLAS start with no worker threads of its own; executables call it first thing.
    /// OpenBLAS starts its workers when it is loaded, from OPENBLAS_NUM_THREADS (default: every
    /// core), and each worker takes its buffer at once, retrying for ever when that fails, so the
    /// variable must be 1 before the program starts: when it is not, this sets it and re-executes
    /// the program (same PID, arguments and otherwise the same environment). The runtime runs its
    /// GEMMs on its own threads; the trainer raises OpenBLAS's count after `checkRoom`.
    ///
    /// The same re-execution also fixes OpenBLAS's choice of kernels (`coreTypeOverride`).
    public static func startWithoutOpenBLASThreads() {
        var restart = false
        if getenv("OPENBLAS_NUM_THREADS").map({ String(cString: $0) }) != "1" {
            setenv("OPENBLAS_NUM_THREADS", "1", 1)
            restart = true
        }
        if getenv("OPENBLAS_CORETYPE") == nil, let core = coreTypeOverride(chosen: coreName, vectorLevel: Int(trm_cpu_vector_level())) {
            setenv("OPENBLAS_CORETYPE", core, 1)
            restart = true
        }
        guard restart else { return }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // No /proc: go on with OpenBLAS's own threads (they only matter under address-space limits).
    }

    /// The kernels OpenBLAS chose when it was loaded (`openblas_get_corename`, e.g. "Haswell").
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS picks its kernels from the CPU model when it is loaded, and a release that predates
    /// the CPU falls back to its SSE3 kernels: Debian 12's 0.3.21 runs a recent Xeon (family 6,
    /// model 207) as "Prescott", at a quarter of its AVX-512 sgemm speed. The core type to force
    /// instead (`OPENBLAS_CORETYPE`), from the CPU's own feature flags: SkylakeX on AVX-512
    /// (`vectorLevel` 2), Haswell on AVX2 + FMA (1); nil when the chosen core already uses them or
    /// the CPU has neither.
    public static func coreTypeOverride(chosen: String, vectorLevel: Int) -> String? {
        let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
        let avx2Cores: Set<String> = avx512Cores.union(["haswell", "zen", "skylake"])
        switch vectorLevel {
        case 2... where !avx512Cores.contains(chosen.lowercased()) && !avx2Cores.contains(chosen.lowercased()): return "SkylakeX"
        case 1... where !avx2Cores.contains(chosen.lowercased()): return "Haswell"
        default: return nil
        }
    }

    /// Throws a clear error when the address space cannot hold `threads` OpenBLAS buffers.
    public static func checkRoom(threads: Int) throws {
        let bytes = threads * bytesPerThread + headroomBytes
        let p = mmap(nil, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != MAP_FAILED else {
            let room = SystemMemory.limitHeadroom().map { ", and the address-space limit (ulimit -v) leaves \($0 >> 20) MiB" } ?? ""
            throw TRMErrorBridge.outOfMemory(
                "not enough address space for OpenBLAS: \(threads) thread(s) need \(bytes >> 20) MiB for their GEMM buffers\(room); raise the limit or use fewer --threads"
            )
        }
        munmap(p, bytes)
    }

    /// Runs one GEMM on every thread of `pool` at the same time, so OpenBLAS takes a buffer for
    /// each now. Call after `checkRoom`.
    static func warmUp(_ pool: ThreadPool) {
        let warm = WarmUp(parts: pool.size)
        pool.run(parts: pool.size, warm, PartTag(index: 0))
    }

    /// Each part waits until every part has started, then multiplies two 256×256 matrices: large
    /// enough to take OpenBLAS's buffered path and to overlap with the other parts.
    private final class WarmUp: PartRunner, @unchecked Sendable {
        static let n = 256
        let parts: Int
        var arrived = 0
        let lock = NSCondition()
        init(parts: Int) { self.parts = parts }

        func runPart(_ tag: PartTag, part: Int, of parts: Int) {
            lock.lock()
            arrived += 1
            lock.broadcast()
            let deadline = Date().addingTimeInterval(1)
            while arrived < parts, lock.wait(until: deadline) {}
            lock.unlock()
            let n = Self.n
            let x = [Float](repeating: 1, count: n * n), w = [Float](repeating: 0.5, count: n * n)
            var out = [Float](repeating: 0, count: n * n)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    out.withUnsafeMutableBufferPointer { Gemm.xwt(xp, wp, $0, m: n, n: n, k: n) }
                }
            }
        }
    }
}
