import Foundation
import TRMCore

/// A model checkpoint (`model.ckpt`, docs/formats.md §1): a safetensors file whose `__metadata__` carries the
/// format tag, the model config, the task and optional identifiers and training facts. Tensor names
/// follow the reference PyTorch state_dict.
public struct Checkpoint: Hashable, Sendable {
    public static let formatTag = "trm-ckpt/1"
    /// Checkpoints larger than this are refused before reading.
    public static let maxFileBytes = 1 << 36

    public var config: ModelConfig
    /// The `trm.task` JSON (task name and encoding facts).
    public var taskJSON: String
    /// Puzzle-identifier names (index = id), if the model was trained with them.
    public var identifiers: [String]?
    /// The `trm.train` JSON, if any.
    public var trainJSON: String?
    /// Every tensor of `config.parameterSpecs`, by name.
    public var tensors: [String: NamedTensor]

    public init(
        config: ModelConfig, taskJSON: String, identifiers: [String]? = nil, trainJSON: String? = nil,
        tensors: [String: NamedTensor]
    ) {
        self.config = config
        self.taskJSON = taskJSON
        self.identifiers = identifiers
        self.trainJSON = trainJSON
        self.tensors = tensors
    }

    /// The values of tensor `name` (which `validate` guarantees exists).
    public subscript(name: String) -> [Float] { tensors[name]?.values ?? [] }

    /// Checks that the tensors are exactly those the config calls for, with the right shapes.
    public func validate() throws {
        try config.validate()
        let specs = config.parameterSpecs
        for spec in specs {
            guard let t = tensors[spec.name] else {
                throw TRMError(.malformedFile, "checkpoint: missing tensor '\(spec.name)' \(spec.shape)")
            }
            guard t.shape == spec.shape else {
                throw TRMError(.malformedFile, "checkpoint: tensor '\(spec.name)' has shape \(t.shape), the config needs \(spec.shape)")
            }
        }
        let expected = Set(specs.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw TRMError(
                .malformedFile,
                "checkpoint: tensor '\(extra)' is not part of a \(config.sublayers.map(\.rawValue).joined(separator: ",")) model")
        }
        if let ids = identifiers, ids.count > config.numPuzzleIds {
            throw TRMError(.malformedFile, "checkpoint: \(ids.count) identifiers for \(config.numPuzzleIds) puzzle ids")
        }
    }

    // MARK: file I/O

    /// The file's bytes; tensors in the config's order.
    public func serialize() throws -> [UInt8] {
        try validate()
        var metadata = ["trm.format": Self.formatTag, "trm.config": config.jsonString(), "trm.task": taskJSON]
        if let ids = identifiers { metadata["trm.identifiers"] = "[" + ids.map(JSONText.quote).joined(separator: ",") + "]" }
        if let t = trainJSON { metadata["trm.train"] = t }
        let ordered = config.parameterSpecs.map { tensors[$0.name]! }
        return Safetensors.serialize(ordered, metadata: metadata)
    }

