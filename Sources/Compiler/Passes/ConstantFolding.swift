import GraphIR
import Runtime
import TRMCore

/// Evaluates at compile time every node whose inputs are all constants (A = -exp(A_log), the RoPE
/// tables, ...) with the runtime's own kernels, and moves a constant Scale of an embedding lookup
/// into the table (the √D embedding scale): Scale(Gather(T, i)) -> Gather(T·s, i).
public struct ConstantFolding: GraphPass {
    public let name = "constant-folding"
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        var constants = Set(graph.initializers.map(\.name))
        var folded: [Node] = []
        for node in graph.nodes {
            if node.inputs.allSatisfy(constants.contains), !node.outputs.contains(where: { n in graph.outputs.contains { $0.name == n } }) {
                let values = try evaluate(node, in: g)
                g.initializers.append(contentsOf: values)
                constants.formUnion(node.outputs)
            } else {
                folded.append(node)
            }
        }
        g.nodes = folded
        return try scaleIntoGather(g)
    }

    /// Runs one node on constant inputs through a one-node graph and the runtime.
    private func evaluate(_ node: Node, in graph: Graph) throws -> [Initializer] {
        var b = GraphBuilder(name: "fold")
        for name in node.inputs where b.types[name] == nil { try b.constant(graph.initializer(named: name)!) }
        try b.addNode(node.op, node.inputs, names: node.outputs)
        for o in node.outputs { try b.output(o) }
        let sub = try b.build()
        let model = try LoadedModel(TrmgModel(graph: sub, plan: try MemoryPlanner.modelPlan(sub)))
        let session = try Session(model: model, batch: 1, threads: 1)
        try session.step()
        return try node.outputs.map { name in
            let t = model.types[name]!
            guard !t.shape.isBatched else { throw TRMError(.invalidGraph, "constant folding: '\(name)' has a batch axis") }
            let data: TensorData = t.dtype == .float32 ? .float32(session.floats(name)) : .int32(session.int32s(name))
            return Initializer(name: name, dims: t.shape.sampleDims, data: data)
        }
    }

    private func scaleIntoGather(_ graph: Graph) throws -> Graph {
        let index = GraphIndex(graph)
        var g = graph
        var rewrite = Rewrite()
        for node in graph.nodes {
            guard case .scale(let factor) = node.op, let gather = index.soleProducer(node.inputs[0], .gather),
                let table = graph.initializer(named: gather.inputs[0]), let values = table.data.floats
            else { continue }
            let name = "\(table.name)*\(factor)"
            if g.initializer(named: name) == nil {
                g.initializers.append(Initializer(name: name, dims: table.dims, floats: values.map { $0 * factor }))
            }
            rewrite.removed.insert(gather.name)
            rewrite.replacements[node.name] = Node(node.name, .gather, inputs: [name, gather.inputs[1]], outputs: node.outputs)
        }
        return rewrite.apply(to: g)
    }
}
