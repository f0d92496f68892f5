import TRMCore
/// Caps on what a model may ask of a machine. Every entry point that reads a config or a step graph
/// (trm-info, trm-compile, the `.trmg` reader and loader, the C API, trm-train) checks them before
/// any work or allocation, through `ModelConfig.validate()` and `TrmgReader`, so a small file cannot
/// claim hours of compilation, gigabytes of memory or an endless ACT loop. docs/limits.md lists
/// them with the reasoning; the reference models sit far below each one.
public enum ModelLimits {
    /// Most ACT steps per sample (`halt_max_steps`, `trm-run --steps`): the reference uses 16.
    public static let maxHaltSteps = 1024

    /// Most H_cycles or L_cycles each (the reference: 3 and 4-6).
    public static let maxCycles = 256

    /// Most sub-layer applications in one unrolled ACT step: H_cycles × (L_cycles + 1) × sub-layers.
    /// The reference sizes need 60 (ARC) and 84 (Sudoku); 1024 lowers to ~13,000-33,000 nodes and
    /// compiles in about a second (the memory planner is quadratic in the node count).
    public static let maxSublayerApplications = 1024

    /// Most nodes a lowered sub-layer application can have (a bidirectional Mamba-2 layer: 30) plus
    /// the two residual adds of each application.
    public static let maxNodesPerSublayerApplication = 32

    /// Most nodes of a step graph, lowered or read from a `.trmg`: every application at its
    /// largest, plus the embedding, heads and per-layer constants.
    public static let maxStepNodes = maxSublayerApplications * maxNodesPerSublayerApplication + 1024

    /// Most of any size field (hidden, heads, vocab, seq_len, the cycles' and steps' own caps
    /// aside): far above any model, and small enough that products of a few stay far from overflow.
    public static let maxSizeField = 1 << 20

    /// Most puzzle-embedding rows (`num_puzzle_ids`): the official ARC-AGI-1 table has 876,406.
    public static let maxPuzzleIds = 1 << 26

    /// Most puzzle-embedding tokens (`puzzle_emb_len`) in front of the sequence.
    public static let maxPuzzleEmbLen = 4096

    /// Most MLP expansion (the reference: 4) and most sub-layers per level.
    public static let maxExpansion = 64.0
    public static let maxSublayers = 64

    /// Most Mamba-2 state size, conv width and expansion (the reference: 64-128, 4, 2).
    public static let maxMambaDState = 4096
    public static let maxMambaDConv = 64
    public static let maxMambaExpand = 16

    /// Most floating-point operations one sample's ACT step may need (matrix products and
    /// attention): 10 TFLOP, about 40× the ARC-size step (232 GFLOP) and ~50 s on a 2-core CPU.
    public static let maxStepFlopsPerSample = 1e13
}

extension ModelConfig {
    /// Applications of the shared network in one ACT step: H_cycles × (L_cycles + 1).
    public var networkApplications: Int { hCycles * (lCycles + 1) }

    /// Matrix-product FLOPs of one application of the shared network for one sample: 2·m·n·k for
    /// every projection (mlp_t mixes over S, so its products run D times) and 4·S²·D per attention.
    public var networkFlopsPerApplication: Double {
        let s = Double(fullSeqLen), d = Double(hidden)
        var total = 0.0
        for spec in parameterSpecs where spec.name.hasPrefix("L_level.") && spec.shape.count == 2 {
            total += 2 * Double(spec.count) * (spec.name.contains(".mlp_t.") ? d : s)
        }
        return total + Double(sublayers.filter { $0 == .attn }.count) * 4 * s * s * d
    }

    /// Bytes of every tensor of the model (fp32), the puzzle table included.
    public var tensorBytes: Double { parameterSpecs.reduce(0) { $0 + Double($1.count) } * 4 }

    /// FLOPs of the output heads for one sample (lm_head over the grid tokens).
    public var headFlopsPerSample: Double { 2 * Double(seqLen * vocab) * Double(hidden) }

    /// Matrix-product FLOPs of one ACT step for one sample: what `ModelLimits.maxStepFlopsPerSample` caps.
    public var stepFlopsPerSample: Double {
        networkFlopsPerApplication * Double(networkApplications) + headFlopsPerSample
    }

    /// Checks the cost caps of `ModelLimits`. Runs after the field ranges, so the products cannot overflow.
    func validateCost() throws {
        func fail(_ why: String) -> TRMError { TRMError(.invalidConfig, "model config: \(why)") }
        guard hCycles <= ModelLimits.maxCycles, lCycles <= ModelLimits.maxCycles else {
            throw fail("H_cycles \(hCycles) and L_cycles \(lCycles) must each be at most \(ModelLimits.maxCycles)")
        }
        guard haltMaxSteps <= ModelLimits.maxHaltSteps else {
            throw fail("halt_max_steps \(haltMaxSteps) is over the limit of \(ModelLimits.maxHaltSteps) ACT steps")
        }
        let applications = networkApplications * sublayers.count
        guard applications <= ModelLimits.maxSublayerApplications else {
            throw fail(
                "H_cycles \(hCycles) × (L_cycles \(lCycles) + 1) × \(sublayers.count) sub-layers = \(applications) "
                    + "sub-layer applications per ACT step, over the limit of \(ModelLimits.maxSublayerApplications)")
        }
        let flops = stepFlopsPerSample
        guard flops <= ModelLimits.maxStepFlopsPerSample else {
            throw fail(
                String(format: "one ACT step needs %.3g FLOP per sample, over the limit of %.3g", flops, ModelLimits.maxStepFlopsPerSample))
        }
    }
}
