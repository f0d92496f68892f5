import Foundation
import GraphIR
import TRMCore

/// Runs the step graph of a loaded model for a fixed batch size. All memory (the activation arena
/// and the per-thread workspace) is allocated once here; `step()` allocates nothing.
public final class Session {
    public let model: LoadedModel
    public let batch: Int
    public let threads: Int
    let arena: AlignedBuffer
    let workspace: AlignedBuffer
    let workspaceFloatsPerThread: Int
    let program: [Step]
    /// The error a part of the running instruction reported (`execute` throws it).
    var partFailure: TRMError?
    let pool: ThreadPool
    let shared: AlignedBuffer
    /// Copies of the shared buffer in `shared`: 1, or one per thread (`init`).
    let sharedCopies: Int

    /// Largest batch a session accepts.
    public static let maxBatch = 1 << 16
    /// Most worker threads a session may have.
    public static let maxThreads = 1024

    /// The arithmetic of the matrix products (`Precision`).
    public let precision: Precision
    /// bf16 sessions: seconds spent packing the weights at creation, and bytes of packed weights
    /// (0 for fp32).
    public let packingSeconds: Double
    public let packedBytes: Int

    public init(
        model: LoadedModel, batch: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, precision: Precision = .fp32
    ) throws {
        guard batch >= 1, batch <= Session.maxBatch else {
            throw TRMError(.invalidInput, "batch must be 1...\(Session.maxBatch), got \(batch)")
        }
        guard threads >= 1, threads <= Session.maxThreads else {
            throw TRMError(.invalidInput, "threads must be 1...\(Session.maxThreads), got \(threads)")
        }
        let bytes = try AlignedBuffer.checkedSize(batch, model.plan.arenaBytesPerSample, what: "the activations of batch \(batch)")
        self.model = model
        self.batch = batch
        self.threads = threads
        arena = try AlignedBuffer(bytes: bytes)
        self.precision = precision
        let packed = try PackedWeightSet(model: model, precision: precision)
        packingSeconds = packed.seconds
        packedBytes = packed.bytes
        program = ProgramBuilder(model: model, batch: batch, arena: arena, precision: precision, packed: packed, threads: threads).build()
        workspaceFloatsPerThread = model.workspace.floatsPerThread(precision)
        workspace = try AlignedBuffer(
            bytes: AlignedBuffer.checkedSize(workspaceFloatsPerThread * threads, 4, what: "the kernel workspaces"))
        // One copy per thread where the fused Mamba-2 layer gives each part whole samples (it uses its
        // part's copy, `ScanGateArgs`); every other instruction uses the first.
        sharedCopies = ScanGateArgs.splitsBySample(batch: batch, threads: threads) ? threads : 1
        shared = try AlignedBuffer(
            bytes: AlignedBuffer.checkedSize(model.workspace.sharedFloats * sharedCopies, 4, what: "the shared kernel buffers"))
        try BlasBuffers.checkRoom(threads: threads)
        pool = try ThreadPool(size: threads)
        Gemm.setThreads(1)
        BlasBuffers.warmUp(pool)
        instructionSeconds = [Double](repeating: 0, count: program.count)
        instructionAllocations = [Int](repeating: 0, count: program.count)
    }

    /// Pointer to a value of the step graph in the arena (or a weight), as `T` values.
    func pointer<T>(_ name: String, as type: T.Type = Float.self) -> UnsafeMutablePointer<T> {
        model.pointer(name, as: type, batch: batch, arena: arena)
    }

    /// Elements of `name` for this batch size.
    public func count(_ name: String) -> Int? {
        guard let t = model.types[name] else { return nil }
        return t.shape.isBatched ? batch * (t.shape.elementsPerSample ?? 0) : t.shape.elementsPerSample
    }

    /// Copies `values` into graph input `name` (fp32).
    public func setInput(_ name: String, floats values: [Float]) throws {
        try checkInput(name, .float32, values.count)
        values.withUnsafeBufferPointer { pointer(name).update(from: $0.baseAddress!, count: values.count) }
    }

    /// Copies `values` into graph input `name` (int32).
    public func setInput(_ name: String, int32 values: [Int32]) throws {
        try checkInput(name, .int32, values.count)
        values.withUnsafeBufferPointer {
            pointer(name, as: Int32.self).update(from: $0.baseAddress!, count: values.count)
        }
    }

    private func checkInput(_ name: String, _ dtype: DType, _ n: Int) throws {
        guard let t = model.types[name], model.graph.inputs.contains(where: { $0.name == name }) else {
            throw TRMError(.invalidInput, "'\(name)' is not an input of the model")
        }
        guard t.dtype == dtype, n == count(name) else {
            throw TRMError(
                .invalidInput, "input '\(name)' needs \(count(name) ?? 0) \(t.dtype.rawValue) values, got \(n) \(dtype.rawValue)")
        }
    }

    /// The current values of `name` (fp32).
    public func floats(_ name: String) -> [Float] {
        guard let n = count(name), model.types[name]?.dtype == .float32 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer(name), count: n))
    }

    /// The current values of `name` (int32).
    public func int32s(_ name: String) -> [Int32] {
        guard let n = count(name), model.types[name]?.dtype == .int32 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer(name, as: Int32.self), count: n))
    }

    /// When true, `step()` accumulates the wall time of every instruction into `instructionSeconds`.
    public var profiling = false
    /// Seconds spent in each node of the graph (in node order) while `profiling` was on.
    public private(set) var instructionSeconds: [Double]

    /// Heap allocations made by each node while `profiling` was on (needs `allocationCounter`).
    public private(set) var instructionAllocations: [Int]
    /// A process-wide allocation counter (trm-bench links one) used by profiling.
    nonisolated(unsafe) public static var allocationCounter: (@convention(c) () -> Int)?

    deinit { pool.shutdown() }

    /// Runs the step graph once on the current inputs.
    public func step() throws {
        // OpenBLAS runs single-threaded inside our own threads (its threaded path allocates per call
        // and would oversubscribe the cores).
        Gemm.setThreads(1)
        if profiling {
            for i in program.indices {
                let a0 = Session.allocationCounter?() ?? 0
                let t0 = DispatchTime.now().uptimeNanoseconds
                try execute(i)
                instructionSeconds[i] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                instructionAllocations[i] += (Session.allocationCounter?() ?? 0) - a0
            }
        } else {
            for i in program.indices { try execute(i) }
        }
    }

    /// Profiled allocations summed per op name.
    public var allocationsPerOp: [String: Int] {
        var out: [String: Int] = [:]
        for (node, n) in zip(model.graph.nodes, instructionAllocations) where n > 0 { out[node.op.name, default: 0] += n }
        return out
    }

    /// Profiled seconds summed per op name (a fused op by its `Op.fusedLabel`, e.g. "MatMul+SwiGLU").
    public var secondsPerOp: [String: Double] {
        var out: [String: Double] = [:]
        for (node, t) in zip(model.graph.nodes, instructionSeconds) { out[node.op.fusedLabel, default: 0] += t }
        return out
    }

    /// Profiled seconds of the nodes whose op satisfies `include` (e.g. every op costed as a scan).
    public func profiledSeconds(where include: (Op) -> Bool) -> Double {
        zip(model.graph.nodes, instructionSeconds).reduce(0) { $0 + (include($1.0.op) ? $1.1 : 0) }
    }

    /// Workspace of thread `t`.
    @inline(__always)
    func scratch(_ t: Int) -> UnsafeMutablePointer<Float> { workspace.floats(at: t * workspaceFloatsPerThread * 4) }
}
