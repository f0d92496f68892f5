import GraphIR
import TRMCore

/// A validated, loaded `.trmg`: the step graph with every value's type, the weights (inline ones
/// copied into one 64-byte-aligned buffer, external ones used in place in their mapped sidecar,
/// which the model keeps mapped for its life), the memory plan and the model config (when the plan
/// carries one). Immutable and shareable between sessions.
public final class LoadedModel: @unchecked Sendable {
    public let graph: Graph
    public let plan: ModelPlan
    public let types: [String: TensorType]
    public let config: ModelConfig?
    public let metadata: [String: String]
    let weights: AlignedBuffer
    /// Every initializer's first byte: in `weights` or in a mapped sidecar.
    let weightAddresses: [String: UnsafeMutableRawPointer]
    /// The sidecars that mapped weights live in, kept mapped as long as the model.
    let mappedFiles: [MappedFile]
    /// Bytes of weights used in place from mapped files (not copied).
    public let mappedWeightBytes: Int
    /// Where each planned value lives in a sample's slice of the arena.
    let placements: [String: ValuePlacement]
    /// The kernels' scratch memory, known from the graph alone.
    public let workspace: KernelWorkspace

    /// Loads and validates a `.trmg` file.
    public convenience init(path: String) throws {
        try self.init(try TrmgReader.read(path: path))
    }

    /// Loads and validates `.trmg` bytes.
    public convenience init(bytes: [UInt8]) throws {
        try self.init(try TrmgReader.parse(bytes))
    }

    /// Validates a model in memory (graph, step signature, plan, workspace, limits) before it
    /// allocates anything for it, then copies the weights into the arena.
    public init(_ model: TrmgModel) throws {
        guard model.graph.nodes.count <= ModelLimits.maxStepNodes else {
            throw TRMErrorBridge.badModel(
                "the step graph has \(model.graph.nodes.count) nodes, over the limit of \(ModelLimits.maxStepNodes)")
        }
        graph = model.graph
        plan = model.plan
        metadata = model.metadata
        types = try Verifier.verify(model.graph)
        placements = try model.plan.validate(graph: graph, types: types)
        config = model.plan.configJSON == "{}" ? nil : try ModelConfig.parse(json: model.plan.configJSON)
        workspace = KernelWorkspace(graph: graph, types: types)
        signature = Result { [graph, types] in try StepSignature(graph: graph, types: types) }
        guard plan.workspaceBytes == workspace.bytesPerThread else {
            throw TRMErrorBridge.badModel(
                "plan: the workspace is declared as \(plan.workspaceBytes) bytes per thread; this runtime's kernels need \(workspace.bytesPerThread) (recompile the model with this trm-compile)"
            )
        }
        // Mapped tensors at 64-byte-aligned offsets are used where they are; the rest is copied.
        var offset = 0
        var offsets: [String: Int] = [:]
        var mapped: [String: MappedBytes] = [:]
        for i in graph.initializers {
            if case .mapped(_, let bytes) = i.data, bytes.isAligned(to: 64), bytes.count > 0 {
                mapped[i.name] = bytes
            } else {
                offsets[i.name] = offset
                offset += (i.data.count * i.data.dtype.byteSize + 63) / 64 * 64
            }
        }
        weights = try AlignedBuffer(bytes: offset)
        var addresses: [String: UnsafeMutableRawPointer] = [:]
        for i in graph.initializers {
            if let bytes = mapped[i.name] {
                // Read-only pages: the kernels only ever read weights.
                addresses[i.name] = UnsafeMutableRawPointer(mutating: bytes.unsafeAddress!)
                continue
            }
            let dst = weights.base + offsets[i.name]!
            i.data.withUnsafeBytes { if let src = $0.baseAddress { dst.copyMemory(from: src, byteCount: $0.count) } }
            addresses[i.name] = dst
        }
        weightAddresses = addresses
        mappedFiles = mapped.values.reduce(into: [MappedFile]()) { files, b in
            if !files.contains(where: { $0 === b.file }) { files.append(b.file) }
        }
        mappedWeightBytes = mapped.values.reduce(0) { $0 + $1.count }
    }

    /// The step graph's inputs and outputs (sequence length, vocabularies, puzzle ids), or an error
    /// when the model is not a TRM step graph (a one-node graph the compiler evaluates, say).
    public func stepSignature() throws -> StepSignature { try signature.get() }
    private let signature: Result<StepSignature, Error>

    /// Where value `name` lives, as `T` values, for a session of `batch` samples whose activations
    /// are in `arena`: an initializer's data in the weights, else the value's planned place in the
    /// arena (the plan's per-sample offset times the batch). The one place the executor turns names
    /// into typed pointers.
    /// The fp32 values of weight `name`, or nil when it is not a weight (a value of the arena).
    func weight(_ name: String) -> UnsafeBufferPointer<Float>? {
        guard let raw = weightAddresses[name], let t = types[name], t.dtype == .float32, let n = t.shape.elementsPerSample else {
            return nil
        }
        return UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: n)
    }

    func pointer<T>(_ name: String, as type: T.Type, batch: Int, arena: AlignedBuffer) -> UnsafeMutablePointer<T> {
        let raw = weightAddresses[name] ?? arena.base + batch * placements[name]!.offset
        return raw.assumingMemoryBound(to: type)
    }
}
