import Compiler
import Foundation
import GraphIR
import Runtime
import Testing
import Trainer
import TRMCore

@Suite struct CompileTests {
    static func solve(
        _ model: TrmgModel, tokens: [Int32], count: Int, batch: Int = 2, steps: Int = 3,
        halting: Halting = .fixed
    ) throws -> ACTResult {
        let runner = try ACTRunner(session: Session(model: LoadedModel(bytes: TrmgWriter.serialize(model)), batch: batch, threads: 2))
        return try runner.run(tokens: tokens, puzzleIds: nil, count: count, halting: halting, maxSteps: steps)
    }

    static func tokens(_ c: ModelConfig, count: Int, seed: UInt64 = 4) -> [Int32] {
        var rng = SeededRandom(seed: seed)
        return (0..<(count * c.seqLen)).map { _ in Int32(rng.next() % UInt64(c.vocab)) }
    }

    /// Fused and unfused graphs agree (≤ 1e-4) for every preset and scan direction over 3 ACT steps.
    @Test(arguments: [
        (Preset.trmAttn, ScanDirection.causal), (.trMamba2Attn, .causal), (.trmMlpT, .causal),
        (.trMamba2MlpT, .causal), (.trMamba2Attn, .reverse), (.trMamba2Attn, .bidirectional),
    ])
    func fusedMatchesUnfused(preset: Preset, direction: ScanDirection) throws {
        let ckpt = try Models.checkpoint(preset, direction: direction)
        let (fused, report) = try TRMCompiler.compile(ckpt, fuse: true)
        let (plain, _) = try TRMCompiler.compile(ckpt, fuse: false)
        let tok = Self.tokens(ckpt.config, count: 3)
        let a = try Self.solve(fused, tokens: tok, count: 3), b = try Self.solve(plain, tokens: tok, count: 3)
        let diff = zip(a.logits, b.logits).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-4)
        #expect(a.preds == b.preds)
        #expect(a.steps == [3, 3, 3])
        #expect(report.nodesAfter < report.nodesBefore)
        #expect(fused.graph.opHistogram["AddRMSNorm"] != nil)
    }

    /// Issue acceptance: at the ARC size the arena is ≥ 50× smaller than the naive sum.
    @Test func arcArenaIsSmall() throws {
        let config = Preset.trMamba2Attn.config(task: .arc)
        let ckpt = try ReferenceInitializer(seed: 0).checkpoint(config: config, taskJSON: "{}")
        let (model, report) = try TRMCompiler.compile(ckpt)
        #expect(report.loweredNaiveBytesPerSample >= 50 * report.arenaBytesPerSample)
        #expect(report.flopsPerSample > 2.2e11 && report.flopsPerSample < 2.5e11)
        #expect(model.graph.opHistogram["Mamba2ScanGate"] == 30)
        #expect(model.graph.opHistogram["FusedAttention"] == 15)
        // Each weight is stored once however often the recursion uses it.
        #expect(Set(model.graph.initializers.map(\.name)).count == model.graph.initializers.count)
        #expect(model.graph.initializers.filter { $0.name.contains("in_proj") }.count == 2)
    }

    /// The plan never lets two values that are alive at once overlap, except along an in-place chain.
    @Test(arguments: [Preset.trmAttn, .trMamba2Attn, .trMamba2MlpT])
    func memoryPlanIsSound(preset: Preset) throws {
        let (model, _) = try TRMCompiler.compile(Models.checkpoint(preset))
        let g = model.graph
        var born: [String: Int] = [:], dies: [String: Int] = [:]
        for i in g.inputs { born[i.name] = -1; dies[i.name] = g.nodes.count }
        for (n, node) in g.nodes.enumerated() {
            for o in node.outputs { born[o] = n; dies[o] = n }
            for v in node.inputs where born[v] != nil { dies[v] = max(dies[v]!, n) }
        }
        for o in g.outputs { dies[o.name] = g.nodes.count }
        let p = model.plan.placements
        for (i, a) in p.enumerated() {
            for b in p[(i + 1)...] {
                let timeOverlap = born[a.name]! < dies[b.name]! && born[b.name]! < dies[a.name]!
                let spaceOverlap = a.offset < b.offset + b.bytesPerSample && b.offset < a.offset + a.bytesPerSample
                #expect(!(timeOverlap && spaceOverlap), "\(a.name) and \(b.name) overlap")
            }
        }
    }

    @Test func adaptiveHaltingRefillsSlots() throws {
        var ckpt = try Models.checkpoint(.trmAttn)
        // q_halt = bias when the head weight is zero: positive halts after the first step.
        ckpt.tensors["q_head.bias"]!.values = [1, -1]
        let (model, _) = try TRMCompiler.compile(ckpt)
        let tok = Self.tokens(ckpt.config, count: 5)
        let adaptive = try Self.solve(model, tokens: tok, count: 5, halting: .adaptive)
        #expect(adaptive.steps == [1, 1, 1, 1, 1])
        #expect(adaptive.batchSteps == 3)  // 5 samples through 2 slots
        let fixed = try Self.solve(model, tokens: tok, count: 5, halting: .fixed)
        #expect(fixed.steps == [3, 3, 3, 3, 3])
        let one = try Self.solve(model, tokens: tok, count: 5, steps: 1)
        // Same computation; tests run concurrently and share OpenBLAS's thread setting, so allow rounding.
        #expect(zip(one.logits, adaptive.logits).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(adaptive.qHalt.allSatisfy { $0 == 1 })
    }

    @Test func badInputsAreRefused() throws {
        let ckpt = try Models.checkpoint(.trmAttn)
        let (model, _) = try TRMCompiler.compile(ckpt)
        let runner = try ACTRunner(session: Session(model: LoadedModel(bytes: TrmgWriter.serialize(model)), batch: 2, threads: 1))
        let n = ckpt.config.seqLen
        #expect(throws: TRMError.self) { try runner.run(tokens: [Int32](repeating: 0, count: n + 1), puzzleIds: nil, count: 1) }
        #expect(throws: TRMError.self) {
            try runner.run(tokens: [Int32](repeating: Int32(ckpt.config.vocab), count: n), puzzleIds: nil, count: 1)
        }
        #expect(throws: TRMError.self) { try runner.run(tokens: [Int32](repeating: -1, count: n), puzzleIds: nil, count: 1) }
        #expect(throws: TRMError.self) { try runner.run(tokens: [Int32](repeating: 0, count: n), puzzleIds: [1], count: 1) }
        #expect(throws: TRMError.self) { try Session(model: runner.session.model, batch: 0) }
        #expect(throws: TRMError.self) { try Session(model: runner.session.model, batch: 1 << 30) }
    }

    @Test func malformedPlansAreRefused() throws {
        let (model, _) = try TRMCompiler.compile(Models.checkpoint(.trmAttn))
        func refused(_ change: (inout TrmgModel) -> Void) {
            var m = model
            change(&m)
            #expect(throws: TRMError.self) { try LoadedModel(bytes: TrmgWriter.serialize(m)) }
        }
        refused { $0.plan.placements[3].offset = $0.plan.arenaBytesPerSample }
        refused { $0.plan.placements[3].offset += 4 }
        refused { $0.plan.placements[3].bytesPerSample = 4 }
        refused { $0.plan.placements.removeLast() }
        refused { $0.plan.placements.append($0.plan.placements[0]) }
        refused { $0.plan.arenaBytesPerSample = 0 }
        refused { $0.plan.carry[0].initialValues?.removeLast() }
        // As a version 1 plan names it: an initializer that is not [D].
        refused {
            $0.plan.carry[0].initialValues = nil
            $0.plan.carry[0].initial = "lm_head.weight"
        }
        refused { $0.plan.carry[0].from = "logits" }
        refused { $0.plan.configJSON = "{\"hidden\": 1}" }
    }
}
