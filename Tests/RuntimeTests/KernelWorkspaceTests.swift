import GraphIR
import Runtime
import Testing
import TestSupport

/// `KernelWorkspace` (the kernels' scratch sizes) against the facts table's workspace kinds.
struct KernelWorkspaceTests {
    @Test func scratchExactlyWhereTheFactsSayTheKernelTakesIt() throws {
        let graph = try SampleGraphs.everyOp()
        let types = try Verifier.verify(graph)
        for node in graph.nodes {
            let needs = KernelWorkspace.floats(node, types: types)
            let kind = node.op.facts.workspace
            #expect(
                (needs.perThread > 0) == (kind != .none),
                "\(node.name) (\(node.op.name)): \(needs.perThread) floats per thread, facts say \(kind)")
            #expect(
                (needs.shared > 0) == (kind == .perThreadAndShared),
                "\(node.name) (\(node.op.name)): \(needs.shared) shared floats, facts say \(kind)")
        }
        let total = KernelWorkspace(graph: graph, types: types)
        #expect(total.floatsPerThread % 16 == 0 && total.floatsPerThread > 0)
        #expect(total.sharedFloats > 0)
    }
}
