import Foundation
import GraphIR
import Runtime
import Tasks
import Testing
import TRMCore

/// Hostile sizes: every reader refuses a file that declares more than it holds or more than the
/// limits allow, before allocating for it, with an error that says why.
struct ResourceBoundsTests {
    /// The message of the error `body` throws (a failed expectation when it throws nothing).
    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
        } catch let e as TRMError {
            return e.message
        } catch {
            return "\(error)"
        }
        Issue.record("no error thrown")
        return ""
    }

    static func npy(descr: String, shape: String, payload: Int) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8)
            + [UInt8](repeating: 0, count: payload)
    }

    @Test func npyShapeLargerThanItsDataIsRefused() throws {
        #expect(try Npy.parse(Self.npy(descr: "<f4", shape: "(2, 3)", payload: 24)).shape == [2, 3])
        #expect(
            message { _ = try Npy.parse(Self.npy(descr: "<f4", shape: "(2147483647, 2147483647)", payload: 8)) }.contains("shape too large")
        )
        #expect(!message { _ = try Npy.parse(Self.npy(descr: "<f4", shape: "(1000000, 1000)", payload: 8)) }.isEmpty)
    }

    @Test func safetensorsShapeLargerThanItsDataIsRefused() {
        let header = #"{"w": {"dtype": "F32", "shape": [2147483647, 2147483647, 4], "data_offsets": [0, 16]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { [UInt8]($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 16)
        #expect(message { _ = try Safetensors.parse(bytes) }.contains("does not match"))
        var lying = withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { [UInt8]($0) }
        lying += Array("{}".utf8)
        #expect(message { _ = try Safetensors.parse(lying) }.contains("header length"))
    }

    @Test func deeplyNestedARCJSONIsRefusedWithoutRecursingIntoIt() {
        let depth = 200_000
        let bytes = [UInt8](repeating: UInt8(ascii: "["), count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth)
        #expect(message { _ = try ARCDataset.parse(bytes: bytes, file: "deep.json", split: .training) }.contains("nested more than"))
    }

    @Test func overlongCSVLineIsRefused() {
        let line = [UInt8](repeating: UInt8(ascii: "1"), count: PuzzleCSV.maxLineBytes + 10)
        #expect(message { _ = try SudokuCSV.parse(bytes: Array("source,question,answer,rating\n".utf8) + line) }.contains("longer"))
    }

    @Test func allocationSizesAreCheckedForOverflowAndAvailableMemory() throws {
        #expect(message { _ = try AlignedBuffer.checkedSize(Int.max / 2, 4, what: "x") }.contains("over the"))
        #expect(message { _ = try AlignedBuffer.checkedSize(AlignedBuffer.maxBytes / 4 + 1, 4, what: "x") }.contains("available memory"))
        #expect(try AlignedBuffer.checkedSize(1000, 4, what: "x") == 4000)
    }
}
