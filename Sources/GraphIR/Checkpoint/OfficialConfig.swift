import Foundation
import TRMCore

/// The `arch:` section of an official TinyRecursiveModels run (`all_config.yaml`, which its
/// pretrain.py writes beside the checkpoints), mapped onto a `ModelConfig` (docs/formats.md §1.5).
/// Every field is mapped, known to matter to training only, or refused by name: a config trm cannot
/// run as the official code would is never guessed at.
public struct OfficialConfig: Hashable, Sendable {
    /// The one official architecture trm runs: `models/recursive_reasoning/trm.py`.
    public static let archName = "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"
    /// Arch fields that only training reads.
    static let trainingOnly = ["loss", "halt_exploration_prob", "batch_size"]
    /// `forward_dtype` values accepted: the official model computes in that type, trm in fp32.
    static let forwardDtypes = ["bfloat16", "float16", "float32"]

    public var hCycles: Int
    public var lCycles: Int
    public var lLayers: Int
    public var hidden: Int
    public var heads: Int
    public var expansion: Double
    public var puzzleEmbNdim: Int
    /// As written: 0 means ceil(puzzle_emb_ndim / hidden_size) prefix tokens (`prefixLength`).
    public var puzzleEmbLen: Int
    public var posEncodings: PosEncoding
    public var ropeTheta: Double
    public var rmsEps: Double
    public var haltMaxSteps: Int
    public var mlpT: Bool
    public var forwardDtype: String
    /// Sizes the arch section may hold itself (pretrain.py takes them from the dataset).
    public var vocab: Int?
    public var seqLen: Int?
    public var numPuzzleIds: Int?
    /// The run's `data_paths` and `data_paths_test`: their names hint at the task.
    public var dataPaths: [String]
    /// Arch fields read and left aside, with why: "arch.loss (training only)", …
    public var ignored: [String]

    /// Reads `all_config.yaml` at `path`.
    public static func read(path: String) throws -> OfficialConfig {
        let root = try YAML.read(path: path)
        return try TRMError.within(path) { try parse(root) }
    }

    /// Maps a parsed `all_config.yaml`.
    public static func parse(_ root: YAMLValue) throws -> OfficialConfig {
        guard let top = root.mapping, let arch = top["arch"]?.mapping else {
            throw TRMError(.invalidConfig, "official config: no 'arch:' mapping (not an all_config.yaml of TinyRecursiveModels)")
        }
        var f = OfficialFields(map: arch)
        let name = try f.string("name", default: nil)
        guard name == archName else {
            throw f.fail("name", "is '\(name)': trm runs only \(archName) (models/recursive_reasoning/trm.py)")
        }
        // trm.py builds the one shared L_level network whatever H_layers says.
        let hLayers = try f.int("H_layers", default: 0, min: 0)
        let pos = try f.string("pos_encodings", default: nil)
        guard let posEncodings = PosEncoding(rawValue: pos) else {
            throw f.fail("pos_encodings", "is '\(pos)': trm supports rope, learned and none")
        }
        let dtype = try f.string("forward_dtype", default: "bfloat16")
        guard forwardDtypes.contains(dtype) else {
            throw f.fail("forward_dtype", "is '\(dtype)': trm reads \(forwardDtypes.joined(separator: ", ")) runs (and computes in fp32)")
        }
        // Halting on q_halt > q_continue is training's: evaluation runs halt_max_steps steps either way.
        let actContinue = try !f.bool("no_ACT_continue", default: true)
        guard try !f.bool("causal", default: false) else { throw f.fail("causal", "is true: trm's attention is not causal") }
        let lLayers = try f.int("L_layers", default: nil, min: 1)
        guard 2 * lLayers <= ModelLimits.maxSublayers else {
            throw f.fail("L_layers", "is \(lLayers), over the limit of \(ModelLimits.maxSublayers / 2) blocks")
        }
        var config = OfficialConfig(
            hCycles: try f.int("H_cycles", default: nil, min: 1), lCycles: try f.int("L_cycles", default: nil, min: 1),
            lLayers: lLayers, hidden: try f.int("hidden_size", default: nil, min: 1), heads: try f.int("num_heads", default: nil, min: 1),
            expansion: try f.number("expansion", default: nil), puzzleEmbNdim: try f.int("puzzle_emb_ndim", default: 0, min: 0),
            puzzleEmbLen: try f.int("puzzle_emb_len", default: 16, min: 0), posEncodings: posEncodings,
            ropeTheta: try f.number("rope_theta", default: 10000), rmsEps: try f.number("rms_norm_eps", default: 1e-5),
            haltMaxSteps: try f.int("halt_max_steps", default: nil, min: 1), mlpT: try f.bool("mlp_t", default: false),
            forwardDtype: dtype, vocab: try f.optionalInt("vocab_size"), seqLen: try f.optionalInt("seq_len"),
            numPuzzleIds: try f.optionalInt("num_puzzle_identifiers"), dataPaths: [], ignored: [])
        for key in trainingOnly {
            if f.skip(key) { config.ignored.append("arch.\(key) (training only)") }
        }
        if dtype != "float32" { config.ignored.append("arch.forward_dtype (\(dtype); trm computes in fp32)") }
        if hLayers != 0 { config.ignored.append("arch.H_layers (\(hLayers); trm.py does not read it)") }
        if actContinue {
            config.ignored.append(
                "arch.no_ACT_continue (false: trained to halt on q_halt > q_continue; fixed halting runs as the official evaluation, --halting adaptive halts on q_halt alone)"
            )
        }
        if let unknown = arch.entries.first(where: { !f.seen.contains($0.key) }) {
            throw f.fail(
                unknown.key,
                "(set to \(unknown.value.shown)) is not a field of the TRM architecture trm runs (models/recursive_reasoning/trm.py)")
        }
        for key in ["data_paths", "data_paths_test"] {
            config.dataPaths += (top[key]?.list ?? []).compactMap(\.string)
        }
        return config
    }

