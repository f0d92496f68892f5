import Foundation
import GraphIR

/// Lowers a checkpoint into the graph of one ACT step with the H_cycles × (L_cycles + 1) recursion
/// fully unrolled, using only core ops. Every weight is one initializer shared by all its uses.
/// Every node is named after its place (docs/formats.md §2.4): `input.*`, `rope.*`, `weights.*`,
/// `H{h}.L{l}.*` / `H{h}.H.*` for the network applications, `heads.*`.
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
            b.scope = ["rope"]
            let t = try b.addNode(
                .ropeTable(seqLen: s, dim: c.headDim, theta: Float(c.ropeTheta)), [], role: "table", names: ["rope.cos", "rope.sin"])
            rope = (t[0], t[1])
        }
        b.scope = ["input"]
        let x = try inputEmbedding()
        var zH = StepGraphNames.zH, zL = StepGraphNames.zL
        for h in 1..<(c.hCycles + 1) {
            for l in 1..<(c.lCycles + 1) {
                let app = NodeNames.application(hCycle: h, lCycle: l)
                b.scope = app + ["inject"]
                zL = try network(zL, injection: try b.add(.add, [zH, x], role: "add_input"), app)
            }
            zH = try network(zH, injection: zL, NodeNames.application(hCycle: h, lCycle: nil))
        }
        try b.rename(zH, to: StepGraphNames.zHNext)
        try b.rename(zL, to: StepGraphNames.zLNext)
        zH = StepGraphNames.zHNext
        b.scope = ["heads"]
        let grid = try b.add(.slice(axis: 1, start: c.puzzleEmbLen, end: s), [zH], role: "grid")
        try b.add(.matMul(epilogue: .none), [grid, "lm_head.weight"], role: "lm_head", name: StepGraphNames.logits)
        let first = try b.add(.slice(axis: 1, start: 0, end: 1), [zH], role: "first")
        let q = try b.add(.matMul(epilogue: .none), [first, "q_head.weight", "q_head.bias"], role: "q_head")  // [B, 1, 2]
        let halt = try b.add(.slice(axis: 2, start: 0, end: 1), [q], role: "halt_logit")
        try b.add(.reshape(shape: []), [halt], role: "q_halt", name: StepGraphNames.qHalt)
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
        func lookup(_ table: String, _ ids: String, _ role: String) throws -> String {
            let rows = try b.add(.gather, [table, ids], role: role)
            return learned ? rows : try b.add(.scale(factor: scale), [rows], role: role + "_scale")
        }
        var x = try lookup("embed_tokens.embedding_weight", StepGraphNames.tokens, "embed_tokens")
        if c.puzzleEmbLen > 0 {
            var pe = try lookup("puzzle_emb.weights", StepGraphNames.puzzleIds, "puzzle_emb")  // [B, ndim]
            let total = c.puzzleEmbLen * c.hidden
            if c.puzzleEmbNdim < total { pe = try b.add(.pad(axis: 1, after: total - c.puzzleEmbNdim), [pe], role: "puzzle_emb_pad") }
            pe = try b.add(.reshape(shape: [c.puzzleEmbLen, c.hidden]), [pe], role: "puzzle_emb_rows")
            x = try b.add(.concat(axis: 1), [pe, x], role: "concat")
        }
        if learned {
            x = try b.add(.add, [x, "embed_pos.embedding_weight"], role: "embed_pos")
            x = try b.add(.scale(factor: Float(0.707106781) * scale), [x], role: "scale")
        }
        return x
    }

    /// One application of the shared network (scope `app`): h + injection, then every sub-layer,
    /// post-norm.
    private mutating func network(_ h0: String, injection: String, _ app: [String]) throws -> String {
        b.scope = app + ["inject"]
        var h = try b.add(.add, [h0, injection], role: "add")
        for ((kind, prefix), scope) in zip(config.sublayerPrefixes, config.sublayerScopes) {
            b.scope = app + scope.split(separator: ".").map(String.init)
            switch kind {
            case .attn: h = try postNorm(h, try attention(h, prefix))
            case .mlp: h = try postNorm(h, try swiGLU(h, prefix))
            case .mlpT:
                let t = try b.add(.transpose(perm: [0, 2, 1]), [h], role: "transpose_in")  // [B, D, S]
                let mixed = try postNorm(t, try swiGLU(t, prefix))  // norm over S
                h = try b.add(.transpose(perm: [0, 2, 1]), [mixed], role: "transpose_out")
            case .mamba2: h = try postNorm(h, try mamba2(h, prefix))
            }
        }
        return h
    }

    private mutating func postNorm(_ h: String, _ f: String) throws -> String {
        try b.add(.rmsNorm(eps: eps), [try b.add(.add, [h, f], role: "residual")], role: "norm")
    }

    private mutating func swiGLU(_ h: String, _ p: String) throws -> String {
        let gu = try b.add(.matMul(epilogue: .none), [h, p + ".gate_up_proj.weight"], role: "gate_up_proj")
        let act = try b.add(.swiGLU, [gu], role: "swiglu")
        return try b.add(.matMul(epilogue: .none), [act, p + ".down_proj.weight"], role: "down_proj")
    }

    private mutating func attention(_ h: String, _ p: String) throws -> String {
        let d = config.hidden, heads = config.heads, hd = config.headDim
        let qkv = try b.add(.matMul(epilogue: .none), [h, p + ".qkv_proj.weight"], role: "qkv_proj")
        var q = try b.add(.slice(axis: 2, start: 0, end: d), [qkv], role: "q")
        var k = try b.add(.slice(axis: 2, start: d, end: 2 * d), [qkv], role: "k")
        let v = try b.add(.slice(axis: 2, start: 2 * d, end: 3 * d), [qkv], role: "v")
        if let rope {
            q = try b.add(.rope(heads: heads, headDim: hd), [q, rope.cos, rope.sin], role: "rope_q")
            k = try b.add(.rope(heads: heads, headDim: hd), [k, rope.cos, rope.sin], role: "rope_k")
        }
        let a = try b.add(.attention(heads: heads, headDim: hd), [q, k, v], role: "attention")
        return try b.add(.matMul(epilogue: .none), [a, p + ".o_proj.weight"], role: "o_proj")
    }

    /// docs/mamba2.md §2. A bidirectional layer runs the causal and the reversed scan on one in_proj
    /// output and projects the mean of the two gated outputs (out_proj is linear, so this is the mean
    /// of the two layer outputs).
    private mutating func mamba2(_ h: String, _ p: String) throws -> String {
        let zx = try b.add(.matMul(epilogue: .none), [h, p + ".in_proj.weight"], role: "in_proj")
        let negA = try self.negA[p] ?? weightA(p)
        self.negA[p] = negA
        let gated: String
        switch config.mamba.direction {
        case .causal: gated = try scanGate(zx, p, negA, reverse: false)
        case .reverse: gated = try scanGate(zx, p, negA, reverse: true)
        case .bidirectional:
            let fwd = try scanGate(zx, p, negA, reverse: false), rev = try scanGate(zx, p, negA, reverse: true)
            let sum = try b.add(.add, [fwd, rev], role: "sum_directions")
            gated = try b.add(.scale(factor: 0.5), [sum], role: "mean_directions")
        }
        return try b.add(.matMul(epilogue: .none), [gated, p + ".out_proj.weight"], role: "out_proj")
    }

    /// A = -exp(A_log) of the layer `p`, computed once (scope `weights.<sub-layer>`; constant
    /// folding makes it the initializer `<p>.A`).
    private mutating func weightA(_ p: String) throws -> String {
        let scope = b.scope
        defer { b.scope = scope }
        b.scope = ["weights"] + scope.dropFirst(2)
        let e = try b.add(.exp, [p + ".A_log"], role: "exp_A_log")
        return try b.add(.scale(factor: -1), [e], role: "A", name: p + ".A")
    }

    private mutating func scanGate(_ zx: String, _ p: String, _ negA: String, reverse: Bool) throws -> String {
        let m = config.mambaDims(reverse: reverse)
        let e = m.inner, cd = m.convChannels, gn = m.groups * m.dState
        let scope = b.scope
        defer { b.scope = scope }
        b.scope.append(reverse ? "rev" : "fwd")
        let z = try b.add(.slice(axis: 2, start: 0, end: e), [zx], role: "z")
        let xbc = try b.add(.slice(axis: 2, start: e, end: e + cd), [zx], role: "xBC")
        let dtRaw = try b.add(.slice(axis: 2, start: e + cd, end: e + cd + m.heads), [zx], role: "dt_raw")
        let conv1d = try b.add(.conv1dCausal(reverse: reverse), [xbc, p + ".conv1d.weight", p + ".conv1d.bias"], role: "conv1d")
        let conv = try b.add(.silu, [conv1d], role: "conv_silu")
        let x = try b.add(.slice(axis: 2, start: 0, end: e), [conv], role: "x")
        let bm = try b.add(.slice(axis: 2, start: e, end: e + gn), [conv], role: "B")
        let cm = try b.add(.slice(axis: 2, start: e + gn, end: cd), [conv], role: "C")
        let dt = try b.add(.softplus, [try b.add(.add, [dtRaw, p + ".dt_bias"], role: "dt_bias")], role: "dt")
        let y = try b.add(.ssmScan(m), [x, dt, negA, bm, cm, p + ".D"], role: "scan")
        return try b.add(.gatedRMSNorm(groupSize: e / m.groups, eps: eps), [y, z, p + ".norm.weight"], role: "gate_norm")
    }
}
