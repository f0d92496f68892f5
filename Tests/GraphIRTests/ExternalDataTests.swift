import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// External data (docs/formats.md §2.5): large initializers in a mapped sidecar beside the `.trmg`.
@Suite struct ExternalDataTests {
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trmg-ext-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    static func files(_ dir: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    @Test func roundTripThroughTheSidecar() throws {
        try Self.withDirectory { dir in
            let model = try TrmgFileTests.sampleModel()
            let sidecar = try TrmgWriter.write(model, to: dir + "/m.trmg", externalThreshold: 0)
            #expect(sidecar == dir + "/m.trmg.data")
            #expect(try Self.files(dir) == ["m.trmg", "m.trmg.data"])
            let back = try TrmgReader.read(path: dir + "/m.trmg")
            // Equal contents, metadata without the sidecar identity, and every initializer mapped.
            #expect(back == model)
            #expect(back.graph.initializers.allSatisfy { $0.data.isMapped })
            for i in back.graph.initializers {
                guard case .mapped(_, let bytes) = i.data else { continue }
                #expect(bytes.offset % ExternalData.alignment == 0, "\(i.name) at \(bytes.offset)")
            }
            // Written again inline, the read model is the original file, byte for byte.
            #expect(try TrmgWriter.serialize(back) == TrmgWriter.serialize(model))
            // Through a link, the sidecar is found beside the link's target.
            try FileManager.default.createDirectory(atPath: dir + "/links", withIntermediateDirectories: false)
            try FileManager.default.createSymbolicLink(atPath: dir + "/links/l.trmg", withDestinationPath: dir + "/m.trmg")
            #expect(try TrmgReader.read(path: dir + "/links/l.trmg") == model)
        }
    }

    @Test func smallModelsStayOneFile() throws {
        try Self.withDirectory { dir in
            let model = try TrmgFileTests.sampleModel()
            #expect(try TrmgWriter.write(model, to: dir + "/m.trmg") == nil)
            #expect(try Self.files(dir) == ["m.trmg"])
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/m.trmg"))) == (try TrmgWriter.serialize(model)))
            // Only the initializers over the threshold move: w_qkv (24 × 8 floats) is 768 bytes.
            try TrmgWriter.write(model, to: dir + "/some.trmg", externalThreshold: 700)
            let back = try TrmgReader.read(path: dir + "/some.trmg")
            #expect(back == model)
            let moved = back.graph.initializers.filter(\.data.isMapped).map(\.name)
            #expect(moved.contains("w_qkv") && moved.count < back.graph.initializers.count)
        }
    }

    @Test func aFIFOGetsOneSelfContainedStream() throws {
        try Self.withDirectory { dir in
            let model = try TrmgFileTests.sampleModel()
            let fifo = dir + "/pipe.trmg"
            #expect(mkfifo(fifo, 0o600) == 0)
            let reader = FIFOReader(fifo)
            #expect(try TrmgWriter.write(model, to: fifo, externalThreshold: 0) == nil)
            #expect(reader.finish() == (try TrmgWriter.serialize(model)))
            #expect(try Self.files(dir) == ["pipe.trmg"])
        }
    }

    @Test func aMissingTruncatedOrForeignSidecarIsRefused() throws {
        try Self.withDirectory { dir in
            let model = try TrmgFileTests.sampleModel()
            try TrmgWriter.write(model, to: dir + "/m.trmg", externalThreshold: 0)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/m.trmg")))
            func refusal(_ path: String) -> String {
                do {
                    _ = try TrmgReader.read(path: path)
                    return ""
                } catch let e as TRMError { return e.message } catch { return "\(error)" }
            }
            // From bytes: no directory to find the sidecar in.
            #expect(throws: TRMError.self) { try TrmgReader.parse(bytes) }
            // Truncated: the last tensor's bytes are outside the file.
            let sidecar = dir + "/m.trmg.data"
            let size = try FileManager.default.attributesOfItem(atPath: sidecar)[.size] as! Int
            #expect(truncate(sidecar, off_t(size - 1)) == 0)
            #expect(refusal(dir + "/m.trmg").contains("outside the"))
            // Missing.
            try FileManager.default.removeItem(atPath: sidecar)
            #expect(refusal(dir + "/m.trmg").contains("cannot read the model's external data"))
            // Another compile's sidecar of the same layout (different weights): refused by its identity.
            var other = model
            let f = try #require(other.graph.initializers.firstIndex { $0.data.dtype == .float32 })
            other.graph.initializers[f].data = .float32(other.graph.initializers[f].data.floats!.map { $0 + 1 })
            try TrmgWriter.write(other, to: dir + "/o.trmg", externalThreshold: 0)
            try FileManager.default.moveItem(atPath: dir + "/o.trmg.data", toPath: sidecar)
            #expect(refusal(dir + "/m.trmg").contains("belongs to another compile"))
            // Not a sidecar at all.
            try Data(repeating: 7, count: size).write(to: URL(fileURLWithPath: sidecar))
            #expect(refusal(dir + "/m.trmg").contains("not a .trmg sidecar"))
        }
    }

    @Test func locationsOutsideTheModelsDirectoryAreRefused() throws {
        try Self.withDirectory { dir in
            let model = try TrmgFileTests.sampleModel()
            try TrmgWriter.write(model, to: dir + "/abcdefg.trmg", externalThreshold: 0)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/abcdefg.trmg")))
            // "abcdefg.trmg.data" -> "../../etc/passwd1", the same length, so the protobuf stays well formed.
            let needle = Array("abcdefg.trmg.data".utf8), forged = Array("../../etc/passwd1".utf8)
            #expect(needle.count == forged.count)
            var replaced = 0
            for i in 0..<(bytes.count - needle.count) where Array(bytes[i..<(i + needle.count)]) == needle {
                bytes.replaceSubrange(i..<(i + needle.count), with: forged)
                replaced += 1
            }
            #expect(replaced > 0)
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/forged.trmg"))
            let e = #expect(throws: TRMError.self) { try TrmgReader.read(path: dir + "/forged.trmg") }
            #expect(e?.message.contains("is not a file name beside the model") == true, "\(String(describing: e))")
        }
    }

    @Test func tensorDataEqualityIgnoresWhereTheValuesLive() throws {
        try Self.withDirectory { dir in
            let values: [Float] = [1, -2, 3.5, 0]
            let raw = values.withUnsafeBytes { [UInt8]($0) }
            try Data([0, 0, 0, 0] + raw).write(to: URL(fileURLWithPath: dir + "/f"))
            let file = try MappedFile(path: dir + "/f")
            let mapped = TensorData.mapped(.float32, file.bytes(offset: 4, count: 16)!)
            #expect(mapped == .float32(values) && TensorData.float32(values) == mapped)
            #expect(mapped.hashValue == TensorData.float32(values).hashValue)
            #expect(mapped.count == 4 && mapped.floats == values)
            #expect(mapped != .float32([1, -2, 3.5, 1]) && mapped != .int32([1, 2, 3, 4]))
            #expect(file.bytes(offset: 4, count: 17) == nil && file.bytes(offset: -1, count: 1) == nil)
        }
    }
}
