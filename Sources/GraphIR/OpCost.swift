/// Floating-point operations of one node for one sample (by the op's `OpFacts.Cost`), split the way reports need them: matrix
/// products (MatMul and attention, 2·m·n·k), the Mamba-2 recurrence (~5·P·N per head-token) and
/// everything else (one per output element). The one per-node FLOP formula: trm-compile's summary
/// (`FlopCounter`) and trm-bench's rates both sum it. (`ModelConfig.stepFlopsPerSample` estimates
/// the products from a config before there is a graph, for the cap; a test holds it to this.)
public struct OpCost: Sendable, Equatable {
    public var gemm = 0.0
    public var scan = 0.0
    public var other = 0.0

    public init() {}

    public var total: Double { gemm + scan + other }

    /// The cost of `node` with the verified `types` of its graph.
    public init(_ node: Node, types: [String: TensorType]) {
        let out = types[node.outputs[0]]!.shape
        let outCount = Double(out.isBatched ? (out.elementsPerSample ?? 0) : 0)
        switch node.op.facts.cost {
        case .matMul(let e):
            gemm = 2 * Double(types[node.inputs[1]]!.shape.sampleDims[1]) * outCount * (e == .swiGLU ? 2 : 1)
        case .attention(let h, let d):
            let s = Double(out.sampleDims[0])
            gemm = 4 * s * s * Double(h * d)
        case .scan(let m):
            scan = 5 * Double(out.sampleDims[0]) * Double(m.heads * m.headDim * m.dState)
        case .perElement:
            other = outCount
        }
    }

    /// The summed cost of every node of `graph`.
    public static func perSample(_ graph: Graph, types: [String: TensorType]) -> OpCost {
        var sum = OpCost()
        for node in graph.nodes {
            let c = OpCost(node, types: types)
            sum.gemm += c.gemm
            sum.scan += c.scan
            sum.other += c.other
        }
        return sum
    }
}
