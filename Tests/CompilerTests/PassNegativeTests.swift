import Compiler
import GraphIR
import Testing
import TestSupport

/// The fusion passes where the pattern is present but must not be fused: an intermediate the fusion
/// would delete is read by a second node or is a graph output, or the pattern differs in a way the
/// fused op cannot express. Each case checks the pass leaves that instance unfused, keeps the graph
/// valid and the outputs unchanged; each hand-built graph also has a positive twin that the pass
/// does fuse, so a negative result cannot come from a pattern that never matched.
@Suite struct PassNegativeTests {
    /// One fusion pass on a lowered model where it fuses at least once.
    enum Fusion: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case addRMSNorm, attention, mamba2, mamba2Bidirectional, matMulEpilogue

        var testDescription: String { rawValue }

        var pass: GraphPass {
            switch self {
            case .addRMSNorm: return AddRMSNormFusion()
            case .attention: return AttentionFusion()
            case .mamba2, .mamba2Bidirectional: return Mamba2ScanGateFusion()
            case .matMulEpilogue: return MatMulEpilogueFusion()
            }
        }

        func model() throws -> Graph {
            switch self {
            case .addRMSNorm, .attention: return try PassTests.folded(.trmAttn)
            case .mamba2: return try PassTests.folded(.trMamba2Attn)
            case .mamba2Bidirectional: return try PassTests.folded(.trMamba2Attn, direction: .bidirectional)
            case .matMulEpilogue: return try PassTests.folded(.trmMlpT)
            }
        }

