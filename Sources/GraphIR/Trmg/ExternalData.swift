import Foundation
import TRMCore

/// The layout of a `.trmg`'s external-data sidecar (docs/formats.md §2.5): which initializers live
/// in it and where. One sidecar per model, named `<model file name>.data` beside the model. It
/// starts with a 64 KiB header block (magic, version, the data's identity) and every tensor starts
/// on a 64 KiB boundary, so that each can be mapped on its own on any platform and is 64-byte
/// aligned for the kernels when the whole file is mapped.
public struct ExternalData: Sendable {
    /// Initializers of at least this many bytes go to the sidecar by default: the puzzle tables of
    /// real models (1.8 GB at the ARC size), not the layer weights (a few MB each), so a model
    /// without a large table stays one file.
    public static let defaultThreshold = 16 << 20
    /// Alignment of every tensor in the sidecar, and the size of the header block.
    public static let alignment = 64 << 10
    /// The first 8 bytes of a sidecar.
    static let magic = Array("TRMGDATA".utf8)
    static let version: UInt64 = 1
    /// The `metadata_props` key that carries the sidecar's identity in the `.trmg`.
    public static let identityKey = "trm.external_data"

    /// One external tensor: its bytes are `offset ..< offset + length` of the sidecar.
    public struct Entry: Sendable, Hashable {
        public var offset: Int
        public var length: Int
    }

    /// The sidecar's file name, as the tensors' `location` names it.
    public let location: String
    /// By initializer name.
    public let entries: [String: Entry]
    /// The sidecar's size.
    public let fileBytes: Int

    /// The layout for `graph`'s initializers of at least `threshold` bytes, in graph order; nil when
    /// there are none (the model stays one file).
    init?(graph: Graph, threshold: Int, location: String) {
        var entries: [String: Entry] = [:]
        var end = Self.alignment
        for i in graph.initializers {
            let length = i.data.count * i.data.dtype.byteSize
            guard length >= threshold, length > 0 else { continue }
            entries[i.name] = Entry(offset: end, length: length)
            end = (end + length + Self.alignment - 1) / Self.alignment * Self.alignment
        }
        guard !entries.isEmpty else { return nil }
        self.location = location
        self.entries = entries
        fileBytes = entries.values.map { $0.offset + $0.length }.max()!
    }

    /// The sidecar's identity: a 64-bit hash of the layout and of every external byte. The `.trmg`
    /// records it and the reader compares it with the sidecar's header, so that a sidecar from
    /// another compile (a crash between the two renames, a model copied without its new sidecar)
    /// is refused instead of read as weights.
    static func identity(_ graph: Graph, _ entries: [String: Entry]) -> UInt64 {
        var h = ContentHash()
        for i in graph.initializers {
            guard let e = entries[i.name] else { continue }
            h.add(UInt64(e.offset))
            h.add(UInt64(e.length))
            i.data.withUnsafeBytes { h.add($0) }
        }
        return h.value
    }

    /// The 64 KiB header block: magic, version and identity as little-endian words, then zeros.
    static func header(identity: UInt64) -> [UInt8] {
        var b = magic
        withUnsafeBytes(of: version.littleEndian) { b.append(contentsOf: $0) }
        withUnsafeBytes(of: identity.littleEndian) { b.append(contentsOf: $0) }
        b.append(contentsOf: [UInt8](repeating: 0, count: alignment - b.count))
        return b
    }

    /// The identity in a sidecar's header, or an error saying why it is not one.
    static func identity(ofSidecar file: MappedFile) throws -> UInt64 {
        guard let head = file.bytes(offset: 0, count: 24) else {
            throw TRMError(.malformedFile, "\(file.path) is \(file.count) bytes, too short for a .trmg sidecar (truncated?)")
        }
        return try head.withUnsafeBytes { raw in
            guard Array(raw[0..<8]) == magic else {
                throw TRMError(.malformedFile, "\(file.path) is not a .trmg sidecar (no TRMGDATA header)")
            }
            let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            guard v == version else { throw TRMError(.malformedFile, "\(file.path): unsupported sidecar version \(v)") }
            return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        }
    }

    /// The identity as the `.trmg` metadata writes it: 16 lowercase hex digits.
    static func identityText(_ id: UInt64) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A fast 64-bit hash of bytes (four independent multiply-rotate lanes over 8-byte words, then a
/// finaliser): a fingerprint against mix-ups, not a cryptographic digest.
struct ContentHash {
    private var lanes: (UInt64, UInt64, UInt64, UInt64) = (
        0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x27D4_EB2F_1656_67C5
    )
    private var total: UInt64 = 0
    private static let prime: UInt64 = 0x9E37_79B1_85EB_CA87

    private static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let x = (h ^ w) &* prime
        return (x << 31 | x >> 33) &* 0xC2B2_AE3D_27D4_EB4F
    }

    mutating func add(_ w: UInt64) {
        lanes.0 = Self.mix(lanes.0, w)
        total &+= 8
    }

    mutating func add(_ raw: UnsafeRawBufferPointer) {
        var i = 0
        while i + 32 <= raw.count {
            lanes.0 = Self.mix(lanes.0, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            lanes.1 = Self.mix(lanes.1, raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
            lanes.2 = Self.mix(lanes.2, raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
            lanes.3 = Self.mix(lanes.3, raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
            i += 32
        }
        while i < raw.count {
            lanes.0 = Self.mix(lanes.0, UInt64(raw[i]))
            i += 1
        }
        total &+= UInt64(raw.count)
    }

    var value: UInt64 {
        var h = Self.mix(Self.mix(Self.mix(Self.mix(total, lanes.0), lanes.1), lanes.2), lanes.3)
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }
}
