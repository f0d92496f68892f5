import Compiler
import GraphIR
import Testing

/// The per-op facts table (`Op.facts`) against what the compiler really does with it.
struct OpFactsTests {
    static let presets: [Preset] = [.trmAttn, .trMamba2Attn, .trmMlpT]

    @Test(arguments: presets)
    func fusedFactsMatchTheLoweringAndThePasses(preset: Preset) throws {
        let checkpoint = try Models.checkpoint(preset)
        let lowered = try Lowering.lower(checkpoint)
        #expect(lowered.nodes.allSatisfy { !$0.op.facts.isFused }, "the lowering emits only core ops")
        #expect(lowered.fusedOpHistogram.isEmpty)
        let (model, report) = try TRMCompiler.compile(checkpoint)
        let fusedNodes = model.graph.nodes.filter(\.op.facts.isFused)
        #expect(!fusedNodes.isEmpty, "the passes fuse something in every preset")
        #expect(report.fusedOps.values.reduce(0, +) == fusedNodes.count)
        let (_, unfused) = try TRMCompiler.compile(checkpoint, fuse: false)
        #expect(unfused.fusedOps.isEmpty)
    }

    /// An output shares its input's offset only where the table allows in-place reuse: otherwise the
    /// two lifetimes overlap at that node, and the planner must keep them apart.
    @Test(arguments: presets)
    func inPlaceReuseOnlyWhereTheTableAllowsIt(preset: Preset) throws {
        let (model, _) = try TRMCompiler.compile(try Models.checkpoint(preset))
        let offset = Dictionary(uniqueKeysWithValues: model.plan.placements.map { ($0.name, $0.offset) })
        var reused = 0
        for node in model.graph.nodes {
            guard let out = offset[node.outputs[0]] else { continue }
            for (k, input) in node.inputs.enumerated() where offset[input] == out {
                #expect(node.op.facts.inPlaceInput == k, "\(node.name) (\(node.op.name)) overwrites input \(k)")
                reused += 1
            }
        }
        #expect(reused > 0, "the plan reuses some buffer in place")
    }

    @Test func fusedLabelsNameTheEpilogue() {
        #expect(Op.matMul(epilogue: .swiGLU).fusedLabel == "MatMul+SwiGLU")
        #expect(Op.matMul(epilogue: .none).fusedLabel == "MatMul")
        #expect(Op.addRMSNorm(eps: 1e-5).fusedLabel == "AddRMSNorm")
        #expect(!Op.matMul(epilogue: .none).facts.isFused && Op.matMul(epilogue: .swiGLU).facts.isFused)
    }
}
