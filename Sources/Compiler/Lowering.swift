import Foundation
import GraphIR

/// Lowers a checkpoint into the graph of one ACT step with the H_cycles × (L_cycles + 1) recursion
/// fully unrolled, using only core ops. Every weight is one initializer shared by all its uses.
public struct Lowering {
    public let config: ModelConfig
    private var b: GraphBuilder
    private var rope: (cos: String, sin: String)?
    private let eps: Float
    /// A = -exp(A_log), one value per Mamba-2 layer however often the layer is unrolled.
    private var negA: [String: String] = [:]

    /// Lowers `checkpoint` (which must be valid).
    public static func lower(_ checkpoint: Checkpoint) throws -> Graph {
        try checkpoint.validate()
        var l = Lowering(config: checkpoint.config)
        return try l.build(checkpoint)
    }

    private init(config: ModelConfig) {
        self.config = config
        b = GraphBuilder(name: "trm_act_step")
        eps = Float(config.rmsEps)
    }

    private mutating func build(_ ckpt: Checkpoint) throws -> Graph {
        let c = config, s = c.fullSeqLen, d = c.hidden
        try b.input(StepGraphNames.tokens, TensorType(.int32, Shape(batched: [c.seqLen])))
        try b.input(StepGraphNames.puzzleIds, TensorType(.int32, Shape(batched: [])))
        try b.input(StepGraphNames.zH, TensorType(.float32, Shape(batched: [s, d])))
        try b.input(StepGraphNames.zL, TensorType(.float32, Shape(batched: [s, d])))
        for spec in c.parameterSpecs {
            try b.constant(spec.name, spec.shape, ckpt[spec.name])
        }
        if c.posEncodings == .rope {
            let t = try b.addNode(.ropeTable(seqLen: s, dim: c.headDim, theta: Float(c.ropeTheta)), [])
            rope = (t[0], t[1])
        }
        let x = try inputEmbedding()
        var zH = StepGraphNames.zH, zL = StepGraphNames.zL
        for _ in 0..<c.hCycles {
            for _ in 0..<c.lCycles {
                zL = try network(zL, injection: try b.add(.add, [zH, x]))
            }
            zH = try network(zH, injection: zL)
        }
        try b.rename(zH, to: StepGraphNames.zHNext)
        try b.rename(zL, to: StepGraphNames.zLNext)
        zH = StepGraphNames.zHNext
        let grid = try b.add(.slice(axis: 1, start: c.puzzleEmbLen, end: s), [zH])
        try b.add(.matMul(epilogue: .none), [grid, "lm_head.weight"], name: StepGraphNames.logits)
        let first = try b.add(.slice(axis: 1, start: 0, end: 1), [zH])
        let q = try b.add(.matMul(epilogue: .none), [first, "q_head.weight", "q_head.bias"])  // [B, 1, 2]
        let halt = try b.add(.slice(axis: 2, start: 0, end: 1), [q])
        try b.add(.reshape(shape: []), [halt], name: StepGraphNames.qHalt)
        for name in [StepGraphNames.zHNext, StepGraphNames.zLNext, StepGraphNames.logits, StepGraphNames.qHalt] {
            try b.output(name)
        }
        return try b.build()
    }

    /// docs/model.md §4: token embeddings after the puzzle prefix, scaled by √D.
    private mutating func inputEmbedding() throws -> String {
        let c = config
        let scale = Float(Double(c.hidden).squareRoot())
        let learned = c.posEncodings == .learned
        // With learned positions the scale comes after the position add; otherwise each table
        // lookup is scaled directly, which constant folding then moves into the tables.
        func scaled(_ v: String) throws -> String { learned ? v : try b.add(.scale(factor: scale), [v]) }
        var x = try scaled(try b.add(.gather, ["embed_tokens.embedding_weight", StepGraphNames.tokens]))
        if c.puzzleEmbLen > 0 {
            var pe = try scaled(try b.add(.gather, ["puzzle_emb.weights", StepGraphNames.puzzleIds]))  // [B, ndim]
            let total = c.puzzleEmbLen * c.hidden
            if c.puzzleEmbNdim < total { pe = try b.add(.pad(axis: 1, after: total - c.puzzleEmbNdim), [pe]) }
            pe = try b.add(.reshape(shape: [c.puzzleEmbLen, c.hidden]), [pe])
            x = try b.add(.concat(axis: 1), [pe, x])
        }
        if learned {
            x = try b.add(.add, [x, "embed_pos.embedding_weight"])
            x = try b.add(.scale(factor: Float(0.707106781) * scale), [x])
        }
        return x
    }

