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
        let bytes = try AtomicFile.read(path, limit: maxFileBytes)
        do {
            return try parse(bytes)
        } catch let e as TRMError {
            throw TRMError(e.kind, "\(path): \(e.message)")
        }
    }

    /// Prefixes of reference PyTorch state_dicts, stripped on load.
    static let foreignPrefixes = ["_orig_mod.model.inner.", "model.inner.", "inner."]

    /// Parses and validates checkpoint bytes.
    public static func parse(_ bytes: [UInt8]) throws -> Checkpoint {
        let (list, metadata) = try Safetensors.parse(bytes)
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
            if let p = foreignPrefixes.first(where: { t.name.hasPrefix($0) }) { t.name.removeFirst(p.count) }
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
