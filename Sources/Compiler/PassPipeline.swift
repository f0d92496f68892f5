import GraphIR
import TRMCore

/// The one place the pass order is registered. Folding and dead-code elimination always run; the
/// fusion passes run unless disabled (`trm-compile --no-fuse`).
public enum PassPipeline {
    public static func passes(fuse: Bool) -> [GraphPass] {
        var list: [GraphPass] = [ConstantFolding()]
        if fuse {
            list += [AttentionFusion(), Mamba2ScanGateFusion(), AddRMSNormFusion(), MatMulEpilogueFusion()]
        }
        list.append(DeadCodeElimination())
        return list
    }

    /// Runs `passes` in order, verifying the graph after each one, and that its node names are
    /// still unique (docs/formats.md §2.4).
    public static func run(_ graph: consuming Graph, passes: [GraphPass]) throws -> Graph {
        var g = graph
        for pass in passes {
            g = try pass.run(consume g)
            do { try Verifier.verify(g) } catch let e as TRMError {
                throw TRMError(.invalidGraph, "after pass \(pass.name): \(e.message)")
            }
            var names = Set<String>()
            if let twice = g.nodes.first(where: { !names.insert($0.name).inserted }) {
                throw TRMError(.invalidGraph, "after pass \(pass.name): two nodes are named '\(twice.name)'")
            }
        }
        return g
    }
}
