import Foundation
import TRMCore

/// A zip archive (in memory or mapped: `ByteSource`), read the way `torch.save` writes one (docs/formats.md §1.6): the
/// end-of-central-directory record (and its zip64 form, which PyTorch's writer uses), the central
/// directory and each entry's local header. Only stored (uncompressed) entries are read; every
/// offset and size is checked against the file before it is used, entries may not overlap, and an
/// entry's CRC-32 is checked when its bytes are read.
public struct ZipArchive: Sendable {
    /// One file of the archive.
    public struct Entry: Hashable, Sendable {
        public var name: String
        public var crc32: UInt32
        /// Where the entry's bytes lie in the archive.
        public var dataRange: Range<Int>
    }

    /// Most entries accepted (a torch state dict has one per storage, plus a few records).
    public static let maxEntries = 1 << 17
    /// Longest entry name accepted, in bytes (PyTorch's own reader allows 512).
    public static let maxNameBytes = 1024

    let bytes: ByteSource
    /// The entries in central-directory order.
    public let entries: [Entry]
    private let index: [String: Int]

    static let endSignature = 0x0605_4B50
    static let zip64EndSignature = 0x0606_4B50
    static let zip64LocatorSignature = 0x0706_4B50
    static let centralSignature = 0x0201_4B50
    static let localSignature = 0x0403_4B50

