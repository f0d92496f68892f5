import Foundation
import GraphIR
@testable import Trainer

/// Tiny configs and reference-initialised weights for the layer tests.
enum TrainerLayerFixtures {
    /// hidden 8, S = 2 + 9, Mamba-2 with E = 16, 4 heads of 4, N = 4, 2 groups, conv 4.
    static func tinyMambaConfig(direction: ScanDirection) throws -> ModelConfig {
        var o = ConfigOverrides()
        o.hidden = 8; o.heads = 2; o.puzzleEmbLen = 2
        o.dState = 4; o.headdim = 4; o.ngroups = 2; o.direction = direction
        return try o.apply(to: Preset.trMamba2Attn.config(task: .sudoku, grid: 3))
    }

    /// A tiny config of `preset`: hidden 8, 2 heads, S = 2 + 9, expansion 1 (SwiGLU width 256),
    /// Mamba-2 as `tinyMambaConfig`.
    static func tinyConfig(_ preset: Preset, direction: ScanDirection = .causal) throws -> ModelConfig {
        var o = ConfigOverrides()
        o.hidden = 8; o.heads = 2; o.puzzleEmbLen = 2; o.expansion = 1
        o.dState = 4; o.headdim = 4; o.ngroups = 2; o.direction = direction
        return try o.apply(to: preset.config(task: .sudoku, grid: 3))
    }

    /// Reference-initialised tensors of `config` whose names start with `prefix` (all when empty),
    /// with the Mamba-2 scalars moved off their constant init (D = 1, norm.weight = 1) so that every
    /// gradient path is exercised, and q_head's zero weight replaced by a small random one. dt_bias
    /// and A_log are drawn so that dt ≈ 0.3..1 and |A| ≈ 0.6..2.7: at the reference init (dt ≈ 0.001..0.1)
    /// their gradients are so small that the fp32 forward's rounding noise hides them from finite
    /// differences.
    static func parameters(_ config: ModelConfig, prefix: String = "", seed: UInt64) -> [String: [Float]] {
        let ckpt = try! ReferenceInitializer(seed: seed, mambaProjections: .lecun).checkpoint(config: config, taskJSON: "{}")
        var out: [String: [Float]] = [:]
        for (i, (name, t)) in ckpt.tensors.sorted(by: { $0.key < $1.key }).enumerated() where name.hasPrefix(prefix) {
            var v = t.values
            if name.hasSuffix(".D") || name.hasSuffix("norm.weight") || name == "q_head.weight" {
                let jitter = randomArray(v.count, std: 0.2, seed: seed &+ UInt64(i))
                v = zip(v, jitter).map { $0 + $1 }
            }
            if name.hasSuffix(".dt_bias") { v = uniformArray(v.count, -1, 0.5, seed: seed &+ UInt64(i)) }
            if name.hasSuffix(".A_log") { v = uniformArray(v.count, -0.5, 1, seed: seed &+ UInt64(i)) }
            out[name] = v
        }
        return out
    }
}
