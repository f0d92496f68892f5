import Foundation
import TRMCore

/// The kinds of sub-layer the shared network is built from (docs/model.md §2.3).
public enum SublayerKind: String, Codable, Sendable, CaseIterable {
    /// Non-causal RoPE attention with fused qkv.
    case attn
    /// Channel SwiGLU MLP.
    case mlp
    /// SwiGLU over the sequence axis (norm over S).
    case mlpT = "mlp_t"
    /// Stock Mamba-2 with gated RMSNorm.
    case mamba2
}

/// Positional encoding of the input embedding.
public enum PosEncoding: String, Codable, Sendable {
    case rope, learned, none
}

/// Scan direction of the Mamba-2 sub-layers.
public enum ScanDirection: String, Codable, Sendable {
    case causal, reverse
    /// Shared weights; the mean of the forward and the reversed-sequence scans.
    case bidirectional
}

/// Mamba-2 hyper-parameters (docs/mamba2.md §1).
public struct MambaConfig: Codable, Hashable, Sendable {
    public var dState: Int = 128
    public var dConv: Int = 4
    public var expand: Int = 2
    public var headdim: Int = 64
    public var ngroups: Int = 1
    public var direction: ScanDirection = .causal

    public init() {}

    enum CodingKeys: String, CodingKey {
        case dState = "d_state"
        case dConv = "d_conv"
        case expand, headdim, ngroups, direction
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MambaConfig.init()
        dState = try c.decodeIfPresent(Int.self, forKey: .dState) ?? d.dState
        dConv = try c.decodeIfPresent(Int.self, forKey: .dConv) ?? d.dConv
        expand = try c.decodeIfPresent(Int.self, forKey: .expand) ?? d.expand
        headdim = try c.decodeIfPresent(Int.self, forKey: .headdim) ?? d.headdim
        ngroups = try c.decodeIfPresent(Int.self, forKey: .ngroups) ?? d.ngroups
        direction = try c.decodeIfPresent(ScanDirection.self, forKey: .direction) ?? d.direction
    }
}

/// A TRM model's architecture: the JSON of the checkpoint's `trm.config` (docs/formats.md §1). The key
/// names are the contract; a checkpoint written by another tool with them must load.
public struct ModelConfig: Codable, Hashable, Sendable {
    public var hidden: Int
    public var heads: Int
    public var expansion: Double
    public var sublayers: [SublayerKind]
    public var hCycles: Int
    public var lCycles: Int
    public var haltMaxSteps: Int
    public var vocab: Int
    /// Grid tokens L; the network sees S = L + puzzleEmbLen.
    public var seqLen: Int
    public var puzzleEmbLen: Int
    public var puzzleEmbNdim: Int
    public var numPuzzleIds: Int
    public var posEncodings: PosEncoding
    public var ropeTheta: Double
    public var rmsEps: Double
    public var mamba: MambaConfig

    enum CodingKeys: String, CodingKey {
        case hidden, heads, expansion, sublayers
        case hCycles = "H_cycles"
        case lCycles = "L_cycles"
        case haltMaxSteps = "halt_max_steps"
        case vocab
        case seqLen = "seq_len"
        case puzzleEmbLen = "puzzle_emb_len"
        case puzzleEmbNdim = "puzzle_emb_ndim"
        case numPuzzleIds = "num_puzzle_ids"
        case posEncodings = "pos_encodings"
        case ropeTheta = "rope_theta"
        case rmsEps = "rms_eps"
        case mamba
    }

    public init(
        hidden: Int, heads: Int, expansion: Double, sublayers: [SublayerKind], hCycles: Int,
        lCycles: Int, haltMaxSteps: Int, vocab: Int, seqLen: Int, puzzleEmbLen: Int,
        puzzleEmbNdim: Int, numPuzzleIds: Int, posEncodings: PosEncoding,
        ropeTheta: Double = 10000, rmsEps: Double = 1e-5, mamba: MambaConfig = MambaConfig()
    ) {
        self.hidden = hidden
        self.heads = heads
        self.expansion = expansion
        self.sublayers = sublayers
        self.hCycles = hCycles
        self.lCycles = lCycles
        self.haltMaxSteps = haltMaxSteps
        self.vocab = vocab
        self.seqLen = seqLen
        self.puzzleEmbLen = puzzleEmbLen
        self.puzzleEmbNdim = puzzleEmbNdim
        self.numPuzzleIds = numPuzzleIds
        self.posEncodings = posEncodings
        self.ropeTheta = ropeTheta
        self.rmsEps = rmsEps
        self.mamba = mamba
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hidden = try c.decode(Int.self, forKey: .hidden)
        heads = try c.decode(Int.self, forKey: .heads)
        expansion = try c.decode(Double.self, forKey: .expansion)
        sublayers = try c.decode([SublayerKind].self, forKey: .sublayers)
        hCycles = try c.decode(Int.self, forKey: .hCycles)
        lCycles = try c.decode(Int.self, forKey: .lCycles)
        haltMaxSteps = try c.decode(Int.self, forKey: .haltMaxSteps)
        vocab = try c.decode(Int.self, forKey: .vocab)
        seqLen = try c.decode(Int.self, forKey: .seqLen)
        puzzleEmbLen = try c.decode(Int.self, forKey: .puzzleEmbLen)
        puzzleEmbNdim = try c.decode(Int.self, forKey: .puzzleEmbNdim)
        numPuzzleIds = try c.decode(Int.self, forKey: .numPuzzleIds)
        posEncodings = try c.decode(PosEncoding.self, forKey: .posEncodings)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        rmsEps = try c.decodeIfPresent(Double.self, forKey: .rmsEps) ?? 1e-5
        mamba = try c.decodeIfPresent(MambaConfig.self, forKey: .mamba) ?? MambaConfig()
    }

