import Compiler
import GraphIR
@testable import Runtime
import Testing

/// The fused Mamba-2 layer splits its work two ways (`ScanGateArgs`): whole samples per thread
/// where the threads divide the batch, else each sample's conv rows, heads and norm rows over the
/// threads. Both give the single-thread outputs.
@Suite struct ThreadSplitTests {
    /// Sudoku 9×9: 85 tokens, so every scan crosses a chunk boundary (64 tokens).
    static func fused(_ direction: ScanDirection) throws -> Graph {
        let lowered = try Lowering.lower(Models.checkpoint(.trMamba2Attn, grid: 9, direction: direction))
        return try PassPipeline.run(lowered, passes: [ConstantFolding(), Mamba2ScanGateFusion()])
    }

    @Test(arguments: [ScanDirection.causal, .bidirectional])
    func scanGateSplitsAgree(direction: ScanDirection) throws {
        let graph = try Self.fused(direction)
        let model = try LoadedModel(TrmgModel(graph: graph, plan: try MemoryPlanner.modelPlan(graph)))
        // batch 4: 2 threads take 2 whole samples each, 3 threads split every sample; batch 3 on 2
        // threads splits every sample too.
        for (batch, threads, whole) in [(4, 2, true), (4, 3, false), (3, 2, false), (3, 3, true)] {
            let program = try Session(model: model, batch: batch, threads: threads).program
            let layers = program.compactMap { $0.instruction as? ScanGateArgs }
            #expect(!layers.isEmpty && layers.allSatisfy { $0.wholeSamples == whole && ($0.phases.count == 1) == whole })
            let one = try GraphRunner.run(graph, batch: batch, threads: 1)
            let split = try GraphRunner.run(graph, batch: batch, threads: threads)
            let diff = GraphRunner.maxDifference(one, split)
            #expect(diff <= 1e-5, "batch \(batch), \(threads) threads vs 1: outputs differ by \(diff)")
        }
    }
}
