import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// `ByteSource`: a mapped file converted chunk by chunk gives exactly what the whole array gives,
/// for every dtype, from any start offset and with chunk sizes that split elements' neighbours.
@Suite struct ByteSourceTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        let path = try OfficialRun.temporaryDirectory() + "/bytes.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: ["F32", "F64", "F16", "BF16"])
    func chunkedConversionEqualsWhole(_ dtype: String) throws {
        var rng = SeededRandom(seed: 11)
        let bytes = (0..<4099).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let size = Safetensors.elementSizes[dtype]!
        let start = 3, count = (bytes.count - start) / size
        let mapped = try ByteSource(mapping: try Self.file(bytes), limit: 1 << 20)
        let whole = ByteSource(bytes).floats(at: start, count: count, dtype: dtype, chunkBytes: 1 << 20)
        #expect(whole.count == count)
        for chunk in [1, size, 3 * size + 1, 1000] {
            let chunked = mapped.floats(at: start, count: count, dtype: dtype, chunkBytes: chunk)
            // Bit patterns: random bytes make NaNs, which never compare equal as floats.
            #expect(chunked.map(\.bitPattern) == whole.map(\.bitPattern), "chunks of \(chunk) bytes")
        }
        // Pages dropped along the way read back the same.
        #expect(mapped.floats(at: start, count: count, dtype: dtype).map(\.bitPattern) == whole.map(\.bitPattern))
    }

    @Test func chunkedChecksumEqualsWhole() throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let mapped = try ByteSource(mapping: try Self.file(bytes), limit: 1 << 20)
        for chunk in [1, 7, 4096, 1 << 20] {
            #expect(mapped.crc32(5..<9_999, chunkBytes: chunk) == CRC32.checksum(bytes[5..<9_999]))
        }
    }

    @Test func mappingRefusesFilesOverTheLimit() throws {
        let path = try Self.file([UInt8](repeating: 1, count: 100))
        let e = #expect(throws: TRMError.self) { try ByteSource(mapping: path, limit: 99) }
        #expect(e?.message.contains("over the 99-byte limit") == true)
    }
}
