import GraphIR

/// RMSNorm(Add(a, b)) -> AddRMSNorm(a, b): the post-norm residual in one pass over memory.
public struct AddRMSNormFusion: GraphPass {
    public let name = "add-rmsnorm-fusion"
    public init() {}

    public func run(_ graph: consuming Graph) throws -> Graph {
        let graph = copy graph
        let index = GraphIndex(graph)
        var rewrite = Rewrite()
        for node in graph.nodes {
            guard case .rmsNorm(let eps) = node.op, let add = index.soleProducer(node.inputs[0], .add) else { continue }
            rewrite.removed.insert(add.name)
            rewrite.replacements[node.name] = Node(
                NodeNames.replacing(node.name, role: "add_norm"), .addRMSNorm(eps: eps), inputs: add.inputs, outputs: node.outputs)
        }
        return rewrite.apply(to: graph)
    }
}
