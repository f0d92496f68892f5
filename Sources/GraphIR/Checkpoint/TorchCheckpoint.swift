import Foundation
import TRMCore

/// PyTorch checkpoints as `torch.save(model.state_dict(), path)` writes them (docs/formats.md §1.6):
/// a zip archive (`ZipArchive`) whose records share one top-level folder, `<folder>/data.pkl` (the
/// pickled state dict, read by `RestrictedUnpickler`), `<folder>/byteorder` and one record
/// `<folder>/data/<key>` per storage. Tensors come out as fp32 `NamedTensor`s under the names the
/// state dict stores (prefix stripping and the mapping to trm's names happen elsewhere).
public enum TorchCheckpoint {
    /// The tensors of a state dict, and the names of its entries that are not tensors.
    public struct StateDict: Hashable, Sendable {
        public var tensors: [String: NamedTensor]
        /// Entries whose values are ints, strings or containers, which are skipped.
        public var skipped: [String]
    }

    /// A view can repeat its storage's elements (a zero stride); the tensors of one file may hold at
    /// most this many times the elements of its storages (plus `extraElements`).
    public static let maxExpansion = 8
    static let extraElements = 1 << 20

    static func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "torch checkpoint: \(why)") }

    /// Whether the file at `path` starts as a zip archive does (`torch.save`'s format since PyTorch 1.6).
    public static func isTorchZip(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4) else { return false }
        return ZipArchive.hasMagic([UInt8](head)[...])
    }

    /// The tensors of the state dict saved at `path`, by their stored names.
    public static func readTensors(path: String) throws -> [String: NamedTensor] {
        let source = try ByteSource(mapping: path, limit: Checkpoint.maxFileBytes)
        do {
            return try parse(source).tensors
        } catch let e as TRMError {
            throw TRMError(e.kind, "\(path): \(e.message)")
        }
    }

    /// Reads a `torch.save` archive held in memory. `verifyingChecksums: false` skips the records'
    /// CRC-32 checks, for the fuzz target only.
    public static func parse(_ bytes: [UInt8], verifyingChecksums: Bool = true) throws -> StateDict {
        try parse(ByteSource(bytes), verifyingChecksums: verifyingChecksums)
    }

    /// Reads a `torch.save` archive from `bytes` (a file is mapped and its storages converted chunk
    /// by chunk: `ByteSource`).
    static func parse(_ bytes: ByteSource, verifyingChecksums: Bool = true) throws -> StateDict {
        let archive = try ZipArchive(bytes)
        guard let first = archive.entries.first else { throw fail("the archive is empty") }
        guard let slash = first.name.firstIndex(of: "/") else {
            throw fail("record '\(first.name)' is not in a folder, as torch.save puts every record")
        }
        let folder = String(first.name[...slash])
        func record(_ name: String) -> ZipArchive.Entry? { archive.entry(named: folder + name) }

        if let order = record("byteorder") {
            let text = String(decoding: try archive.contents(of: order, verifyingChecksum: verifyingChecksums), as: UTF8.self)
            guard text == "little" else { throw fail("byte order '\(text.prefix(16))': only little-endian checkpoints are read") }
        }
        guard let pickle = record("data.pkl") else { throw fail("no \(folder)data.pkl: not a torch.save state dict") }
        let object = try RestrictedUnpickler.load(try archive.contents(of: pickle, verifyingChecksum: verifyingChecksums)[...])
        guard case .dict(let d) = object.root else { throw fail("the pickled object is \(object.root.kind), not a state dict") }
        let dict = object.dicts[d]

        // Where each storage's bytes start in the file, after checking them against the size its
        // persistent id declares.
        let starts = try object.storages.map { s -> Int in
            let name = "data/\(s.key)"
            guard let entry = record(name) else { throw fail("storage '\(s.key)' has no record \(folder)\(name)") }
            guard entry.dataRange.count == s.count * s.dtype.byteCount else {
                throw fail(
                    "record \(folder)\(name) is \(entry.dataRange.count) bytes; storage '\(s.key)' holds \(s.count) \(s.dtype.rawValue) elements"
                )
            }
            if verifyingChecksums { try archive.verify(entry) }
            return entry.dataRange.lowerBound
        }
        // The entries, then the elements they will take, checked before any is materialised.
        var result = StateDict(tensors: [:], skipped: [])
        var views: [(name: String, view: TorchTensorRef)] = []
        var names = Set<String>()
        for (key, value) in zip(dict.keys, dict.values) {
            guard case .string(let name) = key else { throw fail("a state dict key is \(key.kind), not a string") }
            guard case .tensor(let t) = value else {
                result.skipped.append(name)
                continue
            }
            guard names.insert(name).inserted else { throw fail("tensor '\(name)' appears twice") }
            views.append((name, object.tensors[t]))
        }
        let budget = maxExpansion * object.storages.reduce(0) { $0 + $1.count } + extraElements
        var total = 0
        for (_, view) in views {
            total += view.shape.reduce(1, *)  // each validated by the unpickler
            guard total <= budget else {
                throw fail("the tensors hold \(total) elements, more than \(maxExpansion)× their storages' elements")
            }
        }
        try SystemMemory.require(4 * Double(total), for: "reading the tensors of this checkpoint")
        for (name, view) in views {
            let dtype = object.storages[view.storage].dtype, count = view.shape.reduce(1, *)
            let values = materialise(view, dtype: dtype, bytes: archive.bytes, start: starts[view.storage], count: count)
            result.tensors[name] = NamedTensor(name: name, shape: view.shape, values: values)
        }
        guard !result.tensors.isEmpty || dict.keys.isEmpty else {
            throw fail("the state dict holds no tensors (entries: \(result.skipped.prefix(8).joined(separator: ", ")))")
        }
        return result
    }

    /// The fp32 values of a view (already checked to lie inside its storage, whose bytes start at
    /// `start`), in row-major order.
    static func materialise(_ view: TorchTensorRef, dtype: TorchDType, bytes: ByteSource, start: Int, count: Int) -> [Float] {
        let size = dtype.byteCount
        guard count > 0 else { return [] }
        var contiguous = true, expected = 1
        for (d, s) in zip(view.shape, view.strides).reversed() where d != 1 {
            if s != expected { contiguous = false }
            expected *= d
        }
        if contiguous {
            return bytes.floats(at: start + view.offset * size, count: count, dtype: dtype.safetensorsName)
        }
        // Otherwise gather each element's bytes in row-major order (an odometer over the indices),
        // then convert them as one run.
        var gathered = [UInt8](repeating: 0, count: count * size)
        bytes.withUnsafeBytes(0..<bytes.count) { src in
            gathered.withUnsafeMutableBufferPointer { dst in
                var index = [Int](repeating: 0, count: view.shape.count)
                var position = view.offset
                for i in 0..<count {
                    for b in 0..<size { dst[i * size + b] = src[start + position * size + b] }
                    var axis = view.shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        position += view.strides[axis]
                        if index[axis] < view.shape[axis] { break }
                        position -= view.strides[axis] * index[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        bytes.discard(start..<bytes.count)
        return ByteSource(gathered).floats(at: 0, count: count, dtype: dtype.safetensorsName)
    }
}
