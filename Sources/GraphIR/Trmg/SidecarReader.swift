import CProtobufC
import Foundation
import TRMCore
import TRMGProto

/// The external-data side of one `.trmg` read (docs/formats.md §2.5): maps the sidecar the first
/// time a tensor needs it and checks, before any tensor is used, that its location is a plain file
/// name beside the model, that the sidecar is one (its header) of this very compile (the identity
/// the `.trmg` records) and that every tensor's bytes lie inside it with the size its dims need.
final class Sidecar {
    /// The model file's path; nil for a model read from bytes, which cannot have external data.
    let modelPath: String?
    /// The `trm.external_data` metadata of the model, if any.
    let identity: String?
    private var mapped: (location: String, file: MappedFile)?

    init(modelPath: String?, identity: String?) {
        self.modelPath = modelPath
        self.identity = identity
    }

    /// The bytes of external tensor `t`, which must be `length` bytes long.
    func bytes(_ t: Trmg__TensorProto, length: Int, _ fail: (String) -> TRMError) throws -> MappedBytes {
        var entries: [String: String] = [:]
        for e in try CRead.messages(t.external_data, t.n_external_data, "external_data") {
            let key = try CRead.string(e.pointee.key) ?? ""
            guard entries[key] == nil else { throw fail("external_data key '\(key)' appears twice") }
            entries[key] = try CRead.string(e.pointee.value) ?? ""
        }
        guard let location = entries["location"] else { throw fail("external data without a location") }
        let offset = try number(entries["offset"] ?? "0", "offset", fail)
        let declared = try number(entries["length"] ?? String(length), "length", fail)
        guard declared == length else { throw fail("external data of \(declared) bytes, its dims need \(length)") }
        let file = try open(location, fail)
        guard let bytes = file.bytes(offset: offset, count: length) else {
            throw fail(
                "bytes \(offset)..<\(offset + length) are outside the \(file.count)-byte sidecar \(file.path) (truncated, or not this model's sidecar)"
            )
        }
        return bytes
    }

    private func number(_ text: String, _ what: String, _ fail: (String) -> TRMError) throws -> Int {
        guard let n = Int(text), n >= 0 else { throw fail("external data \(what) '\(text)' is not a byte count") }
        return n
    }

    /// The mapped sidecar `location`, checked once: one plain file name per model, beside it.
    private func open(_ location: String, _ fail: (String) -> TRMError) throws -> MappedFile {
        if let mapped {
            guard mapped.location == location else {
                throw fail("external data in '\(location)' and in '\(mapped.location)': a .trmg has one sidecar")
            }
            return mapped.file
        }
        guard !location.isEmpty, !location.contains("/"), location != ".", location != ".." else {
            throw fail("external data location '\(location)' is not a file name beside the model")
        }
        guard let modelPath else {
            throw TRMError(
                .io,
                "the model keeps its large initializers in the sidecar file '\(location)'; open it from its path (with the sidecar beside it), not from bytes"
            )
        }
        guard let identity else { throw fail("external data, but no \(ExternalData.identityKey) metadata to check the sidecar against") }
        let path = OutputFile.sibling(of: Self.resolved(modelPath), named: location)
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as TRMError {
            throw TRMError(e.kind, "cannot read the model's external data: \(e.message)")
        }
        let found = ExternalData.identityText(try ExternalData.identity(ofSidecar: file))
        guard found == identity else {
            throw TRMError(
                .malformedFile,
                "the sidecar \(path) belongs to another compile (identity \(found), the model expects \(identity)); recompile the model or copy its own sidecar beside it"
            )
        }
        mapped = (location, file)
        return file
    }

    /// `path` with its links resolved, so that the sidecar is found beside the file the writer wrote.
    static func resolved(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }
}
