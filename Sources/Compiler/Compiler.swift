import Foundation
import GraphIR

/// Checkpoint -> `.trmg`: lowering, the pass pipeline and the memory plan.
public struct CompileReport: Sendable {
    public var config: ModelConfig
    public var nodesBefore: Int
    public var nodesAfter: Int
    public var opsAfter: [String: Int]
    /// Fused nodes by `Op.fusedLabel` (`Graph.fusedOpHistogram`).
    public var fusedOps: [String: Int]
    public var flopsPerSample: Double
    public var arenaBytesPerSample: Int
    /// Every value of the step graph in its own buffer, after the passes.
    public var naiveBytesPerSample: Int
    /// Every value of the lowered graph (no fusion, no planning) in its own buffer.
    public var loweredNaiveBytesPerSample: Int
    public var weightBytes: Int
}

public enum TRMCompiler {
    /// Compiles a checkpoint into a model with its plan, and a report for the summary.
    public static func compile(_ checkpoint: Checkpoint, fuse: Bool = true) throws -> (TrmgModel, CompileReport) {
        let lowered = try Lowering.lower(checkpoint)
        var graph = try PassPipeline.run(lowered, passes: PassPipeline.passes(fuse: fuse))
        // The initial carries are read by the ACT loop, not by the graph: keep them.
        for name in [StepGraphNames.hInit, StepGraphNames.lInit] where graph.initializer(named: name) == nil {
            graph.initializers.append(Initializer(name: name, dims: [checkpoint.config.hidden], floats: checkpoint[name]))
        }
        let config = checkpoint.config
        var plan = try MemoryPlanner.modelPlan(graph)
        plan.configJSON = config.jsonString()
        plan.taskJSON = checkpoint.taskJSON
        plan.haltMaxSteps = config.haltMaxSteps
        plan.carry = [
            CarryBinding(from: StepGraphNames.zHNext, to: StepGraphNames.zH, initial: StepGraphNames.hInit),
            CarryBinding(from: StepGraphNames.zLNext, to: StepGraphNames.zL, initial: StepGraphNames.lInit),
        ]
        plan.identifiers = checkpoint.identifiers ?? []
        let carryJSON =
            "["
            + plan.carry.map {
                "{\"from\":\(JSONText.quote($0.from)),\"init\":\(JSONText.quote($0.initial)),\"to\":\(JSONText.quote($0.to))}"
            }
            .joined(separator: ",") + "]"
        let metadata = [
            "trm.config": plan.configJSON, "trm.task": plan.taskJSON, "trm.carry": carryJSON,
            "trm.halt_max_steps": String(config.haltMaxSteps), "trm.fused": fuse ? "1" : "0",
        ]
        let model = TrmgModel(graph: graph, plan: plan, metadata: metadata)
        let report = CompileReport(
            config: config, nodesBefore: lowered.nodes.count, nodesAfter: graph.nodes.count,
            opsAfter: graph.opHistogram, fusedOps: graph.fusedOpHistogram, flopsPerSample: try FlopCounter.flopsPerSample(graph),
            arenaBytesPerSample: plan.arenaBytesPerSample, naiveBytesPerSample: plan.naiveBytesPerSample,
            loweredNaiveBytesPerSample: try MemoryPlanner.naiveBytes(lowered),
            weightBytes: graph.initializers.reduce(0) { $0 + $1.data.count * 4 })
        return (model, report)
    }
}