    /// One application of the shared network: h + injection, then every sub-layer, post-norm.
    private mutating func network(_ h0: String, injection: String) throws -> String {
        var h = try b.add(.add, [h0, injection])
        for (kind, prefix) in config.sublayerPrefixes {
            switch kind {
            case .attn: h = try postNorm(h, try attention(h, prefix))
            case .mlp: h = try postNorm(h, try swiGLU(h, prefix))
            case .mlpT:
                let t = try b.add(.transpose(perm: [0, 2, 1]), [h])  // [B, D, S]
                let mixed = try postNorm(t, try swiGLU(t, prefix))  // norm over S
                h = try b.add(.transpose(perm: [0, 2, 1]), [mixed])
            case .mamba2: h = try postNorm(h, try mamba2(h, prefix))
            }
        }
        return h
    }

    private mutating func postNorm(_ h: String, _ f: String) throws -> String {
        try b.add(.rmsNorm(eps: eps), [try b.add(.add, [h, f])])
    }

    private mutating func swiGLU(_ h: String, _ p: String) throws -> String {
        let gu = try b.add(.matMul(epilogue: .none), [h, p + ".gate_up_proj.weight"])
        return try b.add(.matMul(epilogue: .none), [try b.add(.swiGLU, [gu]), p + ".down_proj.weight"])
    }

    private mutating func attention(_ h: String, _ p: String) throws -> String {
        let d = config.hidden, heads = config.heads, hd = config.headDim
        let qkv = try b.add(.matMul(epilogue: .none), [h, p + ".qkv_proj.weight"])
        var q = try b.add(.slice(axis: 2, start: 0, end: d), [qkv])
        var k = try b.add(.slice(axis: 2, start: d, end: 2 * d), [qkv])
        let v = try b.add(.slice(axis: 2, start: 2 * d, end: 3 * d), [qkv])
        if let rope {
            q = try b.add(.rope(heads: heads, headDim: hd), [q, rope.cos, rope.sin])
            k = try b.add(.rope(heads: heads, headDim: hd), [k, rope.cos, rope.sin])
        }
        let a = try b.add(.attention(heads: heads, headDim: hd), [q, k, v])
        return try b.add(.matMul(epilogue: .none), [a, p + ".o_proj.weight"])
    }

    /// docs/mamba2.md §2. A bidirectional layer runs the causal and the reversed scan on one in_proj
    /// output and projects the mean of the two gated outputs (out_proj is linear, so this is the mean
    /// of the two layer outputs).
    private mutating func mamba2(_ h: String, _ p: String) throws -> String {
        let zx = try b.add(.matMul(epilogue: .none), [h, p + ".in_proj.weight"])
        let negA = try negA[p] ?? b.add(.scale(factor: -1), [try b.add(.exp, [p + ".A_log"])])
        self.negA[p] = negA
        let gated: String
        switch config.mamba.direction {
        case .causal: gated = try scanGate(zx, p, negA, reverse: false)
        case .reverse: gated = try scanGate(zx, p, negA, reverse: true)
        case .bidirectional:
            let sum = try b.add(.add, [try scanGate(zx, p, negA, reverse: false), try scanGate(zx, p, negA, reverse: true)])
            gated = try b.add(.scale(factor: 0.5), [sum])
        }
        return try b.add(.matMul(epilogue: .none), [gated, p + ".out_proj.weight"])
    }

    private mutating func scanGate(_ zx: String, _ p: String, _ negA: String, reverse: Bool) throws -> String {
        let m = config.mambaDims(reverse: reverse)
        let e = m.inner, cd = m.convChannels, gn = m.groups * m.dState
        let z = try b.add(.slice(axis: 2, start: 0, end: e), [zx])
        let xbc = try b.add(.slice(axis: 2, start: e, end: e + cd), [zx])
        let dtRaw = try b.add(.slice(axis: 2, start: e + cd, end: e + cd + m.heads), [zx])
        let conv = try b.add(.silu, [try b.add(.conv1dCausal(reverse: reverse), [xbc, p + ".conv1d.weight", p + ".conv1d.bias"])])
        let x = try b.add(.slice(axis: 2, start: 0, end: e), [conv])
        let bm = try b.add(.slice(axis: 2, start: e, end: e + gn), [conv])
        let cm = try b.add(.slice(axis: 2, start: e + gn, end: cd), [conv])
        let dt = try b.add(.softplus, [try b.add(.add, [dtRaw, p + ".dt_bias"])])
        let y = try b.add(.ssmScan(m), [x, dt, negA, bm, cm, p + ".D"])
        return try b.add(.gatedRMSNorm(groupSize: e / m.groups, eps: eps), [y, z, p + ".norm.weight"])
    }
}
