import GraphIR

/// A zip archive of stored entries as PyTorch's writer (miniz) makes one: each local header padded
/// with an `FB` extra field so that the data starts on a 64-byte boundary, then the central directory
/// and the end record. With `zip64`, every size and offset goes through the zip64 extended-information
/// fields and the zip64 end record and locator, as they do in checkpoints over 4 GiB. For tests and
/// fuzz seeds of `ZipArchive`.
public enum ZipWriter {
    public struct Record {
        public var name: String
        public var bytes: [UInt8]
        /// The compression method written in the headers (the bytes stay as they are).
        public var method = 0
        /// A CRC-32 to write instead of the right one.
        public var crc: UInt32?

        public init(name: String, bytes: [UInt8], method: Int = 0, crc: UInt32? = nil) {
            self.name = name
            self.bytes = bytes
            self.method = method
            self.crc = crc
        }
    }

    public static func archive(_ records: [Record], zip64: Bool = false, alignment: Int = 64) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        let marker32 = 0xFFFF_FFFF
        for r in records {
            let offset = out.count
            let name = Array(r.name.utf8)
            let crc = Int(r.crc ?? CRC32.checksum(r.bytes))
            let version = zip64 ? 45 : 20
            var localExtra: [UInt8] = zip64 ? le(1, 2) + le(16, 2) + le(r.bytes.count, 8) + le(r.bytes.count, 8) : []
            let unpadded = offset + 30 + name.count + localExtra.count + 4
            let padding = (alignment - unpadded % alignment) % alignment
            localExtra += Array("FB".utf8) + le(padding, 2) + [UInt8](repeating: 0x5A, count: padding)
            let size32 = zip64 ? marker32 : r.bytes.count
            out += le(0x0403_4B50, 4) + le(version, 2) + le(0, 2) + le(r.method, 2) + le(0, 4) + le(crc, 4)
            out += le(size32, 4) + le(size32, 4) + le(name.count, 2) + le(localExtra.count, 2) + name + localExtra
            out += r.bytes
            let centralExtra: [UInt8] = zip64 ? le(1, 2) + le(24, 2) + le(r.bytes.count, 8) + le(r.bytes.count, 8) + le(offset, 8) : []
            central += le(0x0201_4B50, 4) + le(version, 2) + le(version, 2) + le(0, 2) + le(r.method, 2) + le(0, 4) + le(crc, 4)
            central += le(size32, 4) + le(size32, 4) + le(name.count, 2) + le(centralExtra.count, 2) + le(0, 2) + le(0, 2)
            central += le(0, 2) + le(0, 4) + le(zip64 ? marker32 : offset, 4) + name + centralExtra
        }
        let directoryOffset = out.count
        out += central
        if zip64 {
            let recordOffset = out.count
            out += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
            out += le(records.count, 8) + le(records.count, 8) + le(central.count, 8) + le(directoryOffset, 8)
            out += le(0x0706_4B50, 4) + le(0, 4) + le(recordOffset, 8) + le(1, 4)
            out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(marker32, 4) + le(marker32, 4) + le(0, 2)
        } else {
            out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(records.count, 2) + le(records.count, 2)
            out += le(central.count, 4) + le(directoryOffset, 4) + le(0, 2)
        }
        return out
    }
}
