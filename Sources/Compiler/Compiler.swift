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
    /// Compiles a checkpoint into a model with its plan, and a report for the summary. The
    /// checkpoint is consumed: once lowered, its tensors live only in the graph, so that a caller
    /// that hands it over (`compile(try Checkpoint.read(...))`) holds no second copy of a large table.
    public static func compile(_ checkpoint: consuming Checkpoint, fuse: Bool = true) throws -> (TrmgModel, CompileReport) {
        let lowered = try Lowering.lower(checkpoint)
        // The initial carries are read by the ACT loop, not by the graph: they go in the plan.
        let hInit = checkpoint[StepGraphNames.hInit], lInit = checkpoint[StepGraphNames.lInit]
        checkpoint.tensors = [:]
        let nodesBefore = lowered.nodes.count, loweredNaive = try MemoryPlanner.naiveBytes(lowered)
        // Consumed too: the lowered weights go when the passes have replaced them (the scaled tables).
        let graph = try PassPipeline.run(consume lowered, passes: PassPipeline.passes(fuse: fuse))
        let config = checkpoint.config
        var plan = try MemoryPlanner.modelPlan(graph)
        plan.configJSON = config.jsonString()
        plan.taskJSON = checkpoint.taskJSON
        plan.haltMaxSteps = config.haltMaxSteps
        plan.carry = [
            CarryBinding(from: StepGraphNames.zHNext, to: StepGraphNames.zH, initial: StepGraphNames.hInit, initialValues: hInit),
            CarryBinding(from: StepGraphNames.zLNext, to: StepGraphNames.zL, initial: StepGraphNames.lInit, initialValues: lInit),
        ]
        plan.identifiers = checkpoint.identifiers ?? []
        // The values as the fp64 numbers equal to the fp32 ones, so that any JSON reader gets them exactly.
        let carryJSON =
            "["
            + plan.carry.map {
                "{\"from\":\(JSONText.quote($0.from)),\"init\":\(JSONText.quote($0.initial)),\"init_values\":["
                    + ($0.initialValues ?? []).map { Double($0).description }.joined(separator: ",")
                    + "],\"to\":\(JSONText.quote($0.to))}"
            }
            .joined(separator: ",") + "]"
        let metadata = [
            "trm.config": plan.configJSON, "trm.task": plan.taskJSON, "trm.carry": carryJSON,
            "trm.halt_max_steps": String(config.haltMaxSteps), "trm.fused": fuse ? "1" : "0",
        ]
        let model = TrmgModel(graph: graph, plan: plan, metadata: metadata)
        let report = CompileReport(
            config: config, nodesBefore: nodesBefore, nodesAfter: graph.nodes.count,
            opsAfter: graph.opHistogram, fusedOps: graph.fusedOpHistogram, flopsPerSample: try FlopCounter.flopsPerSample(graph),
            arenaBytesPerSample: plan.arenaBytesPerSample, naiveBytesPerSample: plan.naiveBytesPerSample,
            loweredNaiveBytesPerSample: loweredNaive,
            weightBytes: graph.initializers.reduce(0) { $0 + $1.data.count * 4 })
        return (model, report)
    }
}
