import GraphIR

/// A validated, loaded `.trmg`: the step graph with every value's type, the weights copied into one
/// 64-byte-aligned arena, the memory plan and the model config (when the plan carries one).
/// Immutable and shareable between sessions.
public final class LoadedModel: @unchecked Sendable {
    public let graph: Graph
    public let plan: ModelPlan
    public let types: [String: TensorType]
    public let config: ModelConfig?
    public let metadata: [String: String]
    let weights: AlignedBuffer
    let weightOffsets: [String: Int]
    /// Where each planned value lives in a sample's slice of the arena.
    let placements: [String: ValuePlacement]

    /// Loads and validates a `.trmg` file.
    public convenience init(path: String) throws {
        try self.init(try TrmgReader.read(path: path))
    }

    /// Loads and validates `.trmg` bytes.
    public convenience init(bytes: [UInt8]) throws {
        try self.init(try TrmgReader.parse(bytes))
    }

    /// Validates a model in memory: graph, plan bounds and carry bindings.
    public init(_ model: TrmgModel) throws {
        graph = model.graph
        plan = model.plan
        metadata = model.metadata
        types = try Verifier.verify(model.graph)
        config = model.plan.configJSON == "{}" ? nil : try ModelConfig.parse(json: model.plan.configJSON)
        var offset = 0
        var offsets: [String: Int] = [:]
        for i in graph.initializers {
            offsets[i.name] = offset
            offset += (i.data.count * 4 + 63) / 64 * 64
        }
        weights = try AlignedBuffer(bytes: offset)
        for i in graph.initializers {
            let dst = weights.base + offsets[i.name]!
            switch i.data {
            case .float32(let v): v.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            case .int32(let v): v.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
        }
        weightOffsets = offsets
        placements = try Self.validatePlan(plan, graph: graph, types: types)
    }

    /// Every computed value and graph input must have a placement that fits its size inside the
    /// per-sample arena; carry bindings must name matching outputs, inputs and [D] initializers.
    static func validatePlan(_ plan: ModelPlan, graph: Graph, types: [String: TensorType]) throws -> [String: ValuePlacement] {
        guard plan.arenaBytesPerSample > 0 else { throw TRMErrorBridge.badModel("the model has no memory plan (run it through trm-compile)") }
        var byName: [String: ValuePlacement] = [:]
        for p in plan.placements {
            guard byName[p.name] == nil else { throw TRMErrorBridge.badModel("plan: value '\(p.name)' is placed twice") }
            guard let t = types[p.name], graph.initializer(named: p.name) == nil else {
                throw TRMErrorBridge.badModel("plan: '\(p.name)' is not a computed value of the graph")
            }
            let needed = (t.shape.elementsPerSample ?? Int.max) * t.dtype.byteSize
            guard p.bytesPerSample >= needed, p.offset >= 0, p.offset % 64 == 0,
                  p.offset + p.bytesPerSample <= plan.arenaBytesPerSample else {
                throw TRMErrorBridge.badModel("plan: value '\(p.name)' (\(needed) bytes) does not fit at offset \(p.offset) of a \(plan.arenaBytesPerSample)-byte arena")
            }
            byName[p.name] = p
        }
        let computed = graph.inputs.map(\.name) + graph.nodes.flatMap(\.outputs)
        if let missing = computed.first(where: { byName[$0] == nil }) {
            throw TRMErrorBridge.badModel("plan: value '\(missing)' has no place in the arena")
        }
        for c in plan.carry {
            guard let from = types[c.from], let to = types[c.to], from == to,
                  graph.outputs.contains(where: { $0.name == c.from }), graph.inputs.contains(where: { $0.name == c.to }) else {
                throw TRMErrorBridge.badModel("plan: carry \(c.from) -> \(c.to) does not bind an output to an input of the same type")
            }
            guard let initial = graph.initializer(named: c.initial), let last = to.shape.sampleDims.last,
                  initial.dims == [last], initial.data.dtype == .float32 else {
                throw TRMErrorBridge.badModel("plan: carry initial value '\(c.initial)' must be a [\(to.shape.sampleDims.last ?? 0)] initializer")
            }
        }
        return byName
    }

    /// Pointer to an initializer's data.
    func weight(_ name: String) -> UnsafeMutablePointer<Float>? {
        weightOffsets[name].map { weights.floats(at: $0) }
    }
}
