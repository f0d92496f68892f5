import Compiler
import GraphIR
import Runtime
import Testing
import Trainer

/// docs/model.md §10.2: the compiled graph run by the runtime reproduces the trainer's eager forward.
@Suite struct EagerParityTests {
    @Test(arguments: [
        (Preset.trmAttn, ScanDirection.causal), (.trMamba2Attn, .causal), (.trmMlpT, .causal),
        (.trMamba2MlpT, .causal), (.trMamba2Attn, .bidirectional), (.trMamba2Attn, .reverse),
    ])
    func compiledMatchesEager(preset: Preset, direction: ScanDirection) throws {
        let ckpt = try Models.checkpoint(preset, direction: direction)
        // Random weights amplify rounding differences step by step (docs/model.md §10): 2 ACT steps of a
        // H2 × (L2 + 1) model are 12 network applications.
        let count = 2, steps = 2
        let tokens = CompileTests.tokens(ckpt.config, count: count)
        let (model, _) = try TRMCompiler.compile(ckpt)
        let compiled = try CompileTests.solve(model, tokens: tokens, count: count, batch: count, steps: steps)
        let eager = EagerModel(checkpoint: ckpt, batch: count).solve(tokens: tokens, puzzleIds: [0, 0], steps: steps)
        let diff = zip(compiled.logits, eager.logits).map { abs($0 - $1) }.max()!
        #expect(eager.logits.count == compiled.logits.count)
        #expect(diff <= 1e-4, "max |Δlogit| = \(diff)")
        #expect(zip(compiled.qHalt, eager.qHalt).allSatisfy { abs($0 - $1) <= 1e-4 })
    }
}
