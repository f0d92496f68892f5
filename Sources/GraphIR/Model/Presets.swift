/// The three tasks and the facts of their encodings (docs/tasks.md §1).
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    case arc, sudoku, maze

    /// Default grid side: 30 for ARC and Maze-30x30, 9 for Sudoku.
    public var defaultGrid: Int {
        switch self {
        case .arc, .maze: return 30
        case .sudoku: return 9
        }
    }

    /// Vocabulary for a grid of side n: ARC PAD/EOS + 10 colours; Sudoku PAD, blank, digits 1..n;
    /// Maze PAD + `# SGo`.
    public func vocab(grid n: Int) -> Int {
        switch self {
        case .arc: return 12
        case .sudoku: return n + 2
        case .maze: return 6
        }
    }

    /// L_cycles of the reference run for this task (ARC and Maze 4, Sudoku 6).
    public var referenceLCycles: Int { self == .sudoku ? 6 : 4 }

    /// The checkpoint's `trm.task` JSON.
    public func taskJSON(grid n: Int) -> String { "{\"grid\":\(n),\"task\":\"\(rawValue)\"}" }
}

/// Named architectures of docs/model.md §2.3.
public enum Preset: String, Sendable, CaseIterable {
    case trmAttn = "trm-attn"
    case trMamba2Attn = "tr-mamba2attn"
    case trmMlpT = "trm-mlpt"
    case trMamba2MlpT = "tr-mamba2mlpt"

    public var sublayers: [SublayerKind] {
        switch self {
        case .trmAttn: return [.attn, .mlp, .attn, .mlp]
        case .trMamba2Attn: return [.mamba2, .mamba2, .attn, .mlp]
        case .trmMlpT: return [.mlpT, .mlp, .mlpT, .mlp]
        case .trMamba2MlpT: return [.mamba2, .mamba2, .mlpT, .mlp]
        }
    }

    /// The full-size config for `task` (hidden 512, 8 heads, H_cycles 3, 16 ACT steps).
    public func config(task: TaskKind, grid: Int? = nil) -> ModelConfig {
        let n = grid ?? task.defaultGrid
        let usesAttention = sublayers.contains(.attn)
        return ModelConfig(
            hidden: 512, heads: 8, expansion: 4, sublayers: sublayers, hCycles: 3,
            lCycles: task.referenceLCycles, haltMaxSteps: 16, vocab: task.vocab(grid: n),
            seqLen: n * n, puzzleEmbLen: 16, puzzleEmbNdim: 512, numPuzzleIds: 1,
            posEncodings: usesAttention ? .rope : .none)
    }
}

/// Changes to a preset's config, for small CPU-sized models and experiments. nil keeps the preset's value.
public struct ConfigOverrides: Sendable {
    public var hidden: Int?
    public var heads: Int?
    public var expansion: Double?
    public var hCycles: Int?
    public var lCycles: Int?
    public var haltMaxSteps: Int?
    public var puzzleEmbLen: Int?
    public var numPuzzleIds: Int?
    public var posEncodings: PosEncoding?
    public var sublayers: [SublayerKind]?
    public var dState: Int?
    public var headdim: Int?
    public var ngroups: Int?
    public var direction: ScanDirection?

    public init() {}

    /// `config` with these overrides applied (puzzle_emb_ndim follows hidden) and validated.
    public func apply(to config: ModelConfig) throws -> ModelConfig {
        var c = config
        if let v = hidden { c.hidden = v; c.puzzleEmbNdim = v }
        if let v = heads { c.heads = v }
        if let v = expansion { c.expansion = v }
        if let v = hCycles { c.hCycles = v }
        if let v = lCycles { c.lCycles = v }
        if let v = haltMaxSteps { c.haltMaxSteps = v }
        if let v = puzzleEmbLen { c.puzzleEmbLen = v; if v == 0 { c.puzzleEmbNdim = 0 } }
        if let v = numPuzzleIds { c.numPuzzleIds = v }
        if let v = posEncodings { c.posEncodings = v }
        if let v = sublayers { c.sublayers = v }
        if let v = dState { c.mamba.dState = v }
        if let v = headdim { c.mamba.headdim = v }
        if let v = ngroups { c.mamba.ngroups = v }
        if let v = direction { c.mamba.direction = v }
        try c.validate()
        return c
    }
}
