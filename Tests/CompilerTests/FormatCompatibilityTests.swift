import Compiler
import Foundation
import GraphIR
import Runtime
import Testing

/// `.trmg` files written before the standard domain, the node names and the initial carries in the
/// plan (docs/formats.md §2.1: plan version 1, kept with their checkpoints in Tests/Fixtures/trmg-v1)
/// still load, and run as a fresh compile of the same checkpoint does.
@Suite struct FormatCompatibilityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/trmg-v1")

    @Test(arguments: [Preset.trmAttn, .trMamba2Attn])
    func filesWrittenBeforeStillRun(preset: Preset) throws {
        let old = try TrmgReader.read(path: Self.fixtures.appendingPathComponent("sudoku4-\(preset.rawValue).trmg").path)
        // The old layout: H_init as an initializer the binding names, `<Op>_<n>` node names.
        #expect(old.plan.carry.allSatisfy { $0.initialValues == nil && old.graph.initializer(named: $0.initial) != nil })
        let legacy = try Regex("[A-Za-z0-9]+_[0-9]+")
        #expect(old.graph.nodes.allSatisfy { $0.name.wholeMatch(of: legacy) != nil })
        let checkpoint = try Checkpoint.read(path: Self.fixtures.appendingPathComponent("sudoku4-\(preset.rawValue).ckpt").path)
        #expect(old.plan.carry.map { $0.initialVector(in: old.graph) } == [checkpoint["H_init"], checkpoint["L_init"]])
        let config = checkpoint.config
        let (new, _) = try TRMCompiler.compile(checkpoint)
        let tokens = CompileTests.tokens(config, count: 3)
        let a = try CompileTests.solve(old, tokens: tokens, count: 3), b = try CompileTests.solve(new, tokens: tokens, count: 3)
        let diff = zip(a.logits, b.logits).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-5, "the old file's logits differ by \(diff)")
        #expect(a.preds == b.preds && a.qHalt.count == b.qHalt.count)
        // Rewritten in the new layout, the old model reads back as it was.
        #expect(try TrmgReader.parse(TrmgWriter.serialize(old)) == old)
    }
}
