/// The layer-level pieces of function bodies: RoPE tables and rotation, softmax attention, and the
/// Mamba-2 causal depthwise conv, SSM recurrence (an ONNX Scan) and gated grouped RMSNorm. Fused ops'
/// bodies compose them exactly as the ops' definitions do, so the oracle checks each fused kernel
/// against the unfused meaning.
extension OnnxBodyBuilder {
    /// RoPE tables [S, d]: θ^(-2i/d) in fp64 rounded once to fp32, times the fp32 position, then the
    /// angles repeated for the second half and passed through cos and sin.
    mutating func ropeTable(seqLen: Int, dim: Int, theta: Float) -> (cos: String, sin: String) {
        enter("rope_table")
        defer { leave() }
        let i = one("Range", [double(0), double(Double(dim / 2)), double(1)])
        let exponent = one("Div", [mul(i, double(-2)), double(Double(dim))])
        let invFreq = one("Cast", [one("Pow", [double(Double(theta)), exponent])], [.int("to", 1)])
        let position = one("Range", [scalar(0), scalar(Float(seqLen)), scalar(1)])
        let angle = mul(unsqueeze(position, [1]), invFreq)  // [S, d/2]
        let table = one("Concat", [angle, angle], [.int("axis", 1)])
        return (one("Cos", [table]), one("Sin", [table]))
    }

    /// `x [B, S, H·d]` as `[B, S, H, d]`.
    mutating func splitHeads(_ x: String, heads: Int, headDim: Int) -> String {
        reshape(x, [0, 0, heads, headDim])
    }

    /// `[B, S, H, d]` back to `[B, S, H·d]`.
    mutating func mergeHeads(_ x: String) -> String {
        reshape(x, [0, 0, -1])
    }

    /// Half-split rotary embedding per head: `v·cos + rot(v)·sin`, rot(v) = [-v₂, v₁].
    mutating func rope(_ x: String, cos: String, sin: String, heads: Int, headDim: Int) -> String {
        enter("rope")
        defer { leave() }
        let v = splitHeads(x, heads: heads, headDim: headDim)
        // [S, d] -> [S, 1, d]: the same angle for every head of a position.
        let c = unsqueeze(cos, [1]), s = unsqueeze(sin, [1])
        let (v1, v2) = halves(v)
        let rotated = one("Concat", [one("Neg", [v2]), v1], [.int("axis", -1)])
        return mergeHeads(add(mul(v, c), mul(rotated, s)))
    }

    /// Non-causal softmax attention per head with scale 1/sqrt(d).
    mutating func attention(q: String, k: String, v: String, heads: Int, headDim: Int) -> String {
        enter("attention")
        defer { leave() }
        let qh = transpose(splitHeads(q, heads: heads, headDim: headDim), [0, 2, 1, 3])  // [B, H, S, d]
        let kt = transpose(splitHeads(k, heads: heads, headDim: headDim), [0, 2, 3, 1])  // [B, H, d, S]
        let vh = transpose(splitHeads(v, heads: heads, headDim: headDim), [0, 2, 1, 3])
        let scores = mul(one("MatMul", [qh, kt]), scalar(Float(1 / Double(headDim).squareRoot())))
        let probs = one("Softmax", [scores], [.int("axis", -1)])
        return mergeHeads(transpose(one("MatMul", [probs, vh]), [0, 2, 1, 3]))
    }

    /// Depthwise causal cross-correlation over `x [B, L, C]` with `w [C, 1, K]` and `bias [C]`:
    /// w[c, 0, K-1] multiplies the current token. `reverse` runs it from the last token.
    mutating func conv1dCausal(
        _ x: String, weight: String, bias: String, channels: Int, kernel: Int,
        reverse: Bool
    ) -> String {
        enter("conv1d")
        defer { leave() }
        let input = reverse ? flip(x, axis: 1) : x
        // Conv wants channels first; K-1 zeros on the left make it causal.
        let y = one(
            "Conv", [transpose(input, [0, 2, 1]), weight, bias],
            [.int("group", channels), .ints("kernel_shape", [kernel]), .ints("pads", [kernel - 1, 0])])
        let out = transpose(y, [0, 2, 1])
        return reverse ? flip(out, axis: 1) : out
    }

