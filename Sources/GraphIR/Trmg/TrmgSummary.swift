import TRMCore

/// Human-readable summaries of models and checkpoints (for `trm-info` and the compile report).
extension TrmgModel {
    /// A multi-line summary: inputs, outputs, node counts per op, weights, plan.
    public var summary: String {
        let weights = graph.initializers.reduce(0) { $0 + $1.data.count }
        var lines = [
            "graph       \(graph.name): \(graph.nodes.count) nodes, \(graph.initializers.count) initializers (\(weights) values)",
            "inputs      " + graph.inputs.map { "\($0.name) \($0.type)" }.joined(separator: ", "),
            "outputs     " + graph.outputs.map { "\($0.name) \($0.type)" }.joined(separator: ", "),
            "ops         " + graph.opHistogram.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "),
            "plan        halt_max_steps \(plan.haltMaxSteps), arena \(plan.arenaBytesPerSample) B/sample (naive \(plan.naiveBytesPerSample)), workspace \(plan.workspaceBytes) B",
        ]
        let mapped = graph.initializers.compactMap { i -> MappedBytes? in
            if case .mapped(_, let bytes) = i.data { return bytes }
            return nil
        }
        if let file = mapped.first?.file {
            lines.append("external    \(mapped.count) initializers, \(mapped.reduce(0) { $0 + $1.count }) bytes mapped from \(file.path)")
        }
        if !plan.carry.isEmpty {
            lines.append("carry       " + plan.carry.map { "\($0.from) -> \($0.to) (init \($0.initial))" }.joined(separator: ", "))
        }
        lines.append("producer    \(TrmgFormat.producerName) \(producerVersion)")
        return lines.joined(separator: "\n")
    }
}

extension Checkpoint {
    /// A multi-line summary: architecture, sizes, parameter count, metadata.
    public var summary: String {
        let c = config
        var lines = [
            "format      \(Checkpoint.formatTag)",
            "sublayers   \(c.sublayers.map(\.rawValue).joined(separator: ", "))",
            "sizes       hidden \(c.hidden), heads \(c.heads), vocab \(c.vocab), L \(c.seqLen) + prefix \(c.puzzleEmbLen) = S \(c.fullSeqLen)",
            "recursion   H_cycles \(c.hCycles) × (L_cycles \(c.lCycles) + 1), \(c.haltMaxSteps) ACT steps",
            "params      \(c.parameterCount) (puzzle table \(c.numPuzzleIds)×\(c.puzzleEmbNdim), H_init, L_init excluded)",
            "tensors     \(tensors.count)",
            "task        \(taskJSON)",
        ]
        if let ids = identifiers { lines.append("identifiers \(ids.count)") }
        if let t = trainJSON { lines.append("train       \(t)") }
        return lines.joined(separator: "\n")
    }
}
