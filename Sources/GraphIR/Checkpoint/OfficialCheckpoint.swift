import Foundation
import TRMCore

/// Where an official run's config and dataset are, and the task when they do not tell it.
public struct OfficialOptions: Sendable {
    /// `all_config.yaml`; by default the one beside the checkpoint file.
    public var config: String?
    /// What the dataset folder says (`test/dataset.json`, `identifiers.json`), as Tasks'
    /// `OfficialDataset.readHeader` read it.
    public var dataset: OfficialDatasetSizes?
    public var task: TaskKind?

    public init(config: String? = nil, dataset: OfficialDatasetSizes? = nil, task: TaskKind? = nil) {
        self.config = config
        self.dataset = dataset
        self.task = task
    }

    public var isEmpty: Bool { config == nil && dataset == nil && task == nil }
}

/// An official TinyRecursiveModels checkpoint made into a trm `Checkpoint` (docs/formats.md §1.5):
/// the weights of `step_N` (or a safetensors file with the same names), the architecture of
/// `all_config.yaml`, the sizes and identifiers of the dataset folder.
public struct OfficialCheckpoint: Sendable {
    /// Reads a PyTorch zip checkpoint's tensors by their state_dict names.
    public typealias TensorReader = (String) throws -> [String: NamedTensor]

    public var checkpoint: Checkpoint
    /// The file the weights came from, and the config.
    public var tensorFile: String
    public var configFile: String
    /// Official tensor names left out (buffers inference does not read).
    public var ignoredTensors: [String]
    /// Config fields left aside, with why.
    public var ignoredFields: [String]

    /// The one place that reads a PyTorch zip checkpoint (`step_N`, torch.save's format): through
    /// `TorchCheckpoint`, whose restricted unpickler only builds values.
    public static func readTorch(_ path: String) throws -> [String: NamedTensor] {
        try TorchCheckpoint.readTensors(path: path)
    }

    /// The checkpoint of a run directory: its `step_N` file with the highest N.
    public static func latestStep(in directory: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        var best: (step: Int, name: String)?
        for name in names where name.hasPrefix("step_") {
            let digits = name.dropFirst(5)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let step = Int(digits) else { continue }
            if best == nil || step > best!.step { best = (step, name) }
        }
        guard let best else { throw TRMError(.io, "\(directory) holds no step_N checkpoint (an official run's checkpoint folder)") }
        return directory + "/" + best.name
    }

    /// Every file reading `path` with `options` may open (for `OutputFile.checkOutputs`).
    public static func inputFiles(path: String, options: OfficialOptions) -> [String] {
        var files = [path]
        let file = (try? CheckpointFormat.of(path: path)) == .directory ? (try? latestStep(in: path)) : path
        if let file { files += [file, options.config ?? ((file as NSString).deletingLastPathComponent + "/all_config.yaml")] }
        if let dir = options.dataset?.directory { files += [dir + "/test/dataset.json", dir + "/identifiers.json"] }
        return files
    }

