import GraphIR
import Runtime
import TRMCore

/// Evaluates at compile time every node whose inputs are all constants (A = -exp(A_log), the RoPE
/// tables, ...) with the runtime's own kernels, and moves a constant Scale of an embedding lookup
/// into the table (the √D embedding scale): Scale(Gather(T, i)) -> Gather(T·s, i).
public struct ConstantFolding: GraphPass {
    public let name = "constant-folding"
    public init() {}

    public func run(_ graph: consuming Graph) throws -> Graph {
        // Each step's graph is a temporary, handed on without a copy kept here.
        try scaleIntoGather(try foldConstants(graph))
    }

    /// Replaces each node whose inputs are all constants by its outputs, as initializers.
    private func foldConstants(_ graph: consuming Graph) throws -> Graph {
        var g = graph
        var constants = Set(g.initializers.map(\.name))
        let outputs = Set(g.outputs.map(\.name))
        var kept: [Node] = []
        for node in g.nodes {
            if node.inputs.allSatisfy(constants.contains), !node.outputs.contains(where: outputs.contains) {
                let values = try evaluate(node, in: g)
                g.initializers.append(contentsOf: values)
                constants.formUnion(node.outputs)
            } else {
                kept.append(node)
            }
        }
        g.nodes = kept
        return g
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

    /// A table read by nothing else is scaled in place (a 1.8 GB puzzle table is not copied), under
    /// the new name; one read elsewhere too keeps its values and gets a scaled copy.
    private func scaleIntoGather(_ graph: consuming Graph) throws -> Graph {
        var g = graph
        var rewrite = Rewrite()
        var tables: [(table: String, scaled: String, factor: Float, inPlace: Bool)] = []
        do {
            let index = GraphIndex(g)
            for node in g.nodes {
                guard case .scale(let factor) = node.op, let gather = index.soleProducer(node.inputs[0], .gather),
                    let table = g.initializer(named: gather.inputs[0]), table.data.dtype == .float32
                else { continue }
                let name = "\(table.name)*\(factor)"
                if !tables.contains(where: { $0.scaled == name }) {
                    let soleReader = index.uses[table.name] == 1 && !index.outputs.contains(table.name)
                    tables.append((table.name, name, factor, soleReader))
                }
                rewrite.removed.insert(gather.name)
                // Still the lookup, now in the scaled table: it keeps the Gather's name.
                rewrite.replacements[node.name] = Node(gather.name, .gather, inputs: [name, gather.inputs[1]], outputs: node.outputs)
            }
        }
        for t in tables {
            let i = g.initializers.firstIndex { $0.name == t.table }!
            var table = t.inPlace ? g.initializers.remove(at: i) : g.initializers[i]
            table.name = t.scaled
            table.data.scale(by: t.factor)
            g.initializers.append(table)
        }
        return rewrite.apply(to: g)
    }
}