    /// The selective-state-space recurrence. Everything that does not depend on the state (dt·A,
    /// dt·x, the group-to-head expansion, the D skip) is computed outside the Scan, so its body is
    /// four elementwise ops and a reduction and reads no outer-scope names.
    mutating func ssmScan(
        x: String, dt: String, a: String, bm: String, cm: String, d: String,
        dims m: Mamba2Dims
    ) -> String {
        enter("ssm_scan")
        defer { leave() }
        let (h, p, n, g) = (m.heads, m.headDim, m.dState, m.groups)
        func forward(_ v: String) -> String { m.reverse ? flip(v, axis: 1) : v }
        let x4 = reshape(forward(x), [0, 0, h, p])  // [B, L, H, P]
        let dtf = forward(dt)  // [B, L, H]
        let decay = one("Exp", [mul(dtf, a)])  // [B, L, H]
        let drive = mul(x4, unsqueeze(dtf, [3]))  // [B, L, H, P]
        // Head h reads group h / (H/G): repeat each group's [N] vector H/G times.
        func perHead(_ v: String) -> String {
            let grouped = reshape(forward(v), [0, 0, g, 1, n])
            return reshape(one("Expand", [grouped, ints([1, 1, g, h / g, n])]), [0, 0, h, n])
        }
        let bh = perHead(bm), ch = perHead(cm)  // [B, L, H, N]

        let batch = one("Shape", [x], [.int("start", 0), .int("end", 1)])
        let state0 = one("ConstantOfShape", [one("Concat", [batch, ints([h, p, n])], [.int("axis", 0)])])
        let scan = op(
            "Scan", [state0, drive, decay, bh, ch],
            [
                OnnxAttribute("body", .graph(Self.ssmStep())), .int("num_scan_inputs", 4),
                .ints("scan_input_axes", [1, 1, 1, 1]), .ints("scan_output_axes", [1]),
            ], outputs: 2)
        let skip = mul(x4, unsqueeze(d, [1]))  // D[h] · x[t, h, :]
        return forward(reshape(add(scan[1], skip), [0, 0, h * p]))
    }

    /// One Scan step over slices at time t: state [B, H, P, N], drive [B, H, P], decay [B, H],
    /// b and c [B, H, N] -> (next state, y [B, H, P]).
    static func ssmStep() -> OnnxGraph {
        var s = OnnxBodyBuilder(prefix: "s", label: "ssm_step")
        let decayed = s.mul(s.unsqueeze("decay", [2, 3]), "state")
        let next = s.add(decayed, s.mul(s.unsqueeze("drive", [3]), s.unsqueeze("b", [2])))
        let y = s.one("ReduceSum", [s.mul(next, s.unsqueeze("c", [2])), s.ints([3])], [.int("keepdims", 0)])
        s.rename(next, to: "state_next")
        s.rename(y, to: "y")
        return OnnxGraph(
            name: "ssm_step", nodes: s.nodes,
            inputs: ["state", "drive", "decay", "b", "c"].map { OnnxValueInfo($0) },
            outputs: ["state_next", "y"].map { OnnxValueInfo($0) })
    }

    /// `v = y ⊙ silu(z)`, RMS-normalised over consecutive groups of `groupSize` channels, times w.
    mutating func gatedRMSNorm(y: String, z: String, weight: String, groupSize: Int, eps: Float) -> String {
        enter("gated_rms_norm")
        defer { leave() }
        let v = mul(y, silu(z))
        let grouped = reshape(v, [0, 0, -1, groupSize])
        return mul(reshape(rmsNorm(grouped, eps: eps), [0, 0, -1]), weight)
    }

    /// Mamba2ScanGate: split the in_proj output, conv + SiLU, dt softplus, scan, gate and norm.
    mutating func mamba2ScanGate(
        zxbcdt: String, convW: String, convB: String, dtBias: String, a: String,
        d: String, normW: String, dims m: Mamba2Dims, kernel: Int, eps: Float
    ) -> String {
        let e = m.inner, cd = m.convChannels, gn = m.groups * m.dState
        let z = slice(zxbcdt, axis: 2, start: 0, end: e)
        let xbc = slice(zxbcdt, axis: 2, start: e, end: e + cd)
        let dtRaw = slice(zxbcdt, axis: 2, start: e + cd, end: e + cd + m.heads)
        let conv = silu(conv1dCausal(xbc, weight: convW, bias: convB, channels: cd, kernel: kernel, reverse: m.reverse))
        let x = slice(conv, axis: 2, start: 0, end: e)
        let bm = slice(conv, axis: 2, start: e, end: e + gn)
        let cm = slice(conv, axis: 2, start: e + gn, end: cd)
        let dt = one("Softplus", [add(dtRaw, dtBias)])
        let y = ssmScan(x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, dims: m)
        return gatedRMSNorm(y: y, z: z, weight: normW, groupSize: e / m.groups, eps: eps)
    }
}
