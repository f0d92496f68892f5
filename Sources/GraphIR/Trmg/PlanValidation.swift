import TRMCore
extension ModelPlan {
    /// Byte alignment of every value in the arena (and of the arena): the planner's and the loader's.
    public static let alignment = 64

    /// Bytes a value of type `t` occupies in one sample's slice of the arena.
    public static func placedBytes(_ t: TensorType) -> Int {
        ((t.shape.elementsPerSample ?? 0) * t.dtype.byteSize + alignment - 1) / alignment * alignment
    }

    /// Checks the plan against its graph (with the verified `types`) before anything is allocated
    /// for it, and returns the placements by name:
    /// - halt_max_steps within `ModelLimits.maxHaltSteps`, and equal to the config's when the plan
    ///   carries a config (which must itself be valid, caps included);
    /// - every computed value and graph input placed once, at an aligned offset, with exactly its
    ///   own size;
    /// - the declared arena exactly what the placements reach, and no larger than every value in a
    ///   buffer of its own (a plan never needs more), so a file cannot claim memory it does not use;
    /// - carry bindings that name an output, an input of the same type and a [D] fp32 initializer.
    public func validate(graph: Graph, types: [String: TensorType]) throws -> [String: ValuePlacement] {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "plan: \(why)") }
        guard haltMaxSteps >= 1, haltMaxSteps <= ModelLimits.maxHaltSteps else {
            throw fail("halt_max_steps \(haltMaxSteps) is outside 1...\(ModelLimits.maxHaltSteps)")
        }
        if configJSON != "{}" {
            let config = try ModelConfig.parse(json: configJSON)
            guard config.haltMaxSteps == haltMaxSteps else {
                throw fail("halt_max_steps \(haltMaxSteps) disagrees with the model config's \(config.haltMaxSteps)")
            }
        }
        guard arenaBytesPerSample > 0 else { throw fail("the model has no memory plan (run it through trm-compile)") }
        var byName: [String: ValuePlacement] = [:]
        var reach = 0
        for p in placements {
            guard byName[p.name] == nil else { throw fail("value '\(p.name)' is placed twice") }
            guard let t = types[p.name], graph.initializer(named: p.name) == nil else {
                throw fail("'\(p.name)' is not a computed value of the graph")
            }
            let needed = Self.placedBytes(t)
            guard p.bytesPerSample == needed, p.offset >= 0, p.offset % Self.alignment == 0,
                p.offset <= arenaBytesPerSample - needed
            else {
                throw fail(
                    "value '\(p.name)' (\(needed) bytes) is placed as \(p.bytesPerSample) bytes at offset \(p.offset) of a \(arenaBytesPerSample)-byte arena"
                )
            }
            reach = max(reach, p.offset + needed)
            byName[p.name] = p
        }
        let computed = graph.inputs.map(\.name) + graph.nodes.flatMap(\.outputs)
        if let missing = computed.first(where: { byName[$0] == nil }) { throw fail("value '\(missing)' has no place in the arena") }
        let unplanned = Set(computed).reduce(0) { $0 + Self.placedBytes(types[$1]!) }
        guard arenaBytesPerSample == max(reach, Self.alignment), arenaBytesPerSample <= max(unplanned, Self.alignment) else {
            throw fail(
                "the arena is declared as \(arenaBytesPerSample) bytes per sample; its placements need \(max(reach, Self.alignment))"
                    + " (every value in its own buffer: \(unplanned))")
        }
        for c in carry {
            guard let from = types[c.from], let to = types[c.to], from == to,
                graph.outputs.contains(where: { $0.name == c.from }), graph.inputs.contains(where: { $0.name == c.to })
            else {
                throw fail("carry \(c.from) -> \(c.to) does not bind an output to an input of the same type")
            }
            guard let initial = c.initialVector(in: graph), let last = to.shape.sampleDims.last, initial.count == last else {
                throw fail(
                    "carry initial value '\(c.initial)' must be [\(to.shape.sampleDims.last ?? 0)] values (or, in a version 1 plan, such an initializer)"
                )
            }
        }
        return byName
    }
}
