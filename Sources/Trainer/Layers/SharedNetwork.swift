import GraphIR

/// One application of TRM's shared network (`L_level`, docs/model.md §6): h ← h + injection, then each
/// sub-layer of `config.sublayers` in order, post-norm: h = rmsnorm_D(h + f(h)) for attn, mlp and
/// mamba2; mlp_t mixes over S with its own norm over S. Tensors are named as in the checkpoint
/// (`ModelConfig.sublayerPrefixes`).
///
/// Saved for backward: each sub-layer's saved state (see the layer types) and its post-norm's.
/// The sum h + injection is not kept: it is the first sub-layer's saved input.
public struct SharedNetwork: Sendable {
    public let config: ModelConfig
    public let batch: Int
    public let rope: RotaryEmbedding?

    public init(config: ModelConfig, batch: Int) {
        precondition(batch > 0, "SharedNetwork: batch must be positive")
        self.config = config
        self.batch = batch
        rope =
            config.posEncodings == .rope
            ? RotaryEmbedding(seq: config.fullSeqLen, heads: config.heads, headDim: config.headDim, theta: Float(config.ropeTheta))
            : nil
    }

    /// One sub-layer's saved state.
    public enum SublayerSaved: Sendable {
        case attn(AttentionSublayer.Saved, ResidualRMSNorm.Saved)
        case mlp(SwiGLUMLP.Saved, ResidualRMSNorm.Saved)
        case mlpT(SequenceMLP.Saved)
        case mamba2(Mamba2Mixer.Saved, ResidualRMSNorm.Saved)
    }

    public struct Saved: Sendable {
        public let sublayers: [SublayerSaved]
    }

    private var rows: Int { batch * config.fullSeqLen }
    private var postNorm: ResidualRMSNorm { ResidualRMSNorm(rows: rows, cols: config.hidden, eps: Float(config.rmsEps)) }
    private var attention: AttentionSublayer {
        AttentionSublayer(seq: config.fullSeqLen, hidden: config.hidden, heads: config.heads, rope: rope)
    }
    private var mlp: SwiGLUMLP { SwiGLUMLP(rows: rows, features: config.hidden, width: config.mlpWidth) }
    private var mlpT: SequenceMLP {
        SequenceMLP(batch: batch, seq: config.fullSeqLen, hidden: config.hidden, width: config.mlpTWidth, eps: Float(config.rmsEps))
    }
    private var mamba: Mamba2Mixer { Mamba2Mixer(config: config) }

    /// h, injection [B, S, D] -> net(h, injection) [B, S, D].
    public func forward(_ h: [Float], injection: [Float], params: ParameterSet) -> (out: [Float], saved: Saved) {
        checkCount(h, rows * config.hidden, "SharedNetwork h")
        var x = added(h, injection)
        var saved: [SublayerSaved] = []
        for (kind, prefix) in config.sublayerPrefixes {
            switch kind {
            case .attn:
                let (f, s) = attention.forward(x, params: params, prefix: prefix, batch: batch)
                let (o, n) = postNorm.forward(x, f)
                saved.append(.attn(s, n)); x = o
            case .mlp:
                let (f, s) = mlp.forward(x, params: params, prefix: prefix)
                let (o, n) = postNorm.forward(x, f)
                saved.append(.mlp(s, n)); x = o
            case .mlpT:
                let (o, s) = mlpT.forward(x, params: params, prefix: prefix)
                saved.append(.mlpT(s)); x = o
            case .mamba2:
                let (f, s) = mamba.forward(x, params: params, prefix: prefix, batch: batch)
                let (o, n) = postNorm.forward(x, f)
                saved.append(.mamba2(s, n)); x = o
            }
        }
        return (x, Saved(sublayers: saved))
    }

    /// `hCycles` H-cycles of the recursion without saving anything (docs/model.md §6): each is L_cycles
    /// latent updates z_L = net(z_L, z_H + x), then z_H = net(z_H, z_L).
    public func cycles(h: inout [Float], l: inout [Float], x: [Float], hCycles: Int, params: ParameterSet) {
        for _ in 0..<hCycles {
            for _ in 0..<config.lCycles {
                l = forward(l, injection: added(h, x), params: params).out
            }
            h = forward(h, injection: l, params: params).out
        }
    }

    /// dOut [B, S, D] -> the gradient of h, which is also the injection's; accumulates every
    /// sub-layer tensor's gradient into `grads`.
    public func backward(_ dOut: [Float], _ saved: Saved, params: ParameterSet, grads: inout ParameterSet) -> [Float] {
        checkCount(dOut, rows * config.hidden, "SharedNetwork dOut")
        var g = dOut
        for ((_, prefix), s) in zip(config.sublayerPrefixes, saved.sublayers).reversed() {
            switch s {
            case let .attn(a, n):
                let ds = postNorm.backward(g, n)
                g = added(ds, attention.backward(ds, a, params: params, grads: &grads, prefix: prefix, batch: batch))
            case let .mlp(m, n):
                let ds = postNorm.backward(g, n)
                g = added(ds, mlp.backward(ds, m, params: params, grads: &grads, prefix: prefix))
            case let .mlpT(m):
                g = mlpT.backward(g, m, params: params, grads: &grads, prefix: prefix)
            case let .mamba2(m, n):
                let ds = postNorm.backward(g, n)
                g = added(ds, mamba.backward(ds, m, params: params, grads: &grads, prefix: prefix, batch: batch))
            }
        }
        return g
    }
}
