import GraphIR

/// SwiGLU(MatMul(x, W)) -> MatMul(x, W) with the SwiGLU epilogue: the gate/up product is consumed
/// block by block and never written to the arena.
public struct MatMulEpilogueFusion: GraphPass {
    public let name = "matmul-epilogue-fusion"
    public init() {}

    public func run(_ graph: consuming Graph) throws -> Graph {
        let graph = copy graph
        let index = GraphIndex(graph)
        var rewrite = Rewrite()
        for node in graph.nodes where node.op == .swiGLU {
            guard let mm = index.soleProducer(node.inputs[0], .matMul), mm.op == .matMul(epilogue: .none) else { continue }
            rewrite.removed.insert(mm.name)
            let name = NodeNames.replacing(node.name, role: NodeNames.role(of: mm.name) + "_swiglu")
            rewrite.replacements[node.name] = Node(name, .matMul(epilogue: .swiGLU), inputs: mm.inputs, outputs: node.outputs)
        }
        return rewrite.apply(to: graph)
    }
}
