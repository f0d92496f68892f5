import GraphIR

/// One optimisation of the step graph. A pass returns a graph with the same inputs, outputs and
/// semantics (up to fp32 rounding).
public protocol GraphPass: Sendable {
    var name: String { get }
    /// `graph` is consumed, so a pass may change its tensors in place (constant folding scales
    /// the embedding tables without a second copy of them).
    func run(_ graph: consuming Graph) throws -> Graph
}

/// Which node produces each value and how many times each value is read, for pattern matching.
struct GraphIndex {
    let graph: Graph
    var producer: [String: Int] = [:]
    var uses: [String: Int] = [:]
    let outputs: Set<String>

    init(_ graph: Graph) {
        self.graph = graph
        outputs = Set(graph.outputs.map(\.name))
        for (i, n) in graph.nodes.enumerated() {
            for o in n.outputs { producer[o] = i }
            for v in n.inputs { uses[v, default: 0] += 1 }
        }
    }

    /// The node producing `value` if its op is of `kind` and the value is read only once (by the
    /// pattern's consumer) and is not a graph output.
    func soleProducer(_ value: String, _ kind: OpKind) -> Node? {
        guard let i = producer[value], graph.nodes[i].op.kind == kind, uses[value] == 1, !outputs.contains(value) else { return nil }
        return graph.nodes[i]
    }

    func isConstant(_ value: String) -> Bool { graph.initializer(named: value) != nil }
}

/// Rewrites a graph by replacing some nodes with new ones: `removed` node names disappear, and each
/// replacement is inserted where the node it is keyed by stood.
struct Rewrite {
    var removed: Set<String> = []
    var replacements: [String: Node] = [:]

    var isEmpty: Bool { replacements.isEmpty && removed.isEmpty }

    /// A replacement whose name another node already has gets a suffix (`NodeNames.unique`).
    func apply(to graph: Graph) -> Graph {
        var g = graph
        var taken = Set(graph.nodes.lazy.filter { replacements[$0.name] == nil && !removed.contains($0.name) }.map(\.name))
        g.nodes = graph.nodes.compactMap { n in
            if var r = replacements[n.name] {
                r.name = NodeNames.unique(r.name, in: taken)
                taken.insert(r.name)
                return r
            }
            return removed.contains(n.name) ? nil : n
        }
        return g
    }
}