        /// Whether `node` is one this pass emits.
        func made(_ node: Node) -> Bool {
            switch self {
            case .addRMSNorm: return node.op.name == "AddRMSNorm"
            case .attention: return node.op.name == "FusedAttention"
            case .mamba2, .mamba2Bidirectional: return node.op.name == "Mamba2ScanGate"
            case .matMulEpilogue: return node.op == .matMul(epilogue: .swiGLU)
            }
        }
    }

    enum Blocker: String, CaseIterable { case secondConsumer, graphOutput }

    /// `graph` with `value` read by one more node (whose result is a graph output), or with `value`
    /// itself a graph output.
    static func blocked(_ graph: Graph, _ value: String, _ blocker: Blocker) throws -> Graph {
        let types = try Verifier.verify(graph)
        var g = graph
        switch blocker {
        case .secondConsumer:
            let out = "extra.\(value)"
            g.nodes.append(Node("extra.\(value).node", .scale(factor: 2), inputs: [value], outputs: [out]))
            g.outputs.append(ValueInfo(out, types[value]!))
        case .graphOutput:
            g.outputs.append(ValueInfo(value, types[value]!))
        }
        return g
    }

    /// The nodes the fused node `name` replaced: those `removed` by the pass that feed it through
    /// other removed nodes.
    static func chain(of name: String, in graph: Graph, removed: Set<String>) -> [Node] {
        var producer: [String: Node] = [:]
        for n in graph.nodes { for o in n.outputs { producer[o] = n } }
        var stack = graph.nodes.first { $0.name == name }!.inputs, seen = Set<String>(), chain: [Node] = []
        while let v = stack.popLast() {
            guard let p = producer[v], removed.contains(p.name), seen.insert(p.name).inserted else { continue }
            chain.append(p)
            stack += p.inputs
        }
        return chain
    }

    /// Runs `pass` (with the verifier) and checks the outputs match the graph before it; nil (and
    /// an issue recorded) when the pass leaves an invalid graph.
    @discardableResult
    static func runChecked(_ graph: Graph, _ pass: GraphPass, _ what: String) throws -> Graph? {
        let after: Graph
        do { after = try PassPipeline.run(graph, passes: [pass]) } catch {
            Issue.record("\(what): \(pass.name) left an invalid graph: \(error)")
            return nil
        }
        let diff = GraphRunner.maxDifference(try GraphRunner.run(graph), try GraphRunner.run(after))
        #expect(diff <= 1e-4, "\(what): \(pass.name) changed outputs by \(diff)")
        return after
    }

    /// Every intermediate of one fused instance, blocked in turn both ways: that instance stays
    /// unfused (its producer node survives, its consumer keeps its op), every other one still fuses.
    @Test(arguments: Fusion.allCases)
    func sharedIntermediatesBlockFusion(_ fusion: Fusion) throws {
        let before = try fusion.model()
        let fused = try PassPipeline.run(before, passes: [fusion.pass])
        let count = fused.nodes.filter(fusion.made).count
        try #require(count > 0, "\(fusion): the model has nothing to fuse")
        let names = Set(fused.nodes.map(\.name))
        let removed = Set(before.nodes.map(\.name)).subtracting(names)
        // The node the fused one replaced: a fusion keeps its anchor's outputs, not its name.
        let made = fused.nodes.first(where: fusion.made)!
        let original = before.nodes.first { $0.outputs == made.outputs }!
        let target = original.name
        let chain = Self.chain(of: target, in: before, removed: removed)
        let expected = [Fusion.addRMSNorm: 1, .attention: 5, .mamba2: 11, .mamba2Bidirectional: 11, .matMulEpilogue: 1][fusion]!
        #expect(chain.count == expected, "\(fusion): \(target) replaced \(chain.map(\.op.name))")
        for node in chain {
            for blocker in Blocker.allCases {
                let what = "\(fusion) with \(node.op.name) '\(node.outputs[0])' \(blocker.rawValue)"
                let g = try Self.blocked(before, node.outputs[0], blocker)
                guard let after = try Self.runChecked(g, fusion.pass, what) else { continue }
                #expect(
                    after.nodes.filter(fusion.made).count == count - 1,
                    "\(what): \(after.nodes.filter(fusion.made).count) of \(count) fused")
                #expect(after.nodes.contains { $0.name == node.name }, "\(what): the \(node.op.name) was removed")
                #expect(after.nodes.first { $0.name == target }?.op == original.op, "\(what): \(target) was fused")
            }
        }
    }

    // MARK: attention

    enum AttentionVariant: String, CaseIterable {
        /// The positive twin: q and k rotated with one table pair.
        case fusable
        /// No RoPE at all: fused, with identity tables.
        case fusableWithoutRoPE
        /// Only q is rotated: the fused op would rotate both.
        case onlyQRotated
        /// q and k rotated with different tables.
        case differentTables
        /// q taken from the k columns and k from the q columns.
        case swappedSlices
        /// v sliced from a second projection.
        case secondProjection
        /// The projection is wider than 3·H·d (a fourth part after v).
        case widerProjection
        /// v rotated too (the fused op does not rotate v).
        case vRotated

        var fuses: Bool { self == .fusable || self == .fusableWithoutRoPE }
    }

    static func attentionGraph(_ variant: AttentionVariant) throws -> Graph {
        let heads = 2, hd = 4, w = heads * hd, s = 5, d = 12
        var b = GraphBuilder(name: "attention-\(variant.rawValue)")
        let x = try b.input("x", TensorType(.float32, Shape(batched: [s, d])))
        let width = variant == .widerProjection ? 4 * w : 3 * w
        let qkv = try b.add(.matMul(epilogue: .none), [x, try b.constant("w_qkv", [width, d], SampleGraphs.values(width * d, seed: 3))])
        let other = try b.add(
            .matMul(epilogue: .none), [x, try b.constant("w_other", [3 * w, d], SampleGraphs.values(3 * w * d, seed: 4))])
        let t1 = try b.addNode(.ropeTable(seqLen: s, dim: hd, theta: 10000), [])
        let t2 = try b.addNode(.ropeTable(seqLen: s, dim: hd, theta: 100), [])
        let (qs, ks) = variant == .swappedSlices ? (w, 0) : (0, w)
        var q = try b.add(.slice(axis: 2, start: qs, end: qs + w), [qkv])
        var k = try b.add(.slice(axis: 2, start: ks, end: ks + w), [qkv])
        var v = try b.add(.slice(axis: 2, start: 2 * w, end: 3 * w), [variant == .secondProjection ? other : qkv])
        if variant != .fusableWithoutRoPE {
            q = try b.add(.rope(heads: heads, headDim: hd), [q, t1[0], t1[1]])
            if variant != .onlyQRotated {
                let t = variant == .differentTables ? t2 : t1
                k = try b.add(.rope(heads: heads, headDim: hd), [k, t[0], t[1]])
            }
            if variant == .vRotated { v = try b.add(.rope(heads: heads, headDim: hd), [v, t1[0], t1[1]]) }
        }
        try b.add(.attention(heads: heads, headDim: hd), [q, k, v], name: "out")
        try b.output("out")
        // The RoPE tables become constants, as they are when the fusion passes run.
        return try PassPipeline.run(try b.build(), passes: [ConstantFolding(), DeadCodeElimination()])
    }

    @Test(arguments: AttentionVariant.allCases)
    func attentionVariants(_ variant: AttentionVariant) throws {
        let before = try Self.attentionGraph(variant)
        let after = try #require(try Self.runChecked(before, AttentionFusion(), "attention \(variant.rawValue)"))
        if variant.fuses {
            #expect(after.opHistogram["FusedAttention"] == 1 && after.opHistogram["Attention"] == nil, "\(after.opHistogram)")
        } else {
            #expect(after == before, "attention \(variant.rawValue): \(before.opHistogram) -> \(after.opHistogram)")
        }
    }

    // MARK: Mamba-2

    /// widerProjection and dtBiasPerToken, like a SiLU output that is a graph output (above), were
    /// fused before the pass checked them, leaving a graph the verifier refuses.
    enum Mamba2Variant: String, CaseIterable {
        /// The positive twin: the chain the lowering emits.
        case fusable
        /// The norm's groups differ from the scan's.
        case otherNormGroups
        /// The conv runs backwards, the scan forwards.
        case convReversed
        /// dt_bias is a graph input, not a constant.
        case dtBiasNotConstant
        /// z is sliced from another in_proj output.
        case zFromAnotherProjection
        /// The in_proj output has one more column than z, xBC and dt need.
        case widerProjection
        /// dt_bias is [L, H] (a per-token bias the fused op has no input for).
        case dtBiasPerToken

        var fuses: Bool { self == .fusable }
    }

    static func mamba2Graph(_ variant: Mamba2Variant) throws -> Graph {
        let m = Mamba2Dims(heads: 2, headDim: 4, dState: 3, groups: 1), seq = 6, d = 10, k = 4
        let e = m.inner, cd = m.convChannels, gn = m.groups * m.dState
        var b = GraphBuilder(name: "mamba2-\(variant.rawValue)")
        var seed: UInt64 = 20
        func w(_ name: String, _ dims: [Int], scale: Float = 0.5) throws -> String {
            seed += 1
            return try b.constant(name, dims, SampleGraphs.values(dims.reduce(1, *), seed: seed, scale: scale))
        }
        let u = try b.input("u", TensorType(.float32, Shape(batched: [seq, d])))
        let width = m.inProjWidth + (variant == .widerProjection ? 1 : 0)
        let zx = try b.add(.matMul(epilogue: .none), [u, try w("w_in", [width, d])])
        let zx2 = try b.add(.matMul(epilogue: .none), [u, try w("w_in2", [width, d])])
        let negA = try b.add(.scale(factor: -1), [try b.add(.exp, [try w("a_log", [m.heads])])])
        let dtBias: String
        switch variant {
        case .dtBiasNotConstant: dtBias = try b.input("dt_bias", TensorType(.float32, Shape(batched: [seq, m.heads])))
        case .dtBiasPerToken: dtBias = try w("dt_bias", [seq, m.heads])
        default: dtBias = try w("dt_bias", [m.heads])
        }
        let z = try b.add(.slice(axis: 2, start: 0, end: e), [variant == .zFromAnotherProjection ? zx2 : zx])
        let xbc = try b.add(.slice(axis: 2, start: e, end: e + cd), [zx])
        let dtRaw = try b.add(.slice(axis: 2, start: e + cd, end: e + cd + m.heads), [zx])
        let conv = try b.add(
            .silu,
            [
                try b.add(
                    .conv1dCausal(reverse: variant == .convReversed),
                    [xbc, try w("conv_w", [cd, 1, k]), try w("conv_b", [cd])])
            ])
        let x = try b.add(.slice(axis: 2, start: 0, end: e), [conv])
        let bm = try b.add(.slice(axis: 2, start: e, end: e + gn), [conv])
        let cm = try b.add(.slice(axis: 2, start: e + gn, end: cd), [conv])
        let dt = try b.add(.softplus, [try b.add(.add, [dtRaw, dtBias])])
        let y = try b.add(.ssmScan(m), [x, dt, negA, bm, cm, try w("d_skip", [m.heads])])
        let groupSize = variant == .otherNormGroups ? e / 2 : e / m.groups
        try b.add(.gatedRMSNorm(groupSize: groupSize, eps: 1e-5), [y, z, try w("norm_w", [e], scale: 1)], name: "out")
        try b.output("out")
        return try PassPipeline.run(try b.build(), passes: [ConstantFolding(), DeadCodeElimination()])
    }

    @Test(arguments: Mamba2Variant.allCases)
    func mamba2Variants(_ variant: Mamba2Variant) throws {
        let before = try Self.mamba2Graph(variant)
        let after = try #require(try Self.runChecked(before, Mamba2ScanGateFusion(), "mamba2 \(variant.rawValue)"))
        if variant.fuses {
            #expect(after.opHistogram["Mamba2ScanGate"] == 1 && after.opHistogram["SSMScan"] == nil, "\(after.opHistogram)")
        } else {
            #expect(after == before, "mamba2 \(variant.rawValue): \(before.opHistogram) -> \(after.opHistogram)")
        }
    }

    // MARK: AddRMSNorm and the MatMul epilogue

    /// RMSNorm(Add(x, b)) with b broadcast ([D] or [S, D]) fuses, and the fused kernel's broadcast
    /// (rows split between threads) gives the same outputs.
    @Test(arguments: [[7], [5, 7]])
    func addRMSNormBroadcastFuses(_ bDims: [Int]) throws {
        var b = GraphBuilder(name: "add-rmsnorm")
        let x = try b.input("x", TensorType(.float32, Shape(batched: [5, 7])))
        let bias = try b.constant("bias", bDims, SampleGraphs.values(bDims.reduce(1, *), seed: 5))
        try b.add(.rmsNorm(eps: 1e-5), [try b.add(.add, [x, bias])], name: "out")
        try b.output("out")
        let after = try #require(try Self.runChecked(try b.build(), AddRMSNormFusion(), "add-rmsnorm b \(bDims)"))
        #expect(after.opHistogram == ["AddRMSNorm": 1])
    }

    /// SwiGLU over a MatMul that already has the SwiGLU epilogue (or over no MatMul) stays as it is.
    @Test func swiGLUOverAnEpilogueIsNotFusedAgain() throws {
        var b = GraphBuilder(name: "swiglu")
        let x = try b.input("x", TensorType(.float32, Shape(batched: [3, 6])))
        let once = try b.add(.matMul(epilogue: .swiGLU), [x, try b.constant("w", [8, 6], SampleGraphs.values(48, seed: 6))])
        try b.add(.swiGLU, [once], name: "twice")
        try b.add(.swiGLU, [try b.add(.scale(factor: 2), [x])], name: "plain")
        try b.output("twice")
        try b.output("plain")
        let before = try b.build()
        let after = try #require(try Self.runChecked(before, MatMulEpilogueFusion(), "swiglu over an epilogue"))
        #expect(after == before)
    }

    // MARK: constant folding and dead-code elimination

    /// A constant node whose value is a graph output stays a node; Scale(Gather) moves into the
    /// table only when the Gather's result is read by that Scale alone and is not a graph output.
    @Test(arguments: [nil, Blocker.secondConsumer, .graphOutput])
    func constantFoldingKeepsOutputsAndSharedLookups(_ blocker: Blocker?) throws {
        var b = GraphBuilder(name: "fold")
        let ids = try b.input("ids", TensorType(.int32, Shape(batched: [4])))
        let table = try b.constant("table", [5, 3], SampleGraphs.values(15, seed: 7))
        let looked = try b.add(.gather, [table, ids], name: "looked")
        try b.add(.scale(factor: 3), [looked], name: "scaled")
        try b.add(.exp, [try b.constant("c", [3], [0.5, -1, 2])], name: "constant_out")
        try b.output("scaled")
        try b.output("constant_out")
        var before = try b.build()
        if let blocker { before = try Self.blocked(before, "looked", blocker) }
        let after = try #require(try Self.runChecked(before, ConstantFolding(), "folding with \(blocker?.rawValue ?? "no blocker")"))
        #expect(after.nodes.contains { $0.outputs == ["constant_out"] && $0.op == .exp }, "the constant graph output was folded away")
        #expect(after.initializer(named: "constant_out") == nil)
        let moved = after.initializers.contains { $0.name.hasPrefix("table*") }
        #expect(moved == (blocker == nil), "Scale moved into the table: \(moved)")
        #expect(after.nodes.contains { $0.name == "Gather_1" && $0.inputs[0] == "table" } == (blocker != nil))
    }

    /// A node needed only through its second output (RoPETable's sin), and the initializers of the
    /// nodes kept, survive; a dead branch off a live value goes.
    @Test func deadCodeEliminationKeepsWhatOutputsNeed() throws {
        var b = GraphBuilder(name: "dce")
        let x = try b.input("x", TensorType(.float32, Shape(batched: [5, 4])))
        let tables = try b.addNode(.ropeTable(seqLen: 5, dim: 4, theta: 10000), [], names: ["cos", "sin"])
        let gain = try b.constant("gain", [4], [1, 2, 3, 4])
        let live = try b.add(.mul, [try b.add(.add, [x, tables[1]]), gain], name: "out")
        try b.add(.silu, [try b.add(.mul, [live, try b.constant("dead_w", [4], [1, 1, 1, 1])])], name: "dead")
        try b.output("out")
        let before = try b.build()
        let after = try #require(try Self.runChecked(before, DeadCodeElimination(), "dce"))
        #expect(after.nodes.map(\.op.name) == ["RoPETable", "Add", "Mul"])
        #expect(after.initializers.map(\.name) == ["gain"])
    }
}