    /// Reads an official run: `path` is its checkpoint directory (the highest `step_N` and
    /// `all_config.yaml`), a `step_N` file or a safetensors file with the official names.
    public static func read(path: String, options: OfficialOptions, tensorsOf: TensorReader = readTorch) throws -> OfficialCheckpoint {
        var file = path
        if try CheckpointFormat.of(path: path) == .directory { file = try latestStep(in: path) }
        let configFile = options.config ?? ((file as NSString).deletingLastPathComponent + "/all_config.yaml")
        guard options.config != nil || FileManager.default.fileExists(atPath: configFile) else {
            throw TRMError(
                .invalidInput, "\(file) has no trm metadata and no all_config.yaml beside it: pass its run's config with --config")
        }
        let config = try OfficialConfig.read(path: configFile)
        let tensors: [String: NamedTensor]
        switch try CheckpointFormat.of(path: file) {
        case .safetensors:
            let list = try Safetensors.read(path: file, limit: Checkpoint.maxFileBytes).tensors
            tensors = Dictionary(list.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        case .torchZip: tensors = try tensorsOf(file)
        case .trm: throw TRMError(.invalidInput, "\(file) is a trm checkpoint: compile it on its own, without --config")
        case .directory, .unknown: throw TRMError(.malformedFile, "\(file): neither a safetensors file nor a PyTorch zip checkpoint")
        }
        let dataset = options.dataset
        return try TRMError.within(file) {
            try make(tensors: tensors, config: config, dataset: dataset, task: options.task, tensorFile: file, configFile: configFile)
        }
    }

    /// The trm checkpoint of official tensors, config and dataset. Sizes come from the dataset,
    /// else from the tensors, else (the grid length of a rope attention model) from the task.
    public static func make(
        tensors: [String: NamedTensor], config: OfficialConfig, dataset: OfficialDatasetSizes?, task: TaskKind?,
        tensorFile: String = "", configFile: String = ""
    ) throws -> OfficialCheckpoint {
        let (named, ignored) = try OfficialNames.map(tensors)
        let sizes =
            try dataset.map { (vocab: $0.vocab, seqLen: Optional($0.seqLen), numPuzzleIds: $0.numPuzzleIds) }
            ?? OfficialNames.sizes(named, config: config)
        let (vocab, numPuzzleIds) = (sizes.vocab, sizes.numPuzzleIds)
        var seqLen = sizes.seqLen
        if seqLen == nil {
            let hinted = OfficialTask.named(in: config.dataPaths)
            if let hint = task ?? (hinted.count == 1 ? hinted.first : nil) { seqLen = OfficialTask.impliedSeqLen(hint, vocab: vocab) }
        }
        guard let seqLen else {
            throw TRMError(
                .invalidInput,
                "no tensor of this attention model gives seq_len: pass --dataset DATA_DIR (its test/dataset.json has it), "
                    + "or --task arc or sudoku")
        }
        let modelConfig = try config.modelConfig(vocab: vocab, seqLen: seqLen, numPuzzleIds: numPuzzleIds)
        let (kind, grid) = try OfficialTask.resolve(vocab: vocab, seqLen: seqLen, dataPaths: config.dataPaths, explicit: task)
        let identifiers = dataset?.identifiers
        if let identifiers {
            let rows = named["puzzle_emb.weights"]?.shape.first ?? modelConfig.numPuzzleIds
            guard identifiers.count == rows else {
                throw TRMError(
                    .malformedFile,
                    "identifiers.json names \(identifiers.count) puzzle identifiers, but the puzzle table has \(rows) rows")
            }
        }
        let checkpoint = Checkpoint(
            config: modelConfig, taskJSON: kind.taskJSON(grid: grid), identifiers: identifiers, tensors: named)
        try checkpoint.validate()
        return OfficialCheckpoint(
            checkpoint: checkpoint, tensorFile: tensorFile, configFile: configFile, ignoredTensors: ignored,
            ignoredFields: config.ignored)
    }
}

/// The official state_dict's tensor names mapped onto trm's (docs/formats.md §1.3, §1.5), and the
/// sizes the tensors themselves give when no dataset folder does.
public enum OfficialNames {
    /// Buffers of the official model that inference does not read: the rotary tables (trm computes
    /// its own) and the sparse puzzle embedding's per-batch training copies. PyTorch does not save
    /// them (they are not persistent), but a converted file may hold them.
    public static let unusedBuffers = [
        "rotary_emb.cos_cached", "rotary_emb.sin_cached", "puzzle_emb.local_weights", "puzzle_emb.local_ids",
    ]

    /// The tensors under trm's names (the `_orig_mod.model.inner.` prefix stripped), and the official
    /// names left out, sorted.
    public static func map(_ tensors: [String: NamedTensor]) throws -> (tensors: [String: NamedTensor], ignored: [String]) {
        var mapped: [String: NamedTensor] = [:]
        var source: [String: String] = [:]
        var ignored: [String] = []
        for name in tensors.keys.sorted() {
            let ours = Checkpoint.strippingForeignPrefix(name)
            if unusedBuffers.contains(ours) {
                ignored.append(name)
                continue
            }
            if let other = source[ours] {
                throw TRMError(.malformedFile, "official checkpoint: tensors '\(other)' and '\(name)' are both '\(ours)'")
            }
            source[ours] = name
            var t = tensors[name]!
            t.name = ours
            mapped[ours] = t
        }
        return (mapped, ignored)
    }

    /// The sizes the tensors (under trm's names) give: the vocabulary from the token embedding, the
    /// puzzle identifiers from the puzzle table (1 without one), and the grid length L from the
    /// mlp_t weights or the learned positions, which span S = P + L. A rope or position-free
    /// attention model holds no tensor of length S, so its L is nil.
    static func sizes(_ tensors: [String: NamedTensor], config: OfficialConfig) throws -> (vocab: Int, seqLen: Int?, numPuzzleIds: Int) {
        func rows(_ name: String) throws -> Int {
            guard let t = tensors[name] else { throw TRMError(.malformedFile, "official checkpoint: missing tensor '\(name)'") }
            guard let n = t.shape.first, n >= 1 else {
                throw TRMError(.malformedFile, "official checkpoint: tensor '\(name)' has shape \(t.shape)")
            }
            return n
        }
        let vocab = try rows("embed_tokens.embedding_weight")
        let ids = try config.puzzleEmbNdim > 0 ? rows("puzzle_emb.weights") : 1
        var full: Int?
        if config.mlpT {
            full = try rows("L_level.layers.0.mlp_t.down_proj.weight")
        } else if config.posEncodings == .learned {
            full = try rows("embed_pos.embedding_weight")
        }
        guard let full else { return (vocab, nil, ids) }
        guard full > config.prefixLength else {
            throw TRMError(
                .malformedFile,
                "official checkpoint: the tensors span \(full) positions, no more than the \(config.prefixLength) prefix tokens")
        }
        return (vocab, full - config.prefixLength, ids)
    }
}