    static func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "zip: \(why)") }

    /// Reads the directory of the archive `bytes`.
    public init(bytes: [UInt8]) throws { try self.init(ByteSource(bytes)) }

    /// Reads the directory of the archive in `bytes`; entry data is read only when asked for.
    init(_ bytes: ByteSource) throws {
        self.bytes = bytes
        let end = try Self.directory(bytes)
        var reader = ByteReader(bytes, from: end.offset, to: end.offset + end.size, fail: Self.fail)
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var spans: [Range<Int>] = []
        for _ in 0..<end.count {
            let (entry, span) = try Self.entry(&reader, bytes: bytes, directoryStart: end.offset)
            guard index[entry.name] == nil else { throw Self.fail("entry '\(entry.name)' appears twice") }
            index[entry.name] = entries.count
            entries.append(entry)
            spans.append(span)
        }
        guard reader.remaining == 0 else { throw Self.fail("\(reader.remaining) bytes of the central directory follow its last entry") }
        spans.sort { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(spans, spans.dropFirst()) where b.lowerBound < a.upperBound {
            throw Self.fail("two entries overlap at offset \(b.lowerBound)")
        }
        self.entries = entries
        self.index = index
    }

    /// The entry called `name`, if there is one.
    public func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The bytes of `entry`, after checking them against its CRC-32 (unless `verifyingChecksum` is
    /// false: the fuzz target reads past the checksum so that mutated record bytes reach the pickle
    /// and storage readers).
    public func contents(of entry: Entry, verifyingChecksum: Bool = true) throws -> [UInt8] {
        if verifyingChecksum { try verify(entry) }
        return bytes[entry.dataRange]
    }

    /// Checks `entry`'s bytes against its CRC-32, reading them chunk by chunk.
    public func verify(_ entry: Entry) throws {
        let crc = bytes.crc32(entry.dataRange)
        guard crc == entry.crc32 else {
            throw Self.fail(
                "entry '\(entry.name)' is corrupt: CRC-32 \(String(crc, radix: 16)), the directory says \(String(entry.crc32, radix: 16))")
        }
    }

    /// Whether `bytes` start with a zip local-file header (`PK\3\4`), as `torch.save` files do.
    public static func hasMagic(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    // MARK: the end records

    /// The little-endian UInt32 at `offset`, or nil past the end.
    static func peek32(_ bytes: ByteSource, _ offset: Int) -> Int? {
        var r = ByteReader(bytes, from: offset, fail: fail)
        return offset >= 0 ? try? r.u32("") : nil
    }

    /// The central directory's offset, size and entry count, from the end record (or its zip64 form).
    static func directory(_ bytes: ByteSource) throws -> (offset: Int, size: Int, count: Int) {
        let n = bytes.count
        guard n >= 22 else { throw fail("the file is \(n) bytes, too short for a zip archive") }
        // The end record is 22 bytes plus a comment of up to 65535 bytes that ends the file.
        var found: Int?
        for p in stride(from: n - 22, through: max(0, n - 22 - 0xFFFF), by: -1)
        where peek32(bytes, p) == endSignature && Int(bytes[p + 20]) | Int(bytes[p + 21]) << 8 == n - p - 22 {
            found = p
            break
        }
        guard let eocd = found else { throw fail("no end-of-central-directory record: not a zip archive, or truncated") }
        var r = ByteReader(bytes, from: eocd + 4, fail: fail)
        var disk = try r.u16("disk number"), directoryDisk = try r.u16("directory disk")
        var diskCount = try UInt64(r.u16("entries on this disk")), count = try UInt64(r.u16("entry count"))
        var size = try UInt64(r.u32("directory size")), offset = try UInt64(r.u32("directory offset"))
        var limit = eocd  // the directory must end before this
        if peek32(bytes, eocd - 20) == zip64LocatorSignature {
            var l = ByteReader(bytes, from: eocd - 16, fail: fail)
            let locatorDisk = try l.u32("zip64 locator disk")
            let recordOffset = try l.u64("zip64 end record offset")
            guard locatorDisk == 0, try l.u32("disk count") == 1 else { throw fail("multi-disk archives are not supported") }
            // The zip64 end record (56 bytes at least) lies before its locator.
            guard eocd >= 76, recordOffset <= UInt64(eocd - 76) else {
                throw fail("zip64 end record offset \(recordOffset) is outside the file")
            }
            var z = ByteReader(bytes, from: Int(recordOffset), to: eocd - 20, fail: fail)
            guard try z.u32("zip64 end signature") == zip64EndSignature else { throw fail("no zip64 end record at offset \(recordOffset)") }
            _ = try z.take(12, "zip64 end record")  // record size, versions
            disk = try z.u32("disk number")
            directoryDisk = try z.u32("directory disk")
            diskCount = try z.u64("entries on this disk")
            count = try z.u64("entry count")
            size = try z.u64("directory size")
            offset = try z.u64("directory offset")
            limit = Int(recordOffset)
        }
        guard disk == 0, directoryDisk == 0, diskCount == count else { throw fail("multi-disk archives are not supported") }
        guard count <= UInt64(maxEntries) else { throw fail("\(count) entries, over the limit of \(maxEntries)") }
        guard offset <= UInt64(limit), size <= UInt64(limit) - offset else {
            throw fail("the central directory (offset \(offset), \(size) bytes) is outside the file")
        }
        guard count * 46 <= size else { throw fail("\(count) entries cannot fit in a \(size)-byte central directory") }
        return (Int(offset), Int(size), Int(count))
    }

    // MARK: entries

    /// The central-directory entry at `reader` (which it consumes) and the span its local header and
    /// data take in the file, after checking both against the file and against each other.
    static func entry(_ reader: inout ByteReader, bytes: ByteSource, directoryStart: Int) throws -> (Entry, Range<Int>) {
        let at = reader.position
        guard try reader.u32("entry signature") == centralSignature else { throw fail("no central-directory entry at offset \(at)") }
        _ = try reader.take(4, "versions")
        let flags = try reader.u16("flags")
        let method = try reader.u16("compression method")
        _ = try reader.take(4, "modification time")
        let crc = UInt32(try reader.u32("CRC-32"))
        var compressed = UInt64(try reader.u32("compressed size"))
        var size = UInt64(try reader.u32("size"))
        let nameLength = try reader.u16("name length")
        let extraLength = try reader.u16("extra length")
        let commentLength = try reader.u16("comment length")
        let startDisk = try reader.u16("start disk")
        _ = try reader.take(6, "attributes")
        var localOffset = UInt64(try reader.u32("local header offset"))
        guard nameLength <= maxNameBytes else { throw fail("an entry name of \(nameLength) bytes at offset \(at), over \(maxNameBytes)") }
        let nameBytes = bytes[try reader.take(nameLength, "entry name")]
        guard let name = String(bytes: nameBytes, encoding: .utf8) else { throw fail("the entry name at offset \(at) is not UTF-8") }
        var extra = ByteReader(bytes, from: reader.position, to: reader.position + extraLength, fail: fail)
        _ = try reader.take(extraLength + commentLength, "extra field and comment of '\(name)'")
        // Zip64: the extended-information field holds, in this order, each 32-bit field that is 0xFFFFFFFF.
        while extra.remaining > 0 {
            let id = try extra.u16("extra field id"), length = try extra.u16("extra field length")
            var field = ByteReader(bytes, from: extra.position, to: extra.position + length, fail: fail)
            _ = try extra.take(length, "extra field of '\(name)'")
            guard id == 0x0001 else { continue }
            if size == 0xFFFF_FFFF { size = try field.u64("zip64 size of '\(name)'") }
            if compressed == 0xFFFF_FFFF { compressed = try field.u64("zip64 compressed size of '\(name)'") }
            if localOffset == 0xFFFF_FFFF { localOffset = try field.u64("zip64 local header offset of '\(name)'") }
        }
        guard startDisk == 0 || startDisk == 0xFFFF else { throw fail("entry '\(name)' is on another disk") }
        guard flags & 1 == 0 else { throw fail("entry '\(name)' is encrypted") }
        guard method == 0 else {
            let kind = method == 8 ? " (deflate)" : ""
            throw fail("entry '\(name)' is compressed with method \(method)\(kind); only stored entries are read (torch.save stores them)")
        }
        guard compressed == size else { throw fail("stored entry '\(name)' has a compressed size \(compressed) unlike its size \(size)") }
        // The local header (30 bytes, then the name and an extra field) and the data lie before the directory.
        guard localOffset <= UInt64(directoryStart) else { throw fail("entry '\(name)' starts past the central directory") }
        var local = ByteReader(bytes, from: Int(localOffset), to: directoryStart, fail: fail)
        guard try local.u32("local header signature of '\(name)'") == localSignature else {
            throw fail("no local header for '\(name)' at offset \(localOffset)")
        }
        _ = try local.take(22, "local header of '\(name)'")
        let localName = try local.u16("local name length of '\(name)'"), localExtra = try local.u16("local extra length of '\(name)'")
        guard bytes[try local.take(localName, "local name of '\(name)'")] == nameBytes else {
            throw fail("the local header at offset \(localOffset) names another entry than '\(name)'")
        }
        _ = try local.take(localExtra, "local extra field of '\(name)'")
        guard size <= UInt64(local.remaining) else {
            throw fail("entry '\(name)' of \(size) bytes runs past the central directory")
        }
        let data = try local.take(Int(size), "data of '\(name)'")
        return (Entry(name: name, crc32: crc, dataRange: data), Int(localOffset)..<data.upperBound)
    }
}
