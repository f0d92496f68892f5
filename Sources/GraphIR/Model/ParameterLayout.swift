/// One named tensor of a model: its reference state_dict name (without the `_orig_mod.model.inner.`
/// prefix), shape, and whether it counts as a parameter (the puzzle table, H_init and L_init do not).
public struct ParameterSpec: Hashable, Sendable {
    public var name: String
    public var shape: [Int]
    public var counted: Bool

    public var count: Int { shape.reduce(1, *) }
}

/// Names and shapes of every tensor a model of a given config holds (docs/formats.md §1).
extension ModelConfig {
    /// Each sub-layer with the tensor-name prefix it lives under. Block b groups the sub-layers up to
    /// and including a channel MLP: `L_level.layers.{b}.self_attn`, `.mlp`, `.mlp_t`, `.mamba2.{j}`.
    /// A kind other than mamba2 that repeats inside one block gets an index too (`self_attn.1`).
    public var sublayerPrefixes: [(kind: SublayerKind, prefix: String)] {
        sublayerLayout.map { ($0.kind, $0.prefix) }
    }

    /// Each sub-layer's node-name scope in the step graph (docs/formats.md §2.4), in the order of
    /// `sublayerPrefixes`: `block{b}.attn`, `block{b}.mlp`, `block{b}.mlp_t`, `block{b}.mamba`, with
    /// the index of a kind that repeats inside its block (`block0.mamba1`).
    public var sublayerScopes: [String] { sublayerLayout.map(\.scope) }

    private var sublayerLayout: [(kind: SublayerKind, prefix: String, scope: String)] {
        var blocks: [[SublayerKind]] = [[]]
        for kind in sublayers {
            blocks[blocks.count - 1].append(kind)
            if kind == .mlp { blocks.append([]) }
        }
        if blocks.last!.isEmpty { blocks.removeLast() }
        var result: [(SublayerKind, String, String)] = []
        for (b, block) in blocks.enumerated() {
            var seen: [SublayerKind: Int] = [:]
            for kind in block {
                let j = seen[kind, default: 0]
                seen[kind] = j + 1
                let base = "L_level.layers.\(b)."
                let repeats = block.filter { $0 == kind }.count > 1
                let index = repeats ? ".\(j)" : ""
                let scope = { (short: String) in "block\(b).\(short)" + (repeats ? "\(j)" : "") }
                switch kind {
                case .mamba2: result.append((kind, base + "mamba2.\(j)", scope("mamba")))
                case .attn: result.append((kind, base + "self_attn" + index, scope("attn")))
                case .mlp: result.append((kind, base + "mlp" + index, scope("mlp")))
                case .mlpT: result.append((kind, base + "mlp_t" + index, scope("mlp_t")))
                }
            }
        }
        return result
    }

    /// Every tensor of the model, in a fixed order.
    public var parameterSpecs: [ParameterSpec] {
        let d = hidden, v = vocab
        var specs: [ParameterSpec] = [
            ParameterSpec(name: "embed_tokens.embedding_weight", shape: [v, d], counted: true)
        ]
        if posEncodings == .learned {
            specs.append(ParameterSpec(name: "embed_pos.embedding_weight", shape: [fullSeqLen, d], counted: true))
        }
        for (kind, prefix) in sublayerPrefixes {
            func add(_ suffix: String, _ shape: [Int]) {
                specs.append(ParameterSpec(name: prefix + "." + suffix, shape: shape, counted: true))
            }
            switch kind {
            case .attn:
                add("qkv_proj.weight", [3 * d, d])
                add("o_proj.weight", [d, d])
            case .mlp:
                add("gate_up_proj.weight", [2 * mlpWidth, d])
                add("down_proj.weight", [d, mlpWidth])
            case .mlpT:
                add("gate_up_proj.weight", [2 * mlpTWidth, fullSeqLen])
                add("down_proj.weight", [fullSeqLen, mlpTWidth])
            case .mamba2:
                let m = mambaDims()
                add("in_proj.weight", [m.inProjWidth, d])
                add("conv1d.weight", [m.convChannels, 1, mamba.dConv])
                add("conv1d.bias", [m.convChannels])
                add("dt_bias", [m.heads])
                add("A_log", [m.heads])
                add("D", [m.heads])
                add("norm.weight", [m.inner])
                add("out_proj.weight", [d, m.inner])
            }
        }
        specs += [
            ParameterSpec(name: "lm_head.weight", shape: [v, d], counted: true),
            ParameterSpec(name: "q_head.weight", shape: [2, d], counted: true),
            ParameterSpec(name: "q_head.bias", shape: [2], counted: true),
            ParameterSpec(name: StepGraphNames.hInit, shape: [d], counted: false),
            ParameterSpec(name: StepGraphNames.lInit, shape: [d], counted: false),
        ]
        if puzzleEmbNdim > 0 {
            specs.append(ParameterSpec(name: "puzzle_emb.weights", shape: [numPuzzleIds, puzzleEmbNdim], counted: false))
        }
        return specs
    }

    /// Trainable parameters as the papers count them: the puzzle table, H_init and L_init excluded.
    public var parameterCount: Int {
        parameterSpecs.filter(\.counted).reduce(0) { $0 + $1.count }
    }
}
