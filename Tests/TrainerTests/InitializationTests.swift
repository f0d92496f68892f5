import Foundation
import Testing
@testable import Trainer
import GraphIR
import TRMCore

@Suite struct InitializationTests {
    @Test func erfinvInvertsErf() {
        for y in stride(from: -0.999, through: 0.999, by: 0.0371) {
            #expect(abs(erf(TruncatedNormal.erfinv(y)) - y) < 1e-12)
        }
        #expect(abs(TruncatedNormal.correction - 1.1368472) < 1e-6)
    }

    @Test func truncatedNormalHasRequestedStd() {
        var rng = SeededRandom(seed: 1)
        let std = 0.0441942
        let v = TruncatedNormal.sample(count: 200_000, std: std, rng: &rng).map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
        #expect(abs(mean) < 1e-3 * std * 10)
        #expect(abs(sd / std - 1) < 0.01)
        let bound = 2 * std * TruncatedNormal.correction
        #expect(v.allSatisfy { abs($0) <= bound * (1 + 1e-6) })
        #expect(v.contains { abs($0) > 0.95 * bound })
    }

    @Test func referenceInitialisation() throws {
        let config = Preset.trMamba2Attn.config(task: .arc)
        let c = try ReferenceInitializer(seed: 5).checkpoint(config: config, taskJSON: "{}")
        #expect(c["q_head.weight"].allSatisfy { $0 == 0 })
        #expect(c["q_head.bias"] == [-5, -5])
        #expect(c["puzzle_emb.weights"].allSatisfy { $0 == 0 })
        let m = "L_level.layers.0.mamba2.0."
        #expect(c[m + "D"].allSatisfy { $0 == 1 } && c[m + "norm.weight"].allSatisfy { $0 == 1 })
        #expect(c[m + "A_log"].allSatisfy { $0 >= 0 && $0 <= log(16) + 1e-6 })
        let dt = c[m + "dt_bias"].map { log1p(exp(Double($0))) }  // softplus(dt_bias) is dt0
        #expect(dt.allSatisfy { $0 >= 1e-4 * 0.999 && $0 <= 0.1 * 1.001 })
        #expect(c[m + "conv1d.weight"].allSatisfy { abs($0) <= 0.5 })
        #expect(c[m + "in_proj.weight"].allSatisfy { abs($0) <= Float(1 / 512.0.squareRoot()) })
        let qkv = c["L_level.layers.0.self_attn.qkv_proj.weight"].map(Double.init)
        let sd = (qkv.map { $0 * $0 }.reduce(0, +) / Double(qkv.count)).squareRoot()
        #expect(abs(sd * 512.0.squareRoot() - 1) < 0.01)
        let hInit = c["H_init"].map(Double.init)
        #expect(abs((hInit.map { $0 * $0 }.reduce(0, +) / 512).squareRoot() - 1) < 0.15)
    }

    @Test func seededAndReproducible() throws {
        var o = ConfigOverrides()
        o.hidden = 32
        let config = try o.apply(to: Preset.trmAttn.config(task: .sudoku, grid: 4))
        let a = try ReferenceInitializer(seed: 1).checkpoint(config: config, taskJSON: "{}")
        let b = try ReferenceInitializer(seed: 1).checkpoint(config: config, taskJSON: "{}")
        let c = try ReferenceInitializer(seed: 2).checkpoint(config: config, taskJSON: "{}")
        #expect(a == b)
        #expect(a.tensors["lm_head.weight"] != c.tensors["lm_head.weight"])
        #expect(a.tensors["lm_head.weight"] != a.tensors["embed_tokens.embedding_weight"])
    }
}
