/// What a MatMul does to its product before writing it.
public enum MatMulEpilogue: String, Sendable, Hashable, CaseIterable {
    /// `y = x·Wᵀ (+ bias)`.
    case none
    /// `y = silu(g) ⊙ u` where `[g | u] = x·Wᵀ`: the output has half of W's rows.
    case swiGLU
}

/// Attributes shared by the Mamba-2 scan ops (docs/mamba2.md §2).
public struct Mamba2Dims: Hashable, Sendable {
    /// H: SSM heads (d_inner / headdim).
    public var heads: Int
    /// P: channels per head.
    public var headDim: Int
    /// N: state size per group.
    public var dState: Int
    /// G: groups sharing B and C; head h uses group h / (H / G).
    public var groups: Int
    /// Scan from the last token to the first (the reverse half of a bidirectional layer).
    public var reverse: Bool

    public init(heads: Int, headDim: Int, dState: Int, groups: Int, reverse: Bool = false) {
        self.heads = heads
        self.headDim = headDim
        self.dState = dState
        self.groups = groups
        self.reverse = reverse
    }

    /// E = H·P.
    public var inner: Int { heads * headDim }
    /// Conv channels: x, B and C together (E + 2GN).
    public var convChannels: Int { inner + 2 * groups * dState }
    /// in_proj width: z, xBC and dt (2E + 2GN + H).
    public var inProjWidth: Int { 2 * inner + 2 * groups * dState + heads }
}

/// The ops by name, without their attributes: the `op_type` of a node in a `.trmg` file (domain
/// `ai.trm`). `CaseIterable`, so tests can check that sample graphs cover every op, and parsing a
/// name is an exhaustive `switch` over it.
public enum OpKind: String, Sendable, Hashable, CaseIterable {
    case gather = "Gather"
    case matMul = "MatMul"
    case add = "Add"
    case mul = "Mul"
    case scale = "Scale"
    case rmsNorm = "RMSNorm"
    case ropeTable = "RoPETable"
    case rope = "RoPE"
    case attention = "Attention"
    case swiGLU = "SwiGLU"
    case transpose = "Transpose"
    case concat = "Concat"
    case slice = "Slice"
    case reshape = "Reshape"
    case pad = "Pad"
    case conv1dCausal = "Conv1dCausal"
    case silu = "SiLU"
    case softplus = "Softplus"
    case exp = "Exp"
    case ssmScan = "SSMScan"
    case gatedRMSNorm = "GatedRMSNorm"
    case argmax = "Argmax"
    case sigmoid = "Sigmoid"
    case addRMSNorm = "AddRMSNorm"
    case fusedAttention = "FusedAttention"
    case mamba2ScanGate = "Mamba2ScanGate"
}

/// Every operation of the graph IR: the core ops the lowering emits and the fused ops the
/// compiler's passes emit. Every `switch` over it is exhaustive (verifier, serializer, executor), so a
/// new op cannot skip a table.
///
/// Shapes use `B` for the symbolic batch; all axis attributes count the batch axis. Inputs marked
/// "weight" are unbatched fp32 tensors (normally initializers).
public enum Op: Hashable, Sendable {
    // MARK: core ops

