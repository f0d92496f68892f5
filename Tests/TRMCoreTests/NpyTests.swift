import Foundation
import Testing
import TRMCore

@Suite struct NpyTests {
    /// A version-1 file with this header dictionary and data bytes, as NumPy writes it.
    static func file(descr: String, shape: String, data: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
            + data
    }

    func message(_ bytes: [UInt8]) -> String {
        do {
            _ = try Npy.parse(bytes)
            return ""
        } catch { return "\(error)" }
    }

    @Test func uint8AndBoolArraysAsNumPyWritesThem() throws {
        let tokens = try Npy.parse(Self.file(descr: "|u1", shape: "(2, 3)", data: [0, 1, 2, 253, 254, 255]))
        #expect(tokens.values == .uint8([0, 1, 2, 253, 254, 255]) && tokens.shape == [2, 3])
        #expect(tokens.values.dtypeName == "uint8" && tokens.values.count == 6 && tokens.values.integers == [0, 1, 2, 253, 254, 255])
        let flags = try Npy.parse(Self.file(descr: "|b1", shape: "(3,)", data: [1, 0, 1]))
        #expect(flags.values == .bool([true, false, true]) && flags.shape == [3] && flags.values.integers == [1, 0, 1])
        #expect(message(Self.file(descr: "|b1", shape: "(3,)", data: [1, 2, 1])).contains("bool element 1 is 2"))
        #expect(message(Self.file(descr: "|u1", shape: "(2, 3)", data: [0, 1, 2])).contains("3 data bytes for shape [2, 3] of |u1"))
        #expect(message(Self.file(descr: "<u4", shape: "(1,)", data: [0, 1, 0, 0])).contains("dtype '<u4'"))
    }

    @Test func uint16ArraysAsNumPyWritesThem() throws {
        // np.array([[0, 1, 256], [300, 4097, 65535]], dtype=np.uint16): little-endian pairs.
        let data: [UInt8] = [0, 0, 1, 0, 0, 1, 44, 1, 1, 16, 255, 255]
        let tokens = try Npy.parse(Self.file(descr: "<u2", shape: "(2, 3)", data: data))
        #expect(tokens.values == .uint16([0, 1, 256, 300, 4097, 65535]) && tokens.shape == [2, 3])
        #expect(tokens.values.dtypeName == "uint16" && tokens.values.count == 6 && tokens.values.integers == [0, 1, 256, 300, 4097, 65535])
        #expect(
            message(Self.file(descr: "<u2", shape: "(2, 3)", data: Array(data.prefix(11)))).contains(
                "11 data bytes for shape [2, 3] of <u2"))
        // Big-endian files are not read (nor written by NumPy on little-endian machines).
        #expect(
            message(Self.file(descr: ">u2", shape: "(1,)", data: [0, 1])).contains(
                "dtype '>u2' (use float32, float64, int32, int64, uint8, uint16 or bool)"))
    }

    @Test func serializeRoundTripsEveryDtype() throws {
        let cases: [(Npy.Values, [Int])] = [
            (.uint8([7, 0, 255, 1]), [2, 2]), (.bool([false, true]), [2]), (.int32([-5, 1 << 30]), [2]), (.float32([1.5, -0]), [1, 2]),
            (.uint16([0, 258, 65535]), [3]),
        ]
        for (values, shape) in cases {
            let back = try Npy.parse(Npy.serialize(values, shape: shape))
            #expect(back.values == values && back.shape == shape)
        }
        #expect(Npy.serialize(.uint8([1]), shape: [1])[10...].starts(with: Array("{'descr': '|u1'".utf8)))
        let u2 = Npy.serialize(.uint16([258]), shape: [1])
        #expect(u2[10...].starts(with: Array("{'descr': '<u2'".utf8)) && Array(u2.suffix(2)) == [2, 1])
    }

    @Test func int32ReadersWidenBytesAndKeepTheirOldBehaviour() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Npy.write(.uint8([3, 200]), shape: [1, 2], to: dir + "/u8.npy")
        let widened = try Npy.readInt32(path: dir + "/u8.npy", what: "tokens")
        #expect(widened.values == [3, 200] && widened.shape == [1, 2])
        try Npy.write(.uint16([3, 40000]), shape: [2, 1], to: dir + "/u16.npy")
        let wide = try Npy.readInt32(path: dir + "/u16.npy", what: "tokens")
        #expect(wide.values == [3, 40000] && wide.shape == [2, 1])
        try Npy.write(.bool([true]), shape: [1], to: dir + "/b.npy")
        #expect(try Npy.readInt32(path: dir + "/b.npy", what: "ids").values == [1])
        try Data(Self.file(descr: "<i8", shape: "(2,)", data: [5, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
            .write(to: URL(fileURLWithPath: dir + "/i8.npy"))
        #expect(try Npy.read(path: dir + "/i8.npy").values == .int32([5, -1]))  // int64 still narrows to int32
        try Npy.write(.float32([1]), shape: [1], to: dir + "/f.npy")
        #expect(throws: TRMError.self) { try Npy.readInt32(path: dir + "/f.npy", what: "tokens") }
    }
}