    /// Writes the checkpoint atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(try serialize(), to: path)
    }

    /// Reads and validates the checkpoint at `path`.
    public static func read(path: String) throws -> Checkpoint {
        let (list, metadata) = try Safetensors.read(path: path, limit: maxFileBytes)
        return try TRMError.within(path) { try make(list, metadata: metadata) }
    }

    /// Prefixes of reference PyTorch state_dicts, stripped on load.
    static let foreignPrefixes = ["_orig_mod.model.inner.", "model.inner.", "inner."]

    /// `name` without a reference PyTorch prefix (`_orig_mod.model.inner.` and its shorter forms).
    public static func strippingForeignPrefix(_ name: String) -> String {
        guard let p = foreignPrefixes.first(where: { name.hasPrefix($0) }) else { return name }
        return String(name.dropFirst(p.count))
    }

    /// Parses and validates checkpoint bytes.
    public static func parse(_ bytes: [UInt8]) throws -> Checkpoint {
        let (list, metadata) = try Safetensors.parse(bytes)
        return try make(list, metadata: metadata)
    }

    /// The checkpoint of a parsed safetensors file with trm metadata, validated.
    static func make(_ list: [NamedTensor], metadata: [String: String]) throws -> Checkpoint {
        guard let format = metadata["trm.format"] else {
            throw TRMError(.malformedFile, "not a trm checkpoint: no 'trm.format' metadata")
        }
        guard format == formatTag else {
            throw TRMError(.malformedFile, "unsupported checkpoint format '\(format)' (expected \(formatTag))")
        }
        guard let configJSON = metadata["trm.config"] else { throw TRMError(.malformedFile, "checkpoint has no 'trm.config' metadata") }
        let config = try ModelConfig.parse(json: configJSON)
        var identifiers: [String]?
        if let ids = metadata["trm.identifiers"] {
            guard let list = try? JSONSerialization.jsonObject(with: Data(ids.utf8)) as? [String] else {
                throw TRMError(.malformedFile, "checkpoint: 'trm.identifiers' is not a JSON list of strings")
            }
            identifiers = list
        }
        var tensors: [String: NamedTensor] = [:]
        for var t in list {
            t.name = strippingForeignPrefix(t.name)
            guard tensors[t.name] == nil else { throw TRMError(.malformedFile, "checkpoint: tensor '\(t.name)' appears twice") }
            tensors[t.name] = t
        }
        let checkpoint = Checkpoint(
            config: config, taskJSON: metadata["trm.task"] ?? "{}", identifiers: identifiers,
            trainJSON: metadata["trm.train"], tensors: tensors)
        try checkpoint.validate()
        return checkpoint
    }
}

/// What a checkpoint path holds, told from its first bytes: the three inputs trm-compile takes
/// (docs/formats.md §1.5).
public enum CheckpointFormat: Equatable, Sendable {
    /// A safetensors file with trm metadata (`trm.format`): `Checkpoint.read`.
    case trm
    /// A safetensors file without trm metadata: tensors under the official names.
    case safetensors
    /// A zip archive, the format of `torch.save` (an official `step_N`).
    case torchZip
    /// A directory: an official run's checkpoint folder.
    case directory
    /// None of these.
    case unknown

    /// The format of `path`. Reads at most the safetensors header.
    public static func of(path: String) throws -> CheckpointFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TRMError(.io, "cannot open \(path): no such file or directory")
        }
        if isDirectory.boolValue { return .directory }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TRMError(.io, "cannot open \(path)") }
        defer { try? handle.close() }
        let head = [UInt8](try handle.read(upToCount: 8) ?? Data())
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .torchZip }
        guard head.count == 8 else { return .unknown }
        let n = head.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(Safetensors.maxHeaderBytes) else { return .unknown }
        let header = try handle.read(upToCount: Int(n)) ?? Data()
        guard header.count == Int(n), header.first == UInt8(ascii: "{"),
            let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any]
        else { return .unknown }
        return (json["__metadata__"] as? [String: Any])?["trm.format"] != nil ? .trm : .safetensors
    }
}

extension Checkpoint {
    /// trm-compile's input: a trm checkpoint, or an official TinyRecursiveModels run (a run
    /// directory, a `step_N` file or a safetensors file with the official names; `official` says
    /// where its config and dataset are). `tensorsOf` reads a PyTorch zip checkpoint. The tensors
    /// are moved into `checkpoint`: `official` describes the run with an empty tensor set, so that
    /// the caller holds one reference to each (the compiler then changes them in place).
    public static func load(
        path: String, official: OfficialOptions = OfficialOptions(),
        tensorsOf: OfficialCheckpoint.TensorReader = OfficialCheckpoint.readTorch
    ) throws -> (checkpoint: Checkpoint, official: OfficialCheckpoint?) {
        guard try CheckpointFormat.of(path: path) == .trm else {
            var run = try OfficialCheckpoint.read(path: path, options: official, tensorsOf: tensorsOf)
            let checkpoint = run.checkpoint
            run.checkpoint.tensors = [:]
            return (checkpoint, run)
        }
        guard official.isEmpty else {
            throw TRMError(.invalidInput, "\(path) is a trm checkpoint: --config, --dataset and --task are for official checkpoints")
        }
        return (try read(path: path), nil)
    }
}