    /// (table [N, D] weight, indices [...] int32) -> [..., D]. Out-of-range indices are a runtime error.
    case gather
    /// (x [..., K], w [N, K] weight, bias [N]?) -> [..., N] (or [..., N/2] with the SwiGLU epilogue).
    case matMul(epilogue: MatMulEpilogue)
    /// (a, b) -> a + b. b has a's shape, or its shape is a trailing part of a's per-sample shape.
    case add
    /// (a, b) -> a ⊙ b, broadcast as `add`.
    case mul
    /// (x) -> factor · x.
    case scale(factor: Float)
    /// (x) -> x / sqrt(mean(x², last axis) + eps). Weightless.
    case rmsNorm(eps: Float)
    /// () -> (cos [S, d], sin [S, d]): half-split RoPE tables, angle = fp32(p) × fp32(θ^(-2i/d)).
    case ropeTable(seqLen: Int, dim: Int, theta: Float)
    /// (x [B, S, H·d], cos [S, d], sin [S, d]) -> [B, S, H·d]: `v·cos + rot(v)·sin` per head.
    case rope(heads: Int, headDim: Int)
    /// (q, k, v [B, S, H·d]) -> [B, S, H·d]: non-causal softmax attention, scale 1/sqrt(d), no mask.
    case attention(heads: Int, headDim: Int)
    /// (x [..., 2I]) -> [..., I]: silu(first half) ⊙ second half.
    case swiGLU
    /// (x) -> x permuted by `perm`; a batched tensor keeps its batch first.
    case transpose(perm: [Int])
    /// (x₀, x₁, ...) -> concatenation along `axis`.
    case concat(axis: Int)
    /// (x) -> x[start ..< end] along `axis` (not the batch axis).
    case slice(axis: Int, start: Int, end: Int)
    /// (x) -> x with per-sample shape `shape` (same element count; the batch axis is kept).
    case reshape(shape: [Int])
    /// (x) -> x zero-padded with `after` elements at the end of `axis` (not the batch axis).
    case pad(axis: Int, after: Int)
    /// (x [B, L, C], w [C, 1, K] weight, bias [C] weight) -> [B, L, C]: depthwise causal
    /// cross-correlation (w[c, K-1] multiplies the current token); `reverse` runs it from the end.
    case conv1dCausal(reverse: Bool)
    /// (x) -> x · sigmoid(x).
    case silu
    /// (x) -> log(1 + eˣ), x for x > 20.
    case softplus
    /// (x) -> eˣ.
    case exp
    /// (x [B, L, H·P], dt [B, L, H], A [H], Bm [B, L, G·N], Cm [B, L, G·N], D [H]) -> y [B, L, H·P]:
    /// `S(t) = exp(dt·A)·S(t-1) + dt·x⊗B`, `y = S(t)·C + D·x` from a zero state.
    case ssmScan(Mamba2Dims)
    /// (y [B, L, E], z [B, L, E], w [E] weight) -> [B, L, E]: v = y ⊙ silu(z), RMS-normalised over
    /// groups of `groupSize` channels, times w.
    case gatedRMSNorm(groupSize: Int, eps: Float)
    /// (x [..., V]) -> int32 [...]: index of the largest value on the last axis (first on ties).
    case argmax
    /// (x) -> 1 / (1 + e⁻ˣ).
    case sigmoid

    // MARK: fused ops

    /// (a, b) -> rmsNorm(a + b): the residual add and the post-norm in one pass.
    case addRMSNorm(eps: Float)
    /// (qkv [B, S, 3·H·d], cos [S, d], sin [S, d]) -> [B, S, H·d]: qkv split + RoPE + attention,
    /// never materialising an S×S tensor in the arena.
    case fusedAttention(heads: Int, headDim: Int)
    /// (zxbcdt [B, L, 2E+2GN+H], conv_w [Cd, 1, K], conv_b [Cd], dt_bias [H], A [H], D [H],
    /// norm_w [E]) -> [B, L, E]: conv + SiLU + dt softplus + scan + D skip + SiLU(z) gate + grouped
    /// RMSNorm in one pass over the in_proj output.
    case mamba2ScanGate(Mamba2Dims, convKernel: Int, eps: Float)

    /// The op without its attributes.
    public var kind: OpKind {
        switch self {
        case .gather: return .gather
        case .matMul: return .matMul
        case .add: return .add
        case .mul: return .mul
        case .scale: return .scale
        case .rmsNorm: return .rmsNorm
        case .ropeTable: return .ropeTable
        case .rope: return .rope
        case .attention: return .attention
        case .swiGLU: return .swiGLU
        case .transpose: return .transpose
        case .concat: return .concat
        case .slice: return .slice
        case .reshape: return .reshape
        case .pad: return .pad
        case .conv1dCausal: return .conv1dCausal
        case .silu: return .silu
        case .softplus: return .softplus
        case .exp: return .exp
        case .ssmScan: return .ssmScan
        case .gatedRMSNorm: return .gatedRMSNorm
        case .argmax: return .argmax
        case .sigmoid: return .sigmoid
        case .addRMSNorm: return .addRMSNorm
        case .fusedAttention: return .fusedAttention
        case .mamba2ScanGate: return .mamba2ScanGate
        }
    }

    /// The op's name: the `op_type` of its node in a `.trmg` file (domain `ai.trm`).
    public var name: String { kind.rawValue }
}