    /// P: the puzzle-embedding prefix tokens the official model uses.
    public var prefixLength: Int { puzzleEmbLen == 0 ? (puzzleEmbNdim + hidden - 1) / hidden : puzzleEmbLen }

    /// L_layers blocks of (attention or mlp_t, then the channel MLP), as trm.py's Block builds them.
    public var sublayers: [SublayerKind] { (0..<lLayers).flatMap { _ in [mlpT ? SublayerKind.mlpT : .attn, .mlp] } }

    /// Our config for this architecture with the data's sizes, validated.
    public func modelConfig(vocab: Int, seqLen: Int, numPuzzleIds: Int) throws -> ModelConfig {
        func fail(_ why: String) -> TRMError { TRMError(.invalidConfig, "official config: \(why)") }
        for (key, own, data) in [
            ("vocab_size", self.vocab, vocab), ("seq_len", self.seqLen, seqLen),
            ("num_puzzle_identifiers", self.numPuzzleIds, numPuzzleIds),
        ] {
            if let own, own != data { throw fail("arch.\(key) is \(own), but the dataset or the tensors say \(data)") }
        }
        guard puzzleEmbNdim > 0 || prefixLength == 0 else {
            throw fail("arch.puzzle_emb_len \(puzzleEmbLen) with arch.puzzle_emb_ndim 0: there is no puzzle embedding to fill the prefix")
        }
        guard hidden % heads == 0 else { throw fail("arch.hidden_size \(hidden) is not a multiple of arch.num_heads \(heads)") }
        let config = ModelConfig(
            hidden: hidden, heads: heads, expansion: expansion, sublayers: sublayers, hCycles: hCycles, lCycles: lCycles,
            haltMaxSteps: haltMaxSteps, vocab: vocab, seqLen: seqLen, puzzleEmbLen: prefixLength, puzzleEmbNdim: puzzleEmbNdim,
            numPuzzleIds: numPuzzleIds, posEncodings: posEncodings, ropeTheta: ropeTheta, rmsEps: rmsEps)
        try TRMError.within("official config") { try config.validate() }
        return config
    }
}

/// Typed reads of an `arch:` mapping that remember which keys were read; errors name the field and its line.
struct OfficialFields {
    let map: YAMLMapping
    var seen: Set<String> = []

    func fail(_ key: String, _ why: String) -> TRMError {
        let at = map.line(of: key).map { " (line \($0))" } ?? ""
        return TRMError(.invalidConfig, "official config: arch.\(key)\(at) \(why)")
    }

    /// Marks `key` read; whether it is present.
    mutating func skip(_ key: String) -> Bool {
        seen.insert(key)
        return map[key] != nil
    }

    private mutating func value(_ key: String, required: Bool) throws -> YAMLValue? {
        guard skip(key) else {
            if required { throw fail(key, "is missing") }
            return nil
        }
        return map[key]
    }

    private func wrongType(_ key: String, _ v: YAMLValue, _ want: String) -> TRMError {
        let hint = v.string?.contains("${") == true ? " (an unresolved interpolation)" : ""
        return fail(key, "must be \(want), got \(v.shown)\(hint)")
    }

    mutating func int(_ key: String, default d: Int?, min: Int) throws -> Int {
        guard let v = try value(key, required: d == nil) else { return d! }
        guard let n = v.int else { throw wrongType(key, v, "an integer") }
        guard n >= min, n <= ModelLimits.maxPuzzleIds else { throw fail(key, "is \(n), out of range") }
        return n
    }

    mutating func optionalInt(_ key: String) throws -> Int? {
        guard let v = try value(key, required: false) else { return nil }
        guard let n = v.int, n >= 1 else { throw wrongType(key, v, "a positive integer") }
        return n
    }

    mutating func number(_ key: String, default d: Double?) throws -> Double {
        guard let v = try value(key, required: d == nil) else { return d! }
        guard let x = v.double, x.isFinite, x > 0 else { throw wrongType(key, v, "a positive number") }
        return x
    }

    mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = try value(key, required: false) else { return d }
        guard let b = v.bool else { throw wrongType(key, v, "true or false") }
        return b
    }

    mutating func string(_ key: String, default d: String?) throws -> String {
        guard let v = try value(key, required: d == nil) else { return d! }
        guard let s = v.string else { throw wrongType(key, v, "a string") }
        return s
    }
}
