import Foundation
import Testing
import GraphIR
import Runtime
@testable import Trainer
import TRMCore

/// A whole supervision step (docs/model.md §6, §8.2) of each preset at a tiny size: the gradient of the
/// total loss through the heads, the last H-cycle's L_cycles + 1 network applications, the input
/// embedding and the puzzle rows, checked against finite differences of the same step.
@Suite struct SupervisionStepTests {
    static let tolerance = 5e-3
    /// dt_bias sits behind softplus, the scan and two stacked Mamba-2 layers, and its finite
    /// differences are fp32-noise-limited (≤ 5.6e-3 measured here with the 0.1 step, 2.3e-3 in the
    /// one-layer check of TrainerLayerNetworkTests); a wrong gradient gives errors of order 1.
    static let dtBiasTolerance = 1e-2

    static func config(_ preset: Preset) throws -> ModelConfig {
        var o = ConfigOverrides()
        o.hidden = 8; o.heads = 2; o.puzzleEmbLen = 2; o.expansion = 1; o.hCycles = 2; o.lCycles = 2
        o.dState = 4; o.headdim = 4; o.ngroups = 2; o.numPuzzleIds = 3
        return try o.apply(to: preset.config(task: .sudoku, grid: 3))
    }

    /// Labels with one ignored cell per sample, tokens and ids drawn from `seed`.
    static func data(_ config: ModelConfig, batch: Int, seed: UInt64) -> (tokens: [Int32], labels: [Int32], ids: [Int32]) {
        var rng = SeededRandom(seed: seed)
        let l = config.seqLen
        let tokens = (0..<(batch * l)).map { _ in Int32(rng.next() % UInt64(config.vocab)) }
        var labels = (0..<(batch * l)).map { _ in Int32(1 + rng.next() % UInt64(config.vocab - 1)) }
        for b in 0..<batch { labels[b * l + b] = TokenLoss.ignoreLabel }
        let ids = (0..<batch).map { Int32($0 % config.numPuzzleIds) }
        return (tokens, labels, ids)
    }

    @Test(arguments: [Preset.trmAttn, .trMamba2Attn, .trmMlpT, .trMamba2MlpT])
    func wholeStepGradient(preset: Preset) throws {
        let config = try Self.config(preset)
        let batch = 2, n = batch * config.fullSeqLen * config.hidden
        let step = SupervisionStep(config: config, batch: batch)
        var all = TrainerLayerFixtures.parameters(config, seed: 90)
        all["puzzle_emb.weights"] = randomArray(config.numPuzzleIds * config.puzzleEmbNdim, std: 0.5, seed: 91)
        let fixed = ["H_init", "L_init"]
        let zH = randomArray(n, seed: 92), zL = randomArray(n, seed: 93)
        let (tokens, labels, ids) = Self.data(config, batch: batch, seed: 94)
        // The no-gradient cycles stay at the unperturbed weights: the reference detaches them, so the
        // finite differences must see the same truncated graph.
        let frozen = ParameterSet(all)
        func run(_ a: [String: [Float]], scale: Double) -> SupervisionStep.Result {
            step.run(
                zH: zH, zL: zL, tokens: tokens, labels: labels, puzzleIds: ids, params: ParameterSet(a), gradScale: scale,
                noGradParams: frozen)
        }
        var check = GradientCheck(
            args: all, forward: { a in [run(a, scale: 1).loss.total] },
            backward: { a, d in
                let r = run(a, scale: Double(d[0]))
                var g = r.grads.tensors
                var table = [Float](repeating: 0, count: a["puzzle_emb.weights"]!.count)
                for (id, row) in r.puzzleGrads {
                    for i in 0..<row.count { table[Int(id) * config.puzzleEmbNdim + i] += row[i] }
                }
                g["puzzle_emb.weights"] = table
                return g
            })
        // A larger first step lifts dt_bias above the fp32 noise of 21 stacked applications.
        check.steps = [1e-1] + TrainerLayerMambaGradientTests.steps
        check.directions = 2
        let errors = check.run()
        report("supervision-step-\(preset.rawValue)", errors)
        #expect(Set(errors.keys) == Set(all.keys).subtracting(fixed), "every trained tensor gets a gradient")
        for (name, e) in errors {
            let limit = name.hasSuffix(".dt_bias") ? Self.dtBiasTolerance : Self.tolerance
            #expect(e <= limit, "\(preset.rawValue): \(name) relative error \(e)")
        }
    }

    /// In bf16 (`WeightPacks`) the step is the fp32 step up to the rounding of the Linear operands to
    /// bf16's 8-bit significand: the loss within 1 %, every gradient tensor within 5 % of its norm,
    /// and not bit-equal (the bf16 products really ran).
    @Test(arguments: [Preset.trmAttn, .trMamba2Attn])
    func bf16StepIsTheFP32StepUpToRounding(preset: Preset) throws {
        let config = try Self.config(preset)
        let batch = 2, n = batch * config.fullSeqLen * config.hidden
        // The reference initialisation: the gradient check's fixture weights are large enough to make
        // 21 stacked applications chaotic, where fp32 rounding alone moves the Mamba-2 carry by 1e-5.
        let params = ParameterSet(checkpoint: try ReferenceInitializer(seed: 40).checkpoint(config: config, taskJSON: "{}"))
        let zH = randomArray(n, seed: 42), zL = randomArray(n, seed: 43)
        let (tokens, labels, ids) = Self.data(config, batch: batch, seed: 44)
        func run(_ precision: Precision) -> SupervisionStep.Result {
            SupervisionStep(config: config, batch: batch, precision: precision).run(
                zH: zH, zL: zL, tokens: tokens, labels: labels, puzzleIds: ids, params: params, gradScale: 1)
        }
        let fp32 = run(.fp32), bf16 = run(.bf16)
        let lossError = abs(bf16.loss.total - fp32.loss.total) / abs(fp32.loss.total)
        #expect(lossError < 1e-2, "\(preset.rawValue): loss \(bf16.loss.total) vs \(fp32.loss.total)")
        #expect(bf16.zH != fp32.zH, "\(preset.rawValue): bf16 gave the fp32 bits")
        for name in fp32.grads.names {
            let a = fp32.grads[name], b = bf16.grads[name]
            let norm = a.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            let diff = zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            #expect(diff <= 5e-2 * norm + 1e-6, "\(preset.rawValue): \(name) differs by \(diff) of \(norm)")
        }
    }

    /// The step's forward is the eager model's ACT step: same carry out, same q_halt.
    @Test func forwardMatchesEagerModel() throws {
        let config = try Self.config(.trMamba2Attn)
        let ckpt = try ReferenceInitializer(seed: 5).checkpoint(config: config, taskJSON: "{}")
        let batch = 2, n = batch * config.fullSeqLen * config.hidden
        let (tokens, labels, ids) = Self.data(config, batch: batch, seed: 6)
        let zH = randomArray(n, seed: 7), zL = randomArray(n, seed: 8)
        let eager = EagerModel(checkpoint: ckpt, batch: batch).step(zH: zH, zL: zL, tokens: tokens, puzzleIds: ids)
        let r = SupervisionStep(config: config, batch: batch).run(
            zH: zH, zL: zL, tokens: tokens, labels: labels, puzzleIds: ids,
            params: ParameterSet(checkpoint: ckpt), gradScale: 1)
        #expect(r.zH == eager.zH && r.zL == eager.zL && r.qHalt == eager.qHalt)
    }
}
