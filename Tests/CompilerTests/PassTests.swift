import Compiler
import GraphIR
import Testing

/// Each pass tested twice: the graph has the expected ops afterwards, and the outputs are
/// numerically unchanged.
@Suite struct PassTests {
    static func lowered(_ preset: Preset, direction: ScanDirection = .causal) throws -> Graph {
        try Lowering.lower(Models.checkpoint(preset, direction: direction))
    }

    static func folded(_ preset: Preset, direction: ScanDirection = .causal) throws -> Graph {
        try PassPipeline.run(lowered(preset, direction: direction), passes: [ConstantFolding()])
    }

    func check(_ before: Graph, _ pass: GraphPass, tolerance: Float = 1e-4) throws -> Graph {
        let after = try PassPipeline.run(before, passes: [pass])
        let diff = GraphRunner.maxDifference(try GraphRunner.run(before), try GraphRunner.run(after))
        #expect(diff <= tolerance, "\(pass.name) changed outputs by \(diff)")
        return after
    }

    @Test func constantFolding() throws {
        let before = try Self.lowered(.trMamba2Attn)
        let after = try check(before, ConstantFolding())
        let ops = after.opHistogram
        #expect(ops["RoPETable"] == nil && ops["Exp"] == nil)
        #expect(before.opHistogram["Scale"]! > (ops["Scale"] ?? 0))
        #expect(after.initializers.contains { $0.name.hasPrefix("embed_tokens.embedding_weight*") })
    }

    /// Folding scales a table in place only when the graph it consumes holds the sole reference:
    /// a caller that keeps the graph keeps its values, and the scaled table is exactly table × √D.
    @Test func constantFoldingLeavesTheCallersTablesAlone() throws {
        let before = try Self.lowered(.trmAttn)
        let name = "embed_tokens.embedding_weight"
        let original = try #require(before.initializer(named: name)?.data.floats)
        let after = try PassPipeline.run(before, passes: [ConstantFolding()])
        #expect(before.initializer(named: name)?.data.floats == original, "the caller's table changed")
        let scaled = try #require(after.initializers.first { $0.name.hasPrefix(name + "*") })
        let factor = try #require(Float(scaled.name.split(separator: "*")[1]))
        #expect(scaled.data.floats == original.map { $0 * factor })
        #expect(after.initializer(named: name) == nil)
    }

    @Test func deadCodeElimination() throws {
        var g = try Self.folded(.trmAttn)
        g.nodes.append(Node("dead", .silu, inputs: [g.nodes[0].outputs[0]], outputs: ["dead.out"]))
        g.initializers.append(Initializer(name: "unused", dims: [1], floats: [1]))
        let after = try check(g, DeadCodeElimination())
        #expect(!after.nodes.contains { $0.name == "dead" })
        #expect(after.initializer(named: "unused") == nil)
    }

    @Test(arguments: [Preset.trmAttn, .trMamba2Attn, .trmMlpT])
    func addRMSNormFusion(preset: Preset) throws {
        let before = try Self.folded(preset)
        let after = try check(before, AddRMSNormFusion())
        #expect(after.opHistogram["RMSNorm"] == nil)
        #expect(after.opHistogram["AddRMSNorm"] == before.opHistogram["RMSNorm"])
    }

    @Test func attentionFusion() throws {
        let before = try Self.folded(.trmAttn)
        let after = try check(before, AttentionFusion())
        #expect(after.opHistogram["Attention"] == nil && after.opHistogram["RoPE"] == nil)
        #expect(after.opHistogram["FusedAttention"] == before.opHistogram["Attention"])
    }

    @Test(arguments: [ScanDirection.causal, .reverse, .bidirectional])
    func mamba2ScanGateFusion(direction: ScanDirection) throws {
        let before = try Self.folded(.trMamba2Attn, direction: direction)
        let after = try check(before, Mamba2ScanGateFusion())
        #expect(after.opHistogram["SSMScan"] == nil && after.opHistogram["Conv1dCausal"] == nil)
        #expect(after.opHistogram["Mamba2ScanGate"] == before.opHistogram["SSMScan"])
    }

    @Test func matMulEpilogueFusion() throws {
        let before = try Self.folded(.trmMlpT)
        let after = try check(before, MatMulEpilogueFusion())
        #expect(after.opHistogram["SwiGLU"] == nil)
        #expect(after.nodes.filter { $0.op == .matMul(epilogue: .swiGLU) }.count == before.opHistogram["SwiGLU"])
    }
}
