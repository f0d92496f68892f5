import GraphIR

/// Removes nodes whose outputs no graph output depends on, and initializers nothing reads.
public struct DeadCodeElimination: GraphPass {
    public let name = "dead-code-elimination"
    public init() {}

    public func run(_ graph: consuming Graph) throws -> Graph {
        let graph = copy graph
        var needed = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated().reversed() where node.outputs.contains(where: needed.contains) {
            keep[i] = true
            needed.formUnion(node.inputs)
        }
        var g = graph
        g.nodes = graph.nodes.enumerated().filter { keep[$0.offset] }.map(\.element)
        g.initializers = graph.initializers.filter { needed.contains($0.name) }
        return g
    }
}
