import Foundation
import TRMCore

/// The bytes of a checkpoint being read: an array (tests, the fuzz targets) or a file mapped
/// read-only (`MappedFile`). Readers copy the small parts they parse (headers, the pickle) and
/// convert tensor data with `floats(at:count:dtype:)`, which for a mapped file converts in chunks
/// and drops each chunk's pages once converted: reading a 1.8 GB checkpoint then holds its fp32
/// values plus one chunk, not the file and the values (docs/limits.md, Memory).
struct ByteSource: Sendable {
    private enum Storage: Sendable {
        case array([UInt8])
        case mapped(MappedFile)
    }

    private let storage: Storage
    /// Bytes in the source.
    let count: Int

    /// Bytes converted between two page drops.
    static let chunkBytes = 16 << 20

    init(_ bytes: [UInt8]) {
        storage = .array(bytes)
        count = bytes.count
    }

    /// Maps the file at `path` (at most `limit` bytes).
    init(mapping path: String, limit: Int) throws {
        let file = try MappedFile(path: path)
        guard file.count <= limit else {
            throw TRMError(.malformedFile, "\(path) is \(file.count) bytes, over the \(limit)-byte limit")
        }
        storage = .mapped(file)
        count = file.count
    }

    /// A copy of bytes `range` (which must lie inside the source).
    subscript(range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ByteSource range outside the source")
        return withUnsafeBytes(range) { [UInt8]($0) }
    }

    /// The byte at `offset` (inside the source).
    subscript(offset: Int) -> UInt8 { withUnsafeBytes(offset..<(offset + 1)) { $0[0] } }

    /// Calls `body` with bytes `range` (inside the source).
    func withUnsafeBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ByteSource range outside the source")
        switch storage {
        case .array(let a):
            return try a.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        case .mapped(let file):
            return try file.bytes(offset: range.lowerBound, count: range.count)!.withUnsafeBytes(body)
        }
    }

    /// Drops the resident pages of `range` when the source is a mapping (see `MappedFile.discard`).
    func discard(_ range: Range<Int>) {
        if case .mapped(let file) = storage { file.discard(offset: range.lowerBound, count: range.count) }
    }

    /// Calls `body` with consecutive chunks of `range` (each a whole number of `unit`-byte
    /// elements, and the element index it starts at), dropping each chunk's pages after it.
    func forEachChunk(
        _ range: Range<Int>, unit: Int, chunkBytes: Int = chunkBytes, _ body: (UnsafeRawBufferPointer, Int) throws -> Void
    ) rethrows {
        let step = max(unit, chunkBytes / unit * unit)
        var start = range.lowerBound
        while start < range.upperBound {
            let chunk = start..<min(range.upperBound, start + step)
            try withUnsafeBytes(chunk) { try body($0, (start - range.lowerBound) / unit) }
            discard(chunk)
            start = chunk.upperBound
        }
    }

    /// The CRC-32 of bytes `range`, read chunk by chunk.
    func crc32(_ range: Range<Int>, chunkBytes: Int = chunkBytes) -> UInt32 {
        var c = CRC32.initial
        forEachChunk(range, unit: 1, chunkBytes: chunkBytes) { chunk, _ in c = CRC32.update(c, chunk) }
        return c ^ CRC32.initial
    }

    /// `count` little-endian values of the safetensors dtype `dtype` (F32, F64, F16, BF16) starting
    /// at byte `start` (inside the source), as fp32.
    func floats(at start: Int, count: Int, dtype: String, chunkBytes: Int = chunkBytes) -> [Float] {
        let size = Safetensors.elementSizes[dtype]!
        return [Float](unsafeUninitializedCapacity: count) { out, n in
            forEachChunk(start..<(start + count * size), unit: size, chunkBytes: chunkBytes) { chunk, first in
                Safetensors.convert(
                    chunk, dtype: dtype, into: UnsafeMutableBufferPointer(rebasing: out[first..<(first + chunk.count / size)]))
            }
            n = count
        }
    }
}
