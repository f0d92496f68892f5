import GraphIR

/// Floating-point operations of one step per sample (`OpCost`, summed over the graph).
public enum FlopCounter {
    public static func flopsPerSample(_ graph: Graph) throws -> Double {
        OpCost.perSample(graph, types: try Verifier.verify(graph)).total
    }
}
