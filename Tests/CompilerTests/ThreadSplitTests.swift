import Compiler
import GraphIR
@testable import Runtime
import Testing

/// The fused Mamba-2 layer splits its work two ways (`ScanGateArgs`): whole samples per thread
/// where the threads divide the batch, else each sample's conv rows, heads and norm rows over the
/// threads. Both give the single-thread outputs.
@Suite struct ThreadSplitTests {
    @Test(arguments: [ScanDirection.causal, .bidirectional])
    func scanGateSplitsAgree(direction: ScanDirection) throws {
        let graph = try PassPipeline.run(PassTests.folded(.trMamba2Attn, direction: direction), passes: [Mamba2ScanGateFusion()])
        #expect(graph.opHistogram["Mamba2ScanGate", default: 0] > 0)
        #expect(ScanGateArgs.splitsBySample(batch: 4, threads: 2) && !ScanGateArgs.splitsBySample(batch: 3, threads: 2))
        // batch 4: 2 threads take 2 whole samples each, 3 threads split every sample; batch 3 on 2
        // threads splits every sample too.
        for (batch, threads) in [(4, 2), (4, 3), (3, 2), (3, 3)] {
            let one = try GraphRunner.run(graph, batch: batch, threads: 1)
            let split = try GraphRunner.run(graph, batch: batch, threads: threads)
            let diff = GraphRunner.maxDifference(one, split)
            #expect(diff <= 1e-5, "batch \(batch), \(threads) threads vs 1: outputs differ by \(diff)")
        }
    }
}