    // MARK: derived sizes

    /// S: tokens the network sees (puzzle prefix + grid).
    public var fullSeqLen: Int { seqLen + puzzleEmbLen }
    /// d: channels per attention head.
    public var headDim: Int { hidden / heads }
    /// SwiGLU width of the channel MLP.
    public var mlpWidth: Int { Self.swiGLUWidth(hidden, expansion) }
    /// SwiGLU width of the sequence MLP (mlp_t), which mixes the S positions.
    public var mlpTWidth: Int { Self.swiGLUWidth(fullSeqLen, expansion) }
    /// E: Mamba-2 inner width.
    public var mambaInner: Int { mamba.expand * hidden }
    /// H: Mamba-2 heads.
    public var mambaHeads: Int { mambaInner / mamba.headdim }
    /// The Mamba-2 dimensions for the scan ops.
    public func mambaDims(reverse: Bool = false) -> Mamba2Dims {
        Mamba2Dims(heads: mambaHeads, headDim: mamba.headdim, dState: mamba.dState, groups: mamba.ngroups, reverse: reverse)
    }

    /// roundUpToMultiple(round(e·n·2/3), 256), with Python's round-half-to-even.
    public static func swiGLUWidth(_ n: Int, _ e: Double) -> Int {
        let r = Int((e * Double(n) * 2.0 / 3.0).rounded(.toNearestOrEven))
        return (r + 255) / 256 * 256
    }

    /// Checks every field for range and internal consistency.
    public func validate() throws {
        func fail(_ why: String) -> TRMError { TRMError(.invalidConfig, "model config: \(why)") }
        for (name, v) in [
            ("hidden", hidden), ("heads", heads), ("H_cycles", hCycles), ("L_cycles", lCycles),
            ("halt_max_steps", haltMaxSteps), ("vocab", vocab), ("seq_len", seqLen),
            ("num_puzzle_ids", numPuzzleIds),
        ] {
            guard v >= 1, v <= (name == "num_puzzle_ids" ? ModelLimits.maxPuzzleIds : ModelLimits.maxSizeField) else {
                throw fail("\(name) = \(v) is out of range")
            }
        }
        guard puzzleEmbLen >= 0, puzzleEmbLen <= ModelLimits.maxPuzzleEmbLen, puzzleEmbNdim >= 0 else {
            throw fail("puzzle embedding sizes are out of range")
        }
        guard puzzleEmbNdim <= puzzleEmbLen * hidden else {
            throw fail("puzzle_emb_ndim \(puzzleEmbNdim) does not fit in puzzle_emb_len × hidden = \(puzzleEmbLen * hidden)")
        }
        guard puzzleEmbLen == 0 || puzzleEmbNdim > 0 else {
            throw fail("puzzle_emb_len \(puzzleEmbLen) needs puzzle_emb_ndim > 0 (or set puzzle_emb_len to 0)")
        }
        guard expansion > 0, expansion <= ModelLimits.maxExpansion else { throw fail("expansion \(expansion) is out of range") }
        guard !sublayers.isEmpty, sublayers.count <= ModelLimits.maxSublayers else {
            throw fail("sublayers must list 1 to \(ModelLimits.maxSublayers) items")
        }
        guard hidden % heads == 0 else { throw fail("hidden \(hidden) is not a multiple of heads \(heads)") }
        if sublayers.contains(.attn) || posEncodings == .rope {
            guard headDim % 2 == 0 else { throw fail("head dim \(headDim) must be even for RoPE") }
        }
        guard ropeTheta > 0, rmsEps > 0, rmsEps < 1 else { throw fail("rope_theta and rms_eps must be positive") }
        if sublayers.contains(.mamba2) {
            let m = mamba
            guard m.dState >= 1, m.dState <= ModelLimits.maxMambaDState, m.dConv >= 1, m.dConv <= ModelLimits.maxMambaDConv,
                m.expand >= 1, m.expand <= ModelLimits.maxMambaExpand,
                m.headdim >= 1, m.ngroups >= 1
            else { throw fail("mamba sizes are out of range") }
            guard mambaInner % m.headdim == 0 else {
                throw fail("expand × hidden = \(mambaInner) is not a multiple of headdim \(m.headdim)")
            }
            guard mambaHeads % m.ngroups == 0 else { throw fail("mamba heads \(mambaHeads) are not a multiple of ngroups \(m.ngroups)") }
        }
        try validateCost()
    }

    // MARK: JSON

    /// Compact JSON with sorted keys (the `trm.config` value).
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try! encoder.encode(self)
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses and validates `trm.config` JSON.
    public static func parse(json: String) throws -> ModelConfig {
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
        } catch let e as DecodingError {
            throw TRMError(.invalidConfig, "model config JSON: \(describe(e))")
        } catch {
            throw TRMError(.invalidConfig, "model config JSON: \(error)")
        }
        try config.validate()
        return config
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: [CodingKey]) -> String { c.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, _): return "missing key '\(k.stringValue)'"
        case .typeMismatch(_, let c): return "wrong type at '\(path(c.codingPath))'"
        case .valueNotFound(_, let c): return "missing value at '\(path(c.codingPath))'"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON" : "invalid value at '\(path(c.codingPath))'"
        @unknown default: return "\(e)"
        }
    }
}
