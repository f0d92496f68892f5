import TRMCore

/// Bounds-checked little-endian reads from a byte source, for the zip and pickle readers: every read
/// that would pass `end` throws the reader's own error instead of trapping.
struct ByteReader {
    let bytes: ByteSource
    /// Next byte to read.
    var position: Int
    /// One past the last byte this reader may read.
    let end: Int
    /// Makes the error for a read past `end` (`what` names the field).
    let fail: (String) -> TRMError

    init(_ bytes: ByteSource, from start: Int = 0, to end: Int? = nil, fail: @escaping (String) -> TRMError) {
        self.bytes = bytes
        self.end = min(end ?? bytes.count, bytes.count)
        self.position = min(max(start, 0), self.end)
        self.fail = fail
    }

    /// Bytes left before `end`.
    var remaining: Int { end - position }

    /// The next `count` bytes, as a range of `bytes`.
    mutating func take(_ count: Int, _ what: String) throws -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw fail("\(what) needs \(count) bytes at offset \(position), only \(remaining) remain")
        }
        defer { position += count }
        return position..<(position + count)
    }

    /// An unsigned little-endian integer of `width` bytes (at most 8).
    mutating func uint(_ width: Int, _ what: String) throws -> UInt64 {
        let r = try take(width, what)
        var v: UInt64 = 0
        for (i, b) in bytes[r].enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    mutating func u8(_ what: String) throws -> Int { Int(try uint(1, what)) }
    mutating func u16(_ what: String) throws -> Int { Int(try uint(2, what)) }
    mutating func u32(_ what: String) throws -> Int { Int(try uint(4, what)) }
    mutating func u64(_ what: String) throws -> UInt64 { try uint(8, what) }

    /// The bytes up to (not including) the next newline, which is consumed; at most `limit` bytes.
    mutating func line(limit: Int, _ what: String) throws -> Range<Int> {
        let stop = min(end, position + limit + 1)
        guard let newline = bytes[position..<stop].firstIndex(of: 0x0A) else {
            throw fail("\(what) at offset \(position) has no newline within \(limit) bytes")
        }
        defer { position += newline + 1 }
        return position..<(position + newline)
    }
}

/// CRC-32 as zip stores it (IEEE 802.3: reflected polynomial 0xEDB88320, initial and final xor
/// 0xFFFFFFFF).
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static let initial: UInt32 = 0xFFFF_FFFF

    /// The running checksum `c` (which starts at `initial`) after `bytes`; xor with `initial` ends it.
    static func update(_ c: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c = c
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            return c
        }
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(initial, $0) ^ initial }
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { checksum(bytes[...]) }
}
